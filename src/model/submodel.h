// Cutting a model between tensors: the operators that compute some tensors from others, written
// as a model of their own (a segment of a model split for a pipeline, or the part of a full
// model that a compiled segment stands for).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

// The part of a tensor name before the first ';'. The Edge TPU compiler names a tensor as the
// model it compiled does and appends the names of the operations it fused after a ';'; newer
// converters do the same.
std::string_view BaseTensorName(std::string_view name);

// The index of the tensor of `model`'s main subgraph whose base name is `name`'s base name; -1
// when there is none (the first when several share it).
int FindTensorByBaseName(const Model& model, std::string_view name);

// The operators of `model` that compute the tensors `outputs` from the tensors `inputs`,
// constants and variable tensors (an operator's own state, which stays with it and is never an
// input of the part), in the model's order, as a verified model named `name` whose inputs and
// outputs are those tensors in the order given (their names, types, shapes and quantization
// unchanged; the tensors and buffers nothing uses left out). INVALID_ARGUMENT when an index is
// out of range or an output needs a tensor that is neither among `inputs` nor computed from them
// (the message names both).
Result<ModelPtr> ExtractSubmodel(const Model& model, const std::vector<int>& inputs,
                                 const std::vector<int>& outputs, const std::string& name);

}  // namespace tpufleet
