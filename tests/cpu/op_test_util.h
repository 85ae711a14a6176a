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
  return t == DataType::kInt8    ? -128
         : t == DataType::kUInt8 ? 0
         : t == DataType::kInt16 ? -32768
                                 : INT32_MIN;
}
inline int32_t QMaxOf(DataType t) {
  return t == DataType::kInt8    ? 127
         : t == DataType::kUInt8 ? 255
         : t == DataType::kInt16 ? 32767
                                 : INT32_MAX;
}

// True for the 8- and 16-bit integer types, the ones tensors are quantized in.
inline bool IsQuantizedType(DataType t) {
  return t == DataType::kUInt8 || t == DataType::kInt8 || t == DataType::kInt16;
}

// A spec of `type` and `shape` holding `values`, quantized with (scale, zero_point) when the
// type is an 8- or 16-bit integer and `scale` is not 0.
inline TensorSpec Spec(DataType type, std::vector<int32_t> shape, float scale, int zero_point,
                       std::vector<float> values = {}) {
  TensorSpec s{type, std::move(shape)};
  if (IsQuantizedType(type) && scale != 0) s.q = {{scale}, {zero_point}, 0};
  s.values = std::move(values);
  return s;
}

// The same, values first.
inline TensorSpec ValuesSpec(DataType type, std::vector<int32_t> shape,
                             std::vector<float> values = {}, float scale = 1, int zero_point = 0) {
  return Spec(type, std::move(shape), scale, zero_point, std::move(values));
}

// Quantizes value v along `channel` (per-channel scales) into bytes of `spec.type`; int64, bool
// and unquantized 8- and 16-bit values are stored as given.
std::vector<uint8_t> Encode(const TensorSpec& spec);
// Real values of a tensor's bytes.
std::vector<float> Decode(const Tensor& t);
// Real values after quantizing: what the kernel actually sees of `spec.values`.
std::vector<float> Representable(const TensorSpec& spec);

// Number of elements of a shape.
size_t Count(const std::vector<int32_t>& shape);

// Reference broadcasting: the index into an input of shape `in` that output element i of shape
// `out` reads (shapes right-aligned, dimensions of 1 repeated).
size_t BroadcastIndex(size_t i, const std::vector<int32_t>& out, const std::vector<int32_t>& in);

// Uniform random reals in [lo, hi].
std::vector<float> RandomValues(size_t n, float lo, float hi, uint32_t seed);

// A one-operator model's bytes (inputs: non-constant specs, in order).
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

// Runs model bytes once with the non-constant `inputs` fed in order, and returns the
// interpreter for inspection; fails the test on any error.
std::unique_ptr<Interpreter> RunModel(const std::vector<uint8_t>& bytes,
                                      const std::vector<TensorSpec>& inputs);

// BuildSingleOp, then RunModel.
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
