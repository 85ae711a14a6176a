// SQRT, RSQRT and EXP with TensorFlow Lite 2.9's arithmetic for the types it runs them on:
//   SQRT   float32
//   RSQRT  float32; int8 with TFLite's fixed-point inverse square root (a negative input fails
//          the invocation, a zero gives the largest output)
//   EXP    float32
// int8 RSQRT runs through a 256-entry lookup table built at Prepare.
#include <fmt/format.h>

#include <cmath>

#include "cpu/fixed_point.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

enum class MathOp { kSqrt, kRsqrt, kExp };

// TFLite's RSQRT of one int8 value (zero point already subtracted; value >= 0).
int32_t QuantizedRsqrt(int32_t value, fixed::QuantizedMultiplier rescale, int32_t output_zero) {
  constexpr int kShift = 20;  // keeps 1 / sqrt(value) an integer in between
  if (value == 0) return 127;
  fixed::QuantizedMultiplier inv = fixed::InvSqrtQuantizedMultiplier(value);
  const int32_t data = fixed::MultiplyByQuantizedMultiplier(1, inv.multiplier, inv.shift + kShift);
  return fixed::MultiplyByQuantizedMultiplier(data, rescale.multiplier, rescale.shift - kShift) +
         output_zero;
}

class MathKernel : public Kernel {
 public:
  explicit MathKernel(MathOp kind) : kind_(kind) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    const bool int8_ok = kind_ == MathOp::kRsqrt && in.type == DataType::kInt8;
    if (in.type != out.type || (in.type != DataType::kFloat32 && !int8_ok)) {
      return c.Unsupported(fmt::format("{} -> {} (it runs float32{})", Describe(in), Describe(out),
                                       kind_ == MathOp::kRsqrt ? " and int8" : ""));
    }
    if (in.shape != out.shape)
      return c.Invalid(fmt::format("{} -> {}: shapes differ", Describe(in), Describe(out)));
    if (in.type == DataType::kFloat32) return OkStatus();
    for (const Tensor* t : {&in, &out}) TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(*t));
    const double rescale = 1.0 / static_cast<double>(std::sqrt(in.scale()) * out.scale());
    const fixed::QuantizedMultiplier m = fixed::QuantizeMultiplier(rescale);
    const int32_t in_zero = in.zero_point(), out_zero = out.zero_point();
    negative_below_ = in_zero;
    table_ = MakeRawLookupTable(in.type, out.type, [&](int32_t q) {
      return q < in_zero ? 0 : QuantizedRsqrt(q - in_zero, m, out_zero);
    });
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    const size_t n = in.element_count();
    if (in.type == DataType::kFloat32) {
      const float* x = in.as<float>();
      float* y = out.as<float>();
      switch (kind_) {
        case MathOp::kSqrt:
          for (size_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
          break;
        case MathOp::kRsqrt:
          for (size_t i = 0; i < n; ++i) y[i] = 1.0f / std::sqrt(x[i]);
          break;
        case MathOp::kExp:
          for (size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
          break;
      }
      return OkStatus();
    }
    const int8_t* x = in.as<int8_t>();  // int8 RSQRT
    for (size_t i = 0; i < n; ++i) {
      if (x[i] < negative_below_) {
        return c.Invalid(fmt::format("element {} is negative ({}); RSQRT needs values >= 0", i,
                                     in.scale() * static_cast<float>(x[i] - negative_below_)));
      }
    }
    ApplyLookupTable(table_, in, out);
    return OkStatus();
  }

 private:
  MathOp kind_;
  LookupTable table_{};
  int32_t negative_below_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> MakeSqrt() { return std::make_unique<MathKernel>(MathOp::kSqrt); }
std::unique_ptr<Kernel> MakeRsqrt() { return std::make_unique<MathKernel>(MathOp::kRsqrt); }
std::unique_ptr<Kernel> MakeExp() { return std::make_unique<MathKernel>(MathOp::kExp); }

}  // namespace tpufleet::cpu
