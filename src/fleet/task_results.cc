// tpufleet/task.h: tasks inferred from a model's outputs, and outputs read as a task's results,
// over the output readers of fleet/results.h.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>

#include "cpu/kernels/body_tree.h"
#include "fleet/results.h"
#include "fleet/yolo_outputs.h"
#include "tpufleet/task.h"

namespace tpufleet {
namespace {

constexpr std::array<Task, 5> kTasks = {Task::kClassification, Task::kDetection,
                                        Task::kSegmentation, Task::kPose, Task::kEmbedding};
constexpr int kTaskKeypoints = cpu::kBodyKeypoints;
constexpr int kMoveNetPoses = 6;         // MoveNet multi-pose: rows of
constexpr int kMoveNetRow = 17 * 3 + 5;  // 17 (y, x, score), then ymin, xmin, ymax, xmax, score

std::string AcceptedTasks() {
  std::vector<std::string> names;
  for (Task t : kTasks) names.push_back(TaskName(t));
  return fmt::format("{}", fmt::join(names, ", "));
}

// "uint8 [1, 1001] 'Softmax'", for messages.
std::string DescribeTaskOutput(const TensorInfo& t) {
  return fmt::format("{} [{}] '{}'", DataTypeName(t.type), fmt::join(t.shape, ", "), t.name);
}

std::string DescribeTaskOutputs(const Model& model) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < model.output_indices().size(); ++i) {
    parts.push_back(DescribeTaskOutput(model.output(i)));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// The operator that computes tensor `tensor`, or null for a graph input or constant.
const OperatorInfo* ProducerOfTensor(const Model& model, int tensor) {
  for (const OperatorInfo& op : model.operators()) {
    if (std::find(op.outputs.begin(), op.outputs.end(), tensor) != op.outputs.end()) return &op;
  }
  return nullptr;
}

// The operator computing `tensor` once type conversions and reshapes are looked through.
const OperatorInfo* ProducerThroughConversions(const Model& model, int tensor) {
  const OperatorInfo* op = ProducerOfTensor(model, tensor);
  for (int hops = 0; op && hops < 16; ++hops) {
    if (op->name != "DEQUANTIZE" && op->name != "QUANTIZE" && op->name != "RESHAPE" &&
        op->name != "SQUEEZE")
      break;
    if (op->inputs.empty() || op->inputs[0] < 0) break;
    op = ProducerOfTensor(model, op->inputs[0]);
  }
  return op;
}

const OperatorInfo* PosenetDecoder(const Model& model) {
  for (const OperatorInfo& op : model.operators()) {
    if (op.name == "PosenetDecoderOp") return &op;
  }
  return nullptr;
}

// Dimensions above 1.
int DimensionsAboveOne(const std::vector<int32_t>& shape) {
  return static_cast<int>(
      std::count_if(shape.begin(), shape.end(), [](int32_t d) { return d > 1; }));
}

bool IsScoreVector(const TensorInfo& t) { return DimensionsAboveOne(t.shape) == 1; }

bool IsClassMap(const TensorInfo& t) {
  return (t.shape.size() == 3 || t.shape.size() == 4) && t.shape[0] == 1 && t.shape[1] > 1 &&
         t.shape[2] > 1;
}

bool IsMoveNetSingle(const TensorInfo& t) {
  return t.shape == std::vector<int32_t>{1, 1, kTaskKeypoints, 3};
}
bool IsMoveNetMulti(const TensorInfo& t) {
  return t.shape == std::vector<int32_t>{1, kMoveNetPoses, kMoveNetRow};
}

// The pixels of the image the model saw: the options', else the input's [1, H, W, C] size, else
// 1 x 1 (positions stay relative).
std::pair<int, int> TaskImageSize(const Model& model, const TaskOptions& options) {
  if (options.image_width > 0 && options.image_height > 0) {
    return {options.image_width, options.image_height};
  }
  if (!model.input_indices().empty()) {
    const std::vector<int32_t>& shape = model.input(0).shape;
    if (shape.size() == 4 && shape[1] > 0 && shape[2] > 0) return {shape[2], shape[1]};
  }
  return {1, 1};
}

Status NotTheTaskError(const Model& model, Task task, const std::string& needs) {
  return InvalidArgumentError(fmt::format("{}: {} needs {}; the model's outputs are {}",
                                          model.name(), TaskName(task), needs,
                                          DescribeTaskOutputs(model)));
}

// The real values of output `i`, which must hold at least `count` of them.
Status ExpectOutputValues(const Model& model, const TensorList& outputs, size_t i, size_t count,
                          const char* what) {
  const size_t held = OutputView(model, outputs, i).element_count();
  if (held < count) {
    return InvalidArgumentError(fmt::format("{}: output {} ({}) holds {} values; {} need {}",
                                            model.name(), i, what, held, what, count));
  }
  return OkStatus();
}

// The real values of output `i`, which must hold at least `count` of them.
Result<std::vector<float>> OutputValuesAtLeast(const Model& model, const TensorList& outputs,
                                               size_t i, size_t count, const char* what) {
  TPUFLEET_RETURN_IF_ERROR(ExpectOutputValues(model, outputs, i, count, what));
  return RealValues(model, outputs, i);
}

Result<TaskResult> ClassificationTask(const Model& model, const TensorList& outputs,
                                      const TaskOptions& options, TaskResult result) {
  const TensorInfo& out = model.output(0);
  if (!IsScoreVector(out) || out.type == DataType::kBool) {
    return NotTheTaskError(model, Task::kClassification,
                           "output 0 to hold one score per class ([1, N], N > 1)");
  }
  for (const Classification& c : TopClasses(model, outputs, options.top_k)) {
    result.classes.push_back({c.id, c.score});
  }
  return result;
}

Result<TaskResult> DetectionTask(const Model& model, const TensorList& outputs,
                                 const TaskOptions& options, TaskResult result) {
  const std::optional<DetectionOutputs> layout = DetectionLayout(model);
  if (!layout) {
    return NotTheTaskError(
        model, Task::kDetection,
        "four outputs: boxes, classes, scores and count (TFLite_Detection_PostProcess), or one "
        "YOLO output ([1, 4 + classes, anchors] or [1, anchors, 5 + classes])");
  }
  if (layout->layout != DetectorLayout::kPostProcessed) {
    TPUFLEET_RETURN_IF_ERROR(
        ExpectOutputValues(model, outputs, 0, YoloOutputValues(model), "YOLO boxes and scores"));
  }
  const float w = static_cast<float>(result.image_width),
              h = static_cast<float>(result.image_height);
  for (const Detection& d : Detections(model, outputs, options.top_k, options.score_threshold)) {
    result.objects.push_back(
        {d.id, d.score, {d.box[1] * w, d.box[0] * h, d.box[3] * w, d.box[2] * h}});
  }
  return result;
}

Result<TaskResult> SegmentationTask(const Model& model, const TensorList& outputs,
                                    TaskResult result) {
  const TensorInfo& out = model.output(0);
  if (!IsClassMap(out)) {
    return NotTheTaskError(
        model, Task::kSegmentation,
        "output 0 to be a map of classes [1, H, W] or of class scores [1, H, W, C]");
  }
  const int height = out.shape[1], width = out.shape[2];
  const int channels = out.shape.size() == 4 ? out.shape[3] : 1;
  const size_t pixels = static_cast<size_t>(width) * height;
  TPUFLEET_ASSIGN_OR_RETURN(
      std::vector<float> values,
      OutputValuesAtLeast(model, outputs, 0, pixels * channels, "the map's pixels"));
  SegmentationMap& map = result.segmentation;
  map.width = width;
  map.height = height;
  map.classes.resize(pixels);
  std::map<int32_t, uint64_t> counts;
  for (size_t p = 0; p < pixels; ++p) {
    const float* scores = values.data() + p * channels;
    int32_t id = channels == 1
                     ? (std::isnan(scores[0])
                            ? 0
                            : static_cast<int32_t>(std::lround(std::clamp(scores[0], -1e9f, 1e9f))))
                     : static_cast<int32_t>(std::max_element(scores, scores + channels) - scores);
    map.classes[p] = id;
    ++counts[id];
  }
  for (const auto& [id, n] : counts) {
    result.areas.push_back({id, n, static_cast<double>(n) / static_cast<double>(pixels)});
  }
  std::stable_sort(result.areas.begin(), result.areas.end(),
                   [](const ClassArea& a, const ClassArea& b) { return a.pixels > b.pixels; });
  return result;
}

// PoseNet and BodyPix through PosenetDecoderOp: keypoints (y, x) in input pixels.
Result<std::vector<Pose>> DecodedPoses(const Model& model, const TensorList& outputs,
                                       const OperatorInfo& decoder, float sx, float sy) {
  std::array<size_t, 4> at{};
  const std::vector<int>& graph_outputs = model.output_indices();
  for (size_t k = 0; k < 4; ++k) {
    auto it = std::find(graph_outputs.begin(), graph_outputs.end(), decoder.outputs[k]);
    if (it == graph_outputs.end()) {
      return InvalidArgumentError(fmt::format(
          "{}: PosenetDecoderOp's output {} is not an output of the model", model.name(), k));
    }
    at[k] = static_cast<size_t>(it - graph_outputs.begin());
  }
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<float> count,
                            OutputValuesAtLeast(model, outputs, at[3], 1, "the pose count"));
  const size_t poses = static_cast<size_t>(std::clamp(count[0], 0.0f, 10000.0f));
  TPUFLEET_ASSIGN_OR_RETURN(
      std::vector<float> positions,
      OutputValuesAtLeast(model, outputs, at[0], poses * kTaskKeypoints * 2, "the keypoints"));
  TPUFLEET_ASSIGN_OR_RETURN(
      std::vector<float> scores,
      OutputValuesAtLeast(model, outputs, at[1], poses * kTaskKeypoints, "the keypoint scores"));
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<float> pose_scores,
                            OutputValuesAtLeast(model, outputs, at[2], poses, "the pose scores"));
  std::vector<Pose> found(poses);
  for (size_t p = 0; p < poses; ++p) {
    found[p].score = pose_scores[p];
    for (int k = 0; k < kTaskKeypoints; ++k) {
      const size_t slot = p * kTaskKeypoints + k;
      found[p].keypoints.push_back(
          {k, positions[slot * 2 + 1] * sx, positions[slot * 2] * sy, scores[slot]});
    }
  }
  return found;
}

// MoveNet: rows of 17 (y, x, score), normalized, then for multi-pose a box and a score.
std::vector<Pose> MoveNetPoses(const std::vector<float>& values, bool multi, float w, float h) {
  const size_t rows = multi ? kMoveNetPoses : 1, stride = multi ? kMoveNetRow : kTaskKeypoints * 3;
  std::vector<Pose> found;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = values.data() + r * stride;
    Pose pose;
    float total = 0;
    for (int k = 0; k < kTaskKeypoints; ++k) {
      const float* keypoint = row + static_cast<size_t>(k) * 3;  // y, x, score
      pose.keypoints.push_back({k, keypoint[1] * w, keypoint[0] * h, keypoint[2]});
      total += keypoint[2];
    }
    pose.score = total / kTaskKeypoints;
    if (multi) {
      const float* box = row + static_cast<size_t>(kTaskKeypoints) * 3;
      pose.box = BoundingBox{box[1] * w, box[0] * h, box[3] * w, box[2] * h};
      pose.score = box[4];
    }
    found.push_back(std::move(pose));
  }
  return found;
}

Result<TaskResult> PoseTask(const Model& model, const TensorList& outputs,
                            const TaskOptions& options, TaskResult result) {
  const float w = static_cast<float>(result.image_width),
              h = static_cast<float>(result.image_height);
  std::vector<Pose> poses;
  if (const OperatorInfo* decoder = PosenetDecoder(model);
      decoder && decoder->outputs.size() >= 4) {
    // Input pixels to image pixels.
    const auto [input_w, input_h] = TaskImageSize(model, {});
    TPUFLEET_ASSIGN_OR_RETURN(poses,
                              DecodedPoses(model, outputs, *decoder, w / input_w, h / input_h));
  } else if (IsMoveNetSingle(model.output(0)) || IsMoveNetMulti(model.output(0))) {
    const bool multi = IsMoveNetMulti(model.output(0));
    const size_t needed = multi ? kMoveNetPoses * kMoveNetRow : kTaskKeypoints * 3;
    TPUFLEET_ASSIGN_OR_RETURN(
        std::vector<float> values,
        OutputValuesAtLeast(model, outputs, 0, needed, "MoveNet's keypoints"));
    poses = MoveNetPoses(values, multi, w, h);
  } else {
    return NotTheTaskError(model, Task::kPose,
                           "PosenetDecoderOp's outputs or MoveNet's [1, 1, 17, 3] or [1, 6, 56]");
  }
  for (Pose& pose : poses) {  // a NaN would not sort
    if (std::isnan(pose.score)) pose.score = -std::numeric_limits<float>::infinity();
  }
  std::stable_sort(poses.begin(), poses.end(),
                   [](const Pose& a, const Pose& b) { return a.score > b.score; });
  for (Pose& pose : poses) {
    if (pose.score < options.score_threshold ||
        static_cast<int>(result.poses.size()) >= options.top_k)
      break;
    result.poses.push_back(std::move(pose));
  }
  return result;
}

Result<TaskResult> EmbeddingTask(const Model& model, const TensorList& outputs, TaskResult result) {
  const TensorInfo& out = model.output(0);
  if (!IsScoreVector(out)) {
    return NotTheTaskError(model, Task::kEmbedding, "output 0 to be a vector ([1, N], N > 1)");
  }
  result.embedding.values = RealValues(model, outputs, 0);
  double squares = 0;
  for (float v : result.embedding.values) squares += static_cast<double>(v) * v;
  result.embedding.norm = static_cast<float>(std::sqrt(squares));
  return result;
}

}  // namespace

std::string TaskName(Task task) {
  switch (task) {
    case Task::kClassification: return "classification";
    case Task::kDetection: return "detection";
    case Task::kSegmentation: return "segmentation";
    case Task::kPose: return "pose";
    case Task::kEmbedding: return "embedding";
  }
  return "task(" + std::to_string(static_cast<int>(task)) + ")";
}

Result<Task> ParseTask(const std::string& name) {
  for (Task t : kTasks) {
    if (TaskName(t) == name) return t;
  }
  return InvalidArgumentError(
      fmt::format("unknown task '{}': the tasks are {}", name, AcceptedTasks()));
}

Result<Task> InferTask(const Model& model) {
  const size_t count = model.output_indices().size();
  if (PosenetDecoder(model) ||
      (count == 1 && (IsMoveNetSingle(model.output(0)) || IsMoveNetMulti(model.output(0))))) {
    return Task::kPose;
  }
  if (IsDetector(model)) return Task::kDetection;
  if (count == 1 && IsClassMap(model.output(0))) return Task::kSegmentation;
  if (count == 1 && IsScoreVector(model.output(0))) {
    const OperatorInfo* op = ProducerThroughConversions(model, model.output_indices()[0]);
    if (op &&
        (op->name == "L2_NORMALIZATION" || op->name == "AVERAGE_POOL_2D" || op->name == "MEAN")) {
      return Task::kEmbedding;
    }
    return Task::kClassification;
  }
  return InvalidArgumentError(
      fmt::format("{}: no task matches the outputs ({}); name one of {}", model.name(),
                  count == 0 ? std::string("none") : DescribeTaskOutputs(model), AcceptedTasks()));
}

Result<TaskResult> InterpretOutputs(const Model& model, const TensorList& outputs, Task task,
                                    const TaskOptions& options) {
  if (outputs.size() != model.output_indices().size() || outputs.empty()) {
    return InvalidArgumentError(fmt::format("{}: {} output tensors given; the model has {}",
                                            model.name(), outputs.size(),
                                            model.output_indices().size()));
  }
  TaskOptions checked = options;
  checked.top_k = std::max(0, options.top_k);
  TaskResult result;
  result.task = task;
  std::tie(result.image_width, result.image_height) = TaskImageSize(model, checked);
  switch (task) {
    case Task::kClassification:
      return ClassificationTask(model, outputs, checked, std::move(result));
    case Task::kDetection: return DetectionTask(model, outputs, checked, std::move(result));
    case Task::kSegmentation: return SegmentationTask(model, outputs, std::move(result));
    case Task::kPose: return PoseTask(model, outputs, checked, std::move(result));
    case Task::kEmbedding: return EmbeddingTask(model, outputs, std::move(result));
  }
  return InvalidArgumentError(
      fmt::format("unknown task {}: the tasks are {}", static_cast<int>(task), AcceptedTasks()));
}

std::string KeypointName(int id) {
  static constexpr std::array<const char*, kTaskKeypoints> kNames = {
      "nose",           "left_eye",   "right_eye",   "left_ear",   "right_ear",   "left_shoulder",
      "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
      "right_hip",      "left_knee",  "right_knee",  "left_ankle", "right_ankle"};
  if (id < 0 || id >= kTaskKeypoints) return fmt::format("keypoint {}", id);
  return kNames[id];
}

const std::vector<std::pair<int, int>>& SkeletonEdges() {
  static const std::vector<std::pair<int, int>> edges = [] {
    std::vector<std::pair<int, int>> e;
    for (const auto& [from, to] : cpu::kBodyForwardEdges) e.emplace_back(from, to);
    return e;
  }();
  return edges;
}

}  // namespace tpufleet
