// SLICE (a box of the input, `size` -1 meaning "to the end") and TILE (the input repeated
// `multiples` times along each dimension). Both copy whole rows of the last dimension.
#include <fmt/format.h>

#include <cstring>

#include "cpu/kernels/index_values.h"
#include "cpu/kernels/kernels.h"
#include "cpu/shape_math.h"

namespace tpufleet::cpu {
namespace {

// Row-major strides in elements.
std::vector<int64_t> Strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (int d = static_cast<int>(dims.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * dims[d + 1];
  return strides;
}

class SliceKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 3, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    TPUFLEET_RETURN_IF_ERROR(ExpectSameElements(c, in, out));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ConstantInts(c, c.input(1), "begin"));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int64_t> size, ConstantInts(c, c.input(2), "size"));
    if (begin.size() != static_cast<size_t>(in.rank()) || size.size() != begin.size()) {
      return c.Invalid(fmt::format("begin and size need {} values each, one per dimension of {}",
                                   in.rank(), Describe(in)));
    }
    for (int d = 0; d < in.rank(); ++d) {
      if (begin[d] < 0 || begin[d] > in.dim(d)) {
        return c.Invalid(fmt::format("begin {} is outside dimension {} of {} (0 to {})", begin[d],
                                     d, Describe(in), in.dim(d)));
      }
      if (size[d] == -1) size[d] = in.dim(d) - begin[d];
      if (size[d] < 0 || size[d] > in.dim(d) - begin[d]) {
        return c.Invalid(
            fmt::format("begin {} and size {} leave dimension {} of {} (size must be "
                        "-1 or 0 to {})",
                        begin[d], size[d], d, Describe(in), in.dim(d) - begin[d]));
      }
    }
    TPUFLEET_RETURN_IF_ERROR(ExpectShape(c, out, size));
    in_strides_ = Strides(Dims(in));
    start_ = 0;
    for (int d = 0; d < in.rank(); ++d) start_ += begin[d] * in_strides_[d];
    size_ = size;
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    size_t element = DataTypeSize(in.type);
    if (size_.empty()) {
      std::memcpy(out.data, in.data, element);
      return OkStatus();
    }
    size_t row = size_.back() * element;
    size_t rows = row == 0 ? 0 : out.element_count() / size_.back();
    std::vector<int64_t> index(size_.size() - 1, 0);
    int64_t src = start_;
    for (size_t r = 0; r < rows; ++r) {
      std::memcpy(out.data + r * row, in.data + src * element, row);
      for (int d = static_cast<int>(index.size()) - 1; d >= 0; --d) {
        src += in_strides_[d];
        if (++index[d] < size_[d]) break;
        src -= in_strides_[d] * size_[d];
        index[d] = 0;
      }
    }
    return OkStatus();
  }

 private:
  std::vector<int64_t> size_, in_strides_;
  int64_t start_ = 0;  // element offset of the box's first element
};

class TileKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(2, 2, 1));
    const Tensor& in = c.input(0);
    const Tensor& out = c.output(0);
    TPUFLEET_RETURN_IF_ERROR(ExpectSameElements(c, in, out));
    TPUFLEET_ASSIGN_OR_RETURN(multiples_, ConstantInts(c, c.input(1), "the multiples"));
    if (multiples_.size() != static_cast<size_t>(in.rank())) {
      return c.Invalid(fmt::format("the multiples need {} values, one per dimension of {}",
                                   in.rank(), Describe(in)));
    }
    std::vector<int64_t> expected = Dims(in);
    for (int d = 0; d < in.rank(); ++d) {
      if (multiples_[d] < 0)
        return c.Invalid(fmt::format("multiple {} of dimension {} is negative", multiples_[d], d));
      TPUFLEET_ASSIGN_OR_RETURN(
          expected[d], CheckedProduct(c, {expected[d], multiples_[d]}, "a tiled dimension"));
    }
    TPUFLEET_RETURN_IF_ERROR(ExpectShape(c, out, expected));
    in_strides_ = Strides(Dims(in));
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const Tensor& in = c.input(0);
    Tensor& out = c.output(0);
    element_ = DataTypeSize(in.type);
    if (in.rank() == 0) {
      std::memcpy(out.data, in.data, element_);
    } else if (out.element_count() > 0) {
      Tile(c.input(0), 0, in.data, out.data);
    }
    return OkStatus();
  }

 private:
  // Writes the tiling of the input block at `src` (dimensions d and after) to `dst`, then
  // repeats it; returns the bytes written.
  size_t Tile(const Tensor& in, int d, const uint8_t* src, uint8_t* dst) const {
    size_t block = 0;
    if (d == in.rank() - 1) {
      block = in.dim(d) * element_;
      std::memcpy(dst, src, block);
    } else {
      for (int32_t i = 0; i < in.dim(d); ++i)
        block += Tile(in, d + 1, src + i * in_strides_[d] * element_, dst + block);
    }
    for (int64_t m = 1; m < multiples_[d]; ++m) std::memcpy(dst + m * block, dst, block);
    return block * multiples_[d];
  }

  std::vector<int64_t> multiples_, in_strides_;
  size_t element_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> MakeSlice() { return std::make_unique<SliceKernel>(); }
std::unique_ptr<Kernel> MakeTile() { return std::make_unique<TileKernel>(); }

}  // namespace tpufleet::cpu
