#include "fleet/model_stats.h"

namespace tpufleet::fleet {

void ModelStats::RecordAnswer(bool ok, bool reloaded, uint64_t reloaded_bytes, double seconds) {
  {
    std::lock_guard<std::mutex> lock(latency_mutex_);
    latency_.Record(seconds);
  }
  if (!ok) errors_.fetch_add(1, std::memory_order_relaxed);
  if (reloaded) {
    reloads_.fetch_add(1, std::memory_order_relaxed);
    reloaded_bytes_.fetch_add(reloaded_bytes, std::memory_order_relaxed);
  }
  // Last, with release: whoever sees the request counted also sees what it recorded.
  requests_.fetch_add(1, std::memory_order_release);
}

ModelStats::Snapshot ModelStats::Read() const {
  Snapshot s;
  s.requests = requests_.load(std::memory_order_acquire);
  s.submitted = submitted_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.reloads = reloads_.load(std::memory_order_relaxed);
  s.reloaded_bytes = reloaded_bytes_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(latency_mutex_);
  s.latency = latency_;
  return s;
}

}  // namespace tpufleet::fleet
