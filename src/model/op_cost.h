// Estimated multiply-accumulates of one operator, from tensor shapes alone.
#pragma once

#include <cstdint>
#include <vector>

#include "tpufleet/model.h"

namespace tpufleet {

// MACs of one invocation of `op` for convolutions, fully connected layers,
// matrix products and LSTMs; 0 for ops whose work is not multiply-accumulates
// (pooling, element-wise, reshapes). Returns 0 when the shapes are not the ones
// the op requires (the CPU backend rejects those).
uint64_t EstimateMacs(const OperatorInfo& op, const std::vector<TensorInfo>& tensors);

}  // namespace tpufleet
