// The DeepStack / CodeProject.AI detection API: POST /v1/vision/detection (the daemon's
// detection model) and /v1/vision/custom/{model}, a multipart form with the file `image`
// (BMP, JPEG or PNG) and optional `min_confidence` (0 to 1, default 0.4) and `api_key`,
// answered as
//   {"success": true, "message": "...", "predictions": [{"label", "confidence", "x_min",
//    "y_min", "x_max", "y_max"}], "count": N, "inferenceMs": device ms, "processMs": total ms}
// with boxes in pixels of the image sent. The image is decoded and resized on the fleet's
// preparation threads. Errors are {"success": false, "error": "..."} with reply.h's statuses.
//
// Thread-safety: stateless functions; Detect may run on any thread.
#pragma once

#include <map>
#include <string>

#include "server/service.h"

namespace tpufleet::server {

struct DetectionForm {
  std::string image;  // the file's bytes
  float min_confidence = 0.4f;
  std::string api_key;  // empty: none given
};

// The form from its fields (name -> value; the image's value is the file's bytes).
// INVALID_ARGUMENT without an image or with a min_confidence that is not a number from 0 to 1.
Result<DetectionForm> ParseDetectionForm(const std::map<std::string, std::string>& fields);

// Pixels of an uploaded image the daemon decodes at most (larger ones are refused, 400).
inline constexpr uint64_t kMaxImagePixels = 50'000'000;

// Detects objects in `form.image` with `served`, which must be a detector (IsDetector; else
// 400).
Reply Detect(Service& service, const ServedModel& served, const DetectionForm& form,
             Clock::time_point arrival);

// The detector /v1/vision/detection uses: `name` when given, else the first loaded detector
// by name. Null when there is none.
std::shared_ptr<const ServedModel> DetectionModel(const ModelSet& models, const std::string& name);

// `status` as DeepStack's error object.
Reply DeepStackError(const Status& status);

}  // namespace tpufleet::server
