#include "tflite_single_op.h"

#include "oracle/tflite_reference.h"

namespace tpufleet::cpu::testing {

Result<std::vector<std::vector<uint8_t>>> RunWithTfLite(const std::vector<uint8_t>& model,
                                                        const std::vector<TensorSpec>& inputs) {
  auto reference = tpufleet::testing::TfLiteReference::FromBuffer(model);
  if (!reference.ok()) return reference.status();
  size_t fed = 0;
  for (const TensorSpec& spec : inputs) {
    if (spec.constant) continue;
    TPUFLEET_RETURN_IF_ERROR(reference.value()->SetInput(fed++, Encode(spec)));
  }
  TPUFLEET_RETURN_IF_ERROR(reference.value()->Invoke());
  std::vector<std::vector<uint8_t>> outputs;
  for (size_t i = 0; i < reference.value()->output_count(); ++i)
    outputs.push_back(reference.value()->Output(i));
  return outputs;
}

std::vector<uint8_t> BytesOf(const Tensor& t) {
  return std::vector<uint8_t>(t.data, t.data + t.byte_size());
}

}  // namespace tpufleet::cpu::testing
