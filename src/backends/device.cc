#include "backends/device.h"

#include <fmt/format.h>

namespace tpufleet::backends {

Result<std::vector<std::unique_ptr<Program>>> Device::PrepareGroup(
    const std::vector<ModelPtr>& models) {
  std::vector<std::unique_ptr<Program>> programs;
  for (const ModelPtr& model : models) {
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Program> program, Prepare(model));
    programs.push_back(std::move(program));
  }
  return programs;
}

uint64_t PackageCachingToken(const Model& model) {
  for (const EdgeTpuPackage& package : model.edgetpu_packages()) {
    if (package.caching_token() != 0) return package.caching_token();
  }
  return 0;
}

std::span<uint8_t> Program::input_buffer(size_t i) {
  if (inputs_.empty()) {
    for (size_t k = 0; k < model_->input_indices().size(); ++k)
      inputs_.emplace_back(model_->input(k).byte_size);
  }
  return inputs_[i];
}

std::span<uint8_t> Program::output_buffer(size_t i) {
  if (outputs_.empty()) {
    for (size_t k = 0; k < model_->output_indices().size(); ++k)
      outputs_.emplace_back(model_->output(k).byte_size);
  }
  return outputs_[i];
}

Result<RunResult> Device::RunInPlace(Program& program, cpu::Profile* profile) {
  if (profile != nullptr) {
    return UnimplementedError(fmt::format(
        "{}: per-operator profiles come from the CPU device (cpu); this device runs the model "
        "as a whole",
        info().name));
  }
  std::vector<TensorBytes> inputs;
  for (size_t i = 0; i < program.model().input_indices().size(); ++i) {
    std::span<const uint8_t> bytes = program.input_buffer(i);
    inputs.emplace_back(bytes.begin(), bytes.end());
  }
  TPUFLEET_ASSIGN_OR_RETURN(RunResult result, Run(program, inputs));
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    std::span<uint8_t> out = program.output_buffer(i);
    if (out.size() != result.outputs[i].size()) {
      return InternalError(fmt::format("{}: output {} has {} bytes, the model says {}", info().name,
                                       i, result.outputs[i].size(), out.size()));
    }
    std::copy(result.outputs[i].begin(), result.outputs[i].end(), out.begin());
  }
  result.outputs.clear();
  return result;
}

Status CheckInputs(const Model& model, const std::vector<TensorBytes>& inputs) {
  if (inputs.size() != model.input_indices().size()) {
    return InvalidArgumentError(fmt::format("{}: {} inputs given, the model has {}", model.name(),
                                            inputs.size(), model.input_indices().size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo& t = model.input(i);
    if (inputs[i].size() != t.byte_size) {
      return InvalidArgumentError(fmt::format(
          "{}: input {} '{}' has {} bytes; {} [{}] needs {}", model.name(), i, t.name,
          inputs[i].size(), DataTypeName(t.type), fmt::join(t.shape, ", "), t.byte_size));
    }
  }
  return OkStatus();
}

Result<RunResult> RunThroughBuffers(Device& device, Program& program,
                                    const std::vector<TensorBytes>& inputs) {
  TPUFLEET_RETURN_IF_ERROR(CheckInputs(program.model(), inputs));
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::span<uint8_t> tensor = program.input_buffer(i);
    if (tensor.size() != inputs[i].size()) {
      return InternalError(fmt::format("{}: input {} has {} bytes on the device, the model says {}",
                                       device.info().name, i, tensor.size(), inputs[i].size()));
    }
    std::copy(inputs[i].begin(), inputs[i].end(), tensor.begin());
  }
  TPUFLEET_ASSIGN_OR_RETURN(RunResult result, device.RunInPlace(program));
  for (size_t i = 0; i < program.model().output_indices().size(); ++i) {
    std::span<const uint8_t> out = program.output_buffer(i);
    result.outputs.emplace_back(out.begin(), out.end());
  }
  return result;
}

}  // namespace tpufleet::backends
