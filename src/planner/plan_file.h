// Plans as JSON files: what `tpufleet plan` writes and `tpufleet run --plan` starts a fleet from.
//
//   {"models": [{"model": "a.tflite", "rate": 100}, ...],
//    "devices": ["sim:0", "sim:1"],
//    "topology": {"devices": [...]} or null (the default rig),
//    "units": [{"models": ["a.tflite", "b.tflite"], "devices": ["sim:0"]}, ...],
//    "prediction": {...}, "edgetpu_compiler": ["edgetpu_compiler a.tflite b.tflite"]}
//
// A unit with several models is co-compiled in the order listed. "prediction" and
// "edgetpu_compiler" are for people and other programs; reading ignores them.
#pragma once

#include <string>
#include <vector>

#include "planner/planner.h"
#include "tpufleet/status.h"

namespace tpufleet::planner {

struct PlanFile {
  struct Unit {
    std::vector<std::string> models;
    std::vector<std::string> devices;
  };
  std::vector<std::pair<std::string, double>> models;  // name as given, rate
  std::vector<std::string> devices;
  std::string topology_json;  // empty: the default rig
  std::vector<Unit> units;
};

std::string PlanJson(const PlanInputs& inputs, const Plan& plan, const std::string& topology_json);
// Errors say which field is wrong and what it should hold.
Result<PlanFile> ParsePlanFile(const std::string& json_text);

}  // namespace tpufleet::planner
