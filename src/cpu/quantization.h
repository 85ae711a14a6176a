// Quantized arithmetic shared by the plain C++ kernels: value ranges, activation clamps,
// rounding, and 256-entry lookup tables for element-wise functions of 8-bit tensors.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>

#include "cpu/tensor.h"
#include "model/schema.h"

namespace tpufleet::cpu {

inline bool IsQuantized8(DataType t) { return t == DataType::kUInt8 || t == DataType::kInt8; }

// The representable range of an 8-bit type: [0, 255] or [-128, 127].
inline int32_t QMin(DataType t) { return t == DataType::kInt8 ? -128 : 0; }
inline int32_t QMax(DataType t) { return t == DataType::kInt8 ? 127 : 255; }

// Rounds half away from zero, as TFLite's reference kernels do (std::lround's rule, without
// its library call), for |x| < 2^31. Exact: below 2^23 the fraction x - trunc(x) is computed
// without rounding, above it x is an integer. Branch-free, so loops of it vectorize.
inline int32_t RoundInRange(float x) {
  const int32_t whole = static_cast<int32_t>(x);  // toward zero
  const float fraction = x - static_cast<float>(whole);
  return whole + (fraction >= 0.5f) - (fraction <= -0.5f);
}

// RoundInRange for any value: clamped to +-2^30 first, so huge or infinite values (from hostile
// scales) stay beyond every 8-bit range and adding a zero point cannot overflow; NaN gives 0.
inline int32_t Round(float x) {
  constexpr float kLimit = 1 << 30;
  if (std::isnan(x)) return 0;
  return RoundInRange(std::clamp(x, -kLimit, kLimit));
}

// The real value of element `i`: dequantized for 8-bit tensors, converted for float32, int32 and
// int64 ones; 0 for other types.
inline float RealValueAt(const Tensor& t, size_t i) {
  switch (t.type) {
    case DataType::kFloat32: return t.as<float>()[i];
    case DataType::kUInt8:
      return t.scale() * static_cast<float>(t.as<uint8_t>()[i] - t.zero_point());
    case DataType::kInt8: return t.scale() * static_cast<float>(t.as<int8_t>()[i] - t.zero_point());
    case DataType::kInt32: return static_cast<float>(t.as<int32_t>()[i]);
    case DataType::kInt64: return static_cast<float>(t.as<int64_t>()[i]);
    default: return 0;
  }
}

// Quantizes a real value into `t`'s range with `scale` and `zero_point`.
inline int32_t QuantizeValue(float real, float scale, int32_t zero_point, int32_t qmin,
                             int32_t qmax) {
  return std::clamp(Round(real / scale) + zero_point, qmin, qmax);
}

struct ClampRange {
  int32_t min;
  int32_t max;
};

// Fused activations the kernels implement: NONE, RELU, RELU6, RELU_N1_TO_1.
inline bool IsSupportedActivation(tfl::ActivationFunctionType a) {
  return a == tfl::ActivationFunctionType::NONE || a == tfl::ActivationFunctionType::RELU ||
         a == tfl::ActivationFunctionType::RELU6 || a == tfl::ActivationFunctionType::RELU_N1_TO_1;
}

// The output range left by a fused activation, in the output's quantized domain.
ClampRange ActivationRange(tfl::ActivationFunctionType activation, const Tensor& output);
// The same for float outputs.
std::pair<float, float> ActivationRangeFloat(tfl::ActivationFunctionType activation);

// A function of 8-bit values as a table indexed by the input's byte, holding the output's byte
// (int8 values as their two's-complement bytes).
using LookupTable = std::array<uint8_t, 256>;
// quantize(f(dequantize(q))) for every 8-bit input value q.
LookupTable MakeLookupTable(const Tensor& input, const Tensor& output,
                            const std::function<float(float)>& f);
// clamp(f(q)) on raw 8-bit values, for kernels whose arithmetic is defined on integers.
LookupTable MakeRawLookupTable(DataType input, DataType output,
                               const std::function<int32_t(int32_t)>& f);
// output[i] = table[input[i]] over the input's bytes.
void ApplyLookupTable(const LookupTable& table, const Tensor& input, Tensor& output);

}  // namespace tpufleet::cpu
