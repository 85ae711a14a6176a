// A placement plan: which models share a device, co-compiled in which order, and which are
// replicated on several devices; with what the simulator's timing model predicts for it.
#pragma once

#include <string>
#include <vector>

#include "sim/timing.h"
#include "tpufleet/model.h"

namespace tpufleet::planner {

struct PlanModel {
  std::string name;  // as the user gave it: a file path or zoo:NAME
  ModelPtr model;
  double rate = 1;  // requests per second
};

struct PlanDevice {
  std::string name;  // "sim:0"
  sim::DeviceConfig hardware;
};

struct PlanInputs {
  std::vector<PlanModel> models;
  std::vector<PlanDevice> devices;
  int max_batch = 10;  // the fleet's same-model batch bound on a shared device
};

// Models placed as one: co-compiled (one caching token, on-chip memory filled in this order)
// when there are several, on every device listed (replicas; requests split between them).
struct PlanUnit {
  std::vector<int> models;   // indices into PlanInputs::models
  std::vector<int> devices;  // indices into PlanInputs::devices
};

struct Placement {
  std::vector<PlanUnit> units;  // every model in exactly one unit, every unit on a device
};

struct Prediction {
  std::vector<double> utilization;  // per device: busy share at the given rates
  // Per model: mean latency (queueing plus service) at the given rates, in milliseconds;
  // infinite when a device it uses is saturated.
  std::vector<double> latency_ms;
  std::vector<std::vector<double>> rates;  // [model][device]: requests per second sent there
  double max_utilization = 0;
  // How far every rate can grow together before a device saturates (1 / max_utilization).
  double capacity_scale() const { return max_utilization > 0 ? 1 / max_utilization : 0; }
};

// "a.tflite + b.tflite on sim:0, sim:1" for messages and tables.
std::string DescribeUnit(const PlanInputs& inputs, const PlanUnit& unit);

}  // namespace tpufleet::planner
