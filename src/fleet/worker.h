// One worker thread per device: it owns the device and the programs prepared on it, runs queued
// requests one at a time, and prefers requests whose parameters are resident (same caching
// token), up to a batch bound, so a shared device does not reload at every switch.
//
// Health: a run that fails with UNAVAILABLE or DEADLINE_EXCEEDED, an invocation over the timeout
// (the watchdog interrupts it), or too many deadline misses in a row mark the device down. The
// request that failed and everything queued go back to the fleet; the worker then probes the
// device at doubling intervals and takes requests again once a probe succeeds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "backends/device.h"
#include "fleet/latency_histogram.h"
#include "fleet/request.h"

namespace tpufleet::fleet {

struct WorkerOptions {
  size_t queue_capacity = 256;
  int max_batch = 10;
  double invocation_timeout_seconds = 10;  // 0: no timeout
  int max_deadline_misses = 3;
  std::chrono::milliseconds probe_interval{50};
};

class Worker {
 public:
  // Called on the worker thread, without the worker's lock, when its device went down: the
  // request that failed (if one did) and every queued one, to be served elsewhere.
  using FailureHandler = std::function<void(std::vector<RequestPtr> orphans)>;
  // Called on the worker thread just before a request's promise is set (for metrics).
  using AnswerHandler = std::function<void(const Request& request, const Outcome& outcome)>;

  Worker(std::unique_ptr<backends::Device> device, const WorkerOptions& options,
         FailureHandler on_failure, AnswerHandler on_answer);
  ~Worker();  // Stop()
  // Answers everything queued, then joins the thread. Later Enqueue calls fail.
  void Stop();

  const std::string& name() const { return name_; }
  // Registers models this worker may run with their caching token (0: none). Models added
  // together as a group are prepared together (co-compiled) on first use of any of them.
  void AddModels(const std::vector<int>& ids, const std::vector<ModelPtr>& models, uint64_t token,
                 bool group);
  bool CanRun(int id) const;

  // Queues `request`; on failure (full queue, device down) leaves it with the caller.
  Status Enqueue(RequestPtr& request);
  bool healthy() const;
  std::string down_reason() const;
  // What dispatch weighs, read under one lock.
  struct Load {
    size_t depth = 0;             // requests waiting
    uint64_t resident_token = 0;  // caching token whose parameters are on the device
    double service_seconds = 0;   // moving average of recent invocations without a reload;
                                  // 0 before the first
  };
  Load load() const;
  DeviceMetrics metrics() const;  // busy_fraction left to the fleet
  // For the watchdog thread: interrupts an invocation running longer than the timeout.
  void CheckTimeout(Clock::time_point now);

 private:
  void Loop();
  // Polls for a new request for a short while (lock released meanwhile) before the caller sleeps.
  void SpinForWork(std::unique_lock<std::mutex>& lock);
  void ProbeLocked(std::unique_lock<std::mutex>& lock);
  RequestPtr PickLocked();
  void Serve(RequestPtr request);
  Result<backends::Program*> ProgramFor(int model);
  void Answer(RequestPtr request, Result<InferenceResult> result, const Outcome& outcome);
  // Marks the device down and hands `failed` (may be null) and the queue to the fleet.
  void GoDown(const std::string& why, RequestPtr failed);

  std::string name_;
  std::unique_ptr<backends::Device> device_;  // runs on the worker thread; Interrupt from any
  const WorkerOptions options_;
  FailureHandler on_failure_;
  AnswerHandler on_answer_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<RequestPtr> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), readable without the lock
  static constexpr std::chrono::microseconds kSpin{50};
  std::map<int, ModelPtr> models_;
  std::map<int, uint64_t> tokens_;
  std::map<int, std::vector<int>> groups_;                      // id -> every id of its group
  std::map<int, std::unique_ptr<backends::Program>> programs_;  // worker thread only
  bool stopping_ = false;
  bool healthy_ = true;
  std::string down_reason_;
  uint64_t resident_token_ = 0;
  int last_model_ = -1;
  int batch_ = 0;
  int deadline_misses_ = 0;     // in a row
  double service_seconds_ = 0;  // moving average of device time per invocation without reload
  std::chrono::milliseconds probe_interval_;
  Clock::time_point next_probe_;
  std::optional<Clock::time_point> running_since_;
  bool timed_out_ = false;  // the watchdog interrupted the invocation in progress
  DeviceMetrics metrics_;
  LatencyHistogram latency_;
  std::thread thread_;
};

}  // namespace tpufleet::fleet
