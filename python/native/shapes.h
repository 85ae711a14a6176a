// The shape a tensor has at run time. The file gives most; the outputs of
// TFLite_Detection_PostProcess it leaves open (TensorFlow Lite sizes them when it prepares the
// model), and those are given here as TensorFlow Lite gives them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tpufleet/model.h"

namespace tpufleet::python {

// `info`'s shape when it accounts for `byte_size` bytes. Otherwise, for an output of
// TFLite_Detection_PostProcess, TensorFlow Lite's: boxes [1, n, 4], classes and scores [1, n],
// the count [1]; for any other tensor the elements flat, [byte_size / element size].
std::vector<int32_t> HeldShape(const Model& model, const TensorInfo& info, size_t byte_size);

}  // namespace tpufleet::python
