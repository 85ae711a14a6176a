// Checked shape arithmetic for kernels. A model's operator options and shapes are untrusted:
// every product, sum or window a kernel computes from them goes through these helpers, which
// work in 64 bits and report overflow instead of wrapping (or invoking undefined behaviour).
//
// Use in a kernel's Prepare:
//   TPUFLEET_ASSIGN_OR_RETURN(int64_t n, CheckedProduct(c, {rows, cols}, "the output"));
//   TPUFLEET_RETURN_IF_ERROR(CheckDimension(c, n, "the output height"));
// Errors are INVALID_ARGUMENT statuses naming the operator (through OpContext::Invalid).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>

#include "cpu/kernel.h"

namespace tpufleet::cpu {

// The largest element count of one tensor the CPU backend accepts (as the verifier does).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 40;

// a * b, a + b and a - b, or false on signed 64-bit overflow.
inline bool MultiplyChecked(int64_t a, int64_t b, int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}
inline bool AddChecked(int64_t a, int64_t b, int64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}

// The product of non-negative values, refused when one is negative or the product exceeds
// kMaxTensorElements; `what` names the quantity in the message.
inline Result<int64_t> CheckedProduct(const OpContext& c, std::span<const int64_t> values,
                                      const char* what) {
  int64_t product = 1;
  for (int64_t v : values) {
    if (v < 0) return c.Invalid(fmt::format("{} has a negative size ({})", what, v));
    if (!MultiplyChecked(product, v, product) || product > kMaxTensorElements) {
      return c.Invalid(fmt::format("{} needs more than {} elements", what, kMaxTensorElements));
    }
  }
  return product;
}
inline Result<int64_t> CheckedProduct(const OpContext& c, std::initializer_list<int64_t> values,
                                      const char* what) {
  return CheckedProduct(c, std::span<const int64_t>(values.begin(), values.size()), what);
}

// A size that must fit a tensor dimension (0 to INT32_MAX).
inline Status CheckDimension(const OpContext& c, int64_t value, const char* what) {
  if (value < 0 || value > std::numeric_limits<int32_t>::max()) {
    return c.Invalid(fmt::format("{} is {}; it must be 0 to {}", what, value,
                                 std::numeric_limits<int32_t>::max()));
  }
  return OkStatus();
}

// Elements of a shape, or an error when a dimension is negative or the count too large.
// Shapes the model declares were verified on load; kernels that set shapes call this.
inline Result<int64_t> ShapeElements(std::span<const int32_t> shape) {
  int64_t n = 1;
  for (int32_t d : shape) {
    if (d < 0) return InvalidArgumentError(fmt::format("dimension {} is negative", d));
    if (!MultiplyChecked(n, d, n) || n > kMaxTensorElements) {
      return InvalidArgumentError(fmt::format("more than {} elements", kMaxTensorElements));
    }
  }
  return n;
}

}  // namespace tpufleet::cpu
