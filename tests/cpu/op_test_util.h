// Single-operator models for kernel tests: tiny hand-made tensors, run through the real
// interpreter, compared with naive float references written in the tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "cpu/interpreter.h"
#include "model/builder.h"

namespace tpufleet::cpu::testing {

// A tensor spec: values are real numbers; they are quantized with `q` for 8-bit types.
struct TensorSpec {
  DataType type = DataType::kFloat32;
  std::vector<int32_t> shape;
  Quantization q;
  std::vector<float> values;  // empty for outputs and activations fed later
  bool constant = false;
};

inline int32_t QMinOf(DataType t) {
  return t == DataType::kInt8 ? -128 : t == DataType::kUInt8 ? 0 : INT32_MIN;
}
inline int32_t QMaxOf(DataType t) {
  return t == DataType::kInt8 ? 127 : t == DataType::kUInt8 ? 255 : INT32_MAX;
}

// Quantizes value v along `channel` (per-channel scales) into bytes of `spec.type`.
std::vector<uint8_t> Encode(const TensorSpec& spec);
// Real values of a tensor's bytes.
std::vector<float> Decode(const Tensor& t);
// Real values after quantizing: what the kernel actually sees of `spec.values`.
std::vector<float> Representable(const TensorSpec& spec);

// Uniform random reals in [lo, hi].
std::vector<float> RandomValues(size_t n, float lo, float hi, uint32_t seed);

// The single-operator model's bytes: graph inputs are the non-constant specs, in order.
std::vector<uint8_t> BuildSingleOp(tfl::BuiltinOperator op, const std::vector<TensorSpec>& inputs,
                                   const std::vector<TensorSpec>& outputs,
                                   tfl::BuiltinOptionsUnion options = {},
                                   const std::string& custom_code = "",
                                   std::vector<uint8_t> custom_options = {});

// The single-operator model loaded into an interpreter (Prepare run), or the error on the way.
Result<std::unique_ptr<Interpreter>> CreateSingleOp(tfl::BuiltinOperator op,
                                                    const std::vector<TensorSpec>& inputs,
                                                    const std::vector<TensorSpec>& outputs,
                                                    tfl::BuiltinOptionsUnion options = {},
                                                    const std::string& custom_code = "",
                                                    std::vector<uint8_t> custom_options = {});
// Feeds the non-constant specs' values as the graph inputs, in order, and invokes.
Status InvokeWith(Interpreter& interpreter, const std::vector<TensorSpec>& inputs);

// Builds the model (inputs: non-constant specs, in order), runs it once, and returns the
// interpreter for inspection; fails the test on any error.
std::unique_ptr<Interpreter> RunSingleOp(tfl::BuiltinOperator op,
                                         const std::vector<TensorSpec>& inputs,
                                         const std::vector<TensorSpec>& outputs,
                                         tfl::BuiltinOptionsUnion options = {},
                                         const std::string& custom_code = "",
                                         std::vector<uint8_t> custom_options = {});

// Expects every output value within `tolerance` real units of the reference.
void ExpectNear(const std::vector<float>& actual, const std::vector<float>& expected,
                float tolerance);

}  // namespace tpufleet::cpu::testing
