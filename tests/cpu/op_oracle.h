// Single-operator models run on TensorFlow Lite 2.9's built-in kernels beside tpufleet's, on the
// same input bytes, for kernel tests that compare with TFLite where it runs the case.
#pragma once

#include "tflite_single_op.h"

namespace tpufleet::cpu::testing {

// Runs the model on tpufleet and on TFLite and expects every output byte for byte equal (and
// TFLite to run it); returns tpufleet's interpreter, or nullptr after a failure.
std::unique_ptr<Interpreter> ExpectSameAsTfLite(tfl::BuiltinOperator op,
                                                const std::vector<TensorSpec>& inputs,
                                                const std::vector<TensorSpec>& outputs,
                                                const tfl::BuiltinOptionsUnion& options = {});

}  // namespace tpufleet::cpu::testing

namespace tpufleet::cpu::testing {

// The types the data-movement kernels copy, each with a sample quantization for 8-bit ones.
const std::vector<DataType>& CopyableTypes();
// A spec of `type` holding `count` distinct sample values (0/1 alternating for bool), quantized
// with scale 0.5 and a non-zero zero point for 8-bit types.
TensorSpec SampleSpec(DataType type, std::vector<int32_t> shape, bool constant = false);
// An output spec of `type` with SampleSpec's quantization.
TensorSpec OutputSpec(DataType type, std::vector<int32_t> shape);
// An int32 (or int64) constant, for shapes, axes, sizes.
TensorSpec IntSpec(std::vector<int32_t> shape, std::vector<float> values, bool constant = true,
                   DataType type = DataType::kInt32);

// Runs a data-movement case: each output's real values must equal `expected` exactly, and when
// `tflite` is set, TensorFlow Lite 2.9 must produce the same bytes.
void ExpectMoved(tfl::BuiltinOperator op, const std::vector<TensorSpec>& inputs,
                 const std::vector<TensorSpec>& outputs,
                 const std::vector<std::vector<float>>& expected, bool tflite,
                 const tfl::BuiltinOptionsUnion& options = {});

// The error Create or Invoke gives for a case expected to fail (OK if it does not fail).
Status FailureOf(tfl::BuiltinOperator op, const std::vector<TensorSpec>& inputs,
                 const std::vector<TensorSpec>& outputs,
                 const tfl::BuiltinOptionsUnion& options = {});

}  // namespace tpufleet::cpu::testing
