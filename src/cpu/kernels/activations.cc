// LEAKY_RELU and PRELU with TensorFlow Lite 2.9's arithmetic:
//   LEAKY_RELU  float32; uint8, int8 (256-entry lookup table), int16: x >= 0 and x < 0 are
//               rescaled by two quantized multipliers (input/output, input*alpha/output)
//   PRELU       float32, uint8, int8; alpha broadcasts against the input numpy-style
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "cpu/fixed_point.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

template <typename T>
int32_t ClampTo(int32_t v) {
  return std::clamp<int32_t>(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
}

class LeakyReluKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    if (const tfl::LeakyReluOptions* o = c.op->builtin_options_as_LeakyReluOptions())
      alpha_ = o->alpha();
    if (!std::isfinite(alpha_)) return c.Invalid(fmt::format("alpha {} is not finite", alpha_));
    if (in.type != out.type ||
        (in.type != DataType::kFloat32 && !IsQuantized8(in.type) && in.type != DataType::kInt16)) {
      return c.Unsupported(fmt::format("{} -> {} (it runs float32, uint8, int8, int16)",
                                       Describe(in), Describe(out)));
    }
    if (in.shape != out.shape)
      return c.Invalid(fmt::format("{} -> {}: shapes differ", Describe(in), Describe(out)));
    if (in.type == DataType::kFloat32) return OkStatus();
    TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(in));
    TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(out));
    if (in.type == DataType::kInt16 && (in.zero_point() != 0 || out.zero_point() != 0))
      return c.Unsupported("int16 tensors with a zero point other than 0");
    // TFLite computes both ratios in float before widening them.
    alpha_multiplier_ = fixed::QuantizeMultiplier(in.scale() * alpha_ / out.scale());
    identity_multiplier_ = fixed::QuantizeMultiplier(in.scale() / out.scale());
    in_zero_ = in.zero_point();
    out_zero_ = out.zero_point();
    if (IsQuantized8(in.type)) {
      table_ = MakeRawLookupTable(in.type, out.type, [&](int32_t q) { return Quantized(q); });
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    const size_t n = in.element_count();
    if (in.type == DataType::kFloat32) {
      const float* x = in.as<float>();
      float* y = out.as<float>();
      for (size_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : x[i] * alpha_;
    } else if (in.type == DataType::kInt16) {
      const int16_t* x = in.as<int16_t>();
      int16_t* y = out.as<int16_t>();
      for (size_t i = 0; i < n; ++i) y[i] = static_cast<int16_t>(ClampTo<int16_t>(Quantized(x[i])));
    } else {
      ApplyLookupTable(table_, in, out);
    }
    return OkStatus();
  }

 private:
  int32_t Quantized(int32_t q) const {
    const int32_t x = q - in_zero_;
    const fixed::QuantizedMultiplier& m = x >= 0 ? identity_multiplier_ : alpha_multiplier_;
    return out_zero_ + fixed::MultiplyByQuantizedMultiplier(x, m.multiplier, m.shift);
  }

  float alpha_ = 0.0f;  // what TFLite reads when the options are absent
  fixed::QuantizedMultiplier alpha_multiplier_, identity_multiplier_;
  int32_t in_zero_ = 0, out_zero_ = 0;
  LookupTable table_{};
};

class PreluKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& alpha = c.input(1);
    const Tensor& out = c.output(0);
    if (in.type != out.type || alpha.type != out.type ||
        (out.type != DataType::kFloat32 && !IsQuantized8(out.type))) {
      return c.Unsupported(fmt::format("{} with alpha {} -> {} (it runs float32, uint8, int8)",
                                       Describe(in), Describe(alpha), Describe(out)));
    }
    TPUFLEET_ASSIGN_OR_RETURN(broadcast_, MakeBroadcast(c, in, alpha, out));
    if (out.type == DataType::kFloat32) return OkStatus();
    for (const Tensor* t : {&in, &alpha, &out}) TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(*t));
    if (alpha.quantization.per_channel()) return c.Unsupported("alpha with per-channel scales");
    identity_ = fixed::QuantizeMultiplier(in.scale() / out.scale());
    alpha_ = fixed::QuantizeMultiplier(in.scale() * alpha.scale() / out.scale());
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    const Tensor& alpha = c.input(1);
    Tensor& out = c.output(0);
    switch (out.type) {
      case DataType::kFloat32: {
        const float* x = in.as<float>();
        const float* a = alpha.as<float>();
        float* y = out.as<float>();
        ForEachBroadcast(broadcast_, [&](size_t i, size_t ix, size_t ia) {
          y[i] = x[ix] >= 0 ? x[ix] : x[ix] * a[ia];
        });
        break;
      }
      case DataType::kUInt8: EvalQuantized<uint8_t>(in, alpha, out); break;
      default: EvalQuantized<int8_t>(in, alpha, out); break;
    }
    return OkStatus();
  }

 private:
  template <typename T>
  void EvalQuantized(const Tensor& in, const Tensor& alpha, Tensor& out) {
    const T* x = in.as<T>();
    const T* a = alpha.as<T>();
    T* y = out.as<T>();
    const int32_t zx = in.zero_point(), za = alpha.zero_point(), zo = out.zero_point();
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ix, size_t ia) {
      const int32_t v = x[ix] - zx;
      const int32_t r =
          v >= 0 ? fixed::MultiplyByQuantizedMultiplier(v, identity_.multiplier, identity_.shift)
                 : fixed::MultiplyByQuantizedMultiplier(v * (a[ia] - za), alpha_.multiplier,
                                                        alpha_.shift);
      y[i] = static_cast<T>(ClampTo<T>(r + zo));
    });
  }

  Broadcast<2> broadcast_;
  fixed::QuantizedMultiplier identity_, alpha_;
};

}  // namespace

std::unique_ptr<Kernel> MakeLeakyRelu() { return std::make_unique<LeakyReluKernel>(); }
std::unique_ptr<Kernel> MakePrelu() { return std::make_unique<PreluKernel>(); }

}  // namespace tpufleet::cpu
