// The fleet's rule for which replica takes a request, shared by the fleet's dispatch and the
// planner's replay so that the replay predicts what the fleet does.
#pragma once

#include <cstddef>
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

}  // namespace tpufleet::fleet
