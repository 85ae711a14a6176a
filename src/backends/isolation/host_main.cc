// tpufleet-device-host: runs one real Edge TPU in a process of its own for an isolated device
// (backends/isolation/isolated_device.h). Started by the parent only:
//
//   tpufleet-device-host --socket FD --type usb|pci --path PATH [--threads N] [--option K=V]...
//
// It opens the device, answers kOpen, then serves kMemory, kPrepare and kRun messages until the
// parent closes the channel. Whatever libedgetpu does to this process (abort() on a USB error,
// a hang) stays here; the parent sees the channel close and fails over.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "backends/edgetpu/edgetpu_device.h"
#include "backends/isolation/channel.h"

namespace tpufleet::backends::isolation {
namespace {

struct HostArgs {
  int socket = -1;
  DeviceInfo info;
  EdgeTpuDeviceOptions options;
};

// A non-negative decimal number, or -1.
int Number(const std::string& text) {
  int value = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && value >= 0 ? value : -1;
}

Result<HostArgs> ParseArgs(int argc, char** argv) {
  HostArgs args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--socket") {
      args.socket = Number(value);
    } else if (flag == "--type") {
      args.info.type = value == "pci" ? DeviceType::kPci : DeviceType::kUsb;
    } else if (flag == "--path") {
      args.info.path = value;
      args.info.name = value.substr(value.find_last_of('/') + 1);
    } else if (flag == "--threads") {
      args.options.cpu_threads = Number(value);
      if (args.options.cpu_threads < 0) return InvalidArgumentError("--threads takes a number");
    } else if (flag == "--option") {
      size_t equals = value.find('=');
      args.options.options.emplace_back(
          value.substr(0, equals), equals == std::string::npos ? "" : value.substr(equals + 1));
    } else {
      return InvalidArgumentError("unknown argument " + flag);
    }
  }
  if (args.socket < 0 || args.info.path.empty()) {
    return InvalidArgumentError(
        "usage: tpufleet-device-host --socket FD --type usb|pci --path PATH");
  }
  return args;
}

Status Reply(int socket, const Status& status, const Header& base = {},
             std::vector<uint8_t> payload = {}) {
  Header header = base;
  ToReply(status, header, payload);
  return Send(socket, header, payload);
}

// Serves the parent until it closes the channel.
int Serve(int socket, EdgeTpuDevice& device) {
  SharedMemory memory;
  std::map<uint64_t, std::unique_ptr<Program>> programs;
  while (true) {
    Result<Message> message = Receive(socket);
    if (!message.ok()) return 0;  // the parent is gone or done
    const Header& h = message->header;
    if (h.kind == Kind::kMemory) {
      if (message->fd.get() < 0) return 1;
      Result<SharedMemory> mapped = SharedMemory::Map(message->fd.release(), h.count);
      if (!mapped.ok()) return 1;
      memory = std::move(mapped).value();
    } else if (h.kind == Kind::kPrepare) {
      std::string name(message->payload.begin(), message->payload.end());
      Result<ModelPtr> model =
          h.count <= memory.size()
              ? Model::FromBuffer({memory.data(), memory.data() + h.count}, name)
              : Result<ModelPtr>(DataLossError("model beyond shared memory"));
      Result<std::unique_ptr<Program>> program =
          model.ok() ? device.Prepare(model.value()) : model.status();
      const Status prepared = program.status();
      if (prepared.ok()) programs[h.id] = std::move(program).value();
      if (!Reply(socket, prepared).ok()) return 0;
    } else if (h.kind == Kind::kRun) {
      Result<std::vector<uint64_t>> sizes = DecodeSizes(message->payload, 0, memory.size());
      std::vector<TensorBytes> inputs;
      uint64_t offset = 0;
      for (uint64_t size : sizes.ok() ? sizes.value() : std::vector<uint64_t>{}) {
        inputs.emplace_back(memory.data() + offset, memory.data() + offset + size);
        offset += size;
      }
      auto program = programs.find(h.id);
      Result<RunResult> run = !sizes.ok() ? Result<RunResult>(sizes.status())
                              : program == programs.end()
                                  ? Result<RunResult>(InternalError("unknown program"))
                                  : device.Run(*program->second, inputs);
      if (!run.ok()) {
        if (!Reply(socket, run.status()).ok()) return 0;
        continue;
      }
      std::vector<uint64_t> output_sizes;
      uint64_t needed = offset;
      for (const TensorBytes& out : run->outputs) {
        output_sizes.push_back(out.size());
        needed += out.size();
      }
      Header reply;
      reply.seconds = run->device_seconds;
      if (needed > memory.size()) {  // the parent grows the region and asks again
        reply.count = needed;
        if (!Reply(socket, ResourceExhaustedError("outputs need more shared memory"), reply).ok())
          return 0;
        continue;
      }
      for (const TensorBytes& out : run->outputs) {
        std::memcpy(memory.data() + offset, out.data(), out.size());
        offset += out.size();
      }
      if (!Reply(socket, OkStatus(), reply, EncodeSizes(output_sizes)).ok()) return 0;
    } else {
      return 1;
    }
  }
}

// Never outlives the parent: when the parent process is gone its end of the channel closes,
// and this thread ends the process even while the main thread is stuck inside libedgetpu. (A
// parent-death signal would follow the thread that spawned the child, not the process.)
void ExitWhenTheParentIsGone(int socket) {
  std::thread([socket] {
    pollfd watch{socket, POLLRDHUP, 0};
    while (true) {
      int polled = poll(&watch, 1, -1);
      if (polled > 0 && (watch.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) _exit(0);
      if (polled < 0 && errno != EINTR) _exit(1);
    }
  }).detach();
}

int Main(int argc, char** argv) {
  Result<HostArgs> args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::cerr << "tpufleet-device-host: " << args.status().message() << "\n";
    return 2;
  }
  ExitWhenTheParentIsGone(args->socket);
  Header opened;
  opened.kind = Kind::kOpen;
  Result<const EdgeTpuRuntime*> runtime = EdgeTpuRuntime::Get();
  Result<std::unique_ptr<EdgeTpuDevice>> device =
      runtime.ok() ? EdgeTpuDevice::Open(*runtime.value(), args->info, args->options)
                   : Result<std::unique_ptr<EdgeTpuDevice>>(runtime.status());
  std::vector<uint8_t> payload;
  ToReply(device.status(), opened, payload);
  opened.kind = Kind::kOpen;
  if (!Send(args->socket, opened, payload).ok() || !device.ok()) return 1;
  return Serve(args->socket, *device.value());
}

}  // namespace
}  // namespace tpufleet::backends::isolation

// NOLINTNEXTLINE(bugprone-exception-escape): the child ending on one is a death the parent reports
int main(int argc, char** argv) { return tpufleet::backends::isolation::Main(argc, argv); }
