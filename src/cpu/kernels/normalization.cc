// LOG_SOFTMAX and L2_NORMALIZATION over the last dimension, with TensorFlow Lite 2.9's
// arithmetic (its built-in, "generic optimized" kernels):
//   LOG_SOFTMAX       float32; uint8 and int8 with the output scale 16/256 and zero point 255
//                     (uint8) or 127 (int8): exp() from a 256-entry float table, the log-sum in
//                     float, results rounded half to even
//   L2_NORMALIZATION  float32 (norm at least 1e-6); uint8 and int8 with the output scale 1/128
//                     and zero point 128 (uint8) or 0 (int8): TFLite's fixed-point inverse
//                     square root of the integer sum of squares
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>

#include "cpu/fixed_point.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

// Checks the input/output pair both kernels share and the fixed output quantization of 8-bit
// outputs.
Status CheckLastAxisOp(const OpContext& c, float out_scale, int32_t uint8_zero, int32_t int8_zero) {
  const Tensor& in = c.input(0);
  const Tensor& out = c.output(0);
  if (in.type != out.type || (in.type != DataType::kFloat32 && !IsQuantized8(in.type)))
    return c.Unsupported(
        fmt::format("{} -> {} (it runs float32, uint8, int8)", Describe(in), Describe(out)));
  if (in.rank() < 1 || in.shape != out.shape)
    return c.Invalid(
        fmt::format("{} -> {}: shapes must match, of rank 1 or more", Describe(in), Describe(out)));
  if (in.type == DataType::kFloat32) return OkStatus();
  TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(in));
  const int32_t zero = in.type == DataType::kUInt8 ? uint8_zero : int8_zero;
  if (out.scale() != out_scale || out.zero_point() != zero) {
    return c.Unsupported(fmt::format(
        "an output with scale {} and zero point {}: TFLite's {} {} output has scale {} and zero "
        "point {}",
        out.scale(), out.zero_point(), DataTypeName(out.type), c.name, out_scale, zero));
  }
  return OkStatus();
}

class LogSoftmaxKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    TPUFLEET_RETURN_IF_ERROR(CheckLastAxisOp(c, 16.0f / 256, 255, 127));
    const Tensor& in = c.input(0);
    if (IsQuantized8(in.type)) {
      // table_[255 - d] = exp(-scale * d): exp(scale * (x - max)) is table_[255 - max + x].
      const float scale = -in.scale();
      for (int d = 0; d <= 255; ++d) table_[255 - d] = std::exp(scale * static_cast<float>(d));
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    switch (in.type) {
      case DataType::kFloat32: EvalFloat(in, out); break;
      case DataType::kUInt8: EvalQuantized<uint8_t>(in, out); break;
      default: EvalQuantized<int8_t>(in, out); break;
    }
    return OkStatus();
  }

 private:
  static void EvalFloat(const Tensor& in, Tensor& out) {
    const size_t depth = in.dim(-1);
    const size_t rows = depth ? in.element_count() / depth : 0;
    for (size_t r = 0; r < rows; ++r) {
      const float* x = in.as<float>() + r * depth;
      float* y = out.as<float>() + r * depth;
      const float max = *std::max_element(x, x + depth);
      float sum = 0;
      for (size_t i = 0; i < depth; ++i) sum += std::exp(x[i] - max);
      const float log_sum = std::log(sum);
      for (size_t i = 0; i < depth; ++i) y[i] = x[i] - max - log_sum;
    }
  }

  template <typename T>
  void EvalQuantized(const Tensor& in, Tensor& out) const {
    const size_t depth = in.dim(-1);
    const size_t rows = depth ? in.element_count() / depth : 0;
    const float in_scale = in.scale(), out_scale = out.scale();
    const int32_t zero = out.zero_point();
    // NOLINTNEXTLINE(bugprone-signed-char-misuse,cert-str34-c): int8 limits, not characters
    constexpr int32_t kMin = std::numeric_limits<T>::min(), kMax = std::numeric_limits<T>::max();
    for (size_t r = 0; r < rows; ++r) {
      const T* x = in.as<T>() + r * depth;
      T* y = out.as<T>() + r * depth;
      const T max = *std::max_element(x, x + depth);
      const float* offset = table_.data() + 255 - max;
      float sum = 0;
      for (size_t i = 0; i < depth; ++i) sum += offset[x[i]];
      const float log_sum = std::log(sum);
      const float scale = in_scale / out_scale;
      const float precomputed = (in_scale * static_cast<float>(max) + log_sum) / out_scale;
      for (size_t i = 0; i < depth; ++i) {
        const float log_prob = scale * static_cast<float>(x[i]) - precomputed;
        const auto q = static_cast<int32_t>(std::rint(log_prob) + static_cast<float>(zero));
        y[i] = static_cast<T>(std::clamp(q, kMin, kMax));
      }
    }
  }

  std::array<float, 256> table_{};
};

class L2NormalizationKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    if (const tfl::L2NormOptions* o = c.op->builtin_options_as_L2NormOptions()) {
      if (o->fused_activation_function() != tfl::ActivationFunctionType::NONE)
        return c.Unsupported("a fused activation (TFLite runs L2_NORMALIZATION without one)");
    }
    TPUFLEET_RETURN_IF_ERROR(CheckLastAxisOp(c, 1.0f / 128, 128, 0));
    const Tensor& in = c.input(0);
    // The integer sum of squares of a row must fit int32, as TFLite accumulates it.
    constexpr int64_t kMaxDepth = std::numeric_limits<int32_t>::max() / (255 * 255);
    if (IsQuantized8(in.type) && in.dim(-1) > kMaxDepth) {
      return c.Unsupported(
          fmt::format("rows of {} values (8-bit rows hold at most {})", in.dim(-1), kMaxDepth));
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    const size_t depth = in.dim(-1);
    const size_t rows = depth ? in.element_count() / depth : 0;
    for (size_t r = 0; r < rows; ++r) {
      switch (in.type) {
        case DataType::kFloat32: {
          const float* x = in.as<float>() + r * depth;
          float* y = out.as<float>() + r * depth;
          float squares = 0;
          for (size_t i = 0; i < depth; ++i) squares += x[i] * x[i];
          const float norm = std::max(std::sqrt(squares), 1e-6f);
          for (size_t i = 0; i < depth; ++i) y[i] = x[i] / norm;
          break;
        }
        case DataType::kUInt8: Row<uint8_t>(in, out, r, depth); break;
        default: Row<int8_t>(in, out, r, depth); break;
      }
    }
    return OkStatus();
  }

 private:
  // uint8 rescales 128 * diff with a rounding right shift and adds 128; int8 multiplies diff by
  // 2^7 inside the quantized multiplier (TFLite's two kernels differ in exactly this way).
  template <typename T>
  static void Row(const Tensor& in, Tensor& out, size_t r, size_t depth) {
    const T* x = in.as<T>() + r * depth;
    T* y = out.as<T>() + r * depth;
    const int32_t zero = in.zero_point();
    int32_t squares = 0;
    for (size_t i = 0; i < depth; ++i) squares += (x[i] - zero) * (x[i] - zero);
    const fixed::QuantizedMultiplier inv = fixed::InvSqrtQuantizedMultiplier(squares);
    for (size_t i = 0; i < depth; ++i) {
      const int32_t diff = x[i] - zero;
      int32_t v;
      if constexpr (std::is_same_v<T, uint8_t>) {
        v = 128 + fixed::MultiplyByQuantizedMultiplierSmallerThanOne(128 * diff, inv.multiplier,
                                                                     inv.shift);
      } else {
        v = fixed::MultiplyByQuantizedMultiplier(diff, inv.multiplier, inv.shift + 7);
      }
      y[i] = static_cast<T>(
          std::clamp<int32_t>(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    }
  }
};

}  // namespace

std::unique_ptr<Kernel> MakeLogSoftmax() { return std::make_unique<LogSoftmaxKernel>(); }
std::unique_ptr<Kernel> MakeL2Normalization() { return std::make_unique<L2NormalizationKernel>(); }

}  // namespace tpufleet::cpu
