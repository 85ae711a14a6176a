#include "backends/cpu_device.h"

#include <chrono>

namespace tpufleet::backends {
namespace {

class CpuProgram : public Program {
 public:
  CpuProgram(ModelPtr model, std::unique_ptr<cpu::Interpreter> interpreter)
      : Program(std::move(model)), interpreter(std::move(interpreter)) {}
  std::span<uint8_t> input_buffer(size_t i) override {
    cpu::Tensor& t = interpreter->input(i);
    return {t.data, t.byte_size()};
  }
  std::span<uint8_t> output_buffer(size_t i) override {
    const cpu::Tensor& t = interpreter->output(i);
    return {t.data, t.byte_size()};
  }
  std::unique_ptr<cpu::Interpreter> interpreter;
};

}  // namespace

CpuDevice::CpuDevice(int threads) : threads_(threads) {
  info_.type = DeviceType::kCpu;
  info_.name = "cpu";
}

Result<std::unique_ptr<Program>> CpuDevice::Prepare(ModelPtr model) {
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<cpu::Interpreter> interpreter,
                            cpu::Interpreter::Create(model, {threads_}));
  return std::unique_ptr<Program>(new CpuProgram(std::move(model), std::move(interpreter)));
}

Result<RunResult> CpuDevice::Run(Program& program, const std::vector<TensorBytes>& inputs) {
  return RunThroughBuffers(*this, program, inputs);
}

Result<RunResult> CpuDevice::RunInPlace(Program& program, cpu::Profile* profile) {
  cpu::Interpreter& interpreter = *static_cast<CpuProgram&>(program).interpreter;
  auto start = std::chrono::steady_clock::now();
  TPUFLEET_RETURN_IF_ERROR(profile != nullptr ? interpreter.Invoke(*profile)
                                              : interpreter.Invoke());
  RunResult result;
  result.device_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tpufleet::backends
