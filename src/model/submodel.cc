#include "model/submodel.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "model/builder.h"

namespace tpufleet {

std::string_view BaseTensorName(std::string_view name) { return name.substr(0, name.find(';')); }

int FindTensorByBaseName(const Model& model, std::string_view name) {
  std::string_view base = BaseTensorName(name);
  for (const TensorInfo& t : model.tensors()) {
    if (BaseTensorName(t.name) == base) return t.index;
  }
  return -1;
}

Result<ModelPtr> ExtractSubmodel(const Model& model, const std::vector<int>& inputs,
                                 const std::vector<int>& outputs, const std::string& name) {
  const std::vector<TensorInfo>& tensors = model.tensors();
  for (const std::vector<int>* list : {&inputs, &outputs}) {
    for (int t : *list) {
      if (t < 0 || t >= static_cast<int>(tensors.size())) {
        return InvalidArgumentError(fmt::format("{}: cutting at tensor {}, but the model has {}",
                                                model.name(), t, tensors.size()));
      }
    }
  }
  std::vector<int> producer(tensors.size(), -1);
  for (const OperatorInfo& op : model.operators()) {
    for (int t : op.outputs) {
      if (t >= 0) producer[t] = op.index;
    }
  }
  std::set<int> given(inputs.begin(), inputs.end());
  std::set<int> needed_ops;
  std::set<int> visited;
  // (tensor, the output it is needed for)
  std::vector<std::pair<int, int>> pending;
  for (int t : outputs) pending.emplace_back(t, t);
  while (!pending.empty()) {
    auto [t, for_output] = pending.back();
    pending.pop_back();
    if (t < 0 || given.count(t) || tensors[t].is_constant || tensors[t].is_variable ||
        !visited.insert(t).second) {
      continue;
    }
    if (producer[t] < 0) {
      return InvalidArgumentError(fmt::format(
          "{}: output '{}' needs tensor '{}', which is neither among the inputs given ({}) nor "
          "computed from them",
          model.name(), BaseTensorName(tensors[for_output].name), BaseTensorName(tensors[t].name),
          fmt::join(inputs, ", ")));
    }
    if (needed_ops.insert(producer[t]).second) {
      for (int in : model.operators()[producer[t]].inputs) pending.emplace_back(in, for_output);
    }
  }
  ModelBuilder builder(model.bytes());
  builder.SetInputs(inputs);
  builder.SetOutputs(outputs);
  builder.KeepOnlyOperators(std::vector<int>(needed_ops.begin(), needed_ops.end()));
  return Model::FromBuffer(builder.Finish(), name);
}

}  // namespace tpufleet
