// Replaying a request trace against a placement in virtual time: a discrete-event simulation of
// the fleet's dispatch (resident parameters first, then the shortest queue), its workers'
// same-model batching, and the simulator's timing model with reloads and shared buses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "planner/plan_cost.h"
#include "tpufleet/status.h"

namespace tpufleet::planner {

struct TraceRequest {
  double time = 0;  // seconds from the start of the trace
  int model = 0;    // index into PlanInputs::models
};

// CSV lines "time,model" (a header line "time,model" is allowed; blank lines and lines starting
// with # are skipped). A model is named as given to the planner, by file name, or by index.
// Errors give the line number and what was expected.
Result<std::vector<TraceRequest>> ParseTrace(const std::string& csv, const PlanInputs& inputs);

// Poisson arrivals at each model's rate times `scale`, for `seconds`; the same for the same seed.
std::vector<TraceRequest> PoissonTrace(const PlanInputs& inputs, double seconds, double scale,
                                       uint64_t seed);

struct ReplayResult {
  size_t requests = 0;
  double makespan = 0;  // from time 0 to the last answer, seconds
  double throughput() const { return makespan > 0 ? requests / makespan : 0; }
  double p50_ms = 0, p99_ms = 0;  // arrival to answer
  uint64_t reloads = 0;
  std::vector<double> device_busy_seconds;
  std::vector<size_t> device_requests;
  std::vector<uint64_t> device_reloads;
  std::vector<size_t> model_requests;
};

// `placement` must pass cost.Check().
ReplayResult Replay(const CostModel& cost, const Placement& placement,
                    const std::vector<TraceRequest>& trace);

}  // namespace tpufleet::planner
