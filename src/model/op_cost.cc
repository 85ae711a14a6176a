#include "model/op_cost.h"

#include <initializer_list>

#include "model/schema.h"

namespace tpufleet {
namespace {

// a x b x ..., saturating at kMaxOperatorMacs.
uint64_t Product(std::initializer_list<uint64_t> values) {
  uint64_t product = 1;
  for (uint64_t v : values) {
    if (v == 0) return 0;
  }
  for (uint64_t v : values) {
    if (__builtin_mul_overflow(product, v, &product) || product > kMaxOperatorMacs)
      return kMaxOperatorMacs;
  }
  return product;
}

}  // namespace

const TensorInfo* OperandOf(const std::vector<int>& indices, size_t i,
                            const std::vector<TensorInfo>& tensors) {
  if (i >= indices.size() || indices[i] < 0) return nullptr;
  return &tensors[indices[i]];
}

uint64_t DimOf(const TensorInfo* t, int d) {
  if (t == nullptr) return 0;
  int rank = static_cast<int>(t->shape.size());
  if (d < 0) d += rank;
  if (d < 0 || d >= rank) return 0;
  return static_cast<uint64_t>(t->shape[d]);
}

uint64_t EstimateMacs(const OperatorInfo& op, const std::vector<TensorInfo>& tensors) {
  if (op.is_custom) return 0;
  const TensorInfo* in0 = OperandOf(op.inputs, 0, tensors);
  const TensorInfo* in1 = OperandOf(op.inputs, 1, tensors);
  const TensorInfo* out = OperandOf(op.outputs, 0, tensors);
  uint64_t out_elements = out ? out->element_count : 0;
  using Op = tfl::BuiltinOperator;
  switch (static_cast<Op>(op.builtin_code)) {
    case Op::CONV_2D:  // filter [O, KH, KW, I/groups]
      return Product({out_elements, DimOf(in1, 1), DimOf(in1, 2), DimOf(in1, 3)});
    case Op::DEPTHWISE_CONV_2D:  // filter [1, KH, KW, O]
      return Product({out_elements, DimOf(in1, 1), DimOf(in1, 2)});
    case Op::FULLY_CONNECTED:  // weights [O, I]
      return Product({out_elements, DimOf(in1, 1)});
    case Op::TRANSPOSE_CONV: {  // inputs: output shape, filter [O, KH, KW, I],
                                // input
      const TensorInfo* filter = in1;
      const TensorInfo* input = OperandOf(op.inputs, 2, tensors);
      return Product(
          {input ? input->element_count : 0, DimOf(filter, 0), DimOf(filter, 1), DimOf(filter, 2)});
    }
    case Op::BATCH_MATMUL:  // [.., M, K] x [.., K, N]
      return Product({out_elements, DimOf(in0, -1)});
    case Op::UNIDIRECTIONAL_SEQUENCE_LSTM: {
      // input [B, T, I] (or time-major); recurrent_to_output weights [units,
      // units] are input 8.
      const TensorInfo* recurrent = OperandOf(op.inputs, 8, tensors);
      uint64_t units = DimOf(recurrent, 0);
      uint64_t gates = OperandOf(op.inputs, 1, tensors) ? 4 : 3;  // CIFG omits the input gate
      uint64_t steps = in0 && in0->shape.size() == 3 ? Product({DimOf(in0, 0), DimOf(in0, 1)}) : 0;
      return Product({steps, gates, units, DimOf(in0, 2) + units});
    }
    default: return 0;
  }
}

}  // namespace tpufleet
