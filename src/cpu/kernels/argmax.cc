// ARG_MAX along a constant axis, for float32 and 8-bit inputs (raw 8-bit values order like their
// real values, since the scale is positive); int32 or int64 output. Ties go to the lowest index.
#include <fmt/format.h>

#include <algorithm>

#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

class ArgMaxKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& axis = c.input(1);
    const Tensor& out = c.output(0);
    if (!axis.is_constant || axis.element_count() != 1)
      return c.Unsupported("the axis must be a constant scalar");
    if (axis.type != DataType::kInt32 && axis.type != DataType::kInt64)
      return c.Unsupported("an axis of type " + DataTypeName(axis.type));
    int64_t axis_value =
        axis.type == DataType::kInt64 ? axis.as<int64_t>()[0] : axis.as<int32_t>()[0];
    if (axis_value < -in.rank() || axis_value >= in.rank())
      return c.Invalid(fmt::format("axis {} is outside rank {}", axis_value, in.rank()));
    axis_ = static_cast<int>(axis_value < 0 ? axis_value + in.rank() : axis_value);
    if (out.type != DataType::kInt32 && out.type != DataType::kInt64)
      return c.Unsupported("output type " + DataTypeName(out.type));
    if (in.type != DataType::kFloat32 && !IsQuantized8(in.type))
      return c.Unsupported("input type " + DataTypeName(in.type));
    if (out.element_count() * in.dim(axis_) != in.element_count())
      return c.Invalid("output size does not match");
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    switch (in.type) {
      case DataType::kFloat32: Typed<float>(in, out); break;
      case DataType::kUInt8: Typed<uint8_t>(in, out); break;
      default: Typed<int8_t>(in, out); break;
    }
    return OkStatus();
  }

 private:
  template <typename T>
  void Typed(const Tensor& in, Tensor& out) const {
    if (out.type == DataType::kInt32) {
      ArgMax(in.as<T>(), in, out.as<int32_t>());
    } else {
      ArgMax(in.as<T>(), in, out.as<int64_t>());
    }
  }

  // The first index of the largest value along the axis (a NaN found first stays the answer).
  template <typename T, typename Index>
  void ArgMax(const T* values, const Tensor& in, Index* out) const {
    size_t inner = 1;
    for (int d = axis_ + 1; d < in.rank(); ++d) inner *= in.dim(d);
    size_t depth = in.dim(axis_), outer = in.element_count() / std::max<size_t>(depth * inner, 1);
    for (size_t o = 0; o < outer; ++o) {
      for (size_t k = 0; k < inner; ++k) {
        const T* column = values + o * depth * inner + k;
        size_t best = 0;
        T best_value = column[0];
        for (size_t d = 1; d < depth; ++d) {
          if (column[d * inner] > best_value) {
            best = d;
            best_value = column[d * inner];
          }
        }
        out[o * inner + k] = static_cast<Index>(best);
      }
    }
  }

  int axis_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> MakeArgMax() { return std::make_unique<ArgMaxKernel>(); }

}  // namespace tpufleet::cpu
