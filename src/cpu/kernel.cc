#include "cpu/kernel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

namespace tpufleet::cpu {

std::string Describe(const Tensor& t) {
  return fmt::format("{} [{}]", DataTypeName(t.type), fmt::join(t.shape, ", "));
}

Status OpContext::Unsupported(const std::string& what) const {
  return UnimplementedError(
      fmt::format("operator #{} ({}): the CPU backend does not support {}", index, name, what));
}

Status OpContext::Invalid(const std::string& what) const {
  return InvalidArgumentError(fmt::format("operator #{} ({}): {}", index, name, what));
}

Status OpContext::ExpectCounts(size_t inputs_min, size_t inputs_max, size_t output_count) const {
  if (inputs.size() < inputs_min || inputs.size() > inputs_max || outputs.size() != output_count) {
    return Invalid(fmt::format("has {} inputs and {} outputs; expected {}{} inputs and {} outputs",
                               inputs.size(), outputs.size(), inputs_min,
                               inputs_max == inputs_min ? "" : fmt::format("-{}", inputs_max),
                               output_count));
  }
  for (size_t i = 0; i < inputs_min; ++i) {
    if (inputs[i] == nullptr) return Invalid(fmt::format("required input {} is omitted", i));
  }
  return OkStatus();
}

Status OpContext::ExpectPositiveScale(const Tensor& t) const {
  if (t.scale() > 0 && std::isfinite(t.scale())) return OkStatus();
  return Invalid(fmt::format("{} has scale {}; it must be positive", Describe(t), t.scale()));
}

}  // namespace tpufleet::cpu
