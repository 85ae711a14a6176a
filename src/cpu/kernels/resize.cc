// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (NHWC) with TFLite's align_corners and
// half_pixel_centers conventions; 8-bit values are interpolated in real arithmetic and rounded.
#include <fmt/format.h>

#include <cmath>

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
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    const int batches = in.dim(0), in_h = in.dim(1), in_w = in.dim(2), ch = in.dim(3);
    const int out_h = out.dim(1), out_w = out.dim(2);
    auto scale = [&](int in_size, int out_size) {
      return align_corners_ && out_size > 1 ? static_cast<float>(in_size - 1) / (out_size - 1)
                                            : static_cast<float>(in_size) / out_size;
    };
    float sy = scale(in_h, out_h), sx = scale(in_w, out_w);
    auto read = [&](size_t i) -> float {
      switch (in.type) {
        case DataType::kFloat32: return in.as<float>()[i];
        case DataType::kUInt8: return in.as<uint8_t>()[i];
        default: return in.as<int8_t>()[i];
      }
    };
    auto write = [&](size_t i, float v) {
      if (in.type == DataType::kFloat32) {
        out.as<float>()[i] = v;
      } else {
        // Same quantization in and out: interpolating raw values is interpolating real ones.
        out.data[i] = static_cast<uint8_t>(std::clamp(Round(v), QMin(out.type), QMax(out.type)));
      }
    };
    for (int n = 0; n < batches; ++n) {
      for (int y = 0; y < out_h; ++y) {
        for (int x = 0; x < out_w; ++x) {
          size_t o = ((static_cast<size_t>(n) * out_h + y) * out_w + x) * ch;
          if (bilinear_) {
            float fy = half_pixel_ ? (y + 0.5f) * sy - 0.5f : y * sy;
            float fx = half_pixel_ ? (x + 0.5f) * sx - 0.5f : x * sx;
            int y0 = std::max(static_cast<int>(std::floor(fy)), 0),
                x0 = std::max(static_cast<int>(std::floor(fx)), 0);
            int y1 = std::min(y0 + 1, in_h - 1), x1 = std::min(x0 + 1, in_w - 1);
            float dy = std::max(fy - y0, 0.0f), dx = std::max(fx - x0, 0.0f);
            auto at = [&](int yy, int xx, int k) {
              return read(((static_cast<size_t>(n) * in_h + yy) * in_w + xx) * ch + k);
            };
            for (int k = 0; k < ch; ++k) {
              float top = at(y0, x0, k) * (1 - dx) + at(y0, x1, k) * dx;
              float bottom = at(y1, x0, k) * (1 - dx) + at(y1, x1, k) * dx;
              write(o + k, top * (1 - dy) + bottom * dy);
            }
          } else {
            float fy = half_pixel_ ? (y + 0.5f) * sy : y * sy;
            float fx = half_pixel_ ? (x + 0.5f) * sx : x * sx;
            int yy = std::min(static_cast<int>(align_corners_ ? std::round(fy) : std::floor(fy)),
                              in_h - 1);
            int xx = std::min(static_cast<int>(align_corners_ ? std::round(fx) : std::floor(fx)),
                              in_w - 1);
            size_t i = ((static_cast<size_t>(n) * in_h + yy) * in_w + xx) * ch;
            for (int k = 0; k < ch; ++k) write(o + k, read(i + k));
          }
        }
      }
    }
    return OkStatus();
  }

 private:
  bool bilinear_;
  bool align_corners_ = false;
  bool half_pixel_ = false;
};

}  // namespace

std::unique_ptr<Kernel> MakeResizeBilinear() { return std::make_unique<ResizeKernel>(true); }
std::unique_ptr<Kernel> MakeResizeNearestNeighbor() {
  return std::make_unique<ResizeKernel>(false);
}

}  // namespace tpufleet::cpu
