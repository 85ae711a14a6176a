// Which device takes a request: one of its model's healthy home devices, chosen by the shared
// dispatch rule (fleet/dispatch_order.h); while all of them are down, a healthy device of the
// same kind (failover, undone as soon as a home device rejoins). Requests a worker hands back
// are dispatched again here, on the fleet's own thread.
#include <fmt/format.h>

#include <algorithm>

#include "devices/selector.h"
#include "fleet/dispatch_order.h"
#include "fleet/fleet_impl.h"

namespace tpufleet {
namespace {

using fleet::RequestPtr;

// Devices that can stand in for each other: a compiled model runs on any Edge TPU, real or
// simulated, never on the CPU; an uncompiled one wherever it was placed.
int KindClass(DeviceType type) {
  switch (type) {
    case DeviceType::kUsb:
    case DeviceType::kPci: return 0;
    case DeviceType::kSim: return 1;
    default: return 2;
  }
}

bool Tried(const fleet::Request& request, const fleet::Worker* worker) {
  return std::find(request.failed_on.begin(), request.failed_on.end(), worker) !=
         request.failed_on.end();
}

}  // namespace

std::vector<int> Fleet::Impl::StandInsLocked(const ModelEntry& entry) const {
  std::vector<int> kinds;
  for (int d : entry.home) kinds.push_back(KindClass(infos[d].type));
  std::vector<int> stand_ins;
  for (size_t d = 0; d < workers.size(); ++d) {
    bool home =
        std::find(entry.home.begin(), entry.home.end(), static_cast<int>(d)) != entry.home.end();
    bool same_kind = std::find(kinds.begin(), kinds.end(), KindClass(infos[d].type)) != kinds.end();
    if (!home && same_kind && workers[d]->healthy()) stand_ins.push_back(static_cast<int>(d));
  }
  return stand_ins;
}

std::vector<int> Fleet::Impl::CurrentDevicesLocked(const ModelEntry& entry) const {
  std::vector<int> current;
  for (int d : entry.home) {
    if (workers[d]->healthy()) current.push_back(d);
  }
  if (!current.empty()) return current;
  current = StandInsLocked(entry);
  return current.empty() ? entry.home : current;
}

Status Fleet::Impl::Dispatch(RequestPtr& request, bool admitted, int* chosen) {
  // A device may go down between choosing it and queueing on it: then choose again. Each round
  // either queues the request or sees one more device down, so this ends.
  Status last;
  for (size_t round = 0; round <= workers.size(); ++round) {
    std::vector<int> candidates;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (closing) return UnavailableError("the fleet is shutting down");
      const ModelEntry& entry = *models[request->model];
      if (!entry.unusable.ok()) return entry.unusable;
      for (int d : CurrentDevicesLocked(entry)) {
        if (workers[d]->healthy() && !Tried(*request, workers[d].get())) candidates.push_back(d);
      }
      if (candidates.empty()) {  // the healthy ones failed it: devices of the same kind may not
        for (int d : StandInsLocked(entry)) {
          if (!Tried(*request, workers[d].get())) candidates.push_back(d);
        }
      }
      if (candidates.empty()) {
        if (!request->first_error.ok()) return request->first_error;  // every device tried
        std::vector<std::string> why;
        for (int d : entry.home) {
          why.push_back(fmt::format("{} ({})", workers[d]->name(), workers[d]->down_reason()));
        }
        return UnavailableError(
            fmt::format("no device can serve model {}: every device that can run it is down: {}",
                        entry.model->name(), fmt::join(why, "; ")));
      }
      // A device serving it while its home devices are down learns the model (and its group).
      for (int d : candidates) {
        if (workers[d]->CanRun(request->model)) continue;
        std::vector<int> ids = entry.group.empty() ? std::vector<int>{request->model} : entry.group;
        std::vector<ModelPtr> group_models;
        for (int id : ids) group_models.push_back(models[id]->model);
        workers[d]->AddModels(ids, group_models, !entry.group.empty());
      }
    }
    std::vector<fleet::DispatchCandidate> loads;
    for (int d : candidates) {
      fleet::Worker::Load l = workers[d]->load(request->model);
      loads.push_back({l.depth, l.resident, l.service_seconds});
    }
    bool only_down = true;
    for (size_t i : fleet::DispatchOrder(loads, options.max_batch)) {
      last = workers[candidates[i]]->Enqueue(request, admitted);
      if (last.ok() && chosen != nullptr) *chosen = candidates[i];
      if (last.ok()) return last;
      only_down = only_down && last.code() == StatusCode::kUnavailable;
    }
    if (!only_down) return last;  // queues full
  }
  return last;
}

int Fleet::Impl::DispatchOrAnswer(RequestPtr request, bool admitted) {
  int chosen = -1;
  Status dispatched = Dispatch(request, admitted, &chosen);
  if (dispatched.ok()) return chosen;
  OnAnswer(*request, {});
  request->Answer(dispatched);
  return -1;
}

void Fleet::Impl::OnRedispatch(std::vector<RequestPtr> requests) {
  {
    std::lock_guard<std::mutex> lock(redispatch_mutex);
    for (RequestPtr& request : requests) {
      // On a virtual-time rig it arrives again at the modeled instant it was handed back.
      if (rig && !request->prepare_only && rig->Arrive(request, /*admitted=*/true)) continue;
      redispatch_queue.push_back(std::move(request));
    }
  }
  redispatch_wake.notify_one();
}

void Fleet::Impl::RedispatchLoop() {
  std::unique_lock<std::mutex> lock(redispatch_mutex);
  while (true) {
    redispatch_wake.wait(lock, [&] { return redispatch_stop || !redispatch_queue.empty(); });
    if (redispatch_queue.empty()) return;  // stopping with nothing left
    RequestPtr request = std::move(redispatch_queue.front());
    redispatch_queue.pop_front();
    lock.unlock();
    if (request->prepare_only) {
      // Its device went down before preparing: AddModel leaves it for the first request.
      request->Answer(UnavailableError("the device went down before preparing the model"));
    } else {
      DispatchOrAnswer(std::move(request), /*admitted=*/true);
    }
    lock.lock();
  }
}

}  // namespace tpufleet
