// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (NHWC) with TFLite's align_corners and
// half_pixel_centers conventions; 8-bit values are interpolated in real arithmetic and rounded.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

class ResizeKernel : public Kernel {
 public:
  explicit ResizeKernel(bool bilinear) : bilinear_(bilinear) {}

  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    if (in.rank() != 4 || out.rank() != 4 || in.type != out.type)
      return c.Invalid(fmt::format("{} -> {}", Describe(in), Describe(out)));
    if (in.type != DataType::kFloat32 && !IsQuantized8(in.type))
      return c.Unsupported("type " + DataTypeName(in.type));
    if (bilinear_) {
      const tfl::ResizeBilinearOptions* o = c.op->builtin_options_as_ResizeBilinearOptions();
      align_corners_ = o && o->align_corners();
      half_pixel_ = o && o->half_pixel_centers();
    } else {
      const tfl::ResizeNearestNeighborOptions* o =
          c.op->builtin_options_as_ResizeNearestNeighborOptions();
      align_corners_ = o && o->align_corners();
      half_pixel_ = o && o->half_pixel_centers();
    }
    if (out.dim(0) != in.dim(0) || out.dim(3) != in.dim(3))
      return c.Invalid("batch and channels must not change");
    if (out.element_count() > 0 && (in.dim(1) == 0 || in.dim(2) == 0))
      return c.Invalid(
          fmt::format("cannot resize the empty {} to {}", Describe(in), Describe(out)));
    rows_ = Samples(in.dim(1), out.dim(1));
    columns_ = Samples(in.dim(2), out.dim(2));
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    switch (in.type) {
      case DataType::kFloat32: Resize<float>(in, out); break;
      case DataType::kUInt8: Resize<uint8_t>(in, out); break;
      default: Resize<int8_t>(in, out); break;
    }
    return OkStatus();
  }

 private:
  // Where output coordinate `i` reads in one dimension: the nearest source, or the two
  // neighbours and the weight of the second.
  struct Sample {
    int first, second;
    float weight;
  };

  std::vector<Sample> Samples(int in_size, int out_size) const {
    const float scale = align_corners_ && out_size > 1
                            ? static_cast<float>(in_size - 1) / (out_size - 1)
                            : static_cast<float>(in_size) / out_size;
    std::vector<Sample> samples(static_cast<size_t>(out_size));
    for (int i = 0; i < out_size; ++i) {
      if (bilinear_) {
        float f = half_pixel_ ? (i + 0.5f) * scale - 0.5f : i * scale;
        int first = std::max(static_cast<int>(std::floor(f)), 0);
        samples[i] = {first, std::min(first + 1, in_size - 1), std::max(f - first, 0.0f)};
      } else {
        float f = half_pixel_ ? (i + 0.5f) * scale : i * scale;
        int nearest =
            std::min(static_cast<int>(align_corners_ ? std::round(f) : std::floor(f)), in_size - 1);
        samples[i] = {nearest, nearest, 0.0f};
      }
    }
    return samples;
  }

  // Same quantization in and out: interpolating raw values is interpolating real ones.
  template <typename T>
  static T Store(float v) {
    if constexpr (std::is_same_v<T, float>) {
      return v;
    } else {
      return static_cast<T>(std::clamp<int32_t>(Round(v), std::numeric_limits<T>::min(),
                                                std::numeric_limits<T>::max()));
    }
  }

  template <typename T>
  void Resize(const Tensor& in, Tensor& out) const {
    const int batches = in.dim(0), in_h = in.dim(1), in_w = in.dim(2), ch = in.dim(3);
    const T* source = in.as<T>();
    T* o = out.as<T>();
    const size_t pixel = static_cast<size_t>(ch);
    for (int n = 0; n < batches; ++n) {
      const T* image = source + static_cast<size_t>(n) * in_h * in_w * pixel;
      for (const Sample& row : rows_) {
        const T* top = image + static_cast<size_t>(row.first) * in_w * pixel;
        const T* bottom = image + static_cast<size_t>(row.second) * in_w * pixel;
        const float dy = row.weight;
        for (const Sample& column : columns_) {
          if (!bilinear_) {
            std::memcpy(o, top + column.first * pixel, pixel * sizeof(T));
            o += pixel;
            continue;
          }
          const T* a = top + column.first * pixel;
          const T* b = top + column.second * pixel;
          const T* d = bottom + column.first * pixel;
          const T* e = bottom + column.second * pixel;
          const float dx = column.weight;
          for (int k = 0; k < ch; ++k) {
            float upper = static_cast<float>(a[k]) * (1 - dx) + static_cast<float>(b[k]) * dx;
            float lower = static_cast<float>(d[k]) * (1 - dx) + static_cast<float>(e[k]) * dx;
            o[k] = Store<T>(upper * (1 - dy) + lower * dy);
          }
          o += pixel;
        }
      }
    }
  }

  bool bilinear_;
  bool align_corners_ = false;
  bool half_pixel_ = false;
  std::vector<Sample> rows_, columns_;  // of the output's rows and columns
};

}  // namespace

std::unique_ptr<Kernel> MakeResizeBilinear() { return std::make_unique<ResizeKernel>(true); }
std::unique_ptr<Kernel> MakeResizeNearestNeighbor() {
  return std::make_unique<ResizeKernel>(false);
}

}  // namespace tpufleet::cpu
