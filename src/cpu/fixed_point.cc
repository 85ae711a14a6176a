#include "cpu/fixed_point.h"

#include <cmath>

namespace tpufleet::cpu::fixed {
namespace {

constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

int CountLeadingZeros(uint32_t x) { return x == 0 ? 32 : __builtin_clz(x); }

// gemmlowp's RoundingHalfSum: (a + b) / 2 rounded away from zero.
int32_t RoundingHalfSum(int32_t a, int32_t b) {
  int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<int32_t>((sum + sign) / 2);
}

// gemmlowp's one_over_one_plus_x_for_x_in_0_1 on raw Q0.31 values: three Newton-Raphson steps
// in Q2.29.
int32_t OneOverOnePlusX(int32_t a) {
  const int32_t half_denominator = RoundingHalfSum(a, kInt32Max);
  const int32_t constant_48_over_17 = 1515870810;
  const int32_t constant_neg_32_over_17 = -1010580540;
  const int32_t one_q2 = 1 << 29;
  int32_t x = WrappingAdd(constant_48_over_17, SaturatingRoundingDoublingHighMul(
                                                   half_denominator, constant_neg_32_over_17));
  for (int i = 0; i < 3; ++i) {
    int32_t half_denominator_times_x = SaturatingRoundingDoublingHighMul(half_denominator, x);
    int32_t one_minus = WrappingSub(one_q2, half_denominator_times_x);
    x = WrappingAdd(
        x, SaturatingRoundingMultiplyByPOT(SaturatingRoundingDoublingHighMul(x, one_minus), 2));
  }
  // ExactMulByPot<-1> keeps the raw value (Q2.29 -> Q1.30); Rescale<0> shifts it to Q0.31.
  return SaturatingRoundingMultiplyByPOT(x, 1);
}

}  // namespace

QuantizedMultiplier QuantizeMultiplier(double real) {
  QuantizedMultiplier result;
  if (real == 0.0) return result;
  int shift = 0;
  const double q = std::frexp(real, &shift);
  auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  result.multiplier = static_cast<int32_t>(q_fixed);
  result.shift = shift;
  return result;
}

int32_t GetReciprocal(int32_t x, int x_integer_digits, int* shift) {
  const int headroom_plus_one = CountLeadingZeros(static_cast<uint32_t>(x));
  *shift = x_integer_digits - headroom_plus_one;
  const int32_t shifted_minus_one = static_cast<int32_t>(
      (static_cast<uint32_t>(x) << headroom_plus_one) - (static_cast<uint32_t>(1) << 31));
  return OneOverOnePlusX(shifted_minus_one);
}

QuantizedMultiplier InvSqrtQuantizedMultiplier(int32_t input) {
  QuantizedMultiplier result;
  if (input <= 1) {
    result.multiplier = kInt32Max;
    result.shift = 0;
    return result;
  }
  int shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++shift;
  }
  const int max_left_shift_bits = CountLeadingZeros(static_cast<uint32_t>(input)) - 1;
  const int left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
  shift -= left_shift_bit_pairs;
  input <<= 2 * left_shift_bit_pairs;
  // Newton-Raphson in Q3.28, from x = 1, five steps: x = 1.5 x - (input / 2) x^3.
  const int32_t fixed_input = input >> 1;
  const int32_t half_input = SaturatingRoundingMultiplyByPOT(fixed_input, -1);
  const int32_t half_three = (1 << 28) + (1 << 27);
  int32_t x = 1 << 28;
  for (int i = 0; i < 5; ++i) {
    // x * x * x is Q9.22; Rescale<3> multiplies the raw value by 2^6.
    int32_t x3 = SaturatingRoundingMultiplyByPOT(
        SaturatingRoundingDoublingHighMul(SaturatingRoundingDoublingHighMul(x, x), x), 6);
    // Both products are Q6.25; Rescale<3> multiplies the raw difference by 2^3.
    int32_t difference = WrappingSub(SaturatingRoundingDoublingHighMul(half_three, x),
                                     SaturatingRoundingDoublingHighMul(half_input, x3));
    x = SaturatingRoundingMultiplyByPOT(difference, 3);
  }
  const int32_t half_sqrt_2 = 1518500250;  // sqrt(2) / 2 in Q0.31
  x = SaturatingRoundingDoublingHighMul(x, half_sqrt_2);
  if (shift < 0) {
    x = static_cast<int32_t>(static_cast<uint32_t>(x) << -shift);
    shift = 0;
  }
  result.multiplier = x;
  result.shift = -shift;  // a right shift, expressed as TFLite's reverse (left) shift
  return result;
}

int CountLeadingSignBits(int32_t x) { return x == 0 ? 31 : __builtin_clrsb(x); }

}  // namespace tpufleet::cpu::fixed
