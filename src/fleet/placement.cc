// Where the fleet puts a model: on the devices named, or automatically as Coral's old Edge TPU
// API did (a free device, PCIe first), co-compiled models together; then prepared there.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "backends/device.h"
#include "devices/selector.h"
#include "fleet/fleet_impl.h"

namespace tpufleet {

Result<std::vector<int>> Fleet::Impl::Place(const std::string& name, uint64_t token,
                                            const std::vector<std::string>& selectors) const {
  std::vector<int> placed;
  for (const std::string& text : selectors) {
    // Strings mean what they mean machine-wide ("sim:1" is sim:1 even in a fleet without
    // sim:0); "any" forms take the first match the fleet has, PCIe first.
    TPUFLEET_ASSIGN_OR_RETURN(Selector selector, ParseSelector(text));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<const DeviceInfo*> found,
                              ResolveSelector(selector, factory->available()));
    int index = -1;
    for (const DeviceInfo* wanted : found) {
      for (size_t d = 0; d < infos.size() && index < 0; ++d) {
        if (infos[d].type == wanted->type && infos[d].name == wanted->name) {
          index = static_cast<int>(d);
        }
      }
      if (index >= 0) break;
    }
    if (index < 0) {
      std::vector<std::string> names;
      for (const DeviceInfo& d : infos) names.push_back(StableDeviceString(d));
      return NotFoundError(
          fmt::format("'{}' names {}, which is not one of the fleet's devices ({})", text,
                      StableDeviceString(*found[0]), fmt::join(names, ", ")));
    }
    if (std::find(placed.begin(), placed.end(), index) == placed.end()) placed.push_back(index);
  }
  if (!placed.empty()) return placed;
  // Automatic. Co-compiled models (one caching token) go where the first of them went.
  for (const auto& m : models) {
    if (token != 0 && m->token == token && !m->home.empty()) return std::vector<int>{m->home[0]};
  }
  // Else a device no model uses yet, PCIe first, then in order, as Coral's old API; a
  // co-compiled group counts as one model.
  std::vector<std::set<uint64_t>> units(infos.size());
  std::set<uint64_t> all_units;
  for (size_t id = 0; id < models.size(); ++id) {
    if (models[id]->removed) continue;
    for (int d : models[id]->home) units[d].insert(models[id]->unit(id));
    all_units.insert(models[id]->unit(id));
  }
  for (bool pcie : {true, false}) {  // PCIe first, as the old API preferred the on-board device
    for (size_t d = 0; d < infos.size(); ++d) {
      if (units[d].empty() && (!pcie || infos[d].type == DeviceType::kPci)) {
        return std::vector<int>{static_cast<int>(d)};
      }
    }
  }
  if (options.strict) {
    return FailedPreconditionError(fmt::format(
        "{} would be model number {}, but the fleet has {} devices ({}) and strict placement "
        "gives each model its own; give it a device string (model.tflite@sim:0) or leave strict "
        "placement off to share devices",
        name, all_units.size() + 1, infos.size(), DescribeDevices(infos)));
  }
  // Shared: the device with the fewest models.
  auto least = std::min_element(units.begin(), units.end(),
                                [](const auto& a, const auto& b) { return a.size() < b.size(); });
  return std::vector<int>{static_cast<int>(least - units.begin())};
}

Result<std::vector<int>> Fleet::Impl::Add(std::vector<ModelPtr> models,
                                          const std::vector<std::string>& selectors, bool group) {
  if (models.empty()) return InvalidArgumentError("no model given");
  for (const ModelPtr& m : models) {
    if (!m) return InvalidArgumentError("no model given");
  }
  // Files the Edge TPU compiler co-compiled share their package's token. (Models co-compiled
  // here are one group whatever tokens their devices give them.)
  uint64_t token = group ? 0 : backends::PackageCachingToken(*models[0]);
  std::vector<int> ids, devices;
  {
    std::lock_guard<std::mutex> lock(mutex);
    TPUFLEET_ASSIGN_OR_RETURN(devices, Place(models[0]->name(), token, selectors));
    for (size_t i = 0; i < models.size(); ++i) {
      ids.push_back(static_cast<int>(this->models.size() + i));
    }
    for (size_t i = 0; i < models.size(); ++i) {
      auto entry = std::make_unique<ModelEntry>();
      entry->model = models[i];
      entry->token = token;
      entry->home = devices;
      if (group) entry->group = ids;
      this->models.push_back(std::move(entry));
    }
    for (int d : devices) workers[d]->AddModels(ids, models, group);
  }
  // Prepare on every placed device now, so a model a device cannot run fails here, not on its
  // first request. A device that is down or full prepares it later, on first use.
  std::vector<std::future<Result<InferenceResult>>> prepared;
  for (int d : devices) {
    auto request = std::make_unique<fleet::Request>();
    request->model = ids[0];
    request->prepare_only = true;
    std::future<Result<InferenceResult>> done = request->promise.get_future();
    if (workers[d]->Enqueue(request).ok()) prepared.push_back(std::move(done));
  }
  Status failed;
  for (auto& done : prepared) {
    Result<InferenceResult> result = done.get();
    bool later = result.status().code() == StatusCode::kUnavailable;  // its device went down
    if (!result.ok() && !later && failed.ok()) failed = result.status();
  }
  if (failed.ok()) return ids;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (int id : ids) {
      this->models[id]->home.clear();
      this->models[id]->unusable = failed;
      this->models[id]->removed = true;  // its ids were never handed out: nothing will use them
    }
  }
  // What the other devices prepared of it goes, as for RemoveModel.
  ReleaseOnDevices(ids);
  std::lock_guard<std::mutex> lock(mutex);
  for (int id : ids) this->models[id]->model.reset();
  return failed;
}

}  // namespace tpufleet
