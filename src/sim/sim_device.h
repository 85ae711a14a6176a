// A simulated Edge TPU behind the driver interface: `sim:N`.
//
// It keeps the state that makes the hardware behave as it does: the caching token whose
// parameters are resident (another token, or 0, means a reload over the link first), the bus it
// shares with other devices, and faults to inject. Its time comes from the timing model and
// passes on a SimClock. Outputs are real when the uncompiled model is at hand (given directly,
// as the twin of a compiled file, or as the full model of a compiled segment, whose part between
// the segment's inputs and outputs is used; see model/source_model.h): the CPU backend computes
// them. Otherwise they are
// zero-filled and the result says timing_only, when the configuration allows it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backends/device.h"
#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/compiler.h"
#include "sim/timing.h"

namespace tpufleet::sim {

// Faults a simulated device injects, all counted in its own invocations and clock.
struct FaultPlan {
  std::optional<int> disconnect_after;  // succeed this many times, then UNAVAILABLE for good
  std::optional<double> disconnect_at;  // UNAVAILABLE from this device-clock second on
  std::optional<int> hang_after;        // succeed this many times, then hang on the next
  double hang_seconds = 60;             // how long a hang lasts before DEADLINE_EXCEEDED
  double slowdown = 1;                  // factor on every modeled time (>= 1)
  std::optional<int> slow_after;        // the slowdown only after this many invocations
  int transient_error_every = 0;  // every k-th invocation fails (ABORTED), the device stays up
  // Preparing and reopening (after being down) first take this long, as a stuck USB transfer
  // would; an interrupt ends the wait with DEADLINE_EXCEEDED.
  double prepare_seconds = 0;
  double reopen_seconds = 0;
  // An invocation whose first input starts with this byte fails (ABORTED) and leaves the device
  // up, as an input that trips the runtime would: a poison request.
  std::optional<int> abort_on_input_byte;
  // After a disconnection or hang, probes fail this many times, then the device is back (as if
  // replugged, cache empty). Absent: it never comes back.
  std::optional<int> recover_after_probes;
};

struct SimDeviceConfig {
  DeviceConfig hardware;
  FaultPlan faults;
  bool compute_outputs = true;  // false: timing only, even when the CPU could compute outputs
  // With compute_outputs, a model whose outputs the CPU cannot compute (a compiled model without
  // its uncompiled twin, or one the CPU backend cannot run) is refused at Prepare with
  // FAILED_PRECONDITION; true: it is prepared and its outputs are timing-only.
  bool allow_timing_only = false;
  // Uncompiled full models to compute compiled ones from, tried before those found beside the
  // compiled file (model/source_model.h): the model a segment set was compiled from.
  std::vector<std::string> full_models;
};

struct SimStats {
  int invocations = 0;
  int reloads = 0;
  uint64_t reloaded_bytes = 0;
  double busy_seconds = 0;
};

class SimDevice : public backends::Device {
 public:
  SimDevice(int index, SimDeviceConfig config, std::shared_ptr<SimClock> clock,
            std::shared_ptr<SimBus> bus);

  const DeviceInfo& info() const override { return info_; }
  Result<std::unique_ptr<backends::Program>> Prepare(ModelPtr model) override;
  // Co-compiles `models` (first listed first): one caching token, the SRAM shared in order.
  Result<std::vector<std::unique_ptr<backends::Program>>> PrepareGroup(
      const std::vector<ModelPtr>& models) override;
  Result<backends::RunResult> Run(backends::Program& program,
                                  const std::vector<backends::TensorBytes>& inputs) override;
  // In the CPU interpreter's own tensors when it computes the outputs: no copy.
  Result<backends::RunResult> RunInPlace(backends::Program& program,
                                         cpu::Profile* profile = nullptr) override;
  // UNAVAILABLE while disconnected or hung.
  Status Probe() override;
  // Back (as if replugged, cache empty) once the fault plan's recover_after_probes attempts failed.
  Status Reopen() override;

  // Clears a disconnection or hang (the stick was plugged back in): the cache is empty again.
  void Reconnect();

  uint64_t resident_token() const { return resident_token_; }
  const SimStats& stats() const { return stats_; }
  const SimDeviceConfig& config() const { return config_; }

 private:
  Result<std::unique_ptr<backends::Program>> MakeProgram(ModelPtr model, EdgeTpuProgram edgetpu);
  Status CheckFaults();
  // Waits out a fault's `seconds` (none when 0); DEADLINE_EXCEEDED when interrupted first.
  Status WaitFault(double seconds, const char* during);

  DeviceInfo info_;
  SimDeviceConfig config_;
  std::shared_ptr<SimClock> clock_;
  std::shared_ptr<SimBus> bus_;
  uint64_t resident_token_ = 0;  // 0: nothing cached
  bool disconnected_ = false;
  bool hung_ = false;
  int failed_reopens_ = 0;
  SimStats stats_;
};

}  // namespace tpufleet::sim
