// The fleet's internals, shared by its files: fleet.cc (lifecycle, submission), placement.cc
// (where models go), dispatch.cc (which device takes a request, failover), fleet_metrics.cc.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_pool.h"
#include "fleet/device_factory.h"
#include "fleet/model_stats.h"
#include "fleet/request.h"
#include "fleet/virtual_rig.h"
#include "fleet/worker.h"
#include "tpufleet/fleet.h"

namespace tpufleet {

struct ModelEntry {
  ModelPtr model;
  uint64_t token = 0;      // caching token from its Edge TPU package (0: none)
  std::vector<int> group;  // ids of its co-compiled group, itself included; empty: alone
  std::vector<int> home;   // its placement: worker indices, kept while devices fail
  Status unusable;  // set when a device could not prepare it: AddModel failed, never dispatched
  // RemoveModel, or AddModel failed: no new request; `model` and `home` cleared once released.
  bool removed = false;
  std::unique_ptr<fleet::ModelStats> stats = std::make_unique<fleet::ModelStats>();

  // Models placed as one unit (co-compiled: one caching token, or one group) share this key.
  uint64_t unit(size_t id) const {
    if (token != 0) return token;
    return (uint64_t{1} << 63) | (group.empty() ? id : static_cast<size_t>(group[0]));
  }
};

struct Fleet::Impl {
  FleetOptions options;
  std::unique_ptr<fleet::DeviceFactory> factory;  // what device strings can name
  fleet::Clock::time_point started = fleet::Clock::now();
  std::vector<DeviceInfo> infos;
  std::vector<std::unique_ptr<fleet::Worker>> workers;
  std::unique_ptr<ThreadPool> preparation;
  // A rig of simulated devices in virtual time: one discrete-event clock (null otherwise).
  std::shared_ptr<fleet::VirtualRig> rig;

  mutable std::mutex mutex;  // models (the vector and each entry's placement), closing
  std::vector<std::unique_ptr<ModelEntry>> models;
  bool closing = false;  // set by ~Fleet: failed-over requests are answered, not re-queued

  // Requests a worker handed back (its device went down, or a retry): dispatched again on the
  // fleet's own thread, never on the failing worker's.
  std::thread redispatcher;
  std::mutex redispatch_mutex;
  std::condition_variable redispatch_wake;
  std::deque<fleet::RequestPtr> redispatch_queue;
  bool redispatch_stop = false;

  std::thread watchdog;
  std::mutex watchdog_mutex;
  std::condition_variable watchdog_wake;
  bool watchdog_stop = false;

  // placement.cc
  Result<std::vector<int>> Place(const std::string& name, uint64_t token,
                                 const std::vector<std::string>& selectors) const;
  Result<std::vector<int>> Add(std::vector<ModelPtr> models,
                               const std::vector<std::string>& selectors, bool group);

  // dispatch.cc
  // Queues `request` on a device that can run its model; `admitted` requests (handed back by a
  // worker) are queued even past a full queue.
  // `chosen` (optional) gets the index of the worker that queued it.
  Status Dispatch(fleet::RequestPtr& request, bool admitted, int* chosen = nullptr);
  // Dispatches, or answers with the reason no device took the request. Returns the index of
  // the worker that queued it, or -1.
  int DispatchOrAnswer(fleet::RequestPtr request, bool admitted);
  // Where a submitted request goes: to its device now, or on a virtual-time rig, into the
  // rig's arrivals (stamped at `at`, else the submitting thread's modeled time).
  std::future<Result<InferenceResult>> Admit(fleet::RequestPtr request,
                                             std::future<Result<InferenceResult>> answer,
                                             std::optional<double> at);
  // Where requests for `entry` go now: its healthy home devices, else (failover) the healthy
  // devices of the same kind; its home devices when none is healthy.
  std::vector<int> CurrentDevicesLocked(const ModelEntry& entry) const;
  // Healthy devices outside `entry`'s placement that can stand in for it (the same kind).
  std::vector<int> StandInsLocked(const ModelEntry& entry) const;
  void OnRedispatch(std::vector<fleet::RequestPtr> requests);
  void RedispatchLoop();

  // fleet_metrics.cc
  void OnAnswer(const fleet::Request& request, const fleet::Outcome& outcome);

  // removal.cc
  // Drops the programs of `ids` (a model, or a whole co-compiled group) on every device.
  void ReleaseOnDevices(const std::vector<int>& ids);

  // fleet.cc
  void WatchTimeouts();
  // Counts `request` (its model, deadline and receiver set) as submitted; false, and the request
  // answered, for an unknown or removed model.
  bool Accept(fleet::Request& request);
};

// INVALID_ARGUMENT for an id the fleet never gave; NOT_FOUND for a model RemoveModel removed.
Status UnknownModelError(int model, size_t models);
Status RemovedModelError(int model);

}  // namespace tpufleet
