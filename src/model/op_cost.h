// Estimated multiply-accumulates of one operator, from tensor shapes alone.
#pragma once

#include <cstdint>
#include <vector>

#include "tpufleet/model.h"

namespace tpufleet {

// MACs of one invocation of `op` for convolutions, fully connected layers,
// matrix products and LSTMs; 0 for ops whose work is not multiply-accumulates
// (pooling, element-wise, reshapes). Returns 0 when the shapes are not the ones
// the op requires (the CPU backend rejects those); at most kMaxOperatorMacs.
uint64_t EstimateMacs(const OperatorInfo& op, const std::vector<TensorInfo>& tensors);

// Products of hostile shapes saturate here rather than wrap: no operator's estimate exceeds it.
inline constexpr uint64_t kMaxOperatorMacs = uint64_t{1} << 52;

// a + b, saturating at the largest uint64_t: sums of per-operator estimates over a hostile
// model (thousands of operators at kMaxOperatorMacs) stay the largest value instead of wrapping.
inline uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

// Operand `i` of an operator's `indices` (inputs or outputs); null when absent or omitted (-1).
const TensorInfo* OperandOf(const std::vector<int>& indices, size_t i,
                            const std::vector<TensorInfo>& tensors);
// Dimension `d` of a tensor, counting from the end when negative; 0 when the tensor is null or
// has no such dimension.
uint64_t DimOf(const TensorInfo* t, int d);

}  // namespace tpufleet
