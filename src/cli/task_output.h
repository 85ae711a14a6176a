// One answer shown as its task's result: for people as text (Coral's lines for classes and
// objects, tables for segments and keypoints), for programs as JSON, and with --output as PNG
// drawings over the input image (tpufleet/task.h gives the results).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/labels.h"
#include "tpufleet/fleet.h"
#include "tpufleet/model.h"
#include "tpufleet/task.h"

namespace tpufleet::cli {

// The task of each model: one --task value for all, one per model in order, or none (each
// model's own, InferTask). A model whose task cannot be inferred gets nothing; its answers
// then say so. INVALID_ARGUMENT for an unknown task name or a count matching neither.
Result<std::vector<std::optional<Task>>> ChooseTasks(const std::vector<ModelPtr>& models,
                                                     const std::vector<std::string>& names);

struct TaskOutputOptions {
  int top = 5;             // classes, objects or poses
  float threshold = 0.4f;  // objects and poses
  std::string output_dir;  // where drawings go; empty: none drawn
};

// Describes `model`'s `outputs` for the image at `image_path` as `task` (none: says the task is
// unknown and how to name one): returns the text, adds "task" and the task's fields to `json`
// (and "files" for the drawings written). Errors: the image does not load, the outputs are not
// the task's, a drawing cannot be written.
Result<std::string> DescribeTaskResult(const Model& model, const TensorList& outputs,
                                       std::optional<Task> task, const Labels& labels,
                                       const std::string& image_path,
                                       const TaskOutputOptions& options, nlohmann::json& json);

}  // namespace tpufleet::cli
