// Fleet: many models on many devices from one process.
//
// A Fleet owns one worker thread per device: invocations on a device are serialised, devices run
// in parallel. Models are placed explicitly ("model.tflite@sim:1") or automatically (each model
// on its own device while devices last, as Coral's old Edge TPU API did; then shared, grouped by
// caching token), optionally replicated. Requests go to the replica whose parameters are resident
// when one is free, else the one expected to start them soonest; a worker batches same-model
// requests to avoid reloads. A request's own error (wrong inputs, a model a device cannot run) is
// answered and leaves the device up. A device that is gone, hangs, keeps missing deadlines or
// keeps failing what other devices serve is marked down, its queued requests served by the
// other devices of the model (or, while all are down, devices of the same kind), and reopened
// once a probe finds it back. Every request is answered exactly once. Inputs can be prepared
// (decoded, resized) on the fleet's own CPU threads. All methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
  // Devices to use, as device strings: Edge TPUs (":N", "usb:N", "pci:N" in libedgetpu's order
  // as in Coral, "#N", "usb#N", "pci#N" in the stable one, "usb@2-1.3", "pci@apex_0"), "sim:N"
  // (from the simulated rig) and "cpu".
  std::vector<std::string> devices = {"sim:0", "sim:1"};
  std::string sim_topology_json;  // empty: the default rig (two USB 3 sticks, separate buses)
  bool real_time = false;         // simulated devices wait their modeled time (else virtual time)
  bool sim_outputs = true;        // simulated devices compute real outputs on the CPU when they can
  size_t queue_capacity = 256;    // per device; Submit fails with RESOURCE_EXHAUSTED beyond it
  bool strict = false;            // more auto-placed models than devices is an error
  int max_batch = 10;             // same-model requests a shared device runs back to back
  int preparation_threads = 0;    // CPU threads decoding and resizing inputs; 0: one per core
  int cpu_threads = 1;            // threads of the "cpu" device's interpreters
  // An invocation with no answer after this long (wall time, or modeled time on a virtual
  // clock) means the device hung: it is interrupted and marked down. 0: never.
  double invocation_timeout_seconds = 10;
  // A device that finishes this many requests in a row after their deadlines is marked down.
  int max_deadline_misses = 3;
  // A request that fails on a device the error leaves standing (its probe passes) is tried on
  // another device at most this many more times, then answered with its first error. A request's
  // own errors (wrong inputs, a model the device cannot run) are answered at once.
  int max_retries = 2;
  // A device whose requests fail this many times in a row while other devices then serve them
  // is marked down. 0: never.
  int max_failures_served_elsewhere = 3;
  // A device marked down is probed after this long, then at doubling intervals (up to 64x).
  std::chrono::milliseconds probe_interval{50};
  // Real Edge TPUs: delegate options (Performance=Low|Medium|High|Max, Usb.AlwaysDfu=True|False,
  // Usb.MaxBulkInQueueLength=0..256), checked before the runtime sees them.
  std::vector<std::pair<std::string, std::string>> edgetpu_options;
  // Run each real Edge TPU in a child process (tpufleet-device-host), so an abort or hang inside
  // libedgetpu takes down only that device, which then fails over and rejoins when it recovers.
  bool isolate = false;
  std::string device_host;  // the child's executable; empty: $TPUFLEET_DEVICE_HOST, else beside
                            // the running executable
  // Workers and Run poll for about 50 us before sleeping: a quicker round trip on an idle
  // machine, for up to that much CPU time per idle gap.
  bool spin_wait = false;
};

struct DeviceMetrics {
  std::string device;
  bool healthy = true;
  std::string down_reason;  // why it last went down; empty if it never did
  uint64_t requests = 0, errors = 0, reloads = 0, reloaded_bytes = 0;
  uint64_t failures = 0, rejoins = 0;  // times marked down, times back after a probe
  uint64_t flaps = 0;        // failures soon after a rejoin, before the device was stable again
  double busy_seconds = 0;   // device time spent invoking
  double busy_fraction = 0;  // busy_seconds / FleetMetrics::elapsed_seconds
  size_t queue_depth = 0;    // waiting now
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // submit to answer, requests this device answered
  double latency_sum_seconds = 0;             // of those latencies (their count is `requests`)
};

struct ModelMetrics {
  std::string model;
  std::vector<std::string> devices;  // placement now
  uint64_t requests = 0, errors = 0, reloads = 0, reloaded_bytes = 0;
  size_t queue_depth = 0;                     // submitted and not yet answered
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // submit to answer
  double latency_sum_seconds = 0;             // of those latencies (their count is `requests`)
};

struct FleetMetrics {
  // "wall" or "virtual". Latencies are always wall time. Device times (busy_seconds, the
  // fraction, InferenceResult::device_seconds) are measured on real devices and modeled on
  // simulated ones; in virtual time elapsed_seconds is modeled too.
  std::string clock = "wall";
  // Wall time since the fleet started; in virtual time, the longest device timeline.
  double elapsed_seconds = 0;
  std::vector<DeviceMetrics> devices;
  std::vector<ModelMetrics> models;
};

// The metrics as JSON (an object with "elapsed_seconds", "devices" and "models"), and in
// Prometheus' text exposition format (metric names prefixed tpufleet_, labels device and model).
std::string MetricsJson(const FleetMetrics& metrics);
std::string MetricsPrometheus(const FleetMetrics& metrics);

// Turns a model's inputs from whatever the caller has (an image file, say) into tensors. Runs on
// the fleet's preparation threads, never on a device worker.
using Preparation = std::function<Result<TensorList>(const Model& model)>;

class Fleet {
 public:
  static Result<std::unique_ptr<Fleet>> Create(const FleetOptions& options);
  ~Fleet();  // answers what is queued, then stops the workers

  // Adds a model on the devices `selectors` name (each one device string); none: automatic
  // placement. Returns the model's id for Submit.
  Result<int> AddModel(ModelPtr model, const std::vector<std::string>& selectors = {});
  // "path/model.tflite" or "path/model.tflite@sim:1".
  Result<int> AddModel(const std::string& spec);
  // Adds models co-compiled for the devices `selectors` name (none: automatic placement, the
  // group counting as one model): they share one caching token, the on-chip memory filled in
  // the order given, so switching between them reloads nothing while they fit. Returns their ids.
  Result<std::vector<int>> AddCoCompiled(std::vector<ModelPtr> models,
                                         const std::vector<std::string>& selectors = {});

  // Queues one inference. The future always gets an answer: outputs, or the reason none came.
  std::future<Result<InferenceResult>> Submit(
      int model, TensorList inputs,
      std::optional<std::chrono::steady_clock::time_point> deadline = {});
  // Queues `prepare` on the preparation threads; its tensors are then submitted as above.
  std::future<Result<InferenceResult>> Submit(
      int model, Preparation prepare,
      std::optional<std::chrono::steady_clock::time_point> deadline = {});
  // Decodes a BMP, JPEG or PNG file and resizes it (bilinear) to the model's one NHWC input, on
  // the preparation threads. uint8 inputs take the pixels, int8 inputs pixel - 128, float32
  // inputs (pixel - 127.5) / 127.5.
  std::future<Result<InferenceResult>> SubmitImage(
      int model, std::string image_path,
      std::optional<std::chrono::steady_clock::time_point> deadline = {});
  Result<InferenceResult> Run(int model, TensorList inputs);

  // Device names in order, and where each model's requests go now: its placement, or while
  // every device of it is down, the devices of the same kind standing in (empty for an unknown id).
  std::vector<std::string> device_names() const;
  std::vector<std::string> placement(int model) const;
  FleetMetrics Metrics() const;

  struct Impl;

 private:
  explicit Fleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpufleet
