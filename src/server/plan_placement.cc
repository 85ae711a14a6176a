#include "server/plan_placement.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

namespace tpufleet::server {
namespace fs = std::filesystem;
namespace {

// "x.tflite" for ".../x_edgetpu.tflite" and ".../x.tflite".
std::string UncompiledFileName(const std::string& path) {
  std::string file = fs::path(path).filename().string();
  const std::string compiled = "_edgetpu.tflite";
  if (file.size() > compiled.size() && file.ends_with(compiled)) {
    return file.substr(0, file.size() - compiled.size()) + ".tflite";
  }
  return file;
}

// The entry serving `plan_model`, among `entries`.
Result<std::string> EntryFor(const std::string& plan_model, const std::vector<ModelEntry>& entries,
                             const std::string& directory) {
  if (plan_model.starts_with("zoo:")) {
    return InvalidArgumentError(fmt::format(
        "plan model '{}' is a zoo model; the daemon serves files of its repository {}: plan "
        "with the repository's files",
        plan_model, directory));
  }
  std::error_code error;
  fs::path resolved = fs::canonical(plan_model, error);
  for (const ModelEntry& e : entries) {
    if (!error && e.model_path == resolved.string()) return e.name;
  }
  std::vector<std::string> matches;
  for (const ModelEntry& e : entries) {
    if (UncompiledFileName(e.model_path) == UncompiledFileName(plan_model)) {
      matches.push_back(e.name);
    }
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) {
    return InvalidArgumentError(
        fmt::format("plan model '{}' is served by no entry of the model repository {}; add it "
                    "there or plan with the repository's files",
                    plan_model, directory));
  }
  return InvalidArgumentError(
      fmt::format("plan model '{}' could be any of the entries {}; plan with their paths in the "
                  "repository",
                  plan_model, fmt::join(matches, ", ")));
}

}  // namespace

Result<std::map<std::string, ModelPlacement>> PlacementsFromPlan(
    const planner::PlanFile& plan, const ModelRepository& repository) {
  std::vector<ModelEntry> entries;
  for (const std::string& name : repository.Names()) {
    Result<ModelEntry> entry = repository.Find(name);
    if (entry.ok()) entries.push_back(std::move(entry).value());
  }
  std::map<std::string, ModelPlacement> placements;
  for (size_t u = 0; u < plan.units.size(); ++u) {
    const planner::PlanFile::Unit& unit = plan.units[u];
    for (size_t k = 0; k < unit.models.size(); ++k) {
      TPUFLEET_ASSIGN_OR_RETURN(std::string name,
                                EntryFor(unit.models[k], entries, repository.directory()));
      if (placements.count(name)) {
        return InvalidArgumentError(fmt::format(
            "the plan places entry '{}' twice (plan model '{}' again)", name, unit.models[k]));
      }
      ModelPlacement& placement = placements[name];
      placement.devices = unit.devices;
      if (unit.models.size() > 1) {
        placement.group = fmt::format("plan unit {}", u + 1);
        placement.order = static_cast<int>(k);
      }
    }
  }
  return placements;
}

}  // namespace tpufleet::server
