// A real Edge TPU run in a child process (tpufleet-device-host), so that what libedgetpu does
// to its process (abort() on a USB transfer error, a hang) takes down only that device. Tensors
// and models cross in shared memory; messages over a socket pair (backends/isolation/channel.h).
//
// When the child dies, the call in progress returns UNAVAILABLE saying how it died ("killed by
// signal 6 (Aborted)"): the fleet marks the device down and fails over. Interrupt() kills the
// child while a call waits on it (never after its answer came), which makes even a hang
// recoverable. Reopen() starts a new child; programs are prepared in it again on their next Run.
// The child is not trusted: a reply that does not add up (sizes past the shared memory, a
// malformed packet) kills it, and the call says so. Every wait on the child is bounded: the
// child is signalled through a pidfd (never a pid that may have been reused), and the
// destructor waits at most about two seconds for it to exit.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <string>

#include "backends/device.h"
#include "backends/edgetpu/edgetpu_device.h"
#include "backends/isolation/channel.h"

namespace tpufleet::backends {

struct IsolationOptions {
  // The tpufleet-device-host executable. Empty: $TPUFLEET_DEVICE_HOST, else the one beside the
  // running executable.
  std::string host_path;
  EdgeTpuDeviceOptions device;
  // How long the child may take to open its device, and to answer any one message (the fleet's
  // watchdog usually interrupts a stuck call well before the second).
  std::chrono::milliseconds open_timeout{30000};
  std::chrono::milliseconds reply_timeout{600000};
};

class IsolatedDevice : public Device {
 public:
  // Starts the child and waits until it has opened the device (or says why it could not).
  static Result<std::unique_ptr<IsolatedDevice>> Open(const DeviceInfo& info,
                                                      const IsolationOptions& options);
  ~IsolatedDevice() override;  // closes the channel; the child exits

  const DeviceInfo& info() const override { return info_; }
  Result<std::unique_ptr<Program>> Prepare(ModelPtr model) override;
  Result<RunResult> Run(Program& program, const std::vector<TensorBytes>& inputs) override;
  // OK while the child runs.
  Status Probe() override;
  // A new child when the old one is gone.
  Status Reopen() override;
  void Interrupt() override;

 private:
  IsolatedDevice(DeviceInfo info, IsolationOptions options, std::string host)
      : info_(std::move(info)), options_(std::move(options)), host_(std::move(host)) {}
  Status Spawn();
  // Sends the program's model to the current child unless it has it.
  Status Ensure(Program& program);
  Status EnsureCapacity(size_t bytes);
  // Closes the channel and collects the child (killed first if it lives on): "(pid N) was
  // killed by signal 6 (Aborted)". The device is then down until Reopen().
  std::string Reap();
  Status Died(const std::string& during);
  // The child broke the protocol: it is killed, and the error says what it sent.
  Status Misbehaved(const std::string& what, const std::string& during);
  // Receives one message while Interrupt() may kill the child.
  Result<isolation::Message> Await(std::chrono::milliseconds timeout, const std::string& during);
  Result<isolation::Message> Exchange(const isolation::Header& header,
                                      std::span<const uint8_t> payload, const std::string& during);

  DeviceInfo info_;
  IsolationOptions options_;
  std::string host_;
  std::mutex child_mutex_;  // pid_, pidfd_ and awaiting_, for Interrupt from other threads
  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool awaiting_ = false;  // a call waits on the child's answer
  int socket_ = -1;
  isolation::SharedMemory memory_;
  int generation_ = 0;  // one per child
  uint64_t next_program_ = 0;
};

}  // namespace tpufleet::backends
