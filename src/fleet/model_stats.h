// A model's request counters and latency histogram, updated by whichever thread answers one of
// its requests without taking any fleet-wide lock. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "fleet/latency_histogram.h"

namespace tpufleet::fleet {

class ModelStats {
 public:
  void CountSubmitted() { submitted_.fetch_add(1, std::memory_order_relaxed); }
  // One answered request: submit to answer took `seconds`.
  void RecordAnswer(bool ok, bool reloaded, uint64_t reloaded_bytes, double seconds);

  struct Snapshot {
    uint64_t submitted = 0, requests = 0, errors = 0, reloads = 0, reloaded_bytes = 0;
    LatencyHistogram latency;
  };
  Snapshot Read() const;
  // Blocks until every request counted as submitted is answered. The caller makes sure no more
  // are submitted.
  void WaitAnswered();

 private:
  std::atomic<uint64_t> submitted_{0}, requests_{0}, errors_{0}, reloads_{0}, reloaded_bytes_{0};
  mutable std::mutex latency_mutex_;  // this model's answers only
  LatencyHistogram latency_;
  std::atomic<bool> awaited_{false};  // WaitAnswered sleeps on `answered_` (with latency_mutex_)
  std::condition_variable answered_;
};

}  // namespace tpufleet::fleet
