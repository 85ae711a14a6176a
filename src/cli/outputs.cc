#include "cli/outputs.h"

#include <fmt/format.h>

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

std::string DescribeResults(const Model& model, const TensorList& outputs, const Labels& labels,
                            int top, float threshold, nlohmann::json& json) {
  std::string text;
  if (IsDetector(model)) {
    json["detections"] = nlohmann::json::array();
    for (const Detection& d : Detections(model, outputs, top, threshold)) {
      json["detections"].push_back(
          {{"class", d.id}, {"label", labels.Name(d.id)}, {"score", d.score}, {"box", d.box}});
      text += fmt::format(
          "{}\n  id:    {}\n  score: {:.5f}\n  box (ymin, xmin, ymax, xmax): ({:.3f}, {:.3f}, "
          "{:.3f}, {:.3f})\n",
          labels.Name(d.id), d.id, d.score, d.box[0], d.box[1], d.box[2], d.box[3]);
    }
    if (json["detections"].empty()) {
      text += fmt::format("No objects detected with score >= {}\n", threshold);
    }
    return text;
  }
  json["top"] = nlohmann::json::array();
  for (const Classification& c : TopClasses(model, outputs, top)) {
    json["top"].push_back({{"class", c.id}, {"label", labels.Name(c.id)}, {"score", c.score}});
    text += fmt::format("{}: {:.5f}  (class {})\n", labels.Name(c.id), c.score, c.id);
  }
  return text;
}

}  // namespace tpufleet::cli
