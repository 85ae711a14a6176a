#include "cpu/quantization.h"

#include <limits>

namespace tpufleet::cpu {

ClampRange ActivationRange(tfl::ActivationFunctionType activation, const Tensor& output) {
  int32_t qmin = QMin(output.type), qmax = QMax(output.type);
  float scale = output.scale();
  int32_t zp = output.zero_point();
  auto q = [&](float real) { return std::clamp(Round(real / scale) + zp, qmin, qmax); };
  switch (activation) {
    case tfl::ActivationFunctionType::RELU: return {q(0.0f), qmax};
    case tfl::ActivationFunctionType::RELU6: return {q(0.0f), q(6.0f)};
    case tfl::ActivationFunctionType::RELU_N1_TO_1: return {q(-1.0f), q(1.0f)};
    default: return {qmin, qmax};
  }
}

std::pair<float, float> ActivationRangeFloat(tfl::ActivationFunctionType activation) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  switch (activation) {
    case tfl::ActivationFunctionType::RELU: return {0.0f, kInf};
    case tfl::ActivationFunctionType::RELU6: return {0.0f, 6.0f};
    case tfl::ActivationFunctionType::RELU_N1_TO_1: return {-1.0f, 1.0f};
    default: return {-kInf, kInf};
  }
}

LookupTable MakeLookupTable(const Tensor& input, const Tensor& output,
                            const std::function<float(float)>& f) {
  int32_t out_min = QMin(output.type), out_max = QMax(output.type);
  return MakeRawLookupTable(input.type, output.type, [&](int32_t q) {
    float real = input.scale() * static_cast<float>(q - input.zero_point());
    return QuantizeValue(f(real), output.scale(), output.zero_point(), out_min, out_max);
  });
}

LookupTable MakeRawLookupTable(DataType input, DataType output,
                               const std::function<int32_t(int32_t)>& f) {
  LookupTable table{};
  int32_t out_min = QMin(output), out_max = QMax(output);
  for (int byte = 0; byte < 256; ++byte) {
    int32_t q = input == DataType::kInt8 ? static_cast<int8_t>(byte) : byte;
    table[byte] = static_cast<uint8_t>(std::clamp(f(q), out_min, out_max));
  }
  return table;
}

void ApplyLookupTable(const LookupTable& table, const Tensor& input, Tensor& output) {
  const uint8_t* in = input.data;
  uint8_t* out = output.data;
  const size_t n = input.element_count();
  for (size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace tpufleet::cpu
