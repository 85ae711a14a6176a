// SOFTMAX over the last dimension. For 8-bit inputs exp() comes from a 256-entry table of
// exp(beta * scale * (q - max)), so the cost per element is a lookup and a multiply.
#include <fmt/format.h>

#include <array>
#include <cmath>

#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

class SoftmaxKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    const tfl::SoftmaxOptions* o = c.op->builtin_options_as_SoftmaxOptions();
    beta_ = o ? o->beta() : 1.0f;
    if (in.rank() < 1 || in.shape != out.shape)
      return c.Invalid(fmt::format("{} -> {}", Describe(in), Describe(out)));
    if (in.type != out.type || (in.type != DataType::kFloat32 && !IsQuantized8(in.type))) {
      return c.Unsupported(fmt::format("{} -> {}", Describe(in), Describe(out)));
    }
    if (IsQuantized8(in.type)) {
      for (int d = 0; d < 256; ++d)
        exp_table_[d] = std::exp(-beta_ * in.scale() * static_cast<float>(d));
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    size_t depth = in.dim(-1);
    size_t rows = depth ? in.element_count() / depth : 0;
    std::vector<float> e(depth);
    for (size_t r = 0; r < rows; ++r) {
      float sum = 0;
      if (in.type == DataType::kFloat32) {
        const float* x = in.as<float>() + r * depth;
        float max = *std::max_element(x, x + depth);
        for (size_t i = 0; i < depth; ++i) sum += e[i] = std::exp(beta_ * (x[i] - max));
        float* y = out.as<float>() + r * depth;
        for (size_t i = 0; i < depth; ++i) y[i] = e[i] / sum;
      } else {
        int32_t max = -1000;
        for (size_t i = 0; i < depth; ++i) max = std::max(max, Raw(in, r * depth + i));
        for (size_t i = 0; i < depth; ++i) sum += e[i] = exp_table_[max - Raw(in, r * depth + i)];
        float inv = 1.0f / (sum * out.scale());
        int32_t qmin = QMin(out.type), qmax = QMax(out.type), zp = out.zero_point();
        for (size_t i = 0; i < depth; ++i) {
          out.data[r * depth + i] =
              static_cast<uint8_t>(std::clamp(Round(e[i] * inv) + zp, qmin, qmax));
        }
      }
    }
    return OkStatus();
  }

 private:
  static int32_t Raw(const Tensor& t, size_t i) {
    return t.type == DataType::kInt8 ? t.as<int8_t>()[i] : t.as<uint8_t>()[i];
  }
  float beta_ = 1.0f;
  std::array<float, 256> exp_table_{};
};

}  // namespace

std::unique_ptr<Kernel> MakeSoftmax() { return std::make_unique<SoftmaxKernel>(); }

}  // namespace tpufleet::cpu
