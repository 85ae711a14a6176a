// The planner's cost model: what a placement costs each device, from the simulator's compiler
// stand-in and timing model.
//
// Per device: each unit's models run with the unit's programs (co-compiled together when the
// unit has several); switching between units of different caching tokens reloads the incoming
// unit's cached parameters, expected on a request of unit u with probability 1 - (u's share of
// the device's requests) at light load, divided by 1 + (max_batch - 1) x utilization^2 as the
// fleet's same-model batches grow with the queue (fitted by eye to replays, not derived). Devices
// on one bus
// share its bandwidth: a device's transfers slow by 1 + the utilization of the others on the bus
// (iterated to a fixed point). Latency is M/G/1: queueing from the device's load and service-time
// spread, plus the request's own service.
#pragma once

#include <map>

#include "planner/plan.h"
#include "sim/compiler.h"
#include "tpufleet/status.h"

namespace tpufleet::planner {

class CostModel {
 public:
  // Compiles every model once per distinct on-chip memory size among the devices.
  static Result<CostModel> Create(const PlanInputs& inputs);

  // Every model in exactly one unit and each unit on at least one device; else an error.
  Status Check(const Placement& placement) const;
  Prediction Predict(const Placement& placement) const;

  // The programs of a unit's models on device `device`, co-compiled when the unit has several.
  std::vector<sim::EdgeTpuProgram> UnitPrograms(const PlanUnit& unit, int device) const;
  // Whether the models can be co-compiled by tpufleet (uncompiled, all of them).
  bool CanCoCompile(const std::vector<int>& models) const;
  const PlanInputs& inputs() const { return inputs_; }

 private:
  explicit CostModel(const PlanInputs& inputs) : inputs_(inputs) {}
  PlanInputs inputs_;
  std::map<std::pair<int, uint64_t>, sim::EdgeTpuProgram> programs_;  // (model, sram) -> program
};

}  // namespace tpufleet::planner
