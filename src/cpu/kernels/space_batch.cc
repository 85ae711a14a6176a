// SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND and DEPTH_TO_SPACE, with TensorFlow Lite's layouts: a 4-D
// NHWC input (or 3-D NHC, taken as width 1) whose spatial blocks move to or from the batch, and
// DEPTH_TO_SPACE's DCR order (out[b, y*s+dy, x*s+dx, c] = in[b, y, x, (dy*s+dx)*C + c]). Values
// are copied as they are; padding is the output's zero point for 8-bit types, zero otherwise.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "cpu/kernels/index_values.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"
#include "cpu/shape_math.h"

namespace tpufleet::cpu {
namespace {

// A 3-D or 4-D NHWC tensor's dimensions, 3-D ones with width 1.
struct Nhwc {
  int64_t batch, height, width, depth;
};

Nhwc AsNhwc(const Tensor& t) {
  if (t.rank() == 3) return {t.dim(0), t.dim(1), 1, t.dim(2)};
  return {t.dim(0), t.dim(1), t.dim(2), t.dim(3)};
}

// The block shape and the crops or paddings around the spatial dimensions.
struct Blocks {
  int64_t block_h = 1, block_w = 1;
  int64_t top = 0, bottom = 0, left = 0, right = 0;
};

Result<Blocks> ReadBlocks(const OpContext& c, const char* amounts) {
  const Tensor& in = c.input(0);
  if (in.rank() != 3 && in.rank() != 4) {
    return c.Invalid(fmt::format("input {} must be 3-D or 4-D", Describe(in)));
  }
  TPUFLEET_RETURN_IF_ERROR(ExpectSameElements(c, in, c.output(0)));
  size_t spatial = in.rank() - 2;
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> block,
                            ConstantInts(c, c.input(1), "the block shape"));
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> pads, ConstantInts(c, c.input(2), amounts));
  if (block.size() != spatial || pads.size() != 2 * spatial) {
    return c.Invalid(fmt::format("a {}-D input needs {} block sizes and {}x2 {}", in.rank(),
                                 spatial, spatial, amounts));
  }
  Blocks b;
  b.block_h = block[0];
  b.top = pads[0];
  b.bottom = pads[1];
  if (spatial == 2) {
    b.block_w = block[1];
    b.left = pads[2];
    b.right = pads[3];
  }
  if (b.block_h < 1 || b.block_w < 1 || b.block_h > INT32_MAX || b.block_w > INT32_MAX)
    return c.Invalid(
        fmt::format("block sizes must lie in [1, 2^31), not [{}]", fmt::join(block, ", ")));
  for (int64_t p : pads) {
    if (p < 0 || p > (int64_t{1} << 31))
      return c.Invalid(fmt::format("{} must be non-negative, not {}", amounts, p));
  }
  return b;
}

std::vector<int64_t> ShapeOf(const Tensor& in, const Nhwc& s) {
  if (in.rank() == 3) return {s.batch, s.height, s.depth};
  return {s.batch, s.height, s.width, s.depth};
}

// Moves pixels between the space-side tensor and the batch-side one: batch pixel (n, y, x) is
// space pixel (n % space batch, y * block_h + shift_h - top, x * block_w + shift_w - left), where
// (shift_h, shift_w) is block position n / space batch. `to_batch` copies space to batch, filling
// batch pixels outside the space with `pad_byte`; otherwise batch to space, dropping them.
void MoveBlocks(const Blocks& b, const Tensor& space_tensor, const Tensor& batch_tensor,
                bool to_batch, uint8_t pad_byte) {
  Nhwc space = AsNhwc(space_tensor), batch = AsNhwc(batch_tensor);
  size_t row = space.depth * DataTypeSize(space_tensor.type);
  uint8_t* pixel = batch_tensor.data;
  for (int64_t n = 0; n < batch.batch; ++n) {
    int64_t image = n % space.batch, shift = n / space.batch;
    int64_t shift_w = shift % b.block_w, shift_h = shift / b.block_w;
    for (int64_t y = 0; y < batch.height; ++y) {
      int64_t sy = y * b.block_h + shift_h - b.top;
      for (int64_t x = 0; x < batch.width; ++x, pixel += row) {
        int64_t sx = x * b.block_w + shift_w - b.left;
        if (sy < 0 || sy >= space.height || sx < 0 || sx >= space.width) {
          if (to_batch) std::memset(pixel, pad_byte, row);
          continue;
        }
        uint8_t* at = space_tensor.data + ((image * space.height + sy) * space.width + sx) * row;
        if (to_batch) {
          std::memcpy(pixel, at, row);
        } else {
          std::memcpy(at, pixel, row);
        }
      }
    }
  }
}

class SpaceToBatchKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 3, 1));
    TPUFLEET_ASSIGN_OR_RETURN(b_, ReadBlocks(c, "paddings"));
    Nhwc in = AsNhwc(c.input(0));
    int64_t padded_h = in.height + b_.top + b_.bottom, padded_w = in.width + b_.left + b_.right;
    if (padded_h % b_.block_h != 0 || padded_w % b_.block_w != 0) {
      return c.Invalid(fmt::format("the padded size {}x{} is not a multiple of the block {}x{}",
                                   padded_h, padded_w, b_.block_h, b_.block_w));
    }
    Nhwc out = {in.batch, padded_h / b_.block_h, padded_w / b_.block_w, in.depth};
    TPUFLEET_ASSIGN_OR_RETURN(
        out.batch, CheckedProduct(c, {in.batch, b_.block_h, b_.block_w}, "the output batch"));
    TPUFLEET_RETURN_IF_ERROR(ExpectShape(c, c.output(0), ShapeOf(c.input(0), out)));
    const Tensor& o = c.output(0);
    pad_byte_ = IsQuantized8(o.type) ? static_cast<uint8_t>(o.zero_point()) : 0;
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    MoveBlocks(b_, c.input(0), c.output(0), /*to_batch=*/true, pad_byte_);
    return OkStatus();
  }

 private:
  Blocks b_;
  uint8_t pad_byte_ = 0;
};

class BatchToSpaceKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 3, 1));
    TPUFLEET_ASSIGN_OR_RETURN(b_, ReadBlocks(c, "crops"));
    Nhwc in = AsNhwc(c.input(0));
    int64_t blocks = b_.block_h * b_.block_w;
    if (in.batch % blocks != 0) {
      return c.Invalid(fmt::format("input batch {} is not a multiple of the block {}x{}", in.batch,
                                   b_.block_h, b_.block_w));
    }
    TPUFLEET_ASSIGN_OR_RETURN(int64_t full_h,
                              CheckedProduct(c, {in.height, b_.block_h}, "the uncropped height"));
    TPUFLEET_ASSIGN_OR_RETURN(int64_t full_w,
                              CheckedProduct(c, {in.width, b_.block_w}, "the uncropped width"));
    Nhwc out = {in.batch / blocks, full_h - b_.top - b_.bottom, full_w - b_.left - b_.right,
                in.depth};
    if (out.height < 0 || out.width < 0) {
      return c.Invalid(
          fmt::format("crops remove more than the {}x{} the blocks make", full_h, full_w));
    }
    return ExpectShape(c, c.output(0), ShapeOf(c.input(0), out));
  }

  Status Eval(OpContext& c) override {
    MoveBlocks(b_, c.output(0), c.input(0), /*to_batch=*/false, 0);
    return OkStatus();
  }

 private:
  Blocks b_;
};

class DepthToSpaceKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 1, 1));
    const Tensor& input = c.input(0);
    TPUFLEET_RETURN_IF_ERROR(ExpectSameElements(c, input, c.output(0)));
    if (input.rank() != 4) return c.Invalid(fmt::format("input {} must be 4-D", Describe(input)));
    const tfl::DepthToSpaceOptions* o = c.op->builtin_options_as_DepthToSpaceOptions();
    block_ = o ? o->block_size() : 0;
    if (block_ < 1) return c.Invalid(fmt::format("block_size must be at least 1, not {}", block_));
    if (input.dim(3) % (block_ * block_) != 0) {
      return c.Invalid(fmt::format("input depth {} is not a multiple of block_size^2 = {}",
                                   input.dim(3), block_ * block_));
    }
    Nhwc in = AsNhwc(input);
    TPUFLEET_ASSIGN_OR_RETURN(int64_t h,
                              CheckedProduct(c, {in.height, block_}, "the output height"));
    TPUFLEET_ASSIGN_OR_RETURN(int64_t w, CheckedProduct(c, {in.width, block_}, "the output width"));
    return ExpectShape(c, c.output(0), {in.batch, h, w, in.depth / (block_ * block_)});
  }

  Status Eval(OpContext& c) override {
    const Tensor& input = c.input(0);
    Tensor& output = c.output(0);
    Nhwc in = AsNhwc(input);
    size_t row = in.depth / (block_ * block_) * DataTypeSize(input.type);  // one output pixel
    const uint8_t* src = input.data;
    int64_t out_w = in.width * block_;
    for (int64_t b = 0; b < in.batch; ++b)
      for (int64_t y = 0; y < in.height; ++y)
        for (int64_t x = 0; x < in.width; ++x)
          for (int64_t dy = 0; dy < block_; ++dy)
            for (int64_t dx = 0; dx < block_; ++dx, src += row) {
              int64_t oy = (b * in.height + y) * block_ + dy, ox = x * block_ + dx;
              std::memcpy(output.data + (oy * out_w + ox) * row, src, row);
            }
    return OkStatus();
  }

 private:
  int64_t block_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> MakeSpaceToBatchNd() { return std::make_unique<SpaceToBatchKernel>(); }
std::unique_ptr<Kernel> MakeBatchToSpaceNd() { return std::make_unique<BatchToSpaceKernel>(); }
std::unique_ptr<Kernel> MakeDepthToSpace() { return std::make_unique<DepthToSpaceKernel>(); }

}  // namespace tpufleet::cpu
