// What the data-movement kernels share: reading the integer tensors that steer them (shapes,
// axes, sizes, indices), products of dimensions (through cpu/shape_math.h), and the element
// types they copy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu/kernel.h"

namespace tpufleet::cpu {

// A constant int32 or int64 tensor's values; refuses other types and non-constant tensors,
// naming `what` ("the multiples").
Result<std::vector<int64_t>> ConstantInts(const OpContext& c, const Tensor& t, const char* what);

// Element i of an int32 or int64 tensor (the caller has checked the type).
inline int64_t IntAt(const Tensor& t, size_t i) {
  return t.type == DataType::kInt64 ? t.as<int64_t>()[i] : t.as<int32_t>()[i];
}

// OK when `t` is int32 or int64; otherwise INVALID_ARGUMENT naming `what`.
Status ExpectIndexType(const OpContext& c, const Tensor& t, const char* what);

// True for the fixed-size types whose values the copying kernels move as they are: uint8, int8,
// int16, int32, int64, float32 and bool.
bool IsCopyableType(DataType type);

// OK when `out` has `in`'s type, a copyable one, and (for 8-bit types) its scale and zero point:
// these kernels move bytes and never requantize.
Status ExpectSameElements(const OpContext& c, const Tensor& in, const Tensor& out);

// The product of dims[begin, end), checked as CheckedProduct does (`what` names it).
Result<int64_t> DimProduct(const OpContext& c, const std::vector<int64_t>& dims, int begin, int end,
                           const char* what);

// OK when `out`'s declared shape is `expected`; otherwise INVALID_ARGUMENT with both shapes.
Status ExpectShape(const OpContext& c, const Tensor& out, const std::vector<int64_t>& expected);

// A tensor's shape widened to int64, for checked arithmetic.
std::vector<int64_t> Dims(const Tensor& t);

}  // namespace tpufleet::cpu
