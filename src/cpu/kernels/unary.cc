// Element-wise functions: LOGISTIC, TANH, RELU, RELU6, HARD_SWISH, QUANTIZE and DEQUANTIZE.
// 8-bit to 8-bit runs through a 256-entry lookup table built at Prepare (exact for the chosen
// rounding); DEQUANTIZE and float paths compute directly.
#include <fmt/format.h>

#include <cmath>
#include <functional>

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
    for (const Tensor* t : {&in, &out}) {
      if (t->quantization.scales.size() > 1) {
        return c.Unsupported(fmt::format("per-channel quantization of {} ({} scales)", Describe(*t),
                                         t->quantization.scales.size()));
      }
    }
    use_table_ = IsQuantized8(in.type) && IsQuantized8(out.type);
    if (use_table_) table_ = MakeLookupTable(in, out, f_);
    dequantize_ = IsQuantized8(in.type) && out.type == DataType::kFloat32 && f_ == Identity;
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    if (use_table_) {
      ApplyLookupTable(table_, in, out);
    } else if (dequantize_) {
      if (in.type == DataType::kUInt8) {
        Dequantize(in.as<uint8_t>(), in, out.as<float>());
      } else {
        Dequantize(in.as<int8_t>(), in, out.as<float>());
      }
    } else {
      for (size_t i = 0, n = in.element_count(); i < n; ++i)
        StoreReal(out, i, f_(RealValueAt(in, i)));
    }
    return OkStatus();
  }

 private:
  // RealValueAt's arithmetic in one typed loop, which the compiler vectorizes.
  template <typename T>
  static void Dequantize(const T* in, const Tensor& t, float* out) {
    const float scale = t.scale();
    const int32_t zero_point = t.zero_point();
    for (size_t i = 0, n = t.element_count(); i < n; ++i) {
      out[i] = scale * static_cast<float>(in[i] - zero_point);
    }
  }

  RealFunction f_;
  bool changes_type_;
  bool use_table_ = false;
  LookupTable table_{};
  bool dequantize_ = false;  // 8 bits to float32 unchanged: DEQUANTIZE
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
