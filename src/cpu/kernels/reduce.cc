// SUM and REDUCE_MAX over constant int32 axes (negative axes count from the end, repeats are
// allowed), with or without keep_dims, and TensorFlow Lite 2.9's arithmetic:
//   SUM         float32 (accumulated in input order), int32, int64, int16 (wrapping sums);
//               uint8 and int8 with the output quantized like the input sum the stored values
//               as TFLite does (wrapping); otherwise the stored values are summed in int32 and
//               requantized as round(sum * s_in / s_out - z_in * s_in / s_out * n) + z_out
//   REDUCE_MAX  float32, int32, int64, int16, uint8, int8 (quantized: input and output share
//               scale and zero point); the maximum of no elements is the type's lowest value
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

class ReduceKernel : public Kernel {
 public:
  explicit ReduceKernel(bool max) : max_(max) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& axes = c.input(1);
    const Tensor& out = c.output(0);
    const DataType t = in.type;
    if (t != out.type || !(t == DataType::kFloat32 || t == DataType::kInt32 ||
                           t == DataType::kInt64 || t == DataType::kInt16 || IsQuantized8(t))) {
      return c.Unsupported(
          fmt::format("{} -> {} (it reduces float32, int32, int64, int16, uint8 "
                      "and int8 into the same type)",
                      Describe(in), Describe(out)));
    }
    if (!axes.is_constant || axes.type != DataType::kInt32 || axes.rank() > 1)
      return c.Unsupported(
          fmt::format("axes {}: they must be a constant int32 scalar or vector", Describe(axes)));
    const bool keep_dims = c.op->builtin_options_as_ReducerOptions() != nullptr &&
                           c.op->builtin_options_as_ReducerOptions()->keep_dims();
    std::vector<bool> reduced(in.rank(), false);
    for (size_t i = 0; i < axes.element_count(); ++i) {
      const int32_t given = axes.as<int32_t>()[i];
      const int64_t axis = given < 0 ? int64_t{given} + in.rank() : given;
      if (axis < 0 || axis >= in.rank())
        return c.Invalid(fmt::format("axis {} is outside {}", given, Describe(in)));
      reduced[axis] = true;
    }
    std::vector<int32_t> expected;
    for (int d = 0; d < in.rank(); ++d) {
      if (!reduced[d]) {
        expected.push_back(in.dim(d));
      } else if (keep_dims) {
        expected.push_back(1);
      }
    }
    if (out.shape != expected) {
      Tensor want = out;
      want.shape = expected;
      return c.Invalid(
          fmt::format("reducing {} gives {}, not {}", Describe(in), Describe(want), Describe(out)));
    }
    // Output strides along each input axis (0 along reduced ones), for an odometer over the input.
    shape_.assign(in.shape.begin(), in.shape.end());
    out_strides_.assign(in.rank(), 0);
    size_t stride = 1;
    for (int d = in.rank() - 1; d >= 0; --d) {
      if (!reduced[d]) {
        out_strides_[d] = stride;
        stride *= static_cast<size_t>(in.dim(d));
      }
    }
    requantize_ = false;
    if (IsQuantized8(t) && (in.scale() != out.scale() || in.zero_point() != out.zero_point())) {
      if (max_) {
        return c.Unsupported(fmt::format(
            "an output quantized unlike the input (scale {} vs {}, zero point {} vs {})",
            out.scale(), in.scale(), out.zero_point(), in.zero_point()));
      }
      TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(in));
      TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(out));
      requantize_ = true;
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    switch (in.type) {
      case DataType::kFloat32: Reduce<float, float>(in, out); break;
      case DataType::kInt32: Reduce<int32_t, uint32_t>(in, out); break;
      case DataType::kInt64: Reduce<int64_t, uint64_t>(in, out); break;
      case DataType::kInt16: Reduce<int16_t, uint16_t>(in, out); break;
      case DataType::kUInt8:
        requantize_ ? RequantizedSum<uint8_t>(in, out) : Reduce<uint8_t, uint8_t>(in, out);
        break;
      default:
        requantize_ ? RequantizedSum<int8_t>(in, out) : Reduce<int8_t, uint8_t>(in, out);
        break;
    }
    return OkStatus();
  }

 private:
  // Calls f(input index, output index) over the input in order.
  template <typename F>
  void ForEachInput(size_t count, F&& f) const {
    std::vector<size_t> position(shape_.size(), 0);
    size_t o = 0;
    for (size_t i = 0; i < count; ++i) {
      f(i, o);
      for (int d = static_cast<int>(shape_.size()) - 1; d >= 0; --d) {
        o += out_strides_[d];
        if (++position[d] < static_cast<size_t>(shape_[d])) break;
        o -= out_strides_[d] * shape_[d];
        position[d] = 0;
      }
    }
  }

  // Sums wrap in the unsigned type `Wrap` of T's width (floats accumulate in float).
  template <typename T, typename Wrap>
  void Reduce(const Tensor& in, Tensor& out) {
    const T* x = in.as<T>();
    T* y = out.as<T>();
    const size_t outputs = out.element_count();
    if (max_) {
      std::fill(y, y + outputs, std::numeric_limits<T>::lowest());
      ForEachInput(in.element_count(), [&](size_t i, size_t o) { y[o] = std::max(y[o], x[i]); });
    } else {
      std::fill(y, y + outputs, T{0});
      ForEachInput(in.element_count(), [&](size_t i, size_t o) {
        y[o] = static_cast<T>(static_cast<Wrap>(static_cast<Wrap>(y[o]) + static_cast<Wrap>(x[i])));
      });
    }
  }

  template <typename T>
  void RequantizedSum(const Tensor& in, Tensor& out) {
    const T* x = in.as<T>();
    T* y = out.as<T>();
    std::vector<int32_t> sums(out.element_count(), 0);
    ForEachInput(in.element_count(), [&](size_t i, size_t o) { sums[o] += x[i]; });
    const size_t outputs = out.element_count();
    const size_t per_output = outputs == 0 ? 0 : in.element_count() / outputs;
    std::fill(y, y + outputs, T{0});  // TFLite leaves the raw 0 for empty reductions
    if (per_output == 0) return;
    const float scale = in.scale() / out.scale();
    const float bias =
        -static_cast<float>(in.zero_point()) * scale * static_cast<float>(per_output);
    for (size_t o = 0; o < outputs; ++o) {
      const int32_t v =
          static_cast<int32_t>(std::round(static_cast<float>(sums[o]) * scale + bias)) +
          out.zero_point();
      y[o] = static_cast<T>(v);
    }
  }

  bool max_;
  bool requantize_ = false;
  std::vector<int32_t> shape_;
  std::vector<size_t> out_strides_;
};

}  // namespace

std::unique_ptr<Kernel> MakeSum() { return std::make_unique<ReduceKernel>(false); }
std::unique_ptr<Kernel> MakeReduceMax() { return std::make_unique<ReduceKernel>(true); }

}  // namespace tpufleet::cpu
