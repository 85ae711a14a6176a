// A model repository: the directory `tpufleet serve --models DIR` serves, one entry per model,
// named by the entry:
//   NAME.tflite              a model file;
//   NAME/                    a folder holding the model file, an optional labels.txt (one label
//                            per line, or "<id> <label>") and an optional config.json:
//                            {"devices": ["sim:0", "sim:1"]}, the device strings the model is
//                            placed on (absent or empty: automatic placement).
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

struct ModelEntry {
  std::string name;
  std::string model_path;            // the file served
  std::string labels_path;           // empty: the entry has no labels.txt
  std::vector<std::string> devices;  // from config.json; empty: automatic placement
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
