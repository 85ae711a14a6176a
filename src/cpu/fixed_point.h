// TensorFlow Lite's integer arithmetic for quantized kernels (gemmlowp's fixed-point rules), so
// that kernels using it produce TFLite's bytes exactly: doubling high multiplies, rounding
// shifts, real multipliers quantized to a 31-bit mantissa and a shift, and the fixed-point
// reciprocal and inverse square root. All functions are pure and total: they saturate where
// TFLite saturates and never overflow in C++'s sense (wrap-around is computed in unsigned).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace tpufleet::cpu::fixed {

// (a * b * 2) >> 32, rounded to nearest; saturates the single overflowing case INT32_MIN^2.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero (exponent >= 0). TFLite leaves
// exponents above 31 undefined; here they give 0, the rounded quotient.
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  if (exponent > 31) return 0;
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * 2^exponent, saturating when exponent > 0, rounding when exponent < 0.
inline int32_t SaturatingRoundingMultiplyByPOT(int32_t x, int exponent) {
  if (exponent <= 0) return RoundingDivideByPOT(x, -exponent);
  if (exponent > 30) {
    return x > 0   ? std::numeric_limits<int32_t>::max()
           : x < 0 ? std::numeric_limits<int32_t>::min()
                   : 0;
  }
  const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// Wrapping int32 addition and subtraction, as gemmlowp's raw fixed-point operations behave.
inline int32_t WrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t WrappingSub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}

// x * multiplier * 2^shift, TFLite's MultiplyByQuantizedMultiplier (shift may be either sign).
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? std::min(shift, 31) : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(shifted, multiplier), right_shift);
}

// TFLite's MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0.
inline int32_t MultiplyByQuantizedMultiplierSmallerThanOne(int32_t x, int32_t multiplier,
                                                           int shift) {
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier), -shift);
}

// TFLite's MultiplyByQuantizedMultiplierGreaterThanOne: left_shift >= 0.
inline int32_t MultiplyByQuantizedMultiplierGreaterThanOne(int32_t x, int32_t multiplier,
                                                           int left_shift) {
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return SaturatingRoundingDoublingHighMul(shifted, multiplier);
}

// A real multiplier as multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) (0 for 0).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
};

// TFLite's QuantizeMultiplier: frexp, round the mantissa to 31 bits; tiny values become 0.
QuantizedMultiplier QuantizeMultiplier(double real);

// TFLite's GetReciprocal: 1 / x for x > 0 as a Q0.31 value and a shift (x_integer_digits is the
// number of integer bits of x's fixed-point format).
int32_t GetReciprocal(int32_t x, int x_integer_digits, int* shift);

// TFLite's GetInvSqrtQuantizedMultiplierExp with reverse_shift = -1: 1 / sqrt(input) as a
// multiplier and a (left) shift; input <= 1 gives the largest multiplier.
QuantizedMultiplier InvSqrtQuantizedMultiplier(int32_t input);

// Number of leading bits equal to the sign bit, minus one (TFLite's CountLeadingSignBits).
int CountLeadingSignBits(int32_t x);

}  // namespace tpufleet::cpu::fixed
