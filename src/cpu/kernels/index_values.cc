#include "cpu/kernels/index_values.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cpu/quantization.h"
#include "cpu/shape_math.h"

namespace tpufleet::cpu {

Result<std::vector<int64_t>> ConstantInts(const OpContext& c, const Tensor& t, const char* what) {
  if (!t.is_constant) return c.Unsupported(fmt::format("{} must be a constant", what));
  if (t.type != DataType::kInt32 && t.type != DataType::kInt64)
    return c.Unsupported(fmt::format("{} of type {}", what, DataTypeName(t.type)));
  std::vector<int64_t> values(t.element_count());
  for (size_t i = 0; i < values.size(); ++i) values[i] = IntAt(t, i);
  return values;
}

Status ExpectIndexType(const OpContext& c, const Tensor& t, const char* what) {
  if (t.type == DataType::kInt32 || t.type == DataType::kInt64) return OkStatus();
  return c.Invalid(fmt::format("{} are {}; they must be int32 or int64", what, Describe(t)));
}

bool IsCopyableType(DataType type) {
  switch (type) {
    case DataType::kUInt8:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kFloat32:
    case DataType::kBool: return true;
    default: return false;
  }
}

Status ExpectSameElements(const OpContext& c, const Tensor& in, const Tensor& out) {
  if (!IsCopyableType(in.type)) {
    return c.Unsupported(
        fmt::format("{} tensors (it takes uint8, int8, int16, int32, int64, float32 and bool)",
                    DataTypeName(in.type)));
  }
  if (in.type != out.type)
    return c.Invalid(
        fmt::format("output {} must have input {}'s type", Describe(out), Describe(in)));
  if (IsQuantized8(in.type) && (in.scale() != out.scale() || in.zero_point() != out.zero_point())) {
    return c.Invalid(fmt::format(
        "output quantization (scale {}, zero point {}) must equal the input's (scale {}, zero "
        "point {}): values are copied, not requantized",
        out.scale(), out.zero_point(), in.scale(), in.zero_point()));
  }
  return OkStatus();
}

Result<int64_t> DimProduct(const OpContext& c, const std::vector<int64_t>& dims, int begin, int end,
                           const char* what) {
  return CheckedProduct(c, std::span<const int64_t>(dims).subspan(begin, end - begin), what);
}

Status ExpectShape(const OpContext& c, const Tensor& out, const std::vector<int64_t>& expected) {
  if (Dims(out) == expected) return OkStatus();
  return c.Invalid(
      fmt::format("output {} should have shape [{}]", Describe(out), fmt::join(expected, ", ")));
}

std::vector<int64_t> Dims(const Tensor& t) { return {t.shape.begin(), t.shape.end()}; }

}  // namespace tpufleet::cpu
