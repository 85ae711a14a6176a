// A real Edge TPU run in a child process (tpufleet-device-host), so that what libedgetpu does
// to its process (abort() on a USB transfer error, a hang) takes down only that device. Tensors
// and models cross in shared memory; messages over a socket pair (backends/isolation/channel.h).
//
// When the child dies, the Run in progress returns UNAVAILABLE saying how it died ("killed by
// signal 6 (Aborted)"): the fleet marks the device down and fails over. Interrupt() kills the
// child, which makes even a hang recoverable. Probe() starts a new child; programs are prepared
// in it again on their next Run.
#pragma once

#include <sys/types.h>

#include <atomic>
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
  Status Probe() override;
  void Interrupt() override;

 private:
  IsolatedDevice(DeviceInfo info, IsolationOptions options, std::string host)
      : info_(std::move(info)), options_(std::move(options)), host_(std::move(host)) {}
  Status Spawn();
  // Sends the program's model to the current child unless it has it.
  Status Ensure(Program& program);
  Status EnsureCapacity(size_t bytes);
  // Closes the channel and collects the child (killed first if it lives on): "(pid N) was
  // killed by signal 6 (Aborted)". The device is then down until Probe().
  std::string Reap();
  Status Died(const std::string& during);
  Result<isolation::Message> Exchange(const isolation::Header& header,
                                      std::span<const uint8_t> payload, const std::string& during);

  DeviceInfo info_;
  IsolationOptions options_;
  std::string host_;
  std::atomic<pid_t> pid_{-1};
  int socket_ = -1;
  isolation::SharedMemory memory_;
  int generation_ = 0;  // one per child
  uint64_t next_program_ = 0;
};

}  // namespace tpufleet::backends
