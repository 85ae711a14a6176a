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

}  // namespace tpufleet::backends
