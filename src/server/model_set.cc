#include "server/model_set.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <set>

namespace tpufleet::server {

ModelSet::ModelSet(ModelRepository repository, Fleet& fleet, EventLog& log)
    : repository_(std::move(repository)), fleet_(fleet), log_(log) {}

void ModelSet::LoadAll() {
  for (const std::string& name : repository_.Names()) {
    Status loaded = Load(name);
    (void)loaded;  // logged, and kept as the entry's reason
  }
}

Result<std::shared_ptr<const ServedModel>> ModelSet::Prepare(const ModelEntry& entry) {
  std::error_code error;
  auto mtime = std::filesystem::last_write_time(entry.model_path, error);
  uintmax_t size = std::filesystem::file_size(entry.model_path, error);
  if (error) return NotFoundError(entry.model_path + ": cannot be read (" + error.message() + ")");
  int64_t stamp = mtime.time_since_epoch().count();
  auto served = std::make_shared<ServedModel>();
  served->entry = entry;
  if (!entry.labels_path.empty()) {
    TPUFLEET_ASSIGN_OR_RETURN(served->labels, Labels::Load(entry.labels_path));
  }
  auto it = prepared_.find(entry.model_path);
  if (it != prepared_.end() && it->second.mtime == stamp && it->second.size == size &&
      it->second.devices == entry.devices) {
    served->model = it->second.model;
    served->id = it->second.id;
    return std::shared_ptr<const ServedModel>(served);
  }
  TPUFLEET_ASSIGN_OR_RETURN(served->model, Model::FromFile(entry.model_path));
  TPUFLEET_ASSIGN_OR_RETURN(served->id, fleet_.AddModel(served->model, entry.devices));
  prepared_[entry.model_path] = {served->model, served->id, entry.devices, stamp, size};
  return std::shared_ptr<const ServedModel>(served);
}

Status ModelSet::Load(const std::string& name) {
  std::lock_guard<std::mutex> load(load_mutex_);
  Result<ModelEntry> entry = repository_.Find(name);
  Result<std::shared_ptr<const ServedModel>> served =
      entry.ok() ? Prepare(entry.value())
                 : Result<std::shared_ptr<const ServedModel>>(entry.status());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!served.ok()) {
    // A name that is not one (a URL's "..") is refused without leaving a trace in the index.
    if (CheckModelName(name).ok()) failures_[name] = served.status().message();
    log_.Write("model not loaded", {{"name", name}, {"reason", served.status().message()}});
    return served.status();
  }
  Result<std::vector<std::string>> placement = fleet_.placement((*served)->id);
  log_.Write("model loaded",
             {{"name", name},
              {"file", (*served)->entry.model_path},
              {"devices", placement.ok() ? fmt::format("{}", fmt::join(*placement, ",")) : ""}});
  failures_.erase(name);
  loaded_[name] = std::move(served).value();
  return OkStatus();
}

Status ModelSet::Unload(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (loaded_.erase(name) == 0) {
    return NotFoundError(fmt::format("model '{}' is not loaded", name.substr(0, 256)));
  }
  log_.Write("model unloaded", {{"name", name}});
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
