// ADD, SUB and MUL with numpy-style broadcasting. ADD runs through XNNPACK (uint8, int8,
// float32); SUB and MUL, and ADD on other types, run here: quantized values are computed in real
// arithmetic and requantized with rounding half away from zero.
#include <fmt/format.h>

#include <functional>
#include <limits>
#include <type_traits>

#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"
#include "cpu/xnnpack_adapter.h"

namespace tpufleet::cpu {
namespace {

enum class BinaryOp { kAdd, kSub, kMul };

tfl::ActivationFunctionType FusedActivation(const tfl::Operator& op, BinaryOp kind) {
  switch (kind) {
    case BinaryOp::kAdd:
      if (auto* o = op.builtin_options_as_AddOptions()) return o->fused_activation_function();
      break;
    case BinaryOp::kSub:
      if (auto* o = op.builtin_options_as_SubOptions()) return o->fused_activation_function();
      break;
    case BinaryOp::kMul:
      if (auto* o = op.builtin_options_as_MulOptions()) return o->fused_activation_function();
      break;
  }
  return tfl::ActivationFunctionType::NONE;
}

// v as T; for integer types clamped to T's range first (NaN gives the minimum), since converting
// an out-of-range float to an integer is undefined.
template <typename T>
T ClampCast(float v) {
  if constexpr (std::is_integral_v<T>) {
    constexpr float kLow = static_cast<float>(std::numeric_limits<T>::min());
    constexpr float kHigh = -kLow;  // 2^31 for int32: the first value above the range
    if (!(v >= kLow)) return std::numeric_limits<T>::min();
    if (v >= kHigh) return std::numeric_limits<T>::max();
  }
  return static_cast<T>(v);
}

class BinaryKernel : public Kernel {
 public:
  explicit BinaryKernel(BinaryOp kind) : kind_(kind) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    const Tensor& out = c.output(0);
    activation_ = FusedActivation(*c.op, kind_);
    if (!IsSupportedActivation(activation_)) return c.Unsupported("this fused activation");
    if (a.type != out.type || b.type != out.type) {
      return c.Unsupported(
          fmt::format("mixed types {} and {} -> {}", Describe(a), Describe(b), Describe(out)));
    }
    if (out.type != DataType::kFloat32 && !IsQuantized8(out.type) && out.type != DataType::kInt32) {
      return c.Unsupported("type " + DataTypeName(out.type));
    }
    TPUFLEET_ASSIGN_OR_RETURN(broadcast_, MakeBroadcast(c, a, b, out));
    if (kind_ == BinaryOp::kAdd && out.type != DataType::kInt32) return PrepareXnnpack(c);
    return OkStatus();
  }

  bool RunsInXnnpack() const override { return static_cast<bool>(op_); }

  Status Eval(OpContext& c) override {
    if (op_) return RunXnnpack(c);
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    Tensor& out = c.output(0);
    // The operation is chosen once, so each loop below is specialised (and vectorised) for it.
    switch (kind_) {
      case BinaryOp::kAdd: return EvalTyped(a, b, out, std::plus<float>(), c);
      case BinaryOp::kSub: return EvalTyped(a, b, out, std::minus<float>(), c);
      case BinaryOp::kMul: return EvalTyped(a, b, out, std::multiplies<float>(), c);
    }
    return OkStatus();
  }

 private:
  template <typename F>
  Status EvalTyped(const Tensor& a, const Tensor& b, Tensor& out, F apply, const OpContext& c) {
    switch (out.type) {
      case DataType::kFloat32: EvalReal<float>(a, b, out, apply); break;
      case DataType::kInt32: EvalReal<int32_t>(a, b, out, apply); break;
      case DataType::kUInt8: EvalQuantized<uint8_t>(a, b, out, apply); break;
      case DataType::kInt8: EvalQuantized<int8_t>(a, b, out, apply); break;
      default: return c.Unsupported("type " + DataTypeName(out.type));
    }
    return OkStatus();
  }

  template <typename T, typename F>
  void EvalReal(const Tensor& a, const Tensor& b, Tensor& out, F apply) {
    // Plain variables, not a structured binding: the lambda below captures them.
    const std::pair<float, float> range = ActivationRangeFloat(activation_);
    const float lo = range.first, hi = range.second;
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    T* po = out.as<T>();
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
      float v = std::clamp(apply(static_cast<float>(pa[ia]), static_cast<float>(pb[ib])), lo, hi);
      po[i] = ClampCast<T>(v);
    });
  }

  template <typename T, typename F>
  void EvalQuantized(const Tensor& a, const Tensor& b, Tensor& out, F apply) {
    ClampRange range = ActivationRange(activation_, out);
    float sa = a.scale(), sb = b.scale(), inv_so = 1.0f / out.scale();
    int32_t za = a.zero_point(), zb = b.zero_point(), zo = out.zero_point();
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    T* po = out.as<T>();
    ForEachBroadcast(broadcast_, [&](size_t i, size_t ia, size_t ib) {
      float v = apply(sa * static_cast<float>(pa[ia] - za), sb * static_cast<float>(pb[ib] - zb));
      po[i] = static_cast<T>(std::clamp(Round(v * inv_so) + zo, range.min, range.max));
    });
  }

  Status PrepareXnnpack(OpContext& c) {
    TPUFLEET_RETURN_IF_ERROR(xnn::Initialize());
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    const Tensor& out = c.output(0);
    xnn_operator_t op = nullptr;
    xnn_status status;
    if (out.type == DataType::kFloat32) {
      auto [lo, hi] = ActivationRangeFloat(activation_);
      status = xnn_create_add_nd_f32(lo, hi, 0, &op);
    } else {
      ClampRange r = ActivationRange(activation_, out);
      if (out.type == DataType::kUInt8) {
        status = xnn_create_add_nd_qu8(a.zero_point(), a.scale(), b.zero_point(), b.scale(),
                                       out.zero_point(), out.scale(), r.min, r.max, 0, &op);
      } else {
        status = xnn_create_add_nd_qs8(a.zero_point(), a.scale(), b.zero_point(), b.scale(),
                                       out.zero_point(), out.scale(), r.min, r.max, 0, &op);
      }
    }
    if (status != xnn_status_success)
      return OkStatus();  // e.g. scale ratios XNNPACK refuses: run here
    op_.reset(op);
    return OkStatus();
  }

  Status RunXnnpack(OpContext& c) {
    const Tensor& a = c.input(0);
    const Tensor& b = c.input(1);
    Tensor& out = c.output(0);
    return op_.Run({a.data, b.data, out.data}, c.threadpool, "add", [&](xnn_operator_t op) {
      std::vector<size_t> sa(a.shape.begin(), a.shape.end()), sb(b.shape.begin(), b.shape.end());
      switch (out.type) {
        case DataType::kFloat32:
          return xnn_setup_add_nd_f32(op, sa.size(), sa.data(), sb.size(), sb.data(), a.as<float>(),
                                      b.as<float>(), out.as<float>(), c.threadpool);
        case DataType::kUInt8:
          return xnn_setup_add_nd_qu8(op, sa.size(), sa.data(), sb.size(), sb.data(),
                                      a.as<uint8_t>(), b.as<uint8_t>(), out.as<uint8_t>(),
                                      c.threadpool);
        default:
          return xnn_setup_add_nd_qs8(op, sa.size(), sa.data(), sb.size(), sb.data(),
                                      a.as<int8_t>(), b.as<int8_t>(), out.as<int8_t>(),
                                      c.threadpool);
      }
    });
  }

  BinaryOp kind_;
  tfl::ActivationFunctionType activation_ = tfl::ActivationFunctionType::NONE;
  Broadcast<2> broadcast_;
  xnn::BoundOperator op_;
};

}  // namespace

std::unique_ptr<Kernel> MakeAdd() { return std::make_unique<BinaryKernel>(BinaryOp::kAdd); }
std::unique_ptr<Kernel> MakeSub() { return std::make_unique<BinaryKernel>(BinaryOp::kSub); }
std::unique_ptr<Kernel> MakeMul() { return std::make_unique<BinaryKernel>(BinaryOp::kMul); }

}  // namespace tpufleet::cpu
