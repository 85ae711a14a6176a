// What a model's raw output tensors mean: the top classes of a classifier, or the boxes of a
// detector: an SSD-style one (TFLite_Detection_PostProcess's four outputs, in whatever order the
// model lists them) or a YOLO one (fleet/yolo_outputs.h). The task-level results built on these
// are tpufleet/task.h's.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "cpu/tensor.h"
#include "tpufleet/fleet.h"
#include "tpufleet/model.h"

namespace tpufleet {

struct Classification {
  int id = 0;
  float score = 0;
};

struct Detection {
  int id = 0;
  float score = 0;
  std::array<float, 4> box{};  // ymin, xmin, ymax, xmax, relative to the image
};

enum class DetectorLayout {
  kPostProcessed,  // boxes, classes, scores and a count, after non-maximum suppression
  kYoloV8,         // one output before it (fleet/yolo_outputs.h)
  kYoloV5,
};

// How a detector lays out its outputs; for kPostProcessed, which output holds what (indices
// into the model's outputs).
struct DetectionOutputs {
  DetectorLayout layout = DetectorLayout::kPostProcessed;
  size_t boxes = 0, classes = 1, scores = 2, count = 3;
};
// The detector layout of `model`'s outputs, or nothing when it has none. With one output: a
// YOLO layout when the shape is one (YoloOutputLayout). With four outputs:
// those of a TFLite_Detection_PostProcess operator, matched to it (boxes, classes, scores,
// count), so TF1 SSDs, TF2 SSDs and EfficientDet-Lite read alike; else PyCoral's rule for
// models without it: output 3 with one element means boxes, classes, scores, count (TF1),
// otherwise scores, boxes, count, classes (TF2), when the shapes agree ([1, N, 4] boxes).
std::optional<DetectionOutputs> DetectionLayout(const Model& model);
// DetectionLayout has one.
bool IsDetector(const Model& model);
// The k best classes of output 0, best first. `outputs` holds the model's outputs, in order.
std::vector<Classification> TopClasses(const Model& model, const TensorList& outputs, int k);
// Up to k detections scoring at least `threshold`, best first (the post-processing's order, or
// for YOLO after YoloDetections' suppression). `model` must be a detector (IsDetector); outputs
// shorter than the detection count claims are read as far as they go, a truncated YOLO output
// gives none (DetectionTask refuses it).
std::vector<Detection> Detections(const Model& model, const TensorList& outputs, int k,
                                  float threshold);
// The CPU backend's view of output `i`'s bytes (not a copy: valid while `outputs` is). Outputs
// whose shape the file leaves open (detection post-processing) are seen flat, as many elements
// as arrived.
cpu::Tensor OutputView(const Model& model, const TensorList& outputs, size_t i);
// The real values of output `i` (dequantized when quantized), as many as its bytes hold.
std::vector<float> RealValues(const Model& model, const TensorList& outputs, size_t i);

}  // namespace tpufleet
