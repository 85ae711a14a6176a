// DeviceOptions: how devices are opened, one struct for every entry point.
//
// MakeInterpreter takes these (InterpreterOptions is this struct), Fleet takes FleetOptions,
// which extends them with what only a fleet has (device list, queues, placement, health). An
// option set here means the same wherever it is used. Plain values: copy them freely.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tpufleet {

struct DeviceOptions {
  // Simulated Edge TPUs: the rig "sim:N" comes from, as JSON (see docs/simulator.md); empty: two
  // USB 3 sticks on separate buses.
  std::string sim_topology_json;
  // Simulated devices wait their modeled time (else they run on a virtual clock and return as
  // soon as outputs are computed).
  bool real_time = false;
  // Simulated devices compute real outputs on the CPU: for an uncompiled model itself, for a
  // compiled "x_edgetpu.tflite" its uncompiled twin "x.tflite" beside it. false: they only time,
  // and every answer is timing_only (this counts as opting in to timing-only answers).
  bool sim_outputs = true;
  // For a compiled model, the uncompiled full models to compute its outputs from, tried before
  // the twin and the files beside it: the model a pipeline's segment set was compiled from
  // (found beside the segments, or in their parent folder, when it is named as they are), or of
  // a compiled model given as bytes, which has no twin beside it. A folder stands for the
  // uncompiled .tflite files in it, in name order. The first whose tensors match the compiled
  // model's inputs and outputs (by name, type, quantization and shape) computes them.
  std::vector<std::string> sim_full_models;
  // A simulated device that cannot compute a model's outputs (a compiled model with no
  // uncompiled twin, or one the CPU backend cannot run) refuses to prepare it with
  // FAILED_PRECONDITION, so no caller mistakes zero-filled outputs for results. true: it prepares
  // the model and answers with zero-filled outputs marked InferenceResult::timing_only.
  bool allow_timing_only = false;
  // Threads of each interpreter on the CPU (the "cpu" device, and the CPU work of real Edge TPU
  // delegates).
  int cpu_threads = 1;
  // Real Edge TPUs: delegate options (Performance=Low|Medium|High|Max, Usb.AlwaysDfu=True|False,
  // Usb.MaxBulkInQueueLength=0..256), checked before the runtime sees them (INVALID_ARGUMENT).
  std::vector<std::pair<std::string, std::string>> edgetpu_options;
  // Run each real Edge TPU in a child process (tpufleet-device-host), so an abort or hang inside
  // libedgetpu takes down only that device.
  bool isolate = false;
  // The child's executable; empty: $TPUFLEET_DEVICE_HOST, else beside the running executable.
  std::string device_host;
};

}  // namespace tpufleet
