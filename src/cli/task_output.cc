#include "cli/task_output.h"

#include <fmt/format.h>

#include <filesystem>

#include "cli/task_drawing.h"
#include "common/image.h"
#include "common/png.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

std::string DescribeClasses(const TaskResult& r, const Labels& labels, json& out) {
  std::string text;
  out["top"] = json::array();
  for (const ClassScore& c : r.classes) {
    out["top"].push_back({{"class", c.id}, {"label", labels.Name(c.id)}, {"score", c.score}});
    text += fmt::format("{}: {:.5f}  (class {})\n", labels.Name(c.id), c.score, c.id);
  }
  return text;
}

json BoxJson(const BoundingBox& b) {
  return {{"xmin", b.xmin}, {"ymin", b.ymin}, {"xmax", b.xmax}, {"ymax", b.ymax}};
}

std::string DescribeObjects(const TaskResult& r, const Labels& labels, float threshold, json& out) {
  std::string text;
  out["detections"] = json::array();
  for (const DetectedObject& o : r.objects) {
    out["detections"].push_back({{"class", o.id},
                                 {"label", labels.Name(o.id)},
                                 {"score", o.score},
                                 {"box", BoxJson(o.box)}});
    text += fmt::format(
        "{}\n  id:    {}\n  score: {:.5f}\n  bbox:  xmin {:.0f}, ymin {:.0f}, xmax {:.0f}, ymax "
        "{:.0f} (pixels of the {} x {} image)\n",
        labels.Name(o.id), o.id, o.score, o.box.xmin, o.box.ymin, o.box.xmax, o.box.ymax,
        r.image_width, r.image_height);
  }
  if (r.objects.empty()) text += fmt::format("No objects detected with score >= {}\n", threshold);
  return text;
}

std::string DescribeSegments(const TaskResult& r, const Labels& labels, json& out) {
  const SegmentationMap& map = r.segmentation;
  std::string text = fmt::format("{} x {} map of classes; the image is {} x {}\n", map.width,
                                 map.height, r.image_width, r.image_height);
  text += fmt::format("{:>6}  {:<20} {:>9} {:>7}\n", "class", "label", "pixels", "share");
  json classes = json::array();
  for (const ClassArea& a : r.areas) {
    classes.push_back({{"class", a.id},
                       {"label", labels.Name(a.id)},
                       {"pixels", a.pixels},
                       {"fraction", a.fraction}});
    text += fmt::format("{:>6}  {:<20} {:>9} {:>6.1f}%\n", a.id, labels.Name(a.id), a.pixels,
                        100 * a.fraction);
  }
  out["segmentation"] = {{"width", map.width}, {"height", map.height}, {"classes", classes}};
  return text;
}

std::string DescribePoses(const TaskResult& r, float threshold, json& out) {
  std::string text;
  out["poses"] = json::array();
  for (size_t p = 0; p < r.poses.size(); ++p) {
    const Pose& pose = r.poses[p];
    json keypoints = json::array();
    text += fmt::format("pose {}: score {:.5f} (pixels of the {} x {} image)\n", p, pose.score,
                        r.image_width, r.image_height);
    text += fmt::format("  {:<16} {:>8} {:>8} {:>7}\n", "keypoint", "x", "y", "score");
    for (const Keypoint& k : pose.keypoints) {
      keypoints.push_back(
          {{"id", k.id}, {"name", KeypointName(k.id)}, {"x", k.x}, {"y", k.y}, {"score", k.score}});
      text += fmt::format("  {:<16} {:>8.1f} {:>8.1f} {:>7.3f}\n", KeypointName(k.id), k.x, k.y,
                          k.score);
    }
    json entry = {{"score", pose.score}, {"keypoints", keypoints}};
    if (pose.box) entry["box"] = BoxJson(*pose.box);
    out["poses"].push_back(entry);
  }
  if (r.poses.empty()) text += fmt::format("No poses found with score >= {}\n", threshold);
  return text;
}

std::string DescribeEmbedding(const TaskResult& r, json& out) {
  const Embedding& e = r.embedding;
  out["embedding"] = {{"dimension", e.values.size()}, {"norm", e.norm}, {"values", e.values}};
  std::string first;
  for (size_t i = 0; i < std::min<size_t>(8, e.values.size()); ++i) {
    first += fmt::format("{}{:.4f}", i ? ", " : "", e.values[i]);
  }
  return fmt::format("embedding of {} values, norm {:.5f}: [{}{}]\n", e.values.size(), e.norm,
                     first, e.values.size() > 8 ? ", ..." : "");
}

// The drawings of `result` over `image` in `dir`, named after the image and the model; their
// paths.
Result<std::vector<std::string>> WriteDrawings(const TaskResult& result, const Image& image,
                                               const Model& model, const std::string& image_path,
                                               const std::string& dir) {
  std::vector<std::pair<std::string, Image>> drawings;
  if (result.task == Task::kSegmentation) {
    drawings.emplace_back("mask", SegmentationMask(result));
    drawings.emplace_back("overlay", SegmentationOverlay(image, result));
  } else if (result.task == Task::kDetection) {
    drawings.emplace_back("detections", DrawObjectsAndPoses(image, result));
  } else if (result.task == Task::kPose) {
    drawings.emplace_back("poses", DrawObjectsAndPoses(image, result));
  }
  std::vector<std::string> paths;
  if (drawings.empty()) return paths;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return InternalError(
        fmt::format("--output {}: cannot create the folder ({})", dir, error.message()));
  }
  const std::string stem = std::filesystem::path(image_path).stem().string() + "." +
                           std::filesystem::path(model.name()).stem().string();
  for (const auto& [kind, picture] : drawings) {
    std::string path = (std::filesystem::path(dir) / (stem + "." + kind + ".png")).string();
    TPUFLEET_RETURN_IF_ERROR(WritePng(picture, path));
    paths.push_back(path);
  }
  return paths;
}

}  // namespace

Result<std::vector<std::optional<Task>>> ChooseTasks(const std::vector<ModelPtr>& models,
                                                     const std::vector<std::string>& names) {
  if (names.size() > 1 && names.size() != models.size()) {
    return InvalidArgumentError(
        fmt::format("{} --task values for {} models: give one for all, or one per model in order",
                    names.size(), models.size()));
  }
  std::vector<std::optional<Task>> tasks;
  for (size_t i = 0; i < models.size(); ++i) {
    if (names.empty()) {
      Result<Task> inferred = InferTask(*models[i]);
      tasks.push_back(inferred.ok() ? std::optional<Task>(*inferred) : std::nullopt);
      continue;
    }
    Result<Task> named = ParseTask(names[names.size() == 1 ? 0 : i]);
    if (!named.ok()) return InvalidArgumentError("--task: " + named.status().message());
    tasks.push_back(*named);
  }
  return tasks;
}

Result<std::string> DescribeTaskResult(const Model& model, const TensorList& outputs,
                                       std::optional<Task> task, const Labels& labels,
                                       const std::string& image_path,
                                       const TaskOutputOptions& options, json& out) {
  if (!task) {
    out["task"] = nullptr;
    return "task unknown: " + InferTask(model).status().message() + " (with --task)\n";
  }
  TPUFLEET_ASSIGN_OR_RETURN(Image image, LoadImage(image_path, 3));
  TaskOptions task_options;
  task_options.top_k = options.top;
  task_options.score_threshold = options.threshold;
  task_options.image_width = image.width;
  task_options.image_height = image.height;
  TPUFLEET_ASSIGN_OR_RETURN(TaskResult result,
                            InterpretOutputs(model, outputs, *task, task_options));
  out["task"] = TaskName(*task);
  out["image_size"] = {result.image_width, result.image_height};
  std::string text;
  switch (*task) {
    case Task::kClassification: text = DescribeClasses(result, labels, out); break;
    case Task::kDetection: text = DescribeObjects(result, labels, options.threshold, out); break;
    case Task::kSegmentation: text = DescribeSegments(result, labels, out); break;
    case Task::kPose: text = DescribePoses(result, options.threshold, out); break;
    case Task::kEmbedding: text = DescribeEmbedding(result, out); break;
  }
  if (!options.output_dir.empty()) {
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<std::string> files,
                              WriteDrawings(result, image, model, image_path, options.output_dir));
    out["files"] = files;
    for (const std::string& f : files) text += "wrote " + f + "\n";
  }
  return text;
}

}  // namespace tpufleet::cli
