// A model repository: the directory `tpufleet serve --models DIR` serves, one entry per model,
// named by the entry:
//   NAME.tflite              a model file;
//   NAME/                    a folder holding the model file, an optional labels.txt (one label
//                            per line, or "<id> <label>") and an optional config.json (every
//                            key optional; ModelPlacement says what each means):
//                            {"devices": ["sim:0", "sim:1"], "replicas": 2, "group": "g"}.
// Beside (or in a folder with) its uncompiled twin X.tflite, a compiled X_edgetpu.tflite is the
// file served (the twin is what a simulated Edge TPU computes outputs with); the pair is one
// entry, named X for a file pair.
//
// Names are 1 to 128 characters of letters, digits, '_', '-' and '.', not starting with '.';
// "stats" is refused (it clashes with /v2/models/stats). Nothing a name or a symlink in the
// directory points at may lie outside the directory: every path is resolved and checked.
//
// Thread-safety: a ModelRepository holds only its directory; every method reads the file
// system anew and may be called from any thread.
#pragma once

#include <string>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet::server {

// Where a model goes, from its config.json (or a plan).
struct ModelPlacement {
  // "devices": device strings the model is placed on, each a replica; empty: automatic.
  std::vector<std::string> devices;
  // "replicas": with automatic placement, on this many devices (those holding the fewest models
  // then); with devices, it must be their count. 0: not given (one, or the devices').
  int replicas = 0;
  // "group": the entries with the same group are co-compiled (one caching token, switching
  // between them reloads nothing while they fit), in `order`, then by name; they share the
  // placement of the first of them. Only uncompiled models can be co-compiled here.
  std::string group;
  int order = 0;

  bool operator==(const ModelPlacement&) const = default;
};

struct ModelEntry {
  std::string name;
  std::string model_path;   // the file served
  std::string labels_path;  // empty: the entry has no labels.txt
  ModelPlacement placement;
};

// INVALID_ARGUMENT, saying what a name may hold, unless `name` is a valid entry name.
Status CheckModelName(const std::string& name);

class ModelRepository {
 public:
  // NOT_FOUND when `directory` does not exist, INVALID_ARGUMENT when it is not a directory.
  static Result<ModelRepository> Open(const std::string& directory);

  // The directory, resolved (absolute, no symlinks).
  const std::string& directory() const { return directory_; }

  // The names of the entries the directory holds now, sorted: every NAME.tflite (a twin pair
  // once) and every folder not starting with '.'. Find says whether each is servable.
  std::vector<std::string> Names() const;

  // The entry `name`. Errors: INVALID_ARGUMENT for an invalid name, a path leaving the
  // directory, a folder without exactly one model or with a malformed config.json; NOT_FOUND
  // when there is no such entry.
  Result<ModelEntry> Find(const std::string& name) const;

 private:
  explicit ModelRepository(std::string directory) : directory_(std::move(directory)) {}
  std::string directory_;
};

}  // namespace tpufleet::server
