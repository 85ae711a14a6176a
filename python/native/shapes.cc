#include "shapes.h"

#include <algorithm>

namespace tpufleet::python {

namespace {

// Which output of a TFLite_Detection_PostProcess operator tensor `index` is; -1 for none.
int PostProcessOutput(const Model& model, int index) {
  for (const OperatorInfo& op : model.operators()) {
    if (op.name != "TFLite_Detection_PostProcess") continue;
    auto found = std::find(op.outputs.begin(), op.outputs.end(), index);
    if (found != op.outputs.end()) return static_cast<int>(found - op.outputs.begin());
  }
  return -1;
}

}  // namespace

std::vector<int32_t> HeldShape(const Model& model, const TensorInfo& info, size_t byte_size) {
  if (info.byte_size == byte_size && !info.shape.empty()) return info.shape;
  const size_t element_size = std::max<size_t>(1, DataTypeSize(info.type));
  const auto elements = static_cast<int32_t>(byte_size / element_size);
  switch (PostProcessOutput(model, info.index)) {
    case 0: return {1, elements / 4, 4};  // boxes
    case 1:                               // classes
    case 2: return {1, elements};         // scores
    case 3: return {elements};            // count
    default: return {elements};
  }
}

}  // namespace tpufleet::python
