#include "backends/device.h"

#include <fmt/format.h>

namespace tpufleet::backends {

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
