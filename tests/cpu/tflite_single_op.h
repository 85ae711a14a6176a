// TensorFlow Lite 2.9 on a one-operator model from op_test_util's BuildSingleOp, fed the same
// inputs, for kernel tests that compare tpufleet with TFLite in the same test.
#pragma once

#include <cstdint>
#include <vector>

#include "op_test_util.h"
#include "tpufleet/status.h"

namespace tpufleet::cpu::testing {

// The output tensors' bytes; an error when TFLite refuses the model (it does not run the
// operator on these types or options) or fails to invoke it.
Result<std::vector<std::vector<uint8_t>>> RunWithTfLite(const std::vector<uint8_t>& model,
                                                        const std::vector<TensorSpec>& inputs);

// The bytes of `t`.
std::vector<uint8_t> BytesOf(const Tensor& t);

}  // namespace tpufleet::cpu::testing
