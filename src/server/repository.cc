#include "server/repository.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace tpufleet::server {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr std::string_view kModelSuffix = ".tflite";
constexpr std::string_view kCompiledSuffix = "_edgetpu";
constexpr size_t kMaxConfigBytes = size_t{64} * 1024;

bool Exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(fs::symlink_status(path, error));
}

// The stems of the .tflite files in `folder`, hidden ones left out.
std::set<std::string> ModelStems(const fs::path& folder) {
  std::set<std::string> stems;
  std::error_code error;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, error)) {
    std::string file = e.path().filename().string();
    if (file.starts_with(".") || !file.ends_with(kModelSuffix)) continue;
    stems.insert(file.substr(0, file.size() - kModelSuffix.size()));
  }
  return stems;
}

// The stem of X_edgetpu's uncompiled twin X, or empty when `stem` is not compiled-named.
std::string TwinStem(const std::string& stem) {
  if (stem.size() <= kCompiledSuffix.size() || !stem.ends_with(kCompiledSuffix)) return "";
  return stem.substr(0, stem.size() - kCompiledSuffix.size());
}

// The models among `stems`: a compiled X_edgetpu stands for its twin X as well.
std::vector<std::string> ServedStems(const std::set<std::string>& stems) {
  std::vector<std::string> served;
  for (const std::string& stem : stems) {
    if (stems.count(stem + std::string(kCompiledSuffix))) continue;  // its compiled one serves
    served.push_back(stem);
  }
  return served;
}

constexpr int kMaxReplicas = 1024;

Status ParseDevices(const nlohmann::json& value, const std::string& path,
                    std::vector<std::string>& devices) {
  if (!value.is_array()) {
    return InvalidArgumentError(path + ": \"devices\" must be an array of device strings");
  }
  for (const nlohmann::json& device : value) {
    if (!device.is_string()) {
      return InvalidArgumentError(path + ": \"devices\" must be an array of device strings");
    }
    devices.push_back(device.get<std::string>());
  }
  return OkStatus();
}

Result<ModelPlacement> ParseConfig(const std::string& text, const std::string& path) {
  nlohmann::json config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return InvalidArgumentError(
        path + ": not a JSON object; write {\"devices\": [\"sim:0\"]} or leave the file out");
  }
  ModelPlacement placement;
  for (const auto& [key, value] : config.items()) {
    if (key == "devices") {
      TPUFLEET_RETURN_IF_ERROR(ParseDevices(value, path, placement.devices));
    } else if (key == "replicas") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
          value.get<int64_t>() > kMaxReplicas) {
        return InvalidArgumentError(fmt::format(
            "{}: \"replicas\" must be a whole number from 1 to {}", path, kMaxReplicas));
      }
      placement.replicas = value.get<int>();
    } else if (key == "group") {
      if (!value.is_string() || !CheckModelName(value.get<std::string>()).ok()) {
        return InvalidArgumentError(
            path +
            ": \"group\" must be a name (letters, digits, '_', '-', '.') shared by the "
            "models co-compiled together");
      }
      placement.group = value.get<std::string>();
    } else {
      return InvalidArgumentError(fmt::format(
          "{}: unknown key '{}'; config.json knows \"devices\", \"replicas\" and \"group\"", path,
          key));
    }
  }
  if (placement.replicas > 0 && !placement.devices.empty() &&
      static_cast<size_t>(placement.replicas) != placement.devices.size()) {
    return InvalidArgumentError(fmt::format(
        "{}: \"replicas\" is {} but \"devices\" lists {}; each listed device is a replica "
        "(leave \"replicas\" out, or \"devices\" for automatic placement)",
        path, placement.replicas, placement.devices.size()));
  }
  return placement;
}

}  // namespace

Status CheckModelName(const std::string& name) {
  bool valid = !name.empty() && name.size() <= kMaxNameLength && name[0] != '.' &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
               });
  if (!valid) {
    return InvalidArgumentError(fmt::format(
        "'{}' is not a model name: names are 1 to {} letters, digits, '_', '-' and '.', not "
        "starting with '.'",
        name.substr(0, kMaxNameLength + 1), kMaxNameLength));
  }
  if (name == "stats") {
    return InvalidArgumentError(
        "'stats' is not a model name: /v2/models/stats is the statistics "
        "of every model; rename the entry");
  }
  return OkStatus();
}

Result<ModelRepository> ModelRepository::Open(const std::string& directory) {
  std::error_code error;
  fs::path resolved = fs::canonical(directory, error);
  if (error) return NotFoundError(directory + ": no such model repository directory");
  if (!fs::is_directory(resolved, error)) {
    return InvalidArgumentError(directory + ": not a directory; --models takes a directory");
  }
  return ModelRepository(resolved.string());
}

std::vector<std::string> ModelRepository::Names() const {
  std::set<std::string> names;
  std::error_code error;
  for (const fs::directory_entry& e : fs::directory_iterator(directory_, error)) {
    std::string file = e.path().filename().string();
    if (file.starts_with(".")) continue;
    if (e.is_directory(error)) names.insert(file);
  }
  for (const std::string& stem : ServedStems(ModelStems(directory_))) {
    std::string twin = TwinStem(stem);
    names.insert(!twin.empty() && Exists(fs::path(directory_) / (twin + ".tflite")) ? twin : stem);
  }
  return {names.begin(), names.end()};
}

namespace {

// `path` resolved, if it lies inside `directory` (resolved); else why not.
Result<std::string> Inside(const std::string& directory, const fs::path& path,
                           const std::string& name) {
  std::error_code error;
  fs::path resolved = fs::canonical(path, error);
  if (error) {
    return NotFoundError(fmt::format("model '{}': {} cannot be resolved ({})", name, path.string(),
                                     error.message()));
  }
  std::string text = resolved.string();
  if (!text.starts_with(directory + "/")) {
    return InvalidArgumentError(
        fmt::format("model '{}': {} leads to {}, outside the model repository {}; only files "
                    "inside it are served",
                    name, path.string(), text, directory));
  }
  return text;
}

Result<std::string> ReadSmallFile(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot be read");
  std::string text(limit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > limit) {
    return InvalidArgumentError(fmt::format("{}: larger than {} bytes", path, limit));
  }
  return text;
}

}  // namespace

Result<ModelEntry> ModelRepository::Find(const std::string& name) const {
  TPUFLEET_RETURN_IF_ERROR(CheckModelName(name));
  ModelEntry entry;
  entry.name = name;
  const fs::path root(directory_);
  const fs::path folder = root / name, file = root / (name + ".tflite");
  if (Exists(folder) && !Exists(file)) {
    TPUFLEET_ASSIGN_OR_RETURN(std::string inside, Inside(directory_, folder, name));
    std::error_code error;
    if (!fs::is_directory(inside, error)) {
      return NotFoundError(
          fmt::format("model '{}': {} is neither NAME.tflite nor a folder", name, folder.string()));
    }
    std::vector<std::string> stems = ServedStems(ModelStems(inside));
    if (stems.size() != 1) {
      return InvalidArgumentError(fmt::format(
          "model '{}': the folder {} holds {} models ({}); it must hold one .tflite file, or a "
          "compiled X_edgetpu.tflite with its twin X.tflite",
          name, folder.string(), stems.size(), fmt::join(stems, ", ")));
    }
    TPUFLEET_ASSIGN_OR_RETURN(entry.model_path,
                              Inside(directory_, fs::path(inside) / (stems[0] + ".tflite"), name));
    if (Exists(fs::path(inside) / "labels.txt")) {
      TPUFLEET_ASSIGN_OR_RETURN(entry.labels_path,
                                Inside(directory_, fs::path(inside) / "labels.txt", name));
    }
    if (Exists(fs::path(inside) / "config.json")) {
      TPUFLEET_ASSIGN_OR_RETURN(std::string config,
                                Inside(directory_, fs::path(inside) / "config.json", name));
      TPUFLEET_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(config, kMaxConfigBytes));
      TPUFLEET_ASSIGN_OR_RETURN(entry.placement, ParseConfig(text, config));
    }
    return entry;
  }
  if (!Exists(file)) {
    return NotFoundError(fmt::format("no model '{}' in {}: neither {}.tflite nor {}/ is there",
                                     name, directory_, name, name));
  }
  if (std::string twin = TwinStem(name); !twin.empty() && Exists(root / (twin + ".tflite"))) {
    return NotFoundError(fmt::format(
        "no model '{}': {}.tflite is the compiled twin of {}.tflite, served as model '{}'", name,
        name, twin, twin));
  }
  const fs::path compiled = root / (name + std::string(kCompiledSuffix) + ".tflite");
  TPUFLEET_ASSIGN_OR_RETURN(entry.model_path,
                            Inside(directory_, Exists(compiled) ? compiled : file, name));
  return entry;
}

}  // namespace tpufleet::server
