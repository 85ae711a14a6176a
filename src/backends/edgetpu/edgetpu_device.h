// A real Edge TPU through libedgetpu and TensorFlow Lite's C API: one delegate per device (which
// claims the model's edgetpu-custom-op nodes), one TFLite interpreter per prepared model.
//
// Opening checks, in order, and says which failed: the device is not owned by another process
// (PCIe device_owner), no other tpufleet holds it (DeviceLock), the runtime lists it, and the
// runtime creates its delegate. Preparing checks the model's packages against the runtime's
// version and reports TFLite's own messages. The runtime cannot be interrupted: a hang or abort
// inside it needs the device isolated in a child process (backends/isolated_device.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/device.h"
#include "backends/edgetpu/device_lock.h"
#include "backends/edgetpu/edgetpu_api.h"

namespace tpufleet::backends {

struct EdgeTpuDeviceOptions {
  std::vector<EdgeTpuOption> options;  // checked by ValidateEdgeTpuOptions
  int cpu_threads = 1;                 // for the CPU operators around the Edge TPU ones
};

class EdgeTpuDevice : public Device {
 public:
  static Result<std::unique_ptr<EdgeTpuDevice>> Open(const EdgeTpuRuntime& runtime,
                                                     const DeviceInfo& info,
                                                     const EdgeTpuDeviceOptions& options);
  ~EdgeTpuDevice() override;  // after every Program of it is gone

  const DeviceInfo& info() const override { return info_; }
  Result<std::unique_ptr<Program>> Prepare(ModelPtr model) override;
  Result<RunResult> Run(Program& program, const std::vector<TensorBytes>& inputs) override;
  // Invokes on TensorFlow Lite's own tensors: the one copy is the runtime's, to the device.
  Result<RunResult> RunInPlace(Program& program, cpu::Profile* profile = nullptr) override;
  // OK while the runtime lists the device.
  Status Probe() override;
  // Listed again, with a new delegate.
  Status Reopen() override;

 private:
  EdgeTpuDevice(const EdgeTpuRuntime& runtime, DeviceInfo info, EdgeTpuDeviceOptions options,
                DeviceLock lock)
      : runtime_(runtime),
        info_(std::move(info)),
        options_(std::move(options)),
        lock_(std::move(lock)) {}
  Status CreateDelegate();
  Status Listed() const;

  const EdgeTpuRuntime& runtime_;
  DeviceInfo info_;
  EdgeTpuDeviceOptions options_;
  DeviceLock lock_;
  TfLiteDelegate* delegate_ = nullptr;
};

}  // namespace tpufleet::backends
