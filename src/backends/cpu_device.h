// The CPU as a device: one interpreter per prepared model, whose tensors are the program's
// buffers.
#pragma once

#include "backends/device.h"
#include "cpu/interpreter.h"

namespace tpufleet::backends {

class CpuDevice : public Device {
 public:
  explicit CpuDevice(int threads = 1);
  const DeviceInfo& info() const override { return info_; }
  Result<std::unique_ptr<Program>> Prepare(ModelPtr model) override;
  Result<RunResult> Run(Program& program, const std::vector<TensorBytes>& inputs) override;
  // Runs in the interpreter's own tensors: no copy.
  Result<RunResult> RunInPlace(Program& program, cpu::Profile* profile = nullptr) override;

 private:
  DeviceInfo info_;
  int threads_;
};

}  // namespace tpufleet::backends
