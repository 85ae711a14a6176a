// PipelineRunner: one model split into segments, each segment on its own device, run as a
// pipeline (libcoral's PipelinedModelRunner): while segment 1 works on request k, segment 0
// already works on request k+1.
//
// Segments are interpreters (tpufleet/interpreter.h) on any devices: real Edge TPUs, simulated
// ones ("sim:N") or the CPU. They pass tensors by name: every input of segment i must be an input
// of segment 0 or an output of a segment before it, with the same element type and byte size,
// and every output of a segment but the last must be an input of a later one. The pipeline's
// inputs are segment 0's inputs, its outputs the last segment's outputs, in their model order.
//
// One thread per segment invokes it. Requests wait in an input queue before segment 0, in a
// queue of one between two segments, and in an output queue after the last; the input and
// output queues are unbounded unless sized. Push blocks while the input queue is full, Pop while
// no result is there. So with queues of sizes a and b, and n segments, a + b + 2n - 1 requests fit
// in the pipeline without a consumer (each segment holds one while it works or waits to pass it
// on).
//
// The first segment whose invocation fails stops the pipeline: the other segments stop after
// their current invocation, queued requests are dropped, and Push, Pop and Shutdown report
// that segment's error ("Segment 1 runner error: ...", with the device's message).
//
// Thread-safety: Push, Pop, Shutdown and the setters may be called from any threads at once
// (typically one producer and one consumer). The runner owns (or shares) the interpreters; use
// them only through it. Destroying the runner stops its threads without draining: requests still
// queued are dropped (call Shutdown first to drain).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tpufleet/fleet.h"
#include "tpufleet/interpreter.h"
#include "tpufleet/options.h"
#include "tpufleet/status.h"

namespace tpufleet {

struct PipelineOptions {
  size_t input_queue_size = 0;   // requests waiting before segment 0; 0: unbounded
  size_t output_queue_size = 0;  // results waiting for Pop; 0: unbounded
};

struct SegmentStats {
  std::string model;   // the segment's model name (its file)
  std::string device;  // its device, as a stable device string
  uint64_t invocations = 0;
  double busy_seconds = 0;    // wall time inside the segment's invocations
  double device_seconds = 0;  // the devices' own time (modeled on simulated devices)
  // Invocations whose outputs are zero-filled: a simulated device could only time the segment
  // (DeviceOptions::allow_timing_only).
  uint64_t timing_only = 0;
};

struct PipelineStats {
  std::vector<SegmentStats> segments;
  // Requests waiting in each queue now: the input queue, the n-1 queues between segments, the
  // output queue.
  std::vector<size_t> queue_sizes;
  // Pushes blocked now because the input queue is full.
  int blocked_pushes = 0;
};

class PipelineRunner {
 public:
  // Starts a pipeline over `segments` (in pipeline order). INVALID_ARGUMENT when there is none,
  // a segment is null or given twice, or the segments' tensors do not connect as above (the message
  // names the segment, the tensor and what is there instead).
  static Result<std::unique_ptr<PipelineRunner>> Create(
      std::vector<std::unique_ptr<Interpreter>> segments, const PipelineOptions& options = {});
  // As above, the interpreters shared with the caller (libcoral's runner borrows its
  // interpreters so): the caller must not use them until the runner is destroyed.
  static Result<std::unique_ptr<PipelineRunner>> Create(
      std::vector<std::shared_ptr<Interpreter>> segments, const PipelineOptions& options = {});
  // Loads the segment files and prepares segment i on devices[i] (device strings as
  // MakeInterpreter takes them, opened with `device_options`); `devices` must name one device
  // per segment. Errors: those of MakeInterpreter, naming the segment, and those of Create.
  static Result<std::unique_ptr<PipelineRunner>> Open(const std::vector<std::string>& segment_paths,
                                                      const std::vector<std::string>& devices,
                                                      const DeviceOptions& device_options = {},
                                                      const PipelineOptions& options = {});

  ~PipelineRunner();
  PipelineRunner(const PipelineRunner&) = delete;
  PipelineRunner& operator=(const PipelineRunner&) = delete;

  // Queues one request: segment 0's inputs, raw bytes in input order (copied). Blocks while the
  // input queue is full. An empty list is Shutdown(), as in libcoral. Errors: INVALID_ARGUMENT
  // for a wrong input count or byte size (the pipeline runs on); FAILED_PRECONDITION after
  // Shutdown ("Pipeline was turned off before."); a segment's error once one failed.
  Status Push(TensorList inputs);
  // The next result, in push order: the last segment's outputs in output order. Blocks until
  // there is one. Empty once the pipeline was shut down and every request came out. A segment's
  // error once one failed.
  Result<std::optional<TensorList>> Pop();
  // Stops taking requests and blocks until every queued one has passed every segment (with a
  // bounded output queue, someone must Pop meanwhile) and the threads have ended. The first
  // segment error, if any. A second call: FAILED_PRECONDITION, as Push after Shutdown.
  Status Shutdown();

  // Stops the pipeline now, without draining: queued requests are dropped, blocked and later
  // Push calls return FAILED_PRECONDITION, Pop returns empty, and the segments stop after their
  // current invocation. Returns without waiting for them (the destructor waits).
  void Stop();

  // May be called while requests flow; a smaller size only makes later pushes wait longer.
  void SetInputQueueSize(size_t size);
  void SetOutputQueueSize(size_t size);

  size_t segment_count() const;
  const Interpreter& segment(size_t i) const;
  PipelineStats stats() const;

 private:
  struct State;
  explicit PipelineRunner(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tpufleet
