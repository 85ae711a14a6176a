#include "backends/cpu_device.h"

#include <chrono>
#include <cstring>

namespace tpufleet::backends {
namespace {

class CpuProgram : public Program {
 public:
  CpuProgram(ModelPtr model, std::unique_ptr<cpu::Interpreter> interpreter)
      : Program(std::move(model)), interpreter(std::move(interpreter)) {}
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

Result<std::vector<TensorBytes>> RunInterpreter(cpu::Interpreter& interpreter,
                                                const std::vector<TensorBytes>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    std::memcpy(interpreter.input(i).data, inputs[i].data(), inputs[i].size());
  TPUFLEET_RETURN_IF_ERROR(interpreter.Invoke());
  std::vector<TensorBytes> outputs;
  for (size_t i = 0; i < interpreter.output_count(); ++i) {
    const cpu::Tensor& t = interpreter.output(i);
    outputs.emplace_back(t.data, t.data + t.byte_size());
  }
  return outputs;
}

Result<RunResult> CpuDevice::Run(Program& program, const std::vector<TensorBytes>& inputs) {
  TPUFLEET_RETURN_IF_ERROR(CheckInputs(program.model(), inputs));
  auto start = std::chrono::steady_clock::now();
  RunResult result;
  TPUFLEET_ASSIGN_OR_RETURN(result.outputs,
                            RunInterpreter(*static_cast<CpuProgram&>(program).interpreter, inputs));
  result.device_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tpufleet::backends
