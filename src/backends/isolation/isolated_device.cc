#include "backends/isolation/isolated_device.h"

#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>

extern char** environ;

namespace tpufleet::backends {
namespace {

using isolation::Header;
using isolation::Kind;

constexpr size_t kInitialMemory = 1 << 20;
constexpr uint64_t kMaxMemory = uint64_t{1} << 32;  // what a child may ask for outputs

class IsolatedProgram : public Program {
 public:
  IsolatedProgram(ModelPtr model, uint64_t id)
      : Program(model, PackageCachingToken(*model)), id(id) {}
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

// A child's exit status within `timeout`, polling its pidfd; none if it has not exited by then.
std::optional<int> WaitForExit(pid_t pid, int pidfd, std::chrono::milliseconds timeout) {
  if (pidfd >= 0) {
    pollfd exited{pidfd, POLLIN, 0};
    while (poll(&exited, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
    }
    if (!(exited.revents & POLLIN)) return std::nullopt;
  }
  int status = 0;
  if (waitpid(pid, &status, pidfd >= 0 ? WNOHANG : 0) != pid) return std::nullopt;
  return status;
}

void Kill(pid_t pid, int pidfd) {
  if (pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  } else {
    kill(pid, SIGKILL);  // no pidfds (Linux before 5.3): the child is unreaped, so pid is ours
  }
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
  socket_ = -1;
  if (pid_ <= 0) return;
  constexpr std::chrono::milliseconds kGrace{1000};
  if (!WaitForExit(pid_, pidfd_, kGrace)) {  // stuck inside the runtime: it cannot say no to this
    Kill(pid_, pidfd_);
    WaitForExit(pid_, pidfd_, kGrace);
  }
  if (pidfd_ >= 0) close(pidfd_);
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
  {
    std::lock_guard<std::mutex> lock(child_mutex_);
    pid_ = pid;
    // The child is not reaped yet, so `pid` is still it.
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  }
  socket_ = pair[0];
  ++generation_;
  TPUFLEET_ASSIGN_OR_RETURN(isolation::Message opened, Await(options_.open_timeout, "opening"));
  if (opened.header.kind != Kind::kOpen) {
    return Misbehaved("another message than the one saying it opened the device", "opening");
  }
  if (Status status = isolation::FromReply(opened); !status.ok()) {
    Reap();  // the child exits after saying why
    return status;
  }
  memory_ = isolation::SharedMemory();
  return EnsureCapacity(kInitialMemory);
}

std::string IsolatedDevice::Reap() {
  pid_t pid;
  int pidfd;
  {
    std::lock_guard<std::mutex> lock(child_mutex_);
    pid = std::exchange(pid_, -1);
    pidfd = std::exchange(pidfd_, -1);
  }
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
  if (pid <= 0) return "was not running";
  Kill(pid, pidfd);  // it may be alive with a broken channel
  std::optional<int> status = WaitForExit(pid, pidfd, std::chrono::milliseconds(2000));
  if (pidfd >= 0) close(pidfd);
  if (!status) return fmt::format("(pid {}) did not exit when killed", pid);
  return fmt::format("(pid {}) {}", pid, DescribeExit(*status));
}

Status IsolatedDevice::Died(const std::string& during) {
  return UnavailableError(fmt::format("{} {}: its device process {} while {}",
                                      info_.type == DeviceType::kPci ? "pci" : "usb", info_.path,
                                      Reap(), during));
}

Status IsolatedDevice::Misbehaved(const std::string& what, const std::string& during) {
  return UnavailableError(fmt::format(
      "{} {}: its device process sent {} while {}, and was killed: {}",
      info_.type == DeviceType::kPci ? "pci" : "usb", info_.path, what, during, Reap()));
}

Result<isolation::Message> IsolatedDevice::Await(std::chrono::milliseconds timeout,
                                                 const std::string& during) {
  {
    std::lock_guard<std::mutex> lock(child_mutex_);
    awaiting_ = true;
    // An interrupt that came before the wait began is not lost.
    if (interrupt_flag().load(std::memory_order_acquire) && pidfd_ >= 0) Kill(pid_, pidfd_);
  }
  Result<isolation::Message> reply = isolation::Receive(socket_, timeout);
  {
    std::lock_guard<std::mutex> lock(child_mutex_);
    awaiting_ = false;  // from here on an answer came: no interrupt kills the child for it
  }
  if (reply.ok()) return reply;
  if (reply.status().code() == StatusCode::kDataLoss) {
    return Misbehaved(reply.status().message(), during);
  }
  if (reply.status().code() == StatusCode::kDeadlineExceeded) {
    return Misbehaved(fmt::format("nothing for {} ms", timeout.count()), during);
  }
  return Died(during);
}

Result<isolation::Message> IsolatedDevice::Exchange(const Header& header,
                                                    std::span<const uint8_t> payload,
                                                    const std::string& during) {
  if (socket_ < 0) return Died(during);
  if (!isolation::Send(socket_, header, payload).ok()) return Died(during);
  TPUFLEET_ASSIGN_OR_RETURN(isolation::Message reply, Await(options_.reply_timeout, during));
  if (Status checked = isolation::CheckReply(reply); !checked.ok()) {
    return Misbehaved(checked.message(), during);
  }
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
    Result<isolation::RunReply> run =
        isolation::DecodeRunReply(reply, {memory_.data(), memory_.size()}, offset,
                                  base.model().output_indices().size(), kMaxMemory);
    if (!run.ok()) return Misbehaved(run.status().message(), "running " + base.model().name());
    if (run->needed_memory > 0) {
      needed = run->needed_memory;  // outputs larger than the model declares: grow, run again
      continue;
    }
    TPUFLEET_RETURN_IF_ERROR(run->status);
    RunResult result;
    result.device_seconds = run->seconds;
    result.outputs = std::move(run->outputs);
    return result;
  }
}

Status IsolatedDevice::Probe() {
  if (socket_ >= 0) return OkStatus();
  return UnavailableError(info_.name + ": its device process is not running");
}

Status IsolatedDevice::Reopen() {
  if (socket_ >= 0) return OkStatus();
  return Spawn();
}

void IsolatedDevice::Interrupt() {
  Device::Interrupt();
  std::lock_guard<std::mutex> lock(child_mutex_);
  if (awaiting_ && pid_ > 0) Kill(pid_, pidfd_);
}

}  // namespace tpufleet::backends
