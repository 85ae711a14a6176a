// DIV, FLOOR_DIV, FLOOR_MOD, MAXIMUM, MINIMUM and SQUARED_DIFFERENCE with numpy-style
// broadcasting and TensorFlow Lite 2.9's arithmetic for each type it runs them on:
//   DIV                 float32, int32 (truncating), uint8 (TFLite's fixed-point reciprocal);
//                       fused activation
//   FLOOR_DIV           float32, int32 (floor of the quotient)
//   FLOOR_MOD           float32, int32, int64 (result takes the divisor's sign)
//   MAXIMUM, MINIMUM    float32, uint8, int8, int16, int32, int64 (quantized inputs and output
//                       must share scale and zero point: values are compared as stored)
//   SQUARED_DIFFERENCE  float32, int32, int8 (TFLite's rescaled integer difference)
// An integer division by zero fails the invocation with a message.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "cpu/fixed_point.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

enum class Arith { kDiv, kFloorDiv, kFloorMod, kMaximum, kMinimum, kSquaredDifference };

bool Supports(Arith kind, DataType t) {
  switch (kind) {
    case Arith::kDiv:
      return t == DataType::kFloat32 || t == DataType::kInt32 || t == DataType::kUInt8;
    case Arith::kFloorDiv: return t == DataType::kFloat32 || t == DataType::kInt32;
    case Arith::kFloorMod:
      return t == DataType::kFloat32 || t == DataType::kInt32 || t == DataType::kInt64;
    case Arith::kMaximum:
    case Arith::kMinimum:
      return t == DataType::kFloat32 || IsQuantized8(t) || t == DataType::kInt16 ||
             t == DataType::kInt32 || t == DataType::kInt64;
    case Arith::kSquaredDifference:
      return t == DataType::kFloat32 || t == DataType::kInt32 || t == DataType::kInt8;
  }
  return false;
}

std::string SupportedTypes(Arith kind) {
  switch (kind) {
    case Arith::kDiv: return "float32, int32, uint8";
    case Arith::kFloorDiv: return "float32, int32";
    case Arith::kFloorMod: return "float32, int32, int64";
    case Arith::kMaximum:
    case Arith::kMinimum: return "float32, uint8, int8, int16, int32, int64";
    case Arith::kSquaredDifference: return "float32, int32, int8";
  }
  return "";
}

bool SameQuantization(const Tensor& a, const Tensor& b) {
  return a.scale() == b.scale() && a.zero_point() == b.zero_point();
}

// x with TFLite's integer floor-modulo rule; `b` is not zero.
template <typename T>
T FloorModInt(T a, T b) {
  if (b == -1) return 0;  // also avoids the overflowing INT_MIN % -1
  T r = a % b;
  return (r != 0 && ((b < 0) != (r < 0))) ? r + b : r;
}

float FloorModFloat(float a, float b) {
  float r = std::fmod(a, b);
  return (r != 0 && ((b < 0) != (r < 0))) ? r + b : r;
}

// One instantiation per operator, so that the element loops hold no switch of their own.
template <Arith kKind>
class ArithmeticKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    const Tensor& out = c.output(0);
    if (a.type != out.type || b.type != out.type) {
      return c.Unsupported(
          fmt::format("mixed types {} and {} -> {}", Describe(a), Describe(b), Describe(out)));
    }
    if (!Supports(kKind, out.type)) {
      return c.Unsupported(
          fmt::format("type {} (it runs {})", DataTypeName(out.type), SupportedTypes(kKind)));
    }
    if (kKind == Arith::kDiv) {
      if (const tfl::DivOptions* o = c.op->builtin_options_as_DivOptions())
        activation_ = o->fused_activation_function();
      if (!IsSupportedActivation(activation_)) return c.Unsupported("this fused activation");
    }
    TPUFLEET_ASSIGN_OR_RETURN(broadcast_, MakeBroadcast(c, a, b, out));
    if (IsQuantized8(out.type) || out.type == DataType::kInt16) return PrepareQuantized(c);
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    Tensor& out = c.output(0);
    switch (out.type) {
      case DataType::kFloat32: EvalFloat(a, b, out); return OkStatus();
      case DataType::kInt32: return EvalInt<int32_t>(c, a, b, out);
      case DataType::kInt64: return EvalInt<int64_t>(c, a, b, out);
      case DataType::kInt16: return EvalInt<int16_t>(c, a, b, out);
      case DataType::kUInt8: return EvalQuantized<uint8_t>(c, a, b, out);
      case DataType::kInt8: return EvalQuantized<int8_t>(c, a, b, out);
      default: return c.Unsupported("type " + DataTypeName(out.type));
    }
  }

 private:
  Status PrepareQuantized(OpContext& c) {
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    const Tensor& out = c.output(0);
    if (kKind == Arith::kMaximum || kKind == Arith::kMinimum) {
      if (!SameQuantization(a, out) || !SameQuantization(b, out)) {
        return c.Unsupported(fmt::format(
            "inputs quantized unlike the output (scales {}, {} -> {}, zero points {}, "
            "{} -> {}): values are compared as stored, so all three must match",
            a.scale(), b.scale(), out.scale(), a.zero_point(), b.zero_point(), out.zero_point()));
      }
      return OkStatus();
    }
    for (const Tensor* t : {&a, &b, &out}) TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(*t));
    range_ = ActivationRange(activation_, out);
    if (kKind == Arith::kDiv) {
      // TFLite computes the ratio in float before widening it.
      output_ = fixed::QuantizeMultiplier(a.scale() / (b.scale() * out.scale()));
      return OkStatus();
    }
    // SQUARED_DIFFERENCE: inputs rescaled to twice the larger scale, shifted left by 7 bits.
    const double twice_max_scale = 2.0 * std::max(a.scale(), b.scale());
    input1_ = fixed::QuantizeMultiplier(a.scale() / twice_max_scale);
    input2_ = fixed::QuantizeMultiplier(b.scale() / twice_max_scale);
    output_ =
        fixed::QuantizeMultiplier(twice_max_scale * twice_max_scale /
                                  ((1 << (2 * kLeftShift)) * static_cast<double>(out.scale())));
    if (output_.shift > 0) {
      return c.Unsupported(fmt::format("an output scale {} this small beside input scales {}, {}",
                                       out.scale(), a.scale(), b.scale()));
    }
    return OkStatus();
  }

  void EvalFloat(const Tensor& a, const Tensor& b, Tensor& out) {
    const float* pa = a.as<float>();
    const float* pb = b.as<float>();
    float* po = out.as<float>();
    auto [lo, hi] = ActivationRangeFloat(activation_);
    // TFLite clamps to the finite range even without an activation: x / 0 gives +-FLT_MAX.
    const float min = std::max(lo, std::numeric_limits<float>::lowest());
    const float max = std::min(hi, std::numeric_limits<float>::max());
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
      float x = pa[ia], y = pb[ib];
      switch (kKind) {
        case Arith::kDiv: po[i] = std::min(std::max(x / y, min), max); break;
        case Arith::kFloorDiv:
          po[i] = static_cast<float>(std::floor(static_cast<double>(x) / static_cast<double>(y)));
          break;
        case Arith::kFloorMod: po[i] = FloorModFloat(x, y); break;
        case Arith::kMaximum: po[i] = x > y ? x : y; break;
        case Arith::kMinimum: po[i] = x < y ? x : y; break;
        case Arith::kSquaredDifference: po[i] = (x - y) * (x - y); break;
      }
    });
  }

  template <typename T>
  Status EvalInt(const OpContext& c, const Tensor& a, const Tensor& b, Tensor& out) {
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    T* po = out.as<T>();
    bool divided_by_zero = false;
    const bool divides =
        kKind == Arith::kDiv || kKind == Arith::kFloorDiv || kKind == Arith::kFloorMod;
    const ClampRange range = IntActivationRange();
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
      T x = pa[ia], y = pb[ib];
      if (divides && y == 0) {
        divided_by_zero = true;
        po[i] = 0;
        return;
      }
      switch (kKind) {
        case Arith::kDiv: {
          // INT_MIN / -1 is computed in 64 bits and clamped, not trapped.
          int64_t q = static_cast<int64_t>(x) / static_cast<int64_t>(y);
          po[i] = static_cast<T>(std::clamp<int64_t>(q, range.min, range.max));
          break;
        }
        case Arith::kFloorDiv:
          po[i] = static_cast<T>(std::floor(static_cast<double>(x) / static_cast<double>(y)));
          break;
        case Arith::kFloorMod: po[i] = FloorModInt<T>(x, y); break;
        case Arith::kMaximum: po[i] = x > y ? x : y; break;
        case Arith::kMinimum: po[i] = x < y ? x : y; break;
        case Arith::kSquaredDifference: {
          // Wraps modulo 2^32 as TFLite's int32 arithmetic does on every platform it runs on.
          uint32_t d = static_cast<uint32_t>(x) - static_cast<uint32_t>(y);
          po[i] = static_cast<T>(static_cast<int32_t>(d * d));
          break;
        }
      }
    });
    if (divided_by_zero) return c.Invalid("integer division by zero");
    return OkStatus();
  }

  // The int32 clamp of DIV's fused activation (RELU6 clamps to [0, 6]).
  ClampRange IntActivationRange() const {
    constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
    constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
    switch (activation_) {
      case tfl::ActivationFunctionType::RELU: return {0, kMax};
      case tfl::ActivationFunctionType::RELU6: return {0, 6};
      case tfl::ActivationFunctionType::RELU_N1_TO_1: return {-1, 1};
      default: return {kMin, kMax};
    }
  }

  template <typename T>
  Status EvalQuantized(const OpContext& c, const Tensor& a, const Tensor& b, Tensor& out) {
    if (kKind == Arith::kMaximum || kKind == Arith::kMinimum) return EvalInt<T>(c, a, b, out);
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    T* po = out.as<T>();
    const int32_t za = a.zero_point(), zb = b.zero_point(), zo = out.zero_point();
    bool divided_by_zero = false;
    if (kKind == Arith::kDiv) {
      ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
        int32_t x = pa[ia] - za, y = pb[ib] - zb;
        if (y == 0) {
          divided_by_zero = true;
          po[i] = static_cast<T>(zo);
          return;
        }
        if (y < 0) {  // the reciprocal must be positive to serve as a multiplier
          x = -x;
          y = -y;
        }
        int recip_shift = 0;
        const int32_t y_inv = fixed::GetReciprocal(y, 31, &recip_shift);
        const int headroom = fixed::CountLeadingSignBits(x);
        const int32_t unscaled =
            fixed::MultiplyByQuantizedMultiplierGreaterThanOne(x, y_inv, headroom);
        const int total_shift = output_.shift - recip_shift - headroom;
        const int32_t v =
            zo + fixed::SaturatingRoundingMultiplyByPOT(
                     fixed::SaturatingRoundingDoublingHighMul(unscaled, output_.multiplier),
                     total_shift);
        po[i] = static_cast<T>(std::clamp(v, range_.min, range_.max));
      });
      if (divided_by_zero) return c.Invalid("quantized division by a divisor that is zero");
      return OkStatus();
    }
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
      const int32_t x = fixed::MultiplyByQuantizedMultiplierSmallerThanOne(
          (pa[ia] - za) * (1 << kLeftShift), input1_.multiplier, input1_.shift);
      const int32_t y = fixed::MultiplyByQuantizedMultiplierSmallerThanOne(
          (pb[ib] - zb) * (1 << kLeftShift), input2_.multiplier, input2_.shift);
      const int32_t d = x - y;
      const int32_t v = zo + fixed::MultiplyByQuantizedMultiplierSmallerThanOne(
                                 d * d, output_.multiplier, output_.shift);
      po[i] = static_cast<T>(std::clamp(v, range_.min, range_.max));
    });
    return OkStatus();
  }

  static constexpr int kLeftShift = 7;
  tfl::ActivationFunctionType activation_ = tfl::ActivationFunctionType::NONE;
  Broadcast<2> broadcast_;
  ClampRange range_{0, 0};
  fixed::QuantizedMultiplier input1_, input2_, output_;
};

}  // namespace

std::unique_ptr<Kernel> MakeDiv() { return std::make_unique<ArithmeticKernel<Arith::kDiv>>(); }
std::unique_ptr<Kernel> MakeFloorDiv() {
  return std::make_unique<ArithmeticKernel<Arith::kFloorDiv>>();
}
std::unique_ptr<Kernel> MakeFloorMod() {
  return std::make_unique<ArithmeticKernel<Arith::kFloorMod>>();
}
std::unique_ptr<Kernel> MakeMaximum() {
  return std::make_unique<ArithmeticKernel<Arith::kMaximum>>();
}
std::unique_ptr<Kernel> MakeMinimum() {
  return std::make_unique<ArithmeticKernel<Arith::kMinimum>>();
}
std::unique_ptr<Kernel> MakeSquaredDifference() {
  return std::make_unique<ArithmeticKernel<Arith::kSquaredDifference>>();
}

}  // namespace tpufleet::cpu
