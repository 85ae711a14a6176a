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
// (decoded, resized) on the fleet's own CPU threads.
//
// Thread-safety: all methods of Fleet may be called from any thread at once. Destroying the
// fleet while another thread still calls it is a programming error; futures it returned stay
// valid after it is gone (they are all answered by then).
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
#include "tpufleet/options.h"
#include "tpufleet/status.h"

namespace tpufleet {

using TensorList = std::vector<std::vector<uint8_t>>;

// One answer: owned by the caller, plain values.
struct InferenceResult {
  TensorList outputs;         // raw bytes of each output, in output order, in the model's layout
  std::string device;         // the device that ran it: "sim:0", "cpu", "usb@2-1.3"
  double device_seconds = 0;  // modeled (simulator) or measured (CPU, Edge TPU) device time
  // Outputs are zero-filled: a simulated device could only time the model. Only ever true when
  // the caller opted in (DeviceOptions::allow_timing_only, or sim_outputs off).
  bool timing_only = false;
  int attempts = 1;  // more than 1 when a device failed and another served it
};

// Options of a fleet: how its devices are opened (DeviceOptions, shared with MakeInterpreter)
// and what only a fleet has.
struct FleetOptions : DeviceOptions {
  // Devices to use, as device strings: Edge TPUs (":N", "usb:N", "pci:N" in libedgetpu's order
  // as in Coral, "#N", "usb#N", "pci#N" in the stable one, "usb@2-1.3", "pci@apex_0"), "sim:N"
  // (from the simulated rig) and "cpu". Empty: every Edge TPU on this machine (Create fails with
  // NOT_FOUND when there is none); simulated devices and the CPU are used only when named.
  std::vector<std::string> devices;
  size_t queue_capacity = 256;  // per device; Submit fails with RESOURCE_EXHAUSTED beyond it
  bool strict = false;          // more auto-placed models than devices is an error
  int max_batch = 10;           // same-model requests a shared device runs back to back
  int preparation_threads = 0;  // CPU threads decoding and resizing inputs; 0: one per core
  // An invocation with no answer after this long (wall time, or modeled time on a virtual
  // clock) means the device hung: it is interrupted and marked down. 0: never.
  double invocation_timeout_seconds = 10;
  // A device whose invocations overrun its own expected time this many times in a row (each
  // more than 4x its usual time for that model, and 10 ms more) is marked down; the CPU, whose
  // time is the host's load, never is. Requests' deadlines are the clients': one answered after
  // its deadline gets DEADLINE_EXCEEDED and never counts against the device. 0: never.
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
  // "wall", or "virtual" for a fleet of simulated devices in virtual time, which runs as one
  // discrete-event simulation on its rig's clock: there every figure is modeled (the same
  // requests give the same figures bit for bit), latencies included, from each request's
  // modeled arrival to its modeled answer. On the wall clock, latencies and elapsed_seconds are
  // wall time and device times (busy_seconds, the fraction, InferenceResult::device_seconds) are
  // measured on real devices and modeled on simulated ones.
  std::string clock = "wall";
  std::string latency_clock = "wall";  // what latencies are measured in: "wall" or "modeled"
  // Wall time since the fleet started; in virtual time, the rig's modeled time now.
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
  // Opens every device options.devices names (or, when empty, every Edge TPU on this machine)
  // and starts one worker thread per device, plus the preparation threads and a watchdog.
  // Blocks while devices open (a real Edge TPU's firmware load takes seconds).
  // Errors: INVALID_ARGUMENT for a malformed device string, a device listed twice, a malformed
  // sim_topology_json or edgetpu_options; NOT_FOUND for a device string naming no device, and
  // for empty options.devices on a machine without Edge TPUs; FAILED_PRECONDITION for a device
  // owned by another process; UNAVAILABLE or INTERNAL when libedgetpu or TensorFlow Lite's C
  // library cannot be loaded or refuse the device (the message says which and why).
  static Result<std::unique_ptr<Fleet>> Create(const FleetOptions& options);
  // Answers everything queued or being prepared (each future gets its answer), then stops and
  // joins the workers. Blocks until then: at most the queued work plus one invocation timeout.
  ~Fleet();

  // Adds a model on the devices `selectors` name (each one device string of the fleet's
  // devices); none: automatic placement. The fleet shares ownership of `model`. Prepares the
  // model on its devices now, blocking meanwhile. Returns the model's id for Submit (ids count
  // from 0 in the order models are added).
  // Errors: INVALID_ARGUMENT for a null model or a malformed selector; NOT_FOUND for a selector
  // naming none of the fleet's devices; FAILED_PRECONDITION with strict placement and more
  // models than devices, or when a simulated device could only time the model and
  // allow_timing_only is off; the device's error (UNIMPLEMENTED for an operator or type the CPU
  // does not run, ...) when it cannot prepare the model.
  Result<int> AddModel(ModelPtr model, const std::vector<std::string>& selectors = {});
  // "path/model.tflite" or "path/model.tflite@sim:1": loads the file (Model::FromFile's errors)
  // and adds it as above.
  Result<int> AddModel(const std::string& spec);
  // Adds models co-compiled for the devices `selectors` name (none: automatic placement, the
  // group counting as one model): they share one caching token, the on-chip memory filled in
  // the order given, so switching between them reloads nothing while they fit. Returns their ids
  // in the order given. Errors as AddModel, and INVALID_ARGUMENT for fewer than two models.
  Result<std::vector<int>> AddCoCompiled(std::vector<ModelPtr> models,
                                         const std::vector<std::string>& selectors = {});

  // Takes model `model` out of the fleet. From the call on, Submit for it answers NOT_FOUND; the
  // requests submitted before (queued, being prepared, running, failing over) are served and
  // answered as any other, and RemoveModel waits for the last of them. Then every device drops
  // the model's program (the device memory it holds, and the worker's record of which
  // parameters it cached), automatic placement no longer counts it, placement() answers
  // NOT_FOUND and Metrics() leaves it out (device metrics keep what it ran). A model of a
  // co-compiled group stops alone; the group's programs, which share the device's parameter
  // cache, are dropped with its last model. Ids are never reused: adding the file again gives a
  // new id. Blocks for at most the queued work plus one invocation timeout. (A model AddModel
  // or AddCoCompiled failed to add is released so at once.)
  // Errors: INVALID_ARGUMENT for an unknown id; NOT_FOUND for a model removed already;
  // FAILED_PRECONDITION in virtual time while requests of it are unanswered (modeled time passes
  // only while someone waits: wait for their answers first).
  Status RemoveModel(int model);

  // Queues one inference; never blocks on the device. `inputs` are raw bytes in the model's
  // layout, in input order. The future always gets exactly one answer: the outputs, or why none
  // came: INVALID_ARGUMENT for an unknown model id or inputs of the wrong sizes, NOT_FOUND for a
  // removed model,
  // RESOURCE_EXHAUSTED when every queue the model could use is full (queue_capacity),
  // DEADLINE_EXCEEDED when `deadline` passed before a device started it or the answer came
  // after it, UNAVAILABLE when every device is down or the fleet is shutting down, the model's
  // AddModel error if it could not be prepared, or the device's error. A request whose device
  // fails is retried on another before it is answered (InferenceResult::attempts).
  // In virtual time the future is deferred (waiting on it lets modeled time pass until the
  // answer is due) and the request arrives at the calling thread's modeled time: 0, then the
  // modeled time of the last answer it waited for (docs/fleet.md).
  std::future<Result<InferenceResult>> Submit(
      int model, TensorList inputs,
      std::optional<std::chrono::steady_clock::time_point> deadline = {});
  // Receives the callback form's answer. It runs on the fleet's thread that answers (usually
  // the device's worker), or on the submitting thread, before Submit returns, when the request
  // is answered at once; so it must be quick, must not throw and must not wait on the fleet.
  using Completion = std::function<void(Result<InferenceResult>)>;
  // As above, the answer going to `done` (called exactly once) instead of a future: for servers,
  // which answer from the thread that has the result instead of a thread waiting for it. In
  // virtual time, where only a waiter lets modeled time pass, Submit waits for the answer itself
  // and calls `done` before it returns.
  void Submit(int model, TensorList inputs,
              std::optional<std::chrono::steady_clock::time_point> deadline, Completion done);
  // Queues `prepare` on the preparation threads; its tensors are then submitted as above. Its
  // error, if it returns one, is the answer. The fleet keeps `prepare` until it has run.
  std::future<Result<InferenceResult>> Submit(
      int model, Preparation prepare,
      std::optional<std::chrono::steady_clock::time_point> deadline = {});
  // Submits the image file at `image_path`, decoded and resized on the preparation threads as
  // ImageFileTensor (tpufleet/image.h) says; its errors are the answer.
  std::future<Result<InferenceResult>> SubmitImage(
      int model, std::string image_path,
      std::optional<std::chrono::steady_clock::time_point> deadline = {});
  // In virtual time (FleetMetrics::clock "virtual"): Submit at a modeled arrival time, in
  // seconds on the rig's clock, as a trace replays. A time the rig has passed already means its
  // present. The future is deferred, as every future of a virtual-time fleet: waiting on it lets
  // modeled time pass until its answer is due (docs/fleet.md). FAILED_PRECONDITION on the wall
  // clock, INVALID_ARGUMENT for a negative or infinite time; otherwise as Submit.
  std::future<Result<InferenceResult>> SubmitAt(double modeled_seconds, int model,
                                                TensorList inputs);
  // Submit and wait: blocks until the answer, which takes the queue ahead of it and, when a
  // device hangs, up to invocation_timeout_seconds before another device retries it.
  Result<InferenceResult> Run(int model, TensorList inputs);

  // The fleet's devices, in the order they were opened, as stable device strings ("sim:0",
  // "usb@2-1.3"). Fixed for the fleet's life.
  std::vector<std::string> device_names() const;
  // Where model `model`'s requests go now: its placement, or while every device of it is down,
  // the devices of the same kind standing in. INVALID_ARGUMENT for an unknown model id,
  // NOT_FOUND for a removed one.
  Result<std::vector<std::string>> placement(int model) const;
  // A snapshot of the counters; cheap (no device is asked), never blocks on a device.
  FleetMetrics Metrics() const;

 private:
  struct Impl;  // defined with the fleet's code; opaque here
  explicit Fleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpufleet
