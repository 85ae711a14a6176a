// YOLO detectors as exported for TFLite and the Edge TPU: one output holding every anchor's box
// and class scores, before non-maximum suppression, which is done here.
//   YOLOv8 (and later Ultralytics models): [1, 4 + classes, anchors], boxes as centre x, centre y,
//     width, height; one anchor per cell at strides 8, 16 and 32.
//   YOLOv5: [1, anchors, 5 + classes], each row a box as above, the objectness, then the class
//     scores (an object's score is objectness times class score); three anchors per cell.
// Boxes are relative to the input (0 to 1), as both exporters write them for TFLite. Ultralytics'
// pose, segmentation and oriented-box exports have outputs of the same form with more values
// per anchor; they read as detectors with extra classes, and are not told apart.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "fleet/results.h"

namespace tpufleet {

// kYoloV8 or kYoloV5 when `model`'s outputs are one YOLO output: its shape is one of the above
// with the anchor count that the model's input size [1, H, W, C] gives. Nothing otherwise.
std::optional<DetectorLayout> YoloOutputLayout(const Model& model);

// Boxes of one class overlapping a better one by more than this intersection over union are
// suppressed.
inline constexpr float kYoloIouThreshold = 0.5f;
// The best this many candidates go into suppression, and this many objects at most come out
// (Ultralytics' max_nms and max_det), whatever the model's size and the k asked for.
inline constexpr size_t kYoloMaxCandidates = 30000;
inline constexpr int kYoloMaxObjects = 300;

// The values the one output holds: anchors times values per anchor.
size_t YoloOutputValues(const Model& model);

// Up to k objects (at most kYoloMaxObjects) scoring at least `threshold`, best first, after
// per-class non-maximum suppression. `layout` is YoloOutputLayout(model); `outputs` holds the
// model's one output, and none is found in one with fewer values than YoloOutputValues. Anchors
// without a finite score, or whose box is not finite with positive width and height, are left
// out.
std::vector<Detection> YoloDetections(const Model& model, const TensorList& outputs,
                                      DetectorLayout layout, int k, float threshold);

}  // namespace tpufleet
