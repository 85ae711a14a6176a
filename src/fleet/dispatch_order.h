// The fleet's scheduling rules: which replica takes a request, which waiting request a device runs
// next, and how a device's recent speed is tracked. Shared by the fleet's dispatch and workers and
// by the planner's replay, so that the replay predicts what the fleet does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tpufleet::fleet {

struct DispatchCandidate {
  size_t waiting = 0;          // requests queued on the device
  bool resident = false;       // the request's caching token is the device's resident one
  double service_seconds = 0;  // recent time per invocation without reload; 0: not yet timed
};

// Candidate indices, the one to try first first: a device with the request's parameters resident
// and fewer than `max_batch` waiting; then the device expected to start it soonest, (waiting + 1)
// x its time per invocation, so a slow USB 2 stick gets fewer requests than a PCIe card. A device
// not yet timed counts as fast as the fastest timed one. Ties keep the candidates' order.
std::vector<size_t> DispatchOrder(const std::vector<DispatchCandidate>& candidates, int max_batch);

// Whether a request for a model with caching token `token` finds its parameters resident on a
// device whose resident token is `resident` (0 on either side: nothing to share).
inline bool IsResident(uint64_t token, uint64_t resident) {
  return token != 0 && token == resident;
}

// The request a device runs next, as an index into its waiting requests (oldest first): the first
// whose parameters are resident while fewer than `max_batch` ran back to back, else the oldest.
// `batch` is how many resident requests ran back to back so far; it becomes the pick's `batch`.
struct BatchPick {
  size_t index = 0;
  int batch = 1;
};
template <typename Waiting, typename IsResidentFn>
BatchPick PickNext(const Waiting& waiting, IsResidentFn is_resident, int batch, int max_batch) {
  if (batch < max_batch) {
    size_t i = 0;
    for (const auto& request : waiting) {
      if (is_resident(request)) return {i, batch + 1};
      ++i;
    }
  }
  return {0, 1};
}

// A device's recent time per invocation: a moving average of invocations that did not reload
// (a reload is the switch's cost, not the device's speed); 0 until the first.
inline double UpdateServiceSeconds(double average, double seconds, bool reloaded) {
  if (reloaded) return average;
  return average == 0 ? seconds : 0.8 * average + 0.2 * seconds;
}

}  // namespace tpufleet::fleet
