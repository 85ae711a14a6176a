// When to pipeline: one model on one simulated Edge TPU, on N replicas (each device holds the
// whole model and takes every N-th request), or cut into an N-segment pipeline (model/split.h,
// each segment on its own device), from the timing model. Pipelining wins where the model's
// parameters overflow one device's on-chip memory and stream on every invocation, while each
// segment's fit; it loses where what the segments pass each other costs more than that saves.
#pragma once

#include <string>
#include <vector>

#include "sim/compiler.h"
#include "sim/timing.h"
#include "tpufleet/model.h"

namespace tpufleet::sim {

struct Deployment {
  std::string name;  // "one device", "N replicas", "N-segment pipeline"
  double requests_per_second = 0;
  double latency_seconds = 0;  // of one request, alone
};

struct PipeliningComparison {
  enum : size_t { kOneDevice, kReplicas, kPipeline };  // the deployments, in order
  EdgeTpuProgram whole;
  InvocationTime whole_time;
  std::vector<EdgeTpuProgram> segments;
  std::vector<InvocationTime> segment_times;
  std::vector<Deployment> deployments;  // one device, replicas, pipeline
  size_t best = 0;                      // the most requests per second (earlier on a tie)
  std::string why;                      // one sentence
};

// Replicas are counted as independent (each on its own bus); the pipeline's rate is its
// slowest segment's, its latency the sum of the segments' (each segment's time includes sending
// its inputs and receiving its outputs). INVALID_ARGUMENT from SplitModel; the compiler's
// errors for a model the Edge TPU cannot take; INVALID_ARGUMENT for a device whose time_scale
// is 0.
Result<PipeliningComparison> ComparePipelining(const Model& model, int segments,
                                               const DeviceConfig& device);

}  // namespace tpufleet::sim
