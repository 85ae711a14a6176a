#include "cpu/fixed_point16.h"

#include <algorithm>

#include "cpu/fixed_point.h"

namespace tpufleet::cpu::fixed {
namespace {

constexpr int16_t kMax = 32767;
constexpr int16_t kMin = -32768;
constexpr int16_t kOneQ2 = 1 << 13;  // 1.0 with 2 integer bits

int16_t Wrap(int32_t v) { return static_cast<int16_t>(static_cast<uint16_t>(v & 0xffff)); }
int16_t Add(int16_t a, int16_t b) { return Wrap(int32_t{a} + b); }
int16_t Sub(int16_t a, int16_t b) { return Wrap(int32_t{a} - b); }
int16_t Neg(int16_t a) { return Wrap(-int32_t{a}); }
int16_t SaturatingAdd(int16_t a, int16_t b) {
  return static_cast<int16_t>(std::clamp<int32_t>(int32_t{a} + b, kMin, kMax));
}

// (a * b * 2) >> 16, rounded; saturates the one overflowing case.
int16_t Mul(int16_t a, int16_t b) {
  if (a == b && a == kMin) return kMax;
  int32_t ab = int32_t{a} * b;
  int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

// x * 2^exponent: saturating for exponent > 0, rounding for exponent < 0.
int16_t MulByPot(int16_t x, int exponent) {
  if (exponent <= 0) return static_cast<int16_t>(RoundingDivideByPOT(x, -exponent));
  const int32_t threshold = (1 << (15 - exponent)) - 1;
  if (x > threshold) return kMax;
  if (x < -threshold) return kMin;
  return Wrap(int32_t{x} * (1 << exponent));
}

// A constant gemmlowp gives as its 32-bit raw, for 16 bits: rounded to the high half.
int16_t Constant(int32_t raw32) { return static_cast<int16_t>(RoundingDivideByPOT(raw32, 16)); }

int16_t RoundingHalfSum(int16_t a, int16_t b) {
  int32_t sum = int32_t{a} + b;
  return static_cast<int16_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// exp(a) for a in [-1/4, 0): Taylor around -1/8; Q0.15 in and out.
int16_t ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int16_t a) {
  const int16_t constant_term = Constant(1895147668);  // exp(-1/8)
  const int16_t one_third = Constant(715827883);
  int16_t x = Add(a, 1 << 12);  // a + 1/8
  int16_t x2 = Mul(x, x);
  int16_t x3 = Mul(x2, x);
  int16_t x4 = Mul(x2, x2);
  int16_t x4_over_4 = MulByPot(x4, -2);
  int16_t rest = MulByPot(Add(Mul(Add(x4_over_4, x3), one_third), x2), -1);
  return SaturatingAdd(constant_term, Mul(constant_term, Add(x, rest)));
}

// exp(a) for a <= 0 with `integer_bits` integer bits, as Q0.15: the interval's exp of a modulo
// 1/4, times exp(-2^k) for each bit k of the rest.
int16_t ExpOnNegativeValues(int16_t a, int integer_bits) {
  const int fractional_bits = 15 - integer_bits;
  const int16_t one_quarter = static_cast<int16_t>(1 << (fractional_bits - 2));
  const int16_t a_mod_quarter_minus_one_quarter =
      Sub(static_cast<int16_t>(a & (one_quarter - 1)), one_quarter);
  int16_t result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(
      MulByPot(a_mod_quarter_minus_one_quarter, integer_bits));
  const int16_t remainder = Sub(a_mod_quarter_minus_one_quarter, a);
  // exp(-2^k) for k = -2 .. 4, as 32-bit raws.
  constexpr int32_t kMultipliers[] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
  for (int k = -2; k <= 4 && k < integer_bits; ++k) {
    if ((remainder & (1 << (fractional_bits + k))) != 0) {
      result = Mul(result, Constant(kMultipliers[k + 2]));
    }
  }
  if (integer_bits > 5 && a < Constant(-(1 << (36 - integer_bits)))) result = 0;  // below -32
  return a == 0 ? kMax : result;
}

// 1 / (1 + a) and (1 - a) / (1 + a) for a in [0, 1] (Q0.15), by three Newton-Raphson steps on
// the half denominator; both as a Q2.13 intermediate.
int16_t ReciprocalOfOnePlus(int16_t half_denominator) {
  int16_t x =
      Add(Constant(1515870810), Mul(half_denominator, Constant(-1010580540)));  // 48/17 - 32/17 d
  for (int i = 0; i < 3; ++i) {
    int16_t one_minus = Sub(kOneQ2, Mul(half_denominator, x));
    x = Add(x, MulByPot(Mul(x, one_minus), 2));
  }
  return x;
}
int16_t OneOverOnePlusX(int16_t a) {
  return MulByPot(ReciprocalOfOnePlus(RoundingHalfSum(a, kMax)), 1);
}
int16_t OneMinusXOverOnePlusX(int16_t a) {
  return MulByPot(Sub(ReciprocalOfOnePlus(RoundingHalfSum(a, kMax)), kOneQ2), 2);
}

}  // namespace

int16_t Logistic16(int16_t raw, int integer_bits) {
  if (raw == 0) return Constant(1 << 30);  // one half
  int16_t magnitude = raw > 0 ? raw : Neg(raw);
  int16_t positive = OneOverOnePlusX(ExpOnNegativeValues(Neg(magnitude), integer_bits));
  return raw > 0 ? positive : Sub(kMax, positive);
}

int16_t Tanh16(int16_t raw, int integer_bits) {
  if (raw == 0) return 0;
  int16_t non_positive = raw < 0 ? raw : Neg(raw);
  // tanh(|a|) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)): the doubling reinterprets the raw with one
  // integer bit more.
  int16_t t = OneMinusXOverOnePlusX(ExpOnNegativeValues(non_positive, integer_bits + 1));
  return raw < 0 ? Neg(t) : t;
}

}  // namespace tpufleet::cpu::fixed
