#include "cli/outputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "cpu/quantization.h"
#include "cpu/tensor.h"

namespace tpufleet::cli {
namespace {

// The CPU backend's view of output `i`'s bytes, for dequantizing them. Outputs whose shape the
// file leaves open (detection post-processing) are seen flat, as many elements as arrived.
cpu::Tensor View(const Model& model, const TensorList& outputs, size_t i) {
  const TensorInfo& info = model.output(i);
  cpu::Tensor t;
  t.name = info.name;
  t.type = info.type;
  t.shape = info.shape;
  size_t element_size = std::max<size_t>(1, DataTypeSize(info.type));
  if (t.byte_size() != outputs[i].size()) {
    t.shape = {static_cast<int32_t>(outputs[i].size() / element_size)};
  }
  t.quantization = info.quantization;
  t.data = const_cast<uint8_t*>(outputs[i].data());  // read only
  return t;
}

std::vector<float> RealValues(const Model& model, const TensorList& outputs, size_t i) {
  cpu::Tensor t = View(model, outputs, i);
  std::vector<float> values(t.element_count());
  for (size_t e = 0; e < values.size(); ++e) values[e] = cpu::RealValueAt(t, e);
  return values;
}

}  // namespace

bool IsDetector(const Model& model) {
  const std::vector<OperatorInfo>& ops = model.operators();
  return model.output_indices().size() == 4 &&
         std::any_of(ops.begin(), ops.end(), [](const OperatorInfo& op) {
           return op.name == "TFLite_Detection_PostProcess";
         });
}

std::vector<Classification> TopClasses(const Model& model, const TensorList& outputs, int k) {
  std::vector<float> scores = RealValues(model, outputs, 0);
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min<int>(k, static_cast<int>(order.size()));
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return scores[a] > scores[b]; });
  std::vector<Classification> top;
  for (int i = 0; i < k; ++i) top.push_back({order[i], scores[order[i]]});
  return top;
}

std::vector<Detection> Detections(const Model& model, const TensorList& outputs, int k,
                                  float threshold) {
  std::vector<float> boxes = RealValues(model, outputs, 0), classes = RealValues(model, outputs, 1),
                     scores = RealValues(model, outputs, 2);
  int count = static_cast<int>(RealValues(model, outputs, 3)[0]);
  // A model's outputs may disagree in length: no more detections than each has room for.
  size_t room = std::min({scores.size(), classes.size(), boxes.size() / 4});
  count = std::clamp(count, 0, static_cast<int>(room));
  std::vector<Detection> found;
  for (size_t i = 0; i < static_cast<size_t>(count) && static_cast<int>(found.size()) < k; ++i) {
    if (scores[i] < threshold) break;
    found.push_back({static_cast<int>(classes[i]),
                     scores[i],
                     {boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]}});
  }
  return found;
}

nlohmann::json RawOutputs(const Model& model, const TensorList& outputs) {
  nlohmann::json all = nlohmann::json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    cpu::Tensor t = View(model, outputs, i);
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
