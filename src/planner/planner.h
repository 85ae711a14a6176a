// The placement planner: from models with request rates and devices with links and buses, the
// placement the cost model (planner/plan_cost.h) finds best: units of co-compiled models, each on
// one or more devices.
//
// Search: hill climbing with best-improvement moves (replicate a unit on another device, drop a
// replica, move it, co-compile two units together, take a model out of its unit, move a model
// between units, reorder a co-compiled unit), started from Coral's two habits (one model per
// device in order; everything on one device), a greedy largest-load-first assignment, and every
// model on every device (separately; and co-compiled, when they can be). Plans are compared by
// latency target misses, then the busiest device's utilization, then the rate-weighted mean
// latency, then fewer replicas. The result is never worse than either habit by that order.
#pragma once

#include <string>
#include <vector>

#include "planner/plan_cost.h"

namespace tpufleet::planner {

struct PlannerOptions {
  double latency_target_ms = 0;  // 0: none; otherwise models over it count against a plan
};

struct Plan {
  Placement placement;
  Prediction prediction;
};

// Coral's habits, as baselines: model i alone on device i mod N; every model on the first device.
Placement OneModelPerDevice(const PlanInputs& inputs);
Placement EverythingOnOneDevice(const PlanInputs& inputs);

Plan MakePlan(const CostModel& cost, const PlannerOptions& options = {});

// The edgetpu_compiler command for each co-compiled unit, models in co-compile order (a zoo
// model as NAME.tflite, the file `tpufleet zoo NAME -o NAME.tflite` writes).
std::vector<std::string> CompilerCommands(const PlanInputs& inputs, const Placement& placement);

}  // namespace tpufleet::planner
