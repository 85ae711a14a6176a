#include "backends/isolation/isolated_device.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace tpufleet::backends {
namespace {

using isolation::Header;
using isolation::Kind;

constexpr size_t kInitialMemory = 1 << 20;

class IsolatedProgram : public Program {
 public:
  IsolatedProgram(ModelPtr model, uint64_t id) : Program(std::move(model)), id(id) {}
  const uint64_t id;
  int generation = -1;  // the child that has it
};

Result<std::string> FindHost(const std::string& given) {
  std::vector<std::string> candidates;
  if (!given.empty()) candidates.push_back(given);
  if (const char* env = std::getenv("TPUFLEET_DEVICE_HOST"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  }
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) candidates.push_back((self.parent_path() / "tpufleet-device-host").string());
  for (const std::string& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) return c;
  }
  return FailedPreconditionError(
      fmt::format("isolating a device needs the tpufleet-device-host executable; tried {}",
                  candidates.empty() ? "nothing" : fmt::format("{}", fmt::join(candidates, ", "))));
}

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
  }
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return "ended";
}

}  // namespace

Result<std::unique_ptr<IsolatedDevice>> IsolatedDevice::Open(const DeviceInfo& info,
                                                             const IsolationOptions& options) {
  TPUFLEET_RETURN_IF_ERROR(ValidateEdgeTpuOptions(options.device.options));
  TPUFLEET_ASSIGN_OR_RETURN(std::string host, FindHost(options.host_path));
  std::unique_ptr<IsolatedDevice> device(new IsolatedDevice(info, options, host));
  TPUFLEET_RETURN_IF_ERROR(device->Spawn());
  return device;
}

IsolatedDevice::~IsolatedDevice() {
  if (socket_ >= 0) close(socket_);  // the child sees the channel close and exits
  if (pid_t pid = pid_.load(); pid > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
  }
}

Status IsolatedDevice::Spawn() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return UnavailableError(fmt::format("socketpair: {}", std::strerror(errno)));
  }
  std::vector<std::string> args = {host_,
                                   "--socket",
                                   "3",
                                   "--type",
                                   info_.type == DeviceType::kPci ? "pci" : "usb",
                                   "--path",
                                   info_.path,
                                   "--threads",
                                   std::to_string(options_.device.cpu_threads)};
  for (const auto& [name, value] : options_.device.options) {
    args.push_back("--option");
    args.push_back(name + "=" + value);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pair[1], 3);  // dup2 clears close-on-exec
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, host_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pair[1]);
  if (spawned != 0) {
    close(pair[0]);
    return UnavailableError(fmt::format("cannot start {}: {}", host_, std::strerror(spawned)));
  }
  pid_ = pid;
  socket_ = pair[0];
  ++generation_;
  Result<isolation::Message> opened = isolation::Receive(socket_);
  if (!opened.ok()) return Died("opening");
  if (Status status = isolation::FromReply(opened.value()); !status.ok()) {
    Reap();  // the child exits after saying why
    return status;
  }
  memory_ = isolation::SharedMemory();
  return EnsureCapacity(kInitialMemory);
}

std::string IsolatedDevice::Reap() {
  pid_t pid = pid_.exchange(-1);
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
  if (pid <= 0) return "was not running";
  int status = 0;
  kill(pid, SIGKILL);  // it may be alive with a broken channel
  waitpid(pid, &status, 0);
  return fmt::format("(pid {}) {}", pid, DescribeExit(status));
}

Status IsolatedDevice::Died(const std::string& during) {
  return UnavailableError(fmt::format("{} {}: its device process {} while {}",
                                      info_.type == DeviceType::kPci ? "pci" : "usb", info_.path,
                                      Reap(), during));
}

Result<isolation::Message> IsolatedDevice::Exchange(const Header& header,
                                                    std::span<const uint8_t> payload,
                                                    const std::string& during) {
  if (socket_ < 0) return Died(during);
  if (!isolation::Send(socket_, header, payload).ok()) return Died(during);
  Result<isolation::Message> reply = isolation::Receive(socket_);
  if (!reply.ok()) return Died(during);
  return reply;
}

Status IsolatedDevice::EnsureCapacity(size_t bytes) {
  if (memory_.size() >= bytes) return OkStatus();
  TPUFLEET_ASSIGN_OR_RETURN(isolation::SharedMemory bigger,
                            isolation::SharedMemory::Create(std::max(bytes, 2 * memory_.size())));
  Header header;
  header.kind = Kind::kMemory;
  header.count = bigger.size();
  if (socket_ < 0 || !isolation::Send(socket_, header, {}, bigger.fd()).ok()) {
    return Died("sending shared memory");
  }
  memory_ = std::move(bigger);
  return OkStatus();
}

Status IsolatedDevice::Ensure(Program& base) {
  auto& program = static_cast<IsolatedProgram&>(base);
  if (program.generation == generation_) return OkStatus();
  std::span<const uint8_t> bytes = program.model().bytes();
  TPUFLEET_RETURN_IF_ERROR(EnsureCapacity(bytes.size()));
  std::memcpy(memory_.data(), bytes.data(), bytes.size());
  Header header;
  header.kind = Kind::kPrepare;
  header.id = program.id;
  header.count = bytes.size();
  const std::string& name = program.model().name();
  TPUFLEET_ASSIGN_OR_RETURN(
      isolation::Message reply,
      Exchange(header, {reinterpret_cast<const uint8_t*>(name.data()), name.size()},
               "preparing " + name));
  TPUFLEET_RETURN_IF_ERROR(isolation::FromReply(reply));
  program.generation = generation_;
  return OkStatus();
}

Result<std::unique_ptr<Program>> IsolatedDevice::Prepare(ModelPtr model) {
  auto program = std::make_unique<IsolatedProgram>(std::move(model), next_program_++);
  TPUFLEET_RETURN_IF_ERROR(Ensure(*program));
  return std::unique_ptr<Program>(std::move(program));
}

Result<RunResult> IsolatedDevice::Run(Program& base, const std::vector<TensorBytes>& inputs) {
  TPUFLEET_RETURN_IF_ERROR(CheckInputs(base.model(), inputs));
  if (socket_ < 0) return UnavailableError(info_.name + ": its device process is not running");
  TPUFLEET_RETURN_IF_ERROR(Ensure(base));
  std::vector<uint64_t> sizes;
  size_t total = 0;
  for (const TensorBytes& input : inputs) {
    sizes.push_back(input.size());
    total += input.size();
  }
  size_t needed = total;
  for (int i : base.model().output_indices()) needed += base.model().tensors()[i].byte_size;
  Header header;
  header.kind = Kind::kRun;
  header.id = static_cast<IsolatedProgram&>(base).id;
  std::vector<uint8_t> payload = isolation::EncodeSizes(sizes);
  while (true) {
    TPUFLEET_RETURN_IF_ERROR(EnsureCapacity(needed));
    size_t offset = 0;
    for (const TensorBytes& input : inputs) {
      std::memcpy(memory_.data() + offset, input.data(), input.size());
      offset += input.size();
    }
    TPUFLEET_ASSIGN_OR_RETURN(isolation::Message reply,
                              Exchange(header, payload, "running " + base.model().name()));
    Status status = isolation::FromReply(reply);
    if (status.code() == StatusCode::kResourceExhausted && reply.header.count > memory_.size()) {
      needed = reply.header.count;  // outputs larger than the model declares: grow, run again
      continue;
    }
    TPUFLEET_RETURN_IF_ERROR(status);
    RunResult result;
    result.device_seconds = reply.header.seconds;
    for (uint64_t size : isolation::DecodeSizes(reply.payload)) {
      if (offset + size > memory_.size()) return DataLossError("outputs beyond shared memory");
      result.outputs.emplace_back(memory_.data() + offset, memory_.data() + offset + size);
      offset += size;
    }
    return result;
  }
}

Status IsolatedDevice::Probe() {
  if (socket_ >= 0) return OkStatus();
  return Spawn();
}

void IsolatedDevice::Interrupt() {
  if (pid_t pid = pid_.load(); pid > 0) kill(pid, SIGKILL);
}

}  // namespace tpufleet::backends
