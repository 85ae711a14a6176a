// AVERAGE_POOL_2D and MAX_POOL_2D (NHWC), and MEAN over any set of axes. Averages count only the
// window's elements inside the input, as TFLite does with SAME padding.
#include <fmt/format.h>

#include <limits>

#include "cpu/kernels/kernels.h"
#include "cpu/kernels/window.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

class PoolKernel : public Kernel {
 public:
  explicit PoolKernel(bool max) : max_(max) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    const tfl::Pool2DOptions* o = c.op->builtin_options_as_Pool2DOptions();
    if (o == nullptr) return c.Invalid("missing Pool2DOptions");
    if (o->stride_h() < 1 || o->stride_w() < 1 || o->filter_height() < 1 || o->filter_width() < 1) {
      return c.Invalid("strides and filter sizes must be positive");
    }
    activation_ = o->fused_activation_function();
    if (!IsSupportedActivation(activation_)) return c.Unsupported("this fused activation");
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    if (in.rank() != 4 || out.rank() != 4) return c.Invalid("input and output must be 4-D (NHWC)");
    if (in.type != out.type) return c.Unsupported("different input and output types");
    if (in.type != DataType::kFloat32 && !IsQuantized8(in.type))
      return c.Unsupported("type " + DataTypeName(in.type));
    stride_h_ = o->stride_h();
    stride_w_ = o->stride_w();
    filter_h_ = o->filter_height();
    filter_w_ = o->filter_width();
    TPUFLEET_ASSIGN_OR_RETURN(
        Window wh, ComputeWindow(c, in.dim(1), filter_h_, stride_h_, 1, o->padding(), "height"));
    TPUFLEET_ASSIGN_OR_RETURN(
        Window ww, ComputeWindow(c, in.dim(2), filter_w_, stride_w_, 1, o->padding(), "width"));
    pad_top_ = wh.pad_before;
    pad_left_ = ww.pad_before;
    if (out.dim(0) != in.dim(0) || out.dim(1) != wh.output || out.dim(2) != ww.output ||
        out.dim(3) != in.dim(3)) {
      return c.Invalid(fmt::format("output {} does not match the computed [{}, {}, {}, {}]",
                                   Describe(out), in.dim(0), wh.output, ww.output, in.dim(3)));
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    switch (c.input(0).type) {
      case DataType::kFloat32: Typed<float>(c.input(0), c.output(0)); break;
      case DataType::kUInt8: Typed<uint8_t>(c.input(0), c.output(0)); break;
      default: Typed<int8_t>(c.input(0), c.output(0)); break;
    }
    return OkStatus();
  }

 private:
  template <typename T>
  void Typed(const Tensor& in, Tensor& out) {
    if (max_) {
      Run<T, true>(in, out);
    } else {
      Run<T, false>(in, out);
    }
  }

  // kMax: the largest value of each window, else its average.
  template <typename T, bool kMax>
  void Run(const Tensor& in, Tensor& out) {
    const bool quantized = IsQuantized8(in.type);
    ClampRange q_range = quantized ? ActivationRange(activation_, out) : ClampRange{0, 0};
    auto [f_lo, f_hi] = ActivationRangeFloat(activation_);
    // Requantization for averages whose input and output quantization differ.
    float rescale = quantized ? in.scale() / out.scale() : 1.0f;
    int32_t zi = in.zero_point(), zo = out.zero_point();
    const int batches = in.dim(0), in_h = in.dim(1), in_w = in.dim(2), channels = in.dim(3);
    const int out_h = out.dim(1), out_w = out.dim(2);
    const T* src = in.as<T>();
    T* dst = out.as<T>();
    std::vector<float> acc(channels);
    for (int n = 0; n < batches; ++n) {
      for (int oy = 0; oy < out_h; ++oy) {
        // 64 bits: strides and filters up to INT32_MAX must not overflow.
        int64_t y_start = int64_t{oy} * stride_h_ - pad_top_;
        int y0 = static_cast<int>(std::max<int64_t>(y_start, 0)),
            y1 = static_cast<int>(std::min<int64_t>(y_start + filter_h_, in_h));
        for (int ox = 0; ox < out_w; ++ox) {
          int64_t x_start = int64_t{ox} * stride_w_ - pad_left_;
          int x0 = static_cast<int>(std::max<int64_t>(x_start, 0)),
              x1 = static_cast<int>(std::min<int64_t>(x_start + filter_w_, in_w));
          std::fill(acc.begin(), acc.end(), kMax ? -std::numeric_limits<float>::infinity() : 0.0f);
          for (int y = y0; y < y1; ++y) {
            for (int x = x0; x < x1; ++x) {
              const T* pixel = src + ((static_cast<size_t>(n) * in_h + y) * in_w + x) * channels;
              for (int ch = 0; ch < channels; ++ch) {
                acc[ch] = kMax ? std::max(acc[ch], static_cast<float>(pixel[ch]))
                               : acc[ch] + static_cast<float>(pixel[ch]);
              }
            }
          }
          float count = static_cast<float>(std::max(y1 - y0, 0)) * std::max(x1 - x0, 0);
          T* o = dst + ((static_cast<size_t>(n) * out_h + oy) * out_w + ox) * channels;
          for (int ch = 0; ch < channels; ++ch) {
            float v = kMax ? acc[ch] : acc[ch] / count;
            if (quantized) {
              int32_t q = kMax && rescale == 1.0f && zi == zo ? static_cast<int32_t>(v)
                                                              : Round((v - zi) * rescale) + zo;
              o[ch] = static_cast<T>(std::clamp(q, q_range.min, q_range.max));
            } else {
              o[ch] = static_cast<T>(std::clamp(v, f_lo, f_hi));
            }
          }
        }
      }
    }
  }

  bool max_;
  tfl::ActivationFunctionType activation_ = tfl::ActivationFunctionType::NONE;
  int stride_h_ = 1, stride_w_ = 1, filter_h_ = 1, filter_w_ = 1, pad_top_ = 0, pad_left_ = 0;
};

class MeanKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& axes = c.input(1);
    const Tensor& out = c.output(0);
    if (!axes.is_constant || axes.type != DataType::kInt32)
      return c.Unsupported("axes must be a constant int32 tensor");
    if (in.type != out.type || (in.type != DataType::kFloat32 && !IsQuantized8(in.type))) {
      return c.Unsupported(fmt::format("{} -> {}", Describe(in), Describe(out)));
    }
    reduced_.assign(in.rank(), false);
    for (size_t i = 0; i < axes.element_count(); ++i) {
      int axis = axes.as<int32_t>()[i];
      if (axis < 0) axis += in.rank();
      if (axis < 0 || axis >= in.rank())
        return c.Invalid(
            fmt::format("axis {} is outside rank {}", axes.as<int32_t>()[i], in.rank()));
      reduced_[axis] = true;
    }
    size_t kept = 1;
    for (int d = 0; d < in.rank(); ++d) {
      if (!reduced_[d]) kept *= in.dim(d);
    }
    if (out.element_count() != kept)
      return c.Invalid(fmt::format("output {} should hold {} values", Describe(out), kept));
    FindBlock(in);
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    std::vector<double> sums(out.element_count(), 0.0);
    if (block_) {
      SumBlock(in, sums);
    } else {
      SumAnyAxes(in, sums);
    }
    size_t count = in.element_count() / std::max<size_t>(out.element_count(), 1);
    for (size_t o = 0; o < sums.size(); ++o) {
      double mean = sums[o] / static_cast<double>(count);
      if (out.type == DataType::kFloat32) {
        out.as<float>()[o] = static_cast<float>(mean);
      } else {
        int32_t q = QuantizeValue(static_cast<float>(mean), out.scale(), out.zero_point(),
                                  QMin(out.type), QMax(out.type));
        out.data[o] = static_cast<uint8_t>(q);
      }
    }
    return OkStatus();
  }

 private:
  // Reduced axes that form one contiguous block view the input as [outer, reduced, inner]: the
  // common case (the spatial mean of NHWC) runs as two plain loops.
  void FindBlock(const Tensor& in) {
    int first = -1, last = -1;
    for (int d = 0; d < in.rank(); ++d) {
      if (!reduced_[d]) continue;
      if (first < 0)
        first = d;
      else if (last != d - 1)
        return;
      last = d;
    }
    if (first < 0) return;
    block_ = true;
    outer_ = reduce_ = inner_ = 1;
    for (int d = 0; d < in.rank(); ++d) {
      (d < first ? outer_ : d <= last ? reduce_ : inner_) *= in.dim(d);
    }
  }

  void SumBlock(const Tensor& in, std::vector<double>& sums) const {
    switch (in.type) {
      case DataType::kFloat32: SumBlockOf<float, double>(in.as<float>(), sums, 1.0, 0); break;
      case DataType::kUInt8:
        SumBlockOf<uint8_t, int64_t>(in.as<uint8_t>(), sums, in.scale(), in.zero_point());
        break;
      default:
        SumBlockOf<int8_t, int64_t>(in.as<int8_t>(), sums, in.scale(), in.zero_point());
        break;
    }
  }

  // Sums raw values in Acc (exact for 8-bit types), then converts each sum to real units.
  template <typename T, typename Acc>
  void SumBlockOf(const T* data, std::vector<double>& sums, double scale,
                  int32_t zero_point) const {
    std::vector<Acc> acc(inner_);
    for (size_t o = 0; o < outer_; ++o) {
      std::fill(acc.begin(), acc.end(), Acc{0});
      for (size_t r = 0; r < reduce_; ++r) {
        const T* row = data + (o * reduce_ + r) * inner_;
        for (size_t i = 0; i < inner_; ++i) acc[i] += row[i];
      }
      for (size_t i = 0; i < inner_; ++i) {
        sums[o * inner_ + i] =
            scale * (static_cast<double>(acc[i]) - static_cast<double>(zero_point) * reduce_);
      }
    }
  }

  void SumAnyAxes(const Tensor& in, std::vector<double>& sums) const {
    // Walk the input in order; the output index drops the reduced dimensions.
    std::vector<int32_t> index(in.rank(), 0);
    for (size_t i = 0; i < in.element_count(); ++i) {
      size_t o = 0;
      for (int d = 0; d < in.rank(); ++d) {
        if (!reduced_[d]) o = o * in.dim(d) + index[d];
      }
      sums[o] += RealValueAt(in, i);
      for (int d = in.rank() - 1; d >= 0; --d) {
        if (++index[d] < in.dim(d)) break;
        index[d] = 0;
      }
    }
  }

  std::vector<bool> reduced_;
  bool block_ = false;
  size_t outer_ = 1, reduce_ = 1, inner_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> MakeAveragePool2D() { return std::make_unique<PoolKernel>(false); }
std::unique_ptr<Kernel> MakeMaxPool2D() { return std::make_unique<PoolKernel>(true); }
std::unique_ptr<Kernel> MakeMean() { return std::make_unique<MeanKernel>(); }

}  // namespace tpufleet::cpu
