#include "server/deepstack.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/image.h"
#include "fleet/results.h"

namespace tpufleet::server {
namespace {

using nlohmann::json;

constexpr int kMaxPredictions = 100;

struct ImageSize {
  int width = 0, height = 0;
};

int ToPixel(float relative, int size) {
  return static_cast<int>(std::lround(std::clamp(relative, 0.0f, 1.0f) * size));
}

}  // namespace

Reply DeepStackError(const Status& status) { return ErrorReply(status, {{"success", false}}); }

Result<DetectionForm> ParseDetectionForm(const std::map<std::string, std::string>& fields) {
  DetectionForm form;
  auto image = fields.find("image");
  if (image == fields.end() || image->second.empty()) {
    return InvalidArgumentError(
        "the form has no image: send multipart/form-data with the file field 'image' (BMP, JPEG "
        "or PNG)");
  }
  form.image = image->second;
  if (auto it = fields.find("min_confidence"); it != fields.end()) {
    const std::string& text = it->second;
    float value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !(value >= 0 && value <= 1)) {
      return InvalidArgumentError(fmt::format(
          "min_confidence is '{}'; it must be a number from 0 to 1", text.substr(0, 64)));
    }
    form.min_confidence = value;
  }
  if (auto it = fields.find("api_key"); it != fields.end()) form.api_key = it->second;
  return form;
}

std::shared_ptr<const ServedModel> DetectionModel(const ModelSet& models, const std::string& name) {
  if (!name.empty()) return models.Find(name);
  for (const std::shared_ptr<const ServedModel>& served : models.Loaded()) {
    if (IsDetector(*served->model)) return served;
  }
  return nullptr;
}

Reply Detect(Service& service, const ServedModel& served, const DetectionForm& form,
             Clock::time_point arrival) {
  const Model& model = *served.model;
  if (!IsDetector(model)) {
    return DeepStackError(InvalidArgumentError(fmt::format(
        "model '{}' is not a detector (its outputs are neither TFLite_Detection_PostProcess's "
        "nor one YOLO output)",
        served.entry.name)));
  }
  // The preparation runs on the fleet's threads; the size it found is read once it answered.
  auto size = std::make_shared<ImageSize>();
  auto image = std::make_shared<std::string>(form.image);
  Preparation prepare = [size, image](const Model& m) -> Result<TensorList> {
    const TensorInfo& input = m.input(0);
    int channels = input.shape.size() == 4 && input.shape[3] == 1 ? 1 : 3;
    TPUFLEET_ASSIGN_OR_RETURN(
        Image decoded, DecodeImage({reinterpret_cast<const uint8_t*>(image->data()), image->size()},
                                   channels, "image", kMaxImagePixels));
    size->width = decoded.width;
    size->height = decoded.height;
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> tensor, ImageTensor(decoded, input));
    return TensorList{std::move(tensor)};
  };
  Result<InferenceResult> result = service.Run(
      served,
      [&](Fleet& fleet, int id, std::optional<Clock::time_point> deadline) {
        return fleet.Submit(id, prepare, deadline);
      },
      std::nullopt, 0, arrival);
  if (!result.ok()) return DeepStackError(result.status());
  json predictions = json::array();
  for (const Detection& d :
       Detections(model, result->outputs, kMaxPredictions, form.min_confidence)) {
    predictions.push_back({{"label", served.labels.Name(d.id)},
                           {"confidence", d.score},
                           {"y_min", ToPixel(d.box[0], size->height)},
                           {"x_min", ToPixel(d.box[1], size->width)},
                           {"y_max", ToPixel(d.box[2], size->height)},
                           {"x_max", ToPixel(d.box[3], size->width)}});
  }
  double process_ms = std::chrono::duration<double, std::milli>(Clock::now() - arrival).count();
  size_t count = predictions.size();
  Reply reply =
      JsonReply({{"success", true},
                 {"message", fmt::format("found {} object{}", count, count == 1 ? "" : "s")},
                 {"predictions", std::move(predictions)},
                 {"count", count},
                 {"inferenceMs", result->device_seconds * 1e3},
                 {"processMs", process_ms}});
  reply.model = served.entry.name;
  return reply;
}

}  // namespace tpufleet::server
