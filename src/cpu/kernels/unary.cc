// Element-wise functions: LOGISTIC, TANH, RELU, RELU6, HARD_SWISH, QUANTIZE and DEQUANTIZE.
// 8-bit to 8-bit runs through a 256-entry lookup table built at Prepare (exact for the chosen
// rounding); DEQUANTIZE and float paths compute directly.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

using RealFunction = float (*)(float);

float Logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float Tanh(float x) { return std::tanh(x); }
float Relu(float x) { return std::max(x, 0.0f); }
float Relu6(float x) { return std::clamp(x, 0.0f, 6.0f); }
float HardSwish(float x) { return x * std::clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f; }
float Identity(float x) { return x; }

void StoreReal(Tensor& t, size_t i, float v) {
  if (t.type == DataType::kFloat32) {
    t.as<float>()[i] = v;
  } else {
    t.data[i] = static_cast<uint8_t>(
        QuantizeValue(v, t.scale(), t.zero_point(), QMin(t.type), QMax(t.type)));
  }
}

// Applies `f` to real values: any of float32, uint8, int8 in and out (QUANTIZE and DEQUANTIZE are
// the identity between types).
class UnaryKernel : public Kernel {
 public:
  UnaryKernel(RealFunction f, bool changes_type) : f_(f), changes_type_(changes_type) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    auto supported = [](DataType t) { return t == DataType::kFloat32 || IsQuantized8(t); };
    if (!supported(in.type) || !supported(out.type) || (!changes_type_ && in.type != out.type)) {
      return c.Unsupported(fmt::format("{} -> {}", Describe(in), Describe(out)));
    }
    if (in.element_count() != out.element_count()) {
      return c.Invalid(fmt::format("{} and {} differ in size", Describe(in), Describe(out)));
    }
    use_table_ = IsQuantized8(in.type) && IsQuantized8(out.type);
    dequantize_ = IsQuantized8(in.type) && out.type == DataType::kFloat32 && f_ == Identity;
    if (dequantize_) return PrepareDequantize(c, in);
    // The functions read one scale per tensor, as TFLite's do: channels must agree.
    for (const Tensor* t : {&in, &out}) {
      if (IsQuantized8(t->type) && HasDistinctChannels(t->quantization)) {
        return c.Unsupported(fmt::format(
            "{}: per-channel quantization with differing scales (it takes one per tensor)",
            Describe(*t)));
      }
    }
    if (use_table_) table_ = MakeLookupTable(in, out, f_);
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    if (use_table_) {
      ApplyLookupTable(table_, in, out);
    } else if (dequantize_) {
      if (in.type == DataType::kUInt8) {
        Dequantize(in.as<uint8_t>(), out.as<float>());
      } else {
        Dequantize(in.as<int8_t>(), out.as<float>());
      }
    } else {
      for (size_t i = 0, n = in.element_count(); i < n; ++i)
        StoreReal(out, i, f_(RealValueAt(in, i)));
    }
    return OkStatus();
  }

 private:
  static bool HasDistinctChannels(const Quantization& q) {
    auto differs = [](const auto& values) {
      return std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) !=
             values.end();
    };
    return differs(q.scales) || differs(q.zero_points);
  }

  // Per tensor, or per channel along the quantization's axis (constant weights of float models).
  Status PrepareDequantize(const OpContext& c, const Tensor& in) {
    const Quantization& q = in.quantization;
    const size_t n = in.element_count();
    scales_ = {in.scale()};
    zero_points_ = {in.zero_point()};
    outer_ = 1;
    inner_ = n;
    if (!q.per_channel()) return OkStatus();
    // The model's verifier checked the axis and the counts against the model's shape; a shape
    // changed since (a resized input) may no longer match.
    if (q.axis < 0 || q.axis >= in.rank() ||
        static_cast<size_t>(in.dim(q.axis)) != q.scales.size()) {
      return c.Invalid(fmt::format("{}: {} per-channel scales along axis {} do not match its shape",
                                   Describe(in), q.scales.size(), q.axis));
    }
    scales_ = q.scales;
    zero_points_ = q.zero_points;
    zero_points_.resize(scales_.size(), 0);  // none given: all 0
    inner_ = 1;
    for (int d = q.axis + 1; d < in.rank(); ++d) inner_ *= static_cast<size_t>(in.dim(d));
    const size_t block = scales_.size() * inner_;
    outer_ = block == 0 ? 0 : n / block;
    return OkStatus();
  }

  // RealValueAt's arithmetic with each channel's scale and zero point, in typed inner loops the
  // compiler vectorizes.
  template <typename T>
  void Dequantize(const T* in, float* out) const {
    for (size_t o = 0; o < outer_; ++o) {
      for (size_t channel = 0; channel < scales_.size(); ++channel) {
        const float scale = scales_[channel];
        const int32_t zero_point = static_cast<int32_t>(zero_points_[channel]);
        const size_t base = (o * scales_.size() + channel) * inner_;
        for (size_t i = base; i < base + inner_; ++i) {
          out[i] = scale * static_cast<float>(in[i] - zero_point);
        }
      }
    }
  }

  RealFunction f_;
  bool changes_type_;
  bool use_table_ = false;
  LookupTable table_{};
  // 8 bits to float32 unchanged (DEQUANTIZE), with each channel's scale and zero point over
  // outer_ x channels x inner_ elements.
  bool dequantize_ = false;
  std::vector<float> scales_;
  std::vector<int64_t> zero_points_;
  size_t outer_ = 0, inner_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> MakeLogistic() { return std::make_unique<UnaryKernel>(Logistic, false); }
std::unique_ptr<Kernel> MakeTanh() { return std::make_unique<UnaryKernel>(Tanh, false); }
std::unique_ptr<Kernel> MakeRelu() { return std::make_unique<UnaryKernel>(Relu, false); }
std::unique_ptr<Kernel> MakeRelu6() { return std::make_unique<UnaryKernel>(Relu6, false); }
std::unique_ptr<Kernel> MakeHardSwish() { return std::make_unique<UnaryKernel>(HardSwish, false); }
std::unique_ptr<Kernel> MakeQuantize() { return std::make_unique<UnaryKernel>(Identity, true); }
std::unique_ptr<Kernel> MakeDequantize() { return std::make_unique<UnaryKernel>(Identity, true); }

}  // namespace tpufleet::cpu
