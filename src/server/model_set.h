// The models the daemon serves: loaded from the repository into the fleet at start and on
// request (KServe's repository extension), each with its labels.
//
// Unloading stops serving a model at once; the fleet keeps what it prepared on its devices
// (the fleet has no removal), so loading the same unchanged file again reuses it, and a
// changed file is added anew.
//
// Thread-safety: every method may be called from any thread; loads run one at a time, and
// lookups never wait for a load.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/labels.h"
#include "server/event_log.h"
#include "server/repository.h"
#include "tpufleet/fleet.h"

namespace tpufleet::server {

struct ServedModel {
  ModelEntry entry;  // entry.name is the name clients use
  ModelPtr model;
  int id = 0;  // the fleet's
  Labels labels;
};

struct ModelState {
  std::string name;
  std::string state;   // "READY" or "UNAVAILABLE"
  std::string reason;  // why not ready; empty when ready
};

class ModelSet {
 public:
  ModelSet(ModelRepository repository, Fleet& fleet, EventLog& log);

  // Loads every entry of the repository; each outcome is logged, failures kept as reasons.
  void LoadAll();
  // Loads (or reloads) `name` from the repository. Errors: the repository's (INVALID_ARGUMENT,
  // NOT_FOUND), the model file's, the fleet's AddModel's.
  Status Load(const std::string& name);
  // NOT_FOUND when `name` is not loaded.
  Status Unload(const std::string& name);

  // The loaded model `name`; null when it is not loaded.
  std::shared_ptr<const ServedModel> Find(const std::string& name) const;
  // Every loaded model, by name.
  std::vector<std::shared_ptr<const ServedModel>> Loaded() const;
  // Every entry of the repository and every loaded model, by name, with its state.
  std::vector<ModelState> Index() const;

 private:
  struct Prepared {  // a file the fleet has prepared, and the version of it
    ModelPtr model;
    int id = 0;
    std::vector<std::string> devices;
    int64_t mtime = 0;
    uintmax_t size = 0;
  };
  Result<std::shared_ptr<const ServedModel>> Prepare(const ModelEntry& entry);

  const ModelRepository repository_;
  Fleet& fleet_;
  EventLog& log_;
  std::mutex load_mutex_;                     // one load at a time; guards prepared_
  std::map<std::string, Prepared> prepared_;  // by model path
  mutable std::mutex mutex_;                  // guards the two maps below
  std::map<std::string, std::shared_ptr<const ServedModel>> loaded_;
  std::map<std::string, std::string> failures_;  // name -> why its last load failed
};

}  // namespace tpufleet::server
