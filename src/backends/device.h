// The driver interface every device kind implements: CPU, simulated Edge TPU, real Edge TPU.
//
// A Device is owned by one worker thread and is not thread-safe. Prepare() turns a model into a
// Program the device can run (compiling, loading, checking what it needs); Run() executes one
// invocation. Tensors cross the boundary as raw bytes in the model's layout, in model order:
// copied in and out by Run(), in place (the program's buffers) by RunInPlace().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cpu/interpreter.h"
#include "tpufleet/device.h"
#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet::backends {

using TensorBytes = std::vector<uint8_t>;

// A model prepared for one device. Owned by the device's worker with the device.
class Program {
 public:
  // `caching_token`: what identifies the program's parameters in the device's on-chip cache
  // (co-compiled programs share one); 0 when it caches nothing.
  explicit Program(ModelPtr model, uint64_t caching_token = 0)
      : model_(std::move(model)), caching_token_(caching_token) {}
  virtual ~Program() = default;
  const Model& model() const { return *model_; }
  const ModelPtr& model_ptr() const { return model_; }
  uint64_t caching_token() const { return caching_token_; }

  // Where RunInPlace reads input i and leaves output i (the model's byte sizes; valid as long as
  // the program): the device's own tensor memory when it has such, else buffers of this program.
  virtual std::span<uint8_t> input_buffer(size_t i);
  virtual std::span<uint8_t> output_buffer(size_t i);

 private:
  ModelPtr model_;
  uint64_t caching_token_;
  std::vector<TensorBytes> inputs_, outputs_;  // the buffers above, when the device has none
};

struct RunResult {
  std::vector<TensorBytes> outputs;
  double device_seconds = 0;  // time the device was busy with this invocation
  bool timing_only = false;   // outputs are zero-filled: the device could not compute them
  bool reloaded = false;      // cached parameters were (re)loaded before this invocation
  uint64_t reloaded_bytes = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const DeviceInfo& info() const = 0;
  virtual Result<std::unique_ptr<Program>> Prepare(ModelPtr model) = 0;
  // Prepares models that share the device's parameter cache (co-compiled, first listed first).
  // Devices without such a cache prepare each model on its own, which is what this default does.
  virtual Result<std::vector<std::unique_ptr<Program>>> PrepareGroup(
      const std::vector<ModelPtr>& models);
  // Inputs must match the model's input tensors in count and byte size.
  virtual Result<RunResult> Run(Program& program, const std::vector<TensorBytes>& inputs) = 0;
  // Runs on the inputs in program.input_buffer(i), leaving the outputs in output_buffer(i) (the
  // result's `outputs` stay empty). With `profile`, also the time of each operator, on devices
  // that run operators one by one on the host (UNIMPLEMENTED elsewhere). This default runs Run()
  // on copies; devices whose programs expose their own memory copy nothing.
  virtual Result<RunResult> RunInPlace(Program& program, cpu::Profile* profile = nullptr);

  // Checks, after an error, that the device is still there and answering; Programs stay valid.
  // The default says a device without faults always is.
  virtual Status Probe() { return OkStatus(); }
  // Called while the device is marked down, only when no Program of it exists: reopens it from
  // scratch (a new delegate, a new child process). OK once it can serve again; the parameter
  // cache is then empty. The default probes.
  virtual Status Reopen() { return Probe(); }

  // Error codes from Prepare, PrepareGroup and Run, by cause:
  //   UNAVAILABLE        the device may be gone (a probe tells);
  //   ABORTED            the invocation failed on the device's side; the device may be fine;
  //   DEADLINE_EXCEEDED  the device hung (or the call was interrupted);
  //   anything else      the request's own fault (inputs, a model the device cannot run).

  // Thread-safe: makes the call in progress (Prepare, PrepareGroup, Run, Probe or Reopen) return
  // DEADLINE_EXCEEDED as soon as it can. Between calls it applies to the next call, until the
  // owner clears it: an interrupt is never lost. Devices that cannot be interrupted in process
  // ignore it (their worker must then be isolated to be recovered).
  virtual void Interrupt() { interrupt_.store(true, std::memory_order_release); }
  // The owner's, between calls: the next call runs uninterrupted unless Interrupt() comes again.
  virtual void ClearInterrupt() { interrupt_.store(false, std::memory_order_release); }

 protected:
  const std::atomic<bool>& interrupt_flag() const { return interrupt_; }

 private:
  std::atomic<bool> interrupt_{false};
};

// The caching token of a model compiled for the Edge TPU, from its package (0: none).
uint64_t PackageCachingToken(const Model& model);

// Checks `inputs` against the model's inputs; the error names the input and both sizes.
Status CheckInputs(const Model& model, const std::vector<TensorBytes>& inputs);

// Run() for devices that run in place: checks and copies `inputs` into the program's buffers,
// runs device.RunInPlace, and copies the outputs out.
Result<RunResult> RunThroughBuffers(Device& device, Program& program,
                                    const std::vector<TensorBytes>& inputs);

}  // namespace tpufleet::backends
