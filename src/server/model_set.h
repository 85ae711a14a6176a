// The models the daemon serves: loaded from the repository into the fleet at start and on
// request (KServe's repository extension), each with its labels, placed as its config.json (or
// the plan) says (repository.h's ModelPlacement).
//
// Loading a model that is loaded already reuses what the fleet prepared when the file and its
// placement are unchanged; else the new one is added, takes over, and the old one is removed
// from the fleet. A model of a co-compiled group is loaded with its whole group. Unloading stops
// serving a model at once, answers the requests already admitted, and removes the model from the
// fleet (its device memory and placement released).
//
// Thread-safety: every method may be called from any thread; loads and unloads run one at a
// time, and lookups never wait for them.
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
  // `planned`: placements by entry name that override the entries' config.json (from --plan).
  ModelSet(ModelRepository repository, Fleet& fleet, EventLog& log,
           std::map<std::string, ModelPlacement> planned = {});

  // Loads every entry of the repository; each outcome is logged, failures kept as reasons.
  void LoadAll();
  // Loads (or reloads) `name` from the repository, with its group if it is in one. Errors: the
  // repository's (INVALID_ARGUMENT, NOT_FOUND), the model file's, INVALID_ARGUMENT for more
  // replicas than devices, the fleet's AddModel's or AddCoCompiled's.
  Status Load(const std::string& name);
  // NOT_FOUND when `name` is not loaded. Blocks until its admitted requests are answered.
  Status Unload(const std::string& name);

  // The loaded model `name`; null when it is not loaded.
  std::shared_ptr<const ServedModel> Find(const std::string& name) const;
  // Every loaded model, by name.
  std::vector<std::shared_ptr<const ServedModel>> Loaded() const;
  // Every entry of the repository and every loaded model, by name, with its state.
  std::vector<ModelState> Index() const;

 private:
  struct Prepared {  // what the fleet has of a loaded entry, and the version of it
    int id = 0;
    int64_t mtime = 0;
    uintmax_t size = 0;
    ModelPlacement placement;
    std::vector<std::string> group;  // the names co-compiled with it, itself included
  };
  // The entry `name` with its effective placement (the plan's, else its config.json's).
  Result<ModelEntry> FindEntry(const std::string& name) const;
  // The entries co-compiled with `entry`, in their order (only `entry` when it has no group).
  Result<std::vector<ModelEntry>> Members(const ModelEntry& entry) const;
  // The device strings for `placement`: its devices, or the `replicas` devices with the fewest
  // models now; empty for the fleet's automatic placement.
  Result<std::vector<std::string>> Selectors(const ModelPlacement& placement) const;
  // Adds `members` to the fleet as one (co-compiled when several), unless all are prepared
  // unchanged; serves them.
  Status LoadMembers(const std::vector<ModelEntry>& members);
  // Removes fleet model `id` once its requests are answered.
  Status Retire(int id);
  void RecordFailure(const std::string& name, const Status& status);

  const ModelRepository repository_;
  Fleet& fleet_;
  EventLog& log_;
  const std::map<std::string, ModelPlacement> planned_;
  std::mutex load_mutex_;                     // one load or unload at a time; guards prepared_
  std::map<std::string, Prepared> prepared_;  // by name, every loaded entry
  mutable std::mutex mutex_;                  // guards the two maps below
  std::map<std::string, std::shared_ptr<const ServedModel>> loaded_;
  std::map<std::string, std::string> failures_;  // name -> why its last load failed
};

}  // namespace tpufleet::server
