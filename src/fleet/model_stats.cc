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
  // Last (a release, and sequentially consistent): whoever sees the request counted also sees
  // what it recorded; and either WaitAnswered sees this count, or this sees it waiting.
  requests_.fetch_add(1, std::memory_order_seq_cst);
  if (awaited_.load(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> lock(latency_mutex_);
    answered_.notify_all();
  }
}

void ModelStats::WaitAnswered() {
  awaited_.store(true, std::memory_order_seq_cst);
  std::unique_lock<std::mutex> lock(latency_mutex_);
  answered_.wait(lock, [&] {
    return requests_.load(std::memory_order_seq_cst) >= submitted_.load(std::memory_order_seq_cst);
  });
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
