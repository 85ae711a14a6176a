#include "model/source_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "model/edgetpu_package.h"
#include "model/submodel.h"

namespace tpufleet {
namespace {

namespace fs = std::filesystem;

bool IsUncompiledFile(const fs::path& path) {
  std::string file = path.filename().string();
  return path.extension() == ".tflite" && file.find("_edgetpu") == std::string::npos;
}

// The uncompiled .tflite files in `folder` whose names start with `prefix`, sorted; none when it
// is not a folder or cannot be read (a read error ends the listing, never throws).
std::vector<std::string> UncompiledFilesIn(const fs::path& folder, const std::string& prefix) {
  std::vector<std::string> files;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return files;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    if (it->path().filename().string().starts_with(prefix) && IsUncompiledFile(it->path())) {
      files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// X.tflite, then the other uncompiled X*.tflite in `folder`, sorted.
void AddFamily(const fs::path& folder, const std::string& stem, std::vector<std::string>& out) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) return;
  out.push_back((folder / (stem + ".tflite")).string());
  std::vector<std::string> others = UncompiledFilesIn(folder, stem);
  out.insert(out.end(), others.begin(), others.end());
}

std::string Describe(const TensorInfo& t) {
  std::string text = fmt::format("{} [{}]", DataTypeName(t.type), fmt::join(t.shape, ","));
  if (!t.quantization.empty()) {
    text += fmt::format(" (scale {}, zero point {})", fmt::join(t.quantization.scales, ","),
                        fmt::join(t.quantization.zero_points, ","));
  }
  return text;
}

bool SameQuantization(const Quantization& a, const Quantization& b) {
  return a.scales == b.scales && a.zero_points == b.zero_points &&
         (a.scales.size() <= 1 || a.axis == b.axis);
}

// The tensors of `full` that `compiled`'s inputs (or outputs) stand for, or why one does not.
Result<std::vector<int>> MatchTensors(const Model& compiled, const Model& full,
                                      const std::vector<int>& indices, const char* what) {
  std::vector<int> matched;
  for (size_t i = 0; i < indices.size(); ++i) {
    const TensorInfo& want = compiled.tensors()[indices[i]];
    int found = FindTensorByBaseName(full, want.name);
    if (found < 0) {
      return FailedPreconditionError(
          fmt::format("it has no tensor named '{}' ({} {})", BaseTensorName(want.name), what, i));
    }
    const TensorInfo& have = full.tensors()[found];
    bool shapes_known = !want.shape.empty() && !have.shape.empty();
    if (have.type != want.type || !SameQuantization(have.quantization, want.quantization) ||
        (shapes_known && have.shape != want.shape)) {
      return FailedPreconditionError(fmt::format("{} {} '{}' is {} there but {} in {}", what, i,
                                                 BaseTensorName(want.name), Describe(have),
                                                 Describe(want), compiled.name()));
    }
    matched.push_back(found);
  }
  return matched;
}

// X for a segment "dir/X_segment_K_of_N_edgetpu.tflite", else empty.
std::string SegmentSetStem(const std::string& path) {
  static const std::regex kSegment(R"((.+)_segment_\d+_of_\d+_edgetpu\.tflite)");
  std::smatch match;
  std::string file = fs::path(path).filename().string();
  return std::regex_match(file, match, kSegment) ? match[1].str() : "";
}

Result<ModelPtr> SourceIn(const ModelPtr& compiled, const std::string& candidate) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr full, Model::FromFile(candidate));
  if (full->is_edgetpu_compiled()) return FailedPreconditionError("it is compiled itself");
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<int> inputs,
                            MatchTensors(*compiled, *full, compiled->input_indices(), "input"));
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<int> outputs,
                            MatchTensors(*compiled, *full, compiled->output_indices(), "output"));
  if (inputs == full->input_indices() && outputs == full->output_indices()) return full;
  Result<ModelPtr> part =
      ExtractSubmodel(*full, inputs, outputs,
                      fmt::format("{} (the part of {} it computes)", compiled->name(), candidate));
  if (!part.ok()) return FailedPreconditionError(part.status().message());
  return part;
}

}  // namespace

std::vector<std::string> SourceCandidates(const std::string& compiled_path,
                                          const std::vector<std::string>& named) {
  std::vector<std::string> candidates;
  for (const std::string& given : named) {
    std::error_code error;
    if (!fs::is_directory(given, error)) {
      candidates.push_back(given);
      continue;
    }
    std::vector<std::string> inside = UncompiledFilesIn(given, "");
    candidates.insert(candidates.end(), inside.begin(), inside.end());
  }
  if (std::string twin = UncompiledTwinPath(compiled_path); !twin.empty()) {
    candidates.push_back(twin);
  }
  fs::path path(compiled_path);
  if (std::string stem = SegmentSetStem(compiled_path); !stem.empty()) {
    fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    AddFamily(folder, stem, candidates);
    AddFamily(folder / "..", stem, candidates);
  }
  std::vector<std::string> existing;
  for (const std::string& c : candidates) {
    std::error_code error;
    if (fs::is_regular_file(c, error) &&
        std::find(existing.begin(), existing.end(), c) == existing.end()) {
      existing.push_back(c);
    }
  }
  return existing;
}

Result<ModelPtr> UncompiledSource(const ModelPtr& compiled, const std::vector<std::string>& named) {
  if (!compiled->is_edgetpu_compiled()) return compiled;
  std::vector<std::string> candidates = SourceCandidates(compiled->name(), named);
  if (candidates.empty()) {
    std::error_code error;
    if (!fs::is_regular_file(compiled->name(), error)) {
      return NotFoundError(
          "it is compiled and not read from a file, so no uncompiled twin beside it can be "
          "found: name the uncompiled model it was compiled from, or a folder of candidates "
          "(sim_full_models; TPUFLEET_SIM_MODELS for the Python packages)");
    }
    std::string twin = UncompiledTwinPath(compiled->name());
    return NotFoundError(
        twin.empty() || !SegmentSetStem(compiled->name()).empty()
            ? "it is compiled, and no uncompiled model it stands for was found (a twin "
              "x.tflite of x_edgetpu.tflite, the full model X.tflite of a segment "
              "X_segment_K_of_N_edgetpu.tflite beside it or in the parent folder, or one "
              "named explicitly)"
            : fmt::format("its uncompiled twin {} is missing", twin));
  }
  std::vector<std::string> why;
  for (const std::string& candidate : candidates) {
    Result<ModelPtr> source = SourceIn(compiled, candidate);
    if (source.ok()) return source;
    why.push_back(fmt::format("{}: {}", candidate, source.status().message()));
  }
  return FailedPreconditionError(fmt::format(
      "no uncompiled model computes what it does ({}); name the full model it was compiled from",
      fmt::join(why, "; ")));
}

}  // namespace tpufleet
