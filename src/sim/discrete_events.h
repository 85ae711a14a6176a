// How a rig of simulated devices steps through modeled time, one event at a time: shared by the
// fleet in virtual time (fleet/virtual_rig.h) and the planner's replay, so that both take the
// same events in the same order.
#pragma once

#include <cstddef>
#include <optional>
#include <tuple>
#include <vector>

namespace tpufleet::sim {

// A device as the stepping sees it: busy with an invocation until `finish`, or idle.
struct LaneState {
  bool busy = false;
  double finish = 0;
};

// Which request arrives first among those arriving at one instant: by model, then in the order
// they were submitted. (Requests of one model at one instant are alike to the timing, so the
// order of concurrent submissions leaves no trace.)
struct ArrivalKey {
  double time = 0;
  int model = 0;
  unsigned long long sequence = 0;
  bool operator<(const ArrivalKey& other) const {
    return std::tie(time, model, sequence) < std::tie(other.time, other.model, other.sequence);
  }
};

struct NextEvent {
  enum Kind { kNone, kArrival, kFinish } kind = kNone;
  size_t lane = 0;  // for kFinish
};

// The next event, given the earliest arrival not yet taken (none: nullopt): that arrival when it
// comes no later than every busy lane's finish (an arrival at the instant a device finishes is
// queued before that device takes its next request), else the busy lane finishing first, the
// lowest index among equals. A device that finishes with requests waiting takes its next one at
// once, and so does an idle device given a request, before any other event.
inline NextEvent ChooseNextEvent(std::optional<double> arrival,
                                 const std::vector<LaneState>& lanes) {
  NextEvent next;
  for (size_t d = 0; d < lanes.size(); ++d) {
    if (lanes[d].busy &&
        (next.kind == NextEvent::kNone || lanes[d].finish < lanes[next.lane].finish)) {
      next = {NextEvent::kFinish, d};
    }
  }
  if (arrival && (next.kind == NextEvent::kNone || *arrival <= lanes[next.lane].finish)) {
    next = {NextEvent::kArrival, 0};
  }
  return next;
}

}  // namespace tpufleet::sim
