// gemmlowp's 16-bit logistic and tanh (the integer LSTM's gates) against the real functions, for
// every int16 input and every number of integer bits the LSTM uses: within 8 steps of Q0.15 (tanh
// 16), odd and even symmetry as gemmlowp's, and the exact values at 0. (Their bytes against
// TFLite's are checked through the Keras LSTM in oracle_test.cc.)
#include "cpu/fixed_point16.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tpufleet::cpu::fixed {
namespace {

constexpr double kStep = 1.0 / 32768;

TEST(FixedPoint16Test, LogisticAndTanhFollowTheRealFunctions) {
  for (int bits = 0; bits <= 6; ++bits) {
    double worst_logistic = 0, worst_tanh = 0;
    for (int raw = -32768; raw <= 32767; ++raw) {
      double x = std::ldexp(raw, bits - 15);
      int16_t q = static_cast<int16_t>(raw);
      worst_logistic =
          std::max(worst_logistic, std::abs(Logistic16(q, bits) * kStep - 1 / (1 + std::exp(-x))));
      worst_tanh = std::max(worst_tanh, std::abs(Tanh16(q, bits) * kStep - std::tanh(x)));
      if (raw > -32768 && raw != 0) {
        EXPECT_EQ(Tanh16(static_cast<int16_t>(-raw), bits), -Tanh16(q, bits)) << raw;
        EXPECT_EQ(Logistic16(static_cast<int16_t>(-raw), bits), 32767 - Logistic16(q, bits)) << raw;
      }
    }
    SCOPED_TRACE(bits);
    EXPECT_LE(worst_logistic, 8 * kStep);
    EXPECT_LE(worst_tanh, 16 * kStep);  // its division keeps 13 fractional bits
    RecordProperty(
        "worst_steps_" + std::to_string(bits),
        std::to_string(worst_logistic / kStep) + " " + std::to_string(worst_tanh / kStep));
    EXPECT_EQ(Logistic16(0, bits), 16384);
    EXPECT_EQ(Tanh16(0, bits), 0);
  }
}

}  // namespace
}  // namespace tpufleet::cpu::fixed
