// The fleet's metrics: each worker's device counters, and each model's counters, kept per model
// so that answering a request takes no fleet-wide lock.
#include <algorithm>

#include "devices/selector.h"
#include "fleet/fleet_impl.h"

namespace tpufleet {

void Fleet::Impl::OnAnswer(const fleet::Request& request, const fleet::Outcome& outcome) {
  if (request.stats == nullptr) return;  // prepare-only
  double latency = 0;
  if (rig) {
    double finish = outcome.modeled_finish.value_or(rig->Now());
    latency = std::max(0.0, finish - request.arrival);
    rig->Answered(request, finish);
  } else {
    latency = outcome.latency_seconds.value_or(
        std::chrono::duration<double>(fleet::Clock::now() - request.submitted).count());
  }
  request.stats->RecordAnswer(outcome.ok, outcome.reloaded, outcome.reloaded_bytes, latency);
}

FleetMetrics Fleet::Metrics() const {
  FleetMetrics metrics;
  for (size_t d = 0; d < impl_->workers.size(); ++d) {
    metrics.devices.push_back(impl_->workers[d]->metrics());
  }
  const bool virtual_time = impl_->rig != nullptr;
  metrics.clock = virtual_time ? "virtual" : "wall";
  metrics.latency_clock = virtual_time ? "modeled" : "wall";
  metrics.elapsed_seconds =
      virtual_time ? impl_->rig->Now()
                   : std::chrono::duration<double>(fleet::Clock::now() - impl_->started).count();
  for (DeviceMetrics& d : metrics.devices) {
    d.busy_fraction = metrics.elapsed_seconds > 0 ? d.busy_seconds / metrics.elapsed_seconds : 0;
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (const auto& m : impl_->models) {
    if (m->removed) continue;
    fleet::ModelStats::Snapshot s = m->stats->Read();
    ModelMetrics mm;
    mm.model = m->model->name();
    for (int d : impl_->CurrentDevicesLocked(*m)) {
      mm.devices.push_back(StableDeviceString(impl_->infos[d]));
    }
    mm.requests = s.requests;
    mm.errors = s.errors;
    mm.reloads = s.reloads;
    mm.reloaded_bytes = s.reloaded_bytes;
    mm.queue_depth = s.submitted - s.requests;
    mm.p50_ms = s.latency.Quantile(0.50) * 1e3;
    mm.p95_ms = s.latency.Quantile(0.95) * 1e3;
    mm.p99_ms = s.latency.Quantile(0.99) * 1e3;
    mm.latency_sum_seconds = s.latency.sum_seconds();
    metrics.models.push_back(std::move(mm));
  }
  return metrics;
}

}  // namespace tpufleet
