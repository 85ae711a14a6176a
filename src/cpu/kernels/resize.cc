// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (NHWC) with TFLite's align_corners and
// half_pixel_centers conventions; 8-bit values are interpolated in real arithmetic and rounded.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
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
    if (bilinear_) {
      for (CachedRow& cached : cache_) cached.values.assign(columns_.size() * in.dim(3), 0.0f);
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    if (out.element_count() == 0) return OkStatus();  // the input may be empty too: no samples
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

  // Same quantization in and out: interpolating raw values is interpolating real ones, and an
  // interpolation of values of T stays within T's range.
  template <typename T>
  static T Store(float v) {
    if constexpr (std::is_same_v<T, float>) {
      return v;
    } else {
      return static_cast<T>(RoundInRange(v));
    }
  }

  template <typename T>
  void Resize(const Tensor& in, Tensor& out) {
    if (bilinear_) {
      Bilinear<T>(in, out);
    } else {
      Nearest<T>(in, out);
    }
  }

  template <typename T>
  void Nearest(const Tensor& in, Tensor& out) const {
    const size_t pixel = static_cast<size_t>(in.dim(3)), in_w = static_cast<size_t>(in.dim(2));
    const size_t image_size = static_cast<size_t>(in.dim(1)) * in_w * pixel;
    T* o = out.as<T>();
    for (int n = 0; n < in.dim(0); ++n) {
      const T* image = in.as<T>() + n * image_size;
      for (const Sample& row : rows_) {
        const T* source = image + row.first * in_w * pixel;
        for (const Sample& column : columns_) {
          std::memcpy(o, source + column.first * pixel, pixel * sizeof(T));
          o += pixel;
        }
      }
    }
  }

  // Source row `row` interpolated between its columns for every output column: the first half
  // of the bilinear rule, kept while the next output rows read the same source rows. The slot
  // holding row `keep` is not overwritten.
  template <typename T>
  const float* Interpolated(const T* image, size_t in_w, size_t pixel, int row, int keep) {
    for (const CachedRow& cached : cache_) {
      if (cached.row == row) return cached.values.data();
    }
    CachedRow& slot = cache_[0].row == keep ? cache_[1] : cache_[0];
    slot.row = row;
    const T* source = image + row * in_w * pixel;
    float* v = slot.values.data();
    for (const Sample& column : columns_) {
      const T* a = source + column.first * pixel;
      const T* b = source + column.second * pixel;
      const float dx = column.weight;
      for (size_t k = 0; k < pixel; ++k) {
        v[k] = static_cast<float>(a[k]) * (1 - dx) + static_cast<float>(b[k]) * dx;
      }
      v += pixel;
    }
    return slot.values.data();
  }

  template <typename T>
  void Bilinear(const Tensor& in, Tensor& out) {
    const size_t pixel = static_cast<size_t>(in.dim(3)), in_w = static_cast<size_t>(in.dim(2));
    const size_t image_size = static_cast<size_t>(in.dim(1)) * in_w * pixel;
    const size_t out_row = columns_.size() * pixel;
    T* o = out.as<T>();
    for (int n = 0; n < in.dim(0); ++n) {
      const T* image = in.as<T>() + n * image_size;
      for (CachedRow& cached : cache_) cached.row = -1;
      for (const Sample& row : rows_) {
        const float* upper = Interpolated(image, in_w, pixel, row.first, row.second);
        const float* lower = Interpolated(image, in_w, pixel, row.second, row.first);
        const float dy = row.weight;
        for (size_t e = 0; e < out_row; ++e) o[e] = Store<T>(upper[e] * (1 - dy) + lower[e] * dy);
        o += out_row;
      }
    }
  }

  struct CachedRow {
    int row = -1;  // -1: none
    std::vector<float> values;
  };

  bool bilinear_;
  bool align_corners_ = false;
  bool half_pixel_ = false;
  std::vector<Sample> rows_, columns_;  // of the output's rows and columns
  std::array<CachedRow, 2> cache_;      // bilinear: two source rows, interpolated
};

}  // namespace

std::unique_ptr<Kernel> MakeResizeBilinear() { return std::make_unique<ResizeKernel>(true); }
std::unique_ptr<Kernel> MakeResizeNearestNeighbor() {
  return std::make_unique<ResizeKernel>(false);
}

}  // namespace tpufleet::cpu
