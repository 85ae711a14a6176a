// TensorFlow Lite's fixed-point requantization (its default, double-rounding variant), for
// kernels that must match TFLite's integer results bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace tpufleet::cpu {

// A real multiplier as a Q31 significand and a power-of-two exponent, as QuantizeMultiplier.
struct QuantizedMultiplier {
  int32_t significand = 0;
  int exponent = 0;
};

inline QuantizedMultiplier QuantizeMultiplier(double real) {
  QuantizedMultiplier m;
  if (real == 0.0) return m;
  double q = std::frexp(real, &m.exponent);
  int64_t fixed = static_cast<int64_t>(std::round(q * (int64_t{1} << 31)));
  if (fixed == (int64_t{1} << 31)) {
    fixed /= 2;
    ++m.exponent;
  }
  if (m.exponent < -31) {
    m.exponent = 0;
    fixed = 0;
  }
  m.significand = static_cast<int32_t>(fixed);
  return m;
}

// gemmlowp's SaturatingRoundingDoublingHighMul.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  int64_t product = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  int32_t nudge = product >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((product + nudge) / (int64_t{1} << 31));
}

// gemmlowp's RoundingDivideByPOT: x / 2^exponent, rounding half away from zero.
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  int32_t remainder = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * significand * 2^(exponent - 31), as TFLite's MultiplyByQuantizedMultiplier.
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m) {
  int left = m.exponent > 0 ? m.exponent : 0, right = m.exponent > 0 ? 0 : -m.exponent;
  return RoundingDivideByPOT(
      SaturatingRoundingDoublingHighMul(static_cast<int32_t>(static_cast<uint32_t>(x) << left),
                                        m.significand),
      right);
}

}  // namespace tpufleet::cpu
