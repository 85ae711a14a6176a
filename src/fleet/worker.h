// One worker thread per device: it owns the device and the programs prepared on it, runs queued
// requests one at a time, and prefers requests whose parameters are resident (same caching
// token), up to a batch bound, so a shared device does not reload at every switch.
//
// Health. A request's own error (bad inputs, a model the device cannot prepare) is answered and
// says nothing about the device. A device is marked down when it is gone or stuck: a call past
// the invocation timeout (the watchdog interrupts it), a hang it reports itself, an error after
// which a probe fails, invocations that overrun the device's own expected time for their model
// (`max_deadline_misses` in a row), or invocations that keep failing while the same requests
// succeed elsewhere. A client's deadline never counts against the device. An error the device
// survives (its probe passes) sends the request elsewhere, at most `max_retries` more times; then
// it is answered with its first error. A device that goes down drops its programs and hands its
// queue to the fleet; it is probed at doubling intervals, reopened, and prepares again after it
// rejoins. A device that fails again before it has served a few requests since rejoining flaps: its
// probes back off further.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "backends/device.h"
#include "fleet/latency_histogram.h"
#include "fleet/request.h"
#include "fleet/virtual_rig.h"

namespace tpufleet::fleet {

struct WorkerOptions {
  size_t queue_capacity = 256;
  int max_batch = 10;
  double invocation_timeout_seconds = 10;  // 0: no timeout
  int max_deadline_misses = 3;  // invocations in a row over the device's own expected time
  int max_retries = 2;
  int max_failures_served_elsewhere = 3;
  std::chrono::milliseconds probe_interval{50};
  bool spin_wait = false;  // poll briefly for work before sleeping
};

class Worker {
 public:
  // Called on the worker thread, without the worker's lock: requests to serve elsewhere (the
  // queue of a device that went down, or a request to retry on another device).
  using RedispatchHandler = std::function<void(std::vector<RequestPtr> requests)>;
  // Called on the worker thread just before a request is answered (for metrics).
  using AnswerHandler = std::function<void(const Request& request, const Outcome& outcome)>;

  // With a virtual-time `rig` (else null), the device is the rig's lane `lane`: it runs one
  // request per turn the rig gives it.
  Worker(std::unique_ptr<backends::Device> device, const WorkerOptions& options,
         RedispatchHandler redispatch, AnswerHandler on_answer, VirtualRig* rig = nullptr,
         size_t lane = 0);
  ~Worker();  // Stop()
  // Answers everything queued, then joins the thread. Later Enqueue calls fail.
  void Stop();

  const std::string& name() const { return name_; }
  // Registers models this worker may run. Models added together as a group are prepared together
  // (co-compiled) on first use of any of them.
  void AddModels(const std::vector<int>& ids, const std::vector<ModelPtr>& models, bool group);
  bool CanRun(int id) const;
  // Forgets models (RemoveModel's, once their programs are released or the device went down and
  // dropped them): what they were, their groups, caching tokens and expected times.
  void ForgetModels(const std::vector<int>& ids);

  // Queues `request`; on failure (device down or stopping; a full queue unless `admitted`, which
  // marks a request the fleet already accepted and must serve) leaves it with the caller.
  Status Enqueue(RequestPtr& request, bool admitted = false);
  bool healthy() const;
  std::string down_reason() const;
  // What dispatch weighs for a request for `model`, read under one lock.
  struct Load {
    size_t depth = 0;            // requests waiting
    bool resident = false;       // the model's parameters are on the device
    double service_seconds = 0;  // recent time per invocation without a reload; 0 before the first
  };
  Load load(int model) const;
  DeviceMetrics metrics() const;  // busy_fraction left to the fleet
  // For the watchdog thread: interrupts a device call running longer than the timeout.
  void CheckTimeout(Clock::time_point now);
  // Thread-safe: a request this device failed was then served by another device. Enough of these
  // in a row (no success of its own between) take the device down.
  void FailedWhatAnotherServed();

 private:
  void Loop();
  // Polls for a new request for a short while (lock released meanwhile) before the caller sleeps.
  void SpinForWork(std::unique_lock<std::mutex>& lock);
  void ProbeLocked(std::unique_lock<std::mutex>& lock);
  RequestPtr PickLocked();
  // A prepare-only request waiting, taken from the queue first (not on the rig's clock); null:
  // none.
  RequestPtr TakePrepareLocked();
  // Serves the request PickLocked() chooses, within a turn of the rig when there is one.
  void ServeNextLocked(std::unique_lock<std::mutex>& lock);
  // The caching token `model` was prepared with here; 0 before it is prepared.
  uint64_t TokenLocked(int model) const;
  void Serve(RequestPtr request);
  // After the device call: the request's own error, a retry elsewhere, or the device down.
  void ServeFailure(RequestPtr request, const Status& failure, bool timed_out);
  // After the device answered: metrics, the device's time judged, the deadline check, the answer.
  void ServeSuccess(RequestPtr request, backends::RunResult run);
  // Why an invocation of `model` that took `seconds` takes the device down (a modeled hang past
  // the invocation timeout, or one overrun too many of its expected time); empty: it does not.
  std::string JudgeInvocationTime(int model, double seconds, bool reloaded);
  void ServePrepare(RequestPtr request);
  Result<backends::Program*> ProgramFor(int model);
  // Runs one blocking device call under the watchdog; `timed_out` says whether it interrupted.
  template <typename Call>
  auto Guarded(Call call, bool& timed_out);
  // After a failed call: the device is down (returns the reason) or it survived (empty).
  std::string DiagnoseFailure(const Status& failure, bool timed_out);
  void Answer(RequestPtr request, Result<InferenceResult> result, const Outcome& outcome);
  // The request failed here but the device survived: elsewhere, or answered past the retries.
  void RetryElsewhere(RequestPtr request, const Status& failure);
  // Marks the device down and hands `failed` (may be null) and the queue to the fleet.
  void GoDown(const std::string& why, RequestPtr failed);
  void RecordSuccess();

  const std::string name_;
  std::unique_ptr<backends::Device> device_;  // calls on the worker thread; Interrupt from any
  const WorkerOptions options_;
  RedispatchHandler redispatch_;
  AnswerHandler on_answer_;
  VirtualRig* const rig_;
  const size_t lane_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<RequestPtr> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), readable without the lock
  static constexpr std::chrono::microseconds kSpin{50};
  // Successful requests after a rejoin before the device counts as stable again (its probe
  // interval back to the shortest, a failure no longer a flap).
  static constexpr int kRunsToStable = 8;
  std::map<int, ModelPtr> models_;
  std::map<int, std::vector<int>> groups_;                      // id -> every id of its group
  std::map<int, std::unique_ptr<backends::Program>> programs_;  // worker thread only
  std::map<int, uint64_t> tokens_;  // caching token of each prepared model (0: none)
  bool stopping_ = false;
  bool healthy_ = true;
  std::string down_reason_;
  std::string demote_reason_;  // set by FailedWhatAnotherServed; the worker then goes down
  uint64_t resident_token_ = 0;
  int batch_ = 0;
  // Each model's usual time per invocation here (without a reload), and the invocations in a
  // row that overran theirs.
  std::map<int, double> expected_seconds_;
  int overruns_ = 0;
  int failed_elsewhere_ = 0;    // requests failed here and served elsewhere, in a row
  int runs_since_rejoin_ = -1;  // -1: stable
  double service_seconds_ = 0;
  std::chrono::milliseconds probe_interval_;
  Clock::time_point next_probe_;
  std::optional<Clock::time_point> call_started_;  // a device call in progress
  bool timed_out_ = false;                         // the watchdog interrupted the call in progress
  DeviceMetrics metrics_;
  LatencyHistogram latency_;
  std::thread thread_;
};

}  // namespace tpufleet::fleet
