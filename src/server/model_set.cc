#include "server/model_set.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

namespace tpufleet::server {
namespace {

// How long Retire tries (virtual time only: the fleet refuses while requests are unanswered).
constexpr int kRetireTries = 30000;
constexpr std::chrono::milliseconds kRetirePause{1};

struct FileVersion {
  int64_t mtime = 0;
  uintmax_t size = 0;
};

Result<FileVersion> VersionOf(const std::string& path) {
  std::error_code error;
  auto mtime = std::filesystem::last_write_time(path, error);
  uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return NotFoundError(path + ": cannot be read (" + error.message() + ")");
  return FileVersion{mtime.time_since_epoch().count(), size};
}

}  // namespace

ModelSet::ModelSet(ModelRepository repository, Fleet& fleet, EventLog& log,
                   std::map<std::string, ModelPlacement> planned)
    : repository_(std::move(repository)), fleet_(fleet), log_(log), planned_(std::move(planned)) {}

void ModelSet::LoadAll() {
  for (const std::string& name : repository_.Names()) {
    if (Find(name)) continue;  // loaded with its group
    Status loaded = Load(name);
    (void)loaded;  // logged, and kept as the entry's reason
  }
}

Result<ModelEntry> ModelSet::FindEntry(const std::string& name) const {
  TPUFLEET_ASSIGN_OR_RETURN(ModelEntry entry, repository_.Find(name));
  if (auto plan = planned_.find(name); plan != planned_.end()) entry.placement = plan->second;
  return entry;
}

Result<std::vector<ModelEntry>> ModelSet::Members(const ModelEntry& entry) const {
  if (entry.placement.group.empty()) return std::vector<ModelEntry>{entry};
  std::vector<ModelEntry> members;
  for (const std::string& name : repository_.Names()) {
    Result<ModelEntry> other = name == entry.name ? entry : FindEntry(name);
    if (!other.ok()) {
      // An entry that does not load cannot say its group; only a broken member stops the group.
      if (planned_.count(name) && planned_.at(name).group == entry.placement.group) {
        return other.status();
      }
      continue;
    }
    if (other->placement.group == entry.placement.group) members.push_back(std::move(*other));
  }
  std::stable_sort(members.begin(), members.end(), [](const ModelEntry& a, const ModelEntry& b) {
    return a.placement.order < b.placement.order;
  });
  if (members.size() < 2) {
    return InvalidArgumentError(fmt::format(
        "model '{}' is in group '{}', which has no other model; co-compiling needs two or more "
        "models with the same \"group\" in their config.json",
        entry.name, entry.placement.group));
  }
  return members;
}

Result<std::vector<std::string>> ModelSet::Selectors(const ModelPlacement& placement) const {
  if (!placement.devices.empty()) return placement.devices;
  if (placement.replicas <= 1) return std::vector<std::string>{};  // the fleet's own placement
  std::vector<std::string> devices = fleet_.device_names();
  if (static_cast<size_t>(placement.replicas) > devices.size()) {
    return InvalidArgumentError(
        fmt::format("\"replicas\" is {}, but the daemon has {} devices ({})", placement.replicas,
                    devices.size(), fmt::join(devices, ", ")));
  }
  std::map<std::string, int> models;  // per device, the models placed there now
  for (const ModelMetrics& m : fleet_.Metrics().models) {
    for (const std::string& d : m.devices) ++models[d];
  }
  std::stable_sort(devices.begin(), devices.end(), [&](const std::string& a, const std::string& b) {
    return models[a] < models[b];
  });
  devices.resize(static_cast<size_t>(placement.replicas));
  return devices;
}

Status ModelSet::LoadMembers(const std::vector<ModelEntry>& members) {
  std::vector<std::string> names;
  for (const ModelEntry& m : members) names.push_back(m.name);
  std::vector<std::shared_ptr<ServedModel>> served;
  std::vector<FileVersion> versions;
  bool unchanged = true;
  for (const ModelEntry& m : members) {
    TPUFLEET_ASSIGN_OR_RETURN(FileVersion version, VersionOf(m.model_path));
    versions.push_back(version);
    auto next = std::make_shared<ServedModel>();
    next->entry = m;
    if (!m.labels_path.empty()) {
      TPUFLEET_ASSIGN_OR_RETURN(next->labels, Labels::Load(m.labels_path));
    }
    auto it = prepared_.find(m.name);
    std::shared_ptr<const ServedModel> current = Find(m.name);
    unchanged = unchanged && it != prepared_.end() && current &&
                it->second.mtime == version.mtime && it->second.size == version.size &&
                it->second.placement == m.placement &&
                it->second.group == (members.size() > 1 ? names : std::vector<std::string>{});
    if (unchanged) {
      next->model = current->model;
      next->id = it->second.id;
    }
    served.push_back(std::move(next));
  }
  if (!unchanged) {
    std::vector<ModelPtr> models;
    for (size_t i = 0; i < members.size(); ++i) {
      TPUFLEET_ASSIGN_OR_RETURN(served[i]->model, Model::FromFile(members[i].model_path));
      models.push_back(served[i]->model);
    }
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<std::string> selectors, Selectors(members[0].placement));
    std::vector<int> ids;
    if (members.size() == 1) {
      TPUFLEET_ASSIGN_OR_RETURN(int id, fleet_.AddModel(models[0], selectors));
      ids.push_back(id);
    } else {
      Result<std::vector<int>> added = fleet_.AddCoCompiled(models, selectors);
      if (!added.ok()) {
        return added.status().WithContext(fmt::format(
            "co-compiling group '{}' ({})", members[0].placement.group, fmt::join(names, ", ")));
      }
      ids = std::move(added).value();
    }
    for (size_t i = 0; i < members.size(); ++i) served[i]->id = ids[i];
  }
  std::vector<int> retired;
  for (size_t i = 0; i < members.size(); ++i) {
    const ModelEntry& m = members[i];
    auto old = prepared_.find(m.name);
    if (old != prepared_.end() && old->second.id != served[i]->id)
      retired.push_back(old->second.id);
    prepared_[m.name] = {served[i]->id, versions[i].mtime, versions[i].size, m.placement,
                         members.size() > 1 ? names : std::vector<std::string>{}};
    Result<std::vector<std::string>> placement = fleet_.placement(served[i]->id);
    server::LogFields fields = {
        {"name", m.name},
        {"file", m.model_path},
        {"devices", placement.ok() ? fmt::format("{}", fmt::join(*placement, ",")) : ""}};
    if (members.size() > 1) fields.emplace_back("group", m.placement.group);
    std::lock_guard<std::mutex> lock(mutex_);
    log_.Write("model loaded", fields);
    failures_.erase(m.name);
    loaded_[m.name] = std::move(served[i]);
  }
  // The old versions once the new ones serve: their admitted requests are answered first.
  for (int id : retired) {
    Status removed = Retire(id);
    if (!removed.ok()) log_.Write("model not removed", {{"reason", removed.message()}});
  }
  return OkStatus();
}

void ModelSet::RecordFailure(const std::string& name, const Status& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  // A name that is not one (a URL's "..") is refused without leaving a trace in the index.
  if (CheckModelName(name).ok()) failures_[name] = status.message();
  log_.Write("model not loaded", {{"name", name}, {"reason", status.message()}});
}

Status ModelSet::Load(const std::string& name) {
  std::lock_guard<std::mutex> load(load_mutex_);
  Result<ModelEntry> entry = FindEntry(name);
  Result<std::vector<ModelEntry>> members =
      entry.ok() ? Members(*entry) : Result<std::vector<ModelEntry>>(entry.status());
  Status loaded = members.ok() ? LoadMembers(*members) : members.status();
  if (!loaded.ok()) {
    if (members.ok()) {
      for (const ModelEntry& m : *members) RecordFailure(m.name, loaded);
    } else {
      RecordFailure(name, loaded);
    }
  }
  return loaded;
}

Status ModelSet::Retire(int id) {
  for (int tries = 0;; ++tries) {
    Status removed = fleet_.RemoveModel(id);
    // In virtual time the fleet refuses while requests are unanswered; their clients are
    // waiting for them, which lets modeled time pass.
    if (removed.code() != StatusCode::kFailedPrecondition || tries >= kRetireTries) {
      return removed;
    }
    std::this_thread::sleep_for(kRetirePause);
  }
}

Status ModelSet::Unload(const std::string& name) {
  std::lock_guard<std::mutex> load(load_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (loaded_.erase(name) == 0) {
      return NotFoundError(fmt::format("model '{}' is not loaded", name.substr(0, 256)));
    }
  }
  auto prepared = prepared_.find(name);
  int id = prepared->second.id;
  prepared_.erase(prepared);
  Status removed = Retire(id);
  log_.Write("model unloaded",
             {{"name", name}, {"released", removed.ok() ? "true" : removed.message()}});
  return OkStatus();
}

std::shared_ptr<const ServedModel> ModelSet::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = loaded_.find(name);
  return it == loaded_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const ServedModel>> ModelSet::Loaded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::shared_ptr<const ServedModel>> all;
  for (const auto& [name, served] : loaded_) all.push_back(served);
  return all;
}

std::vector<ModelState> ModelSet::Index() const {
  std::vector<std::string> names = repository_.Names();
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<std::string> all(names.begin(), names.end());
  for (const auto& [name, served] : loaded_) all.insert(name);
  std::vector<ModelState> index;
  for (const std::string& name : all) {
    if (loaded_.count(name)) {
      index.push_back({name, "READY", ""});
    } else {
      auto failure = failures_.find(name);
      index.push_back(
          {name, "UNAVAILABLE", failure != failures_.end() ? failure->second : "not loaded"});
    }
  }
  return index;
}

}  // namespace tpufleet::server
