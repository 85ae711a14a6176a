#include "model/op_cost.h"

#include "model/schema.h"

namespace tpufleet {
namespace {

const TensorInfo* Operand(const std::vector<int>& indices, size_t i,
                          const std::vector<TensorInfo>& tensors) {
  if (i >= indices.size() || indices[i] < 0) return nullptr;
  return &tensors[indices[i]];
}

// Dimension `d` of a tensor, counting from the end when negative; 0 when
// absent.
uint64_t Dim(const TensorInfo* t, int d) {
  if (t == nullptr) return 0;
  int rank = static_cast<int>(t->shape.size());
  if (d < 0) d += rank;
  if (d < 0 || d >= rank) return 0;
  return static_cast<uint64_t>(t->shape[d]);
}

}  // namespace

uint64_t EstimateMacs(const OperatorInfo& op, const std::vector<TensorInfo>& tensors) {
  if (op.is_custom) return 0;
  const TensorInfo* in0 = Operand(op.inputs, 0, tensors);
  const TensorInfo* in1 = Operand(op.inputs, 1, tensors);
  const TensorInfo* out = Operand(op.outputs, 0, tensors);
  uint64_t out_elements = out ? out->element_count : 0;
  using Op = tfl::BuiltinOperator;
  switch (static_cast<Op>(op.builtin_code)) {
    case Op::CONV_2D:  // filter [O, KH, KW, I/groups]
      return out_elements * Dim(in1, 1) * Dim(in1, 2) * Dim(in1, 3);
    case Op::DEPTHWISE_CONV_2D:  // filter [1, KH, KW, O]
      return out_elements * Dim(in1, 1) * Dim(in1, 2);
    case Op::FULLY_CONNECTED:  // weights [O, I]
      return out_elements * Dim(in1, 1);
    case Op::TRANSPOSE_CONV: {  // inputs: output shape, filter [O, KH, KW, I],
                                // input
      const TensorInfo* filter = in1;
      const TensorInfo* input = Operand(op.inputs, 2, tensors);
      return (input ? input->element_count : 0) * Dim(filter, 0) * Dim(filter, 1) * Dim(filter, 2);
    }
    case Op::BATCH_MATMUL:  // [.., M, K] x [.., K, N]
      return out_elements * Dim(in0, -1);
    case Op::UNIDIRECTIONAL_SEQUENCE_LSTM: {
      // input [B, T, I] (or time-major); recurrent_to_output weights [units,
      // units] are input 8.
      const TensorInfo* recurrent = Operand(op.inputs, 8, tensors);
      uint64_t units = Dim(recurrent, 0);
      uint64_t gates = Operand(op.inputs, 1, tensors) ? 4 : 3;  // CIFG omits the input gate
      uint64_t steps = in0 && in0->shape.size() == 3 ? Dim(in0, 0) * Dim(in0, 1) : 0;
      return steps * gates * units * (Dim(in0, 2) + units);
    }
    default: return 0;
  }
}

}  // namespace tpufleet
