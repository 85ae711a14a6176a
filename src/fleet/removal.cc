// Taking a model out of the fleet: refused to new requests at once, served until its last
// request is answered, then released on every device.
#include <fmt/format.h>

#include <algorithm>

#include "fleet/fleet_impl.h"

namespace tpufleet {

void Fleet::Impl::ReleaseOnDevices(const std::vector<int>& ids) {
  // Any device may hold a program of it: its placement, and those that stood in for it.
  std::vector<std::future<Result<InferenceResult>>> released;
  for (auto& worker : workers) {
    auto request = std::make_unique<fleet::Request>();
    request->model = ids[0];
    request->prepare_only = true;
    request->release = ids;
    std::future<Result<InferenceResult>> done = request->promise.get_future();
    // A device that is down (or goes down before taking it) has dropped its programs already.
    if (worker->Enqueue(request, /*admitted=*/true).ok()) released.push_back(std::move(done));
  }
  for (auto& done : released) done.wait();
  for (auto& worker : workers) worker->ForgetModels(ids);
}

Status Fleet::RemoveModel(int model) {
  std::vector<int> release;
  fleet::ModelStats* stats = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (model < 0 || static_cast<size_t>(model) >= impl_->models.size()) {
      return UnknownModelError(model, impl_->models.size());
    }
    ModelEntry& entry = *impl_->models[model];
    if (entry.removed) return RemovedModelError(model);
    fleet::ModelStats::Snapshot counted = entry.stats->Read();
    if (impl_->rig && counted.requests < counted.submitted) {
      return FailedPreconditionError(fmt::format(
          "model {} has {} requests unanswered; in virtual time modeled time passes only while "
          "someone waits for an answer: wait for them, then remove it",
          model, counted.submitted - counted.requests));
    }
    entry.removed = true;  // Accept refuses it from now on (under this lock)
    stats = entry.stats.get();
  }
  // Its requests (queued, being prepared, failing over) still find its placement and program.
  stats->WaitAnswered();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    ModelEntry& entry = *impl_->models[model];
    entry.home.clear();  // automatic placement counts it no more
    std::vector<int> group = entry.group.empty() ? std::vector<int>{model} : entry.group;
    // Co-compiled programs share the device's parameter cache: released with the group's last.
    bool last =
        std::all_of(group.begin(), group.end(), [&](int id) { return impl_->models[id]->removed; });
    if (last) release = group;
  }
  if (release.empty()) return OkStatus();
  impl_->ReleaseOnDevices(release);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (int id : release) impl_->models[id]->model.reset();
  return OkStatus();
}

}  // namespace tpufleet
