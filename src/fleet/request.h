// One inference request on its way through the fleet. Whoever answers it (a worker, or the fleet
// when no device can take it) calls Answer exactly once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <optional>
#include <vector>

#include "fleet/model_stats.h"
#include "tpufleet/fleet.h"

namespace tpufleet::fleet {

using Clock = std::chrono::steady_clock;

class Worker;

// What a waiter on a virtual-time rig learns of its request: its answer's modeled time (-1:
// not answered yet), and where it sleeps meanwhile. Guarded by the rig's lock; `look` is also
// read without it, by a waiter polling (set whenever the waiter is woken).
struct RigTicket {
  double finish = -1;
  std::condition_variable wake;
  std::atomic<bool> look{false};
};

struct Request {
  int model = 0;
  TensorList inputs;
  std::optional<Clock::time_point> deadline;
  Clock::time_point submitted = Clock::now();
  ModelStats* stats = nullptr;  // the model's counters; null for prepare-only requests
  int attempts = 0;             // devices that tried it
  // Workers it failed on with an error the device survived (kept to tell them, should another
  // device serve it, that they failed what others could do), and the first such error: what the
  // request is answered with once its retries are used up.
  std::vector<Worker*> failed_on;
  Status first_error;
  // Only prepare the model's program (compile, load, check): answered with no outputs and not
  // counted in metrics. Lets AddModel report a model a device cannot run at once.
  bool prepare_only = false;
  // Only drop the programs of these models (RemoveModel), on the worker's thread; answered like a
  // prepare-only request. Set together with prepare_only, so it is taken first the same way.
  std::vector<int> release;
  // On a virtual-time rig (fleet/virtual_rig.h): the modeled arrival, the place among arrivals
  // at one instant, and what the waiter is told.
  double arrival = 0;
  unsigned long long sequence = 0;
  std::shared_ptr<RigTicket> ticket;
  // Where the answer goes: `completion` when it is set (Submit's callback form), else `promise`.
  Fleet::Completion completion;
  std::promise<Result<InferenceResult>> promise;

  void Answer(Result<InferenceResult> result) {
    if (completion) {
      completion(std::move(result));
    } else {
      promise.set_value(std::move(result));
    }
  }
};

using RequestPtr = std::unique_ptr<Request>;

// What a worker reports of each answered request, for metrics.
struct Outcome {
  bool ok = false;
  bool reloaded = false;  // the device loaded the model's parameters first
  uint64_t reloaded_bytes = 0;
  // Submit to answer, in seconds: modeled on a virtual-time rig, else wall time.
  std::optional<double> latency_seconds;
  std::optional<double> modeled_finish;  // on a virtual-time rig: when the answer came
};

}  // namespace tpufleet::fleet
