// What a model's outputs mean, by task: the classes of a classifier, the objects of a detector,
// the per-pixel classes of a segmenter, the keypoints of a pose model, the vector of an
// embedding extractor. The task is inferred from the model's outputs (InferTask) or named
// (ParseTask); InterpretOutputs reads the raw outputs of one inference (InferenceResult::outputs,
// or an Interpreter's output bytes in order) as that task's result, positions in the pixels of
// the original image.
//
// Thread-safety: every function here is a pure function of its arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tpufleet/fleet.h"
#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

enum class Task { kClassification, kDetection, kSegmentation, kPose, kEmbedding };

// "classification", "detection", "segmentation", "pose" or "embedding".
std::string TaskName(Task task);
// The task TaskName calls `name`; INVALID_ARGUMENT naming the accepted values otherwise.
Result<Task> ParseTask(const std::string& name);

// The task `model`'s outputs show, first rule that holds:
//   - pose: a PosenetDecoderOp's outputs (PoseNet, BodyPix), or MoveNet's [1, 1, 17, 3]
//     (single pose) or [1, 6, 56] (multi-pose) output;
//   - detection: four outputs of TFLite_Detection_PostProcess (TF1 and TF2 SSDs,
//     EfficientDet-Lite), or without it four outputs laid out as PyCoral's detect adapter reads
//     them; or one YOLO output before non-maximum suppression, YOLOv8's [1, 4 + classes, N] or
//     YOLOv5's [1, N, 5 + classes] with N the anchors of the input size (fleet/yolo_outputs.h);
//   - segmentation: one output that is a map, [1, H, W] of classes or [1, H, W, C] of class
//     scores, H and W above 1;
//   - embedding: one output of N > 1 values ([1, N], [1, 1, 1, N]) computed by
//     L2_NORMALIZATION, AVERAGE_POOL_2D or MEAN (through DEQUANTIZE, QUANTIZE, RESHAPE or
//     SQUEEZE);
//   - classification: one output of N > 1 values otherwise.
// INVALID_ARGUMENT when none holds (the message describes the outputs and names the tasks).
Result<Task> InferTask(const Model& model);

struct TaskOptions {
  int top_k = 5;  // classes, objects or poses at most
  // Objects and poses scoring below are left out (classes and keypoints are all kept).
  float score_threshold = 0.4f;
  // The original image's size in pixels, which the model saw resized to its input (stretched,
  // as ImageFileTensor resizes); 0: the model's input size.
  int image_width = 0, image_height = 0;
};

struct ClassScore {
  int id = 0;
  float score = 0;
};

struct BoundingBox {
  float xmin = 0, ymin = 0, xmax = 0, ymax = 0;  // image pixels, not clipped
};

struct DetectedObject {
  int id = 0;
  float score = 0;
  BoundingBox box;
};

// Per-pixel classes at the model's output resolution, row-major: classes[y * width + x].
struct SegmentationMap {
  int width = 0, height = 0;
  std::vector<int32_t> classes;
};

// How much of the map one class covers.
struct ClassArea {
  int id = 0;
  uint64_t pixels = 0;  // of the map
  double fraction = 0;  // pixels / (width * height)
};

// Keypoint ids are COCO's order, which PoseNet, BodyPix and MoveNet share (KeypointName).
struct Keypoint {
  int id = 0;
  float x = 0, y = 0;  // image pixels
  float score = 0;
};

struct Pose {
  float score = 0;
  std::vector<Keypoint> keypoints;  // all 17, in id order
  std::optional<BoundingBox> box;   // MoveNet multi-pose gives one
};

struct Embedding {
  std::vector<float> values;
  float norm = 0;  // Euclidean
};

// One inference's outputs read as `task`; only that task's fields are filled.
struct TaskResult {
  Task task = Task::kClassification;
  int image_width = 0, image_height = 0;  // the pixels positions refer to
  std::vector<ClassScore> classes;        // classification: the top_k best, best first
  std::vector<DetectedObject> objects;    // detection: best first, as the model orders them
  SegmentationMap segmentation;           // segmentation
  std::vector<ClassArea> areas;           // segmentation: every class present, largest first
  std::vector<Pose> poses;                // pose: best first
  Embedding embedding;                    // embedding
};

// Reads `outputs` (the raw bytes of every output of `model`, in order) as `task`.
// Classification takes output 0's top classes (dequantized, as PyCoral's classify adapter);
// detection scales the normalized boxes to the image (PyCoral's detect adapter, with the
// detection count bounding the rows read; YOLO's boxes after per-class non-maximum suppression);
// segmentation takes the classes, or the arg max over channels of class scores; pose maps PoseNet's
// input-pixel and MoveNet's normalized positions to the image; embedding returns output 0's values
// and their norm. Errors: INVALID_ARGUMENT when the outputs are not that task's (the message says
// what the task needs and what the model has) or do not match the model's outputs in number or
// size.
Result<TaskResult> InterpretOutputs(const Model& model, const TensorList& outputs, Task task,
                                    const TaskOptions& options = {});

// "nose", "left_eye", ... "right_ankle" for ids 0..16; "keypoint N" otherwise.
std::string KeypointName(int id);
// The 16 bones drawn between keypoints (PoseNet's forward edges), as pairs of ids.
const std::vector<std::pair<int, int>>& SkeletonEdges();

}  // namespace tpufleet
