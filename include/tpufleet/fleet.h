// Fleet: many models on many devices from one process.
//
// A Fleet owns one worker thread per device: invocations on a device are serialised, devices run
// in parallel. Models are placed explicitly ("model.tflite@sim:1") or automatically (each model
// on its own device while devices last, as Coral's old Edge TPU API did; then shared, grouped by
// caching token), optionally replicated. Requests go to the replica whose parameters are resident
// when one is free, else the least loaded; a worker batches same-model requests to avoid reloads.
// A device that fails is marked down and its queued and failed requests retried elsewhere;
// every request is answered exactly once. All methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet {

using TensorList = std::vector<std::vector<uint8_t>>;

struct InferenceResult {
  TensorList outputs;
  std::string device;         // "sim:0", "cpu"
  double device_seconds = 0;  // modeled (simulator) or measured (CPU) device time
  bool timing_only = false;   // the simulator could not compute real outputs
  int attempts = 1;           // more than 1 when a device failed and another served it
};

struct FleetOptions {
  // Devices to use, as device strings: "sim:N" (from the simulated rig) and "cpu".
  std::vector<std::string> devices = {"sim:0", "sim:1"};
  std::string sim_topology_json;  // empty: the default rig (two USB 3 sticks, separate buses)
  bool real_time = false;         // simulated devices wait their modeled time (else virtual time)
  bool sim_outputs = true;        // simulated devices compute real outputs on the CPU when they can
  size_t queue_capacity = 256;    // per device; Submit fails with RESOURCE_EXHAUSTED beyond it
  bool strict = false;            // more auto-placed models than devices is an error
  int max_batch = 10;             // same-model requests a shared device runs back to back
};

struct DeviceMetrics {
  std::string device;
  bool healthy = true;
  uint64_t requests = 0, errors = 0, reloads = 0, reloaded_bytes = 0;
  double busy_seconds = 0;
  size_t queue_depth = 0;
};

struct ModelMetrics {
  std::string model;
  uint64_t requests = 0, errors = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // submit to answer
};

struct FleetMetrics {
  std::vector<DeviceMetrics> devices;
  std::vector<ModelMetrics> models;
};

class Fleet {
 public:
  static Result<std::unique_ptr<Fleet>> Create(const FleetOptions& options);
  ~Fleet();  // answers what is queued, then stops the workers

  // Adds a model on the devices `selectors` name (each one device string); none: automatic
  // placement. Returns the model's id for Submit.
  Result<int> AddModel(ModelPtr model, const std::vector<std::string>& selectors = {});
  // "path/model.tflite" or "path/model.tflite@sim:1".
  Result<int> AddModel(const std::string& spec);

  // Queues one inference. The future always gets an answer: outputs, or the reason none came.
  std::future<Result<InferenceResult>> Submit(
      int model, TensorList inputs,
      std::optional<std::chrono::steady_clock::time_point> deadline = {});
  Result<InferenceResult> Run(int model, TensorList inputs);

  // Device names in order, and where each model is placed.
  std::vector<std::string> device_names() const;
  std::vector<std::string> placement(int model) const;
  FleetMetrics Metrics() const;

  struct Impl;

 private:
  explicit Fleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpufleet
