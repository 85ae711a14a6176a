#include "cli/outputs.h"

#include "fleet/results.h"

namespace tpufleet::cli {

nlohmann::json RawOutputs(const Model& model, const TensorList& outputs) {
  nlohmann::json all = nlohmann::json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    cpu::Tensor t = OutputView(model, outputs, i);
    nlohmann::json raw = nlohmann::json::array();
    for (size_t e = 0; e < t.element_count(); ++e) {
      switch (t.type) {
        case DataType::kUInt8: raw.push_back(t.as<uint8_t>()[e]); break;
        case DataType::kInt8: raw.push_back(t.as<int8_t>()[e]); break;
        case DataType::kInt32: raw.push_back(t.as<int32_t>()[e]); break;
        case DataType::kInt64: raw.push_back(t.as<int64_t>()[e]); break;
        default: raw.push_back(t.as<float>()[e]); break;
      }
    }
    nlohmann::json quantization = t.quantization.empty()
                                      ? nlohmann::json(nullptr)
                                      : nlohmann::json{{"scales", t.quantization.scales},
                                                       {"zero_points", t.quantization.zero_points}};
    all.push_back({{"name", t.name},
                   {"type", DataTypeName(t.type)},
                   {"shape", t.shape},
                   {"quantization", quantization},
                   {"raw", raw}});
  }
  return all;
}

}  // namespace tpufleet::cli
