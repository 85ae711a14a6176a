// TRANSPOSE_CONV as TensorFlow Lite computes it: inputs (output_shape, filter [O, H, W, I], input
// NHWC, optional bias), each input pixel scattering filter x value into the output window it
// reaches, padding derived from the output size as TFLite derives it. uint8 (per-tensor filter)
// and int8 (per-channel symmetric filter) accumulate exact int32 sums and requantize with
// TFLite's fixed-point multiplier, so their bytes equal TFLite's; float32 sums in float.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/fixed_point.h"
#include "cpu/kernels/index_values.h"
#include "cpu/kernels/kernels.h"
#include "cpu/kernels/window.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

// 255 x 255 x 33,025 < 2^31.
constexpr int32_t kMaxQuantizedInputChannels = 33025;

// The quantized kernel's work: acc[o] += pixel . weights[o * step .. + n] for `outputs` rows of
// int16 weights, four at a time so that each pixel value is loaded once for four rows. Each dot
// product is exact in int32 (n is bounded by kMaxQuantizedInputChannels); the accumulators wrap
// as TFLite's int32 sums do. Compiled twice on x86, for the baseline and for AVX2 (twice as
// wide), and chosen once by what the processor has.
[[gnu::always_inline]] inline void AccumulateLoop(const int16_t* pixel, const int16_t* weights,
                                                  size_t step, int32_t n, int32_t outputs,
                                                  uint32_t* acc) {
  int32_t o = 0;
  for (; o + 4 <= outputs; o += 4) {
    const int16_t* w0 = weights + o * step;
    const int16_t *w1 = w0 + step, *w2 = w1 + step, *w3 = w2 + step;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t p = pixel[i];
      s0 += p * w0[i];
      s1 += p * w1[i];
      s2 += p * w2[i];
      s3 += p * w3[i];
    }
    acc[o] += static_cast<uint32_t>(s0);
    acc[o + 1] += static_cast<uint32_t>(s1);
    acc[o + 2] += static_cast<uint32_t>(s2);
    acc[o + 3] += static_cast<uint32_t>(s3);
  }
  for (; o < outputs; ++o) {
    const int16_t* w = weights + o * step;
    int32_t sum = 0;
    for (int32_t i = 0; i < n; ++i) sum += int32_t{pixel[i]} * int32_t{w[i]};
    acc[o] += static_cast<uint32_t>(sum);
  }
}
void AccumulateBaseline(const int16_t* pixel, const int16_t* weights, size_t step, int32_t n,
                        int32_t outputs, uint32_t* acc) {
  AccumulateLoop(pixel, weights, step, n, outputs, acc);
}
using AccumulateFunction = void (*)(const int16_t*, const int16_t*, size_t, int32_t, int32_t,
                                    uint32_t*);
#if defined(__x86_64__) || defined(__i386__)
[[gnu::target("avx2")]] void AccumulateAvx2(const int16_t* pixel, const int16_t* weights,
                                            size_t step, int32_t n, int32_t outputs,
                                            uint32_t* acc) {
  AccumulateLoop(pixel, weights, step, n, outputs, acc);
}
AccumulateFunction ChooseAccumulate() {
  return __builtin_cpu_supports("avx2") ? AccumulateAvx2 : AccumulateBaseline;
}
#else
AccumulateFunction ChooseAccumulate() { return AccumulateBaseline; }
#endif

class TransposeConvKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 4, 1));
    const Tensor& filter = c.input(1);
    const Tensor& input = c.input(2);
    const Tensor* bias = c.inputs.size() > 3 ? c.inputs[3] : nullptr;
    const Tensor& output = c.output(0);
    const tfl::TransposeConvOptions* o = c.op->builtin_options_as_TransposeConvOptions();
    if (!o) return c.Invalid("has no TransposeConvOptions");
    if (input.rank() != 4 || filter.rank() != 4 || output.rank() != 4)
      return c.Invalid("input, filter and output must be 4-D (NHWC; filter OHWI)");
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                              ConstantInts(c, c.input(0), "the output shape"));
    TPUFLEET_RETURN_IF_ERROR(ExpectShape(c, output, shape));
    if (input.type != output.type || input.type != filter.type ||
        (input.type != DataType::kFloat32 && !IsQuantized8(input.type))) {
      return c.Unsupported(
          fmt::format("input {}, filter {} and output {} (it takes uint8, int8 or "
                      "float32 for all three)",
                      Describe(input), Describe(filter), Describe(output)));
    }
    if (!filter.is_constant) return c.Unsupported("a filter that is not a constant");
    in_c_ = filter.dim(3);
    out_c_ = filter.dim(0);
    kh_ = filter.dim(1);
    kw_ = filter.dim(2);
    if (input.dim(3) != in_c_ || output.dim(3) != out_c_ || output.dim(0) != input.dim(0) ||
        kh_ < 1 || kw_ < 1) {
      return c.Invalid(fmt::format("filter {} does not fit input {} and output {}",
                                   Describe(filter), Describe(input), Describe(output)));
    }
    if (o->stride_h() < 1 || o->stride_w() < 1)
      return c.Invalid(
          fmt::format("strides must be at least 1, not {}x{}", o->stride_h(), o->stride_w()));
    if (!IsSupportedActivation(o->fused_activation_function()))
      return c.Unsupported("this fused activation");
    stride_h_ = o->stride_h();
    stride_w_ = o->stride_w();
    TPUFLEET_ASSIGN_OR_RETURN(
        Window wh, ComputeWindow(c, output.dim(1), kh_, stride_h_, 1, o->padding(), "height"));
    TPUFLEET_ASSIGN_OR_RETURN(
        Window ww, ComputeWindow(c, output.dim(2), kw_, stride_w_, 1, o->padding(), "width"));
    pad_h_ = wh.pad_before;
    pad_w_ = ww.pad_before;
    if (bias != nullptr) {
      DataType want = input.type == DataType::kFloat32 ? DataType::kFloat32 : DataType::kInt32;
      if (bias->type != want || bias->element_count() != static_cast<size_t>(out_c_)) {
        return c.Invalid(
            fmt::format("bias {} should be {} [{}]", Describe(*bias), DataTypeName(want), out_c_));
      }
    }
    if (input.type == DataType::kFloat32) {
      float_range_ = ActivationRangeFloat(o->fused_activation_function());
      return OkStatus();
    }
    return PrepareQuantized(c, o->fused_activation_function());
  }

  Status Eval(OpContext& c) override {
    return c.input(2).type == DataType::kFloat32 ? EvalFloat(c) : EvalQuantized(c);
  }

 private:
  Status PrepareQuantized(const OpContext& c, tfl::ActivationFunctionType activation) {
    const Tensor& filter = c.input(1);
    const Tensor& input = c.input(2);
    const Tensor& output = c.output(0);
    const Quantization& fq = filter.quantization;
    if (fq.empty() || input.quantization.empty() || output.quantization.empty())
      return c.Invalid("quantized input, filter and output need scales and zero points");
    TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(input));
    TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(output));
    for (float scale : fq.scales) {
      if (!(scale > 0) || !std::isfinite(scale))
        return c.Invalid(fmt::format("filter scale {} must be positive", scale));
    }
    bool per_channel = fq.per_channel();
    if (per_channel && (input.type != DataType::kInt8 || fq.axis != 0 ||
                        fq.scales.size() != static_cast<size_t>(out_c_))) {
      return c.Unsupported(
          "per-channel filter scales other than int8 ones along output channels (axis 0)");
    }
    multipliers_.clear();
    for (int o = 0; o < out_c_; ++o) {
      double scale = static_cast<double>(input.scale()) *
                     static_cast<double>(fq.scales[per_channel ? o : 0]) /
                     static_cast<double>(output.scale());
      multipliers_.push_back(fixed::QuantizeMultiplier(scale));
    }
    int32_t filter_zero = 0;
    if (input.type == DataType::kInt8) {
      for (int64_t z : fq.zero_points) {
        if (z != 0) return c.Unsupported("int8 filters with a non-zero zero point");
      }
    } else {
      filter_zero = static_cast<int32_t>(fq.zero_points[0]);
    }
    // Values and weights less their zero points lie in [-255, 255]: int16 operands, whose
    // products sum exactly in int32 over up to 33,025 channels.
    if (in_c_ > kMaxQuantizedInputChannels) {
      return c.Unsupported(fmt::format("{} input channels (at most {} when quantized)", in_c_,
                                       kMaxQuantizedInputChannels));
    }
    // The filter with its zero point removed, in TFLite's OHWI order.
    weights_.resize(filter.element_count());
    for (size_t i = 0; i < weights_.size(); ++i) {
      int32_t raw =
          input.type == DataType::kInt8 ? filter.as<int8_t>()[i] : filter.as<uint8_t>()[i];
      weights_[i] = static_cast<int16_t>(raw - filter_zero);
    }
    range_ = ActivationRange(activation, output);
    return OkStatus();
  }

  // Calls body(input pixel index, output pixel index, filter tap) for every input pixel and
  // filter tap whose output position lies inside the output. Positions are computed in 64 bits:
  // strides and sizes up to 2^31 cannot overflow them.
  template <typename Body>
  void ForEachTap(const Tensor& input, const Tensor& output, Body&& body) const {
    int64_t in_h = input.dim(1), in_w = input.dim(2), out_h = output.dim(1), out_w = output.dim(2);
    for (int64_t b = 0; b < input.dim(0); ++b)
      for (int64_t iy = 0; iy < in_h; ++iy)
        for (int64_t ix = 0; ix < in_w; ++ix) {
          size_t in_pixel = static_cast<size_t>((b * in_h + iy) * in_w + ix);
          for (int64_t fy = 0; fy < kh_; ++fy) {
            int64_t oy = iy * stride_h_ - pad_h_ + fy;
            if (oy < 0 || oy >= out_h) continue;
            for (int64_t fx = 0; fx < kw_; ++fx) {
              int64_t ox = ix * stride_w_ - pad_w_ + fx;
              if (ox < 0 || ox >= out_w) continue;
              body(in_pixel, static_cast<size_t>((b * out_h + oy) * out_w + ox),
                   static_cast<size_t>(fy * kw_ + fx));
            }
          }
        }
  }

  Status EvalQuantized(OpContext& c) {
    const Tensor& input = c.input(2);
    const Tensor* bias = c.inputs.size() > 3 ? c.inputs[3] : nullptr;
    Tensor& output = c.output(0);
    bool is_int8 = input.type == DataType::kInt8;
    int32_t input_zero = input.zero_point(), output_zero = output.zero_point();
    scratch_.assign(output.element_count(), 0);  // sized here: the arena bounds the output
    std::vector<int16_t> pixel(in_c_);
    size_t taps = static_cast<size_t>(kh_) * kw_;
    size_t last_pixel = SIZE_MAX;
    static const AccumulateFunction accumulate = ChooseAccumulate();
    ForEachTap(input, output, [&](size_t in_pixel, size_t out_pixel, size_t tap) {
      if (in_pixel != last_pixel) {
        for (int32_t i = 0; i < in_c_; ++i) {
          size_t at = in_pixel * in_c_ + i;
          pixel[i] = static_cast<int16_t>(
              (is_int8 ? input.as<int8_t>()[at] : input.as<uint8_t>()[at]) - input_zero);
        }
        last_pixel = in_pixel;
      }
      accumulate(pixel.data(), weights_.data() + tap * in_c_, taps * in_c_, in_c_, out_c_,
                 scratch_.data() + out_pixel * out_c_);
    });
    for (size_t i = 0; i < scratch_.size(); ++i) {
      int32_t o = static_cast<int32_t>(i % out_c_);
      uint32_t bias_value = bias ? static_cast<uint32_t>(bias->as<int32_t>()[o]) : 0;
      int32_t acc = static_cast<int32_t>(scratch_[i] + bias_value);
      int64_t q = int64_t{fixed::MultiplyByQuantizedMultiplier(acc, multipliers_[o].multiplier,
                                                               multipliers_[o].shift)} +
                  output_zero;
      q = std::clamp<int64_t>(q, range_.min, range_.max);
      if (is_int8) {
        output.as<int8_t>()[i] = static_cast<int8_t>(q);
      } else {
        output.as<uint8_t>()[i] = static_cast<uint8_t>(q);
      }
    }
    return OkStatus();
  }

  Status EvalFloat(OpContext& c) {
    const Tensor& filter = c.input(1);
    const Tensor& input = c.input(2);
    const Tensor* bias = c.inputs.size() > 3 ? c.inputs[3] : nullptr;
    Tensor& output = c.output(0);
    float* out = output.as<float>();
    std::fill(out, out + output.element_count(), 0.0f);
    const float* in = input.as<float>();
    const float* weights = filter.as<float>();
    size_t taps = static_cast<size_t>(kh_) * kw_;
    ForEachTap(input, output, [&](size_t in_pixel, size_t out_pixel, size_t tap) {
      const float* x = in + in_pixel * in_c_;
      float* acc = out + out_pixel * out_c_;
      for (int32_t o = 0; o < out_c_; ++o) {
        const float* w = weights + (o * taps + tap) * in_c_;
        float sum = 0;
        for (int32_t i = 0; i < in_c_; ++i) sum += x[i] * w[i];
        acc[o] += sum;
      }
    });
    for (size_t i = 0, n = output.element_count(); i < n; ++i) {
      float v = out[i] + (bias ? bias->as<float>()[i % out_c_] : 0.0f);
      out[i] = std::clamp(v, float_range_.first, float_range_.second);
    }
    return OkStatus();
  }

  int32_t in_c_ = 0, out_c_ = 0, kh_ = 0, kw_ = 0;
  int32_t stride_h_ = 1, stride_w_ = 1, pad_h_ = 0, pad_w_ = 0;
  std::vector<fixed::QuantizedMultiplier> multipliers_;  // per output channel
  std::vector<int16_t> weights_;                         // quantized filter minus its zero point
  std::vector<uint32_t> scratch_;  // wrapping int32 accumulators, one per output value
  ClampRange range_{0, 0};
  std::pair<float, float> float_range_;
};

}  // namespace

std::unique_ptr<Kernel> MakeTransposeConv() { return std::make_unique<TransposeConvKernel>(); }

}  // namespace tpufleet::cpu
