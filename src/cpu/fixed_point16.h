// gemmlowp's 16-bit fixed point (FixedPoint<int16_t, N>) as TensorFlow Lite's integer LSTM
// uses it, so that its gates come out with TFLite's bytes: a value is an int16 raw with N
// integer bits (raw / 2^(15 - N)). Sums wrap, products are doubling high multiplies, rescales
// saturate, as gemmlowp's do.
#pragma once

#include <cstdint>

namespace tpufleet::cpu::fixed {

// The logistic function of `raw` with `integer_bits` integer bits (0 to 6), as Q0.15.
int16_t Logistic16(int16_t raw, int integer_bits);

// The hyperbolic tangent of `raw` with `integer_bits` integer bits (0 to 6), as Q0.15.
int16_t Tanh16(int16_t raw, int integer_bits);

}  // namespace tpufleet::cpu::fixed
