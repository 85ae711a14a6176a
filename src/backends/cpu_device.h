// The CPU as a device: one interpreter per prepared model.
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

 private:
  DeviceInfo info_;
  int threads_;
};

// Runs `interpreter` on `inputs` (already checked) and copies out its outputs.
Result<std::vector<TensorBytes>> RunInterpreter(cpu::Interpreter& interpreter,
                                                const std::vector<TensorBytes>& inputs);

}  // namespace tpufleet::backends
