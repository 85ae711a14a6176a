// Coral-familiar entry points: list the Edge TPUs (as list_edge_tpus does) and run one model on
// one device (as make_interpreter does), for programs that need no fleet.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tpufleet/device.h"
#include "tpufleet/fleet.h"
#include "tpufleet/model.h"
#include "tpufleet/options.h"
#include "tpufleet/status.h"

namespace tpufleet {

// The Edge TPUs on this machine (sysfs, merged with what libedgetpu lists when it loads), in
// tpufleet's stable order (by port; see docs/devices.md): `:N`, `usb:N` and `pci:N` index this
// list, here, in MakeInterpreter and in the fleet, as `tpufleet devices` numbers them.
std::vector<DeviceInfo> ListDevices();

// How MakeInterpreter opens its device: the options a fleet's devices take (tpufleet/options.h).
using InterpreterOptions = DeviceOptions;

// One model prepared on one device. Not thread-safe: one caller at a time, as with TFLite.
class Interpreter {
 public:
  virtual ~Interpreter() = default;
  virtual const Model& model() const = 0;
  virtual const DeviceInfo& device() const = 0;
  // One inference: inputs as raw bytes in the model's layout, in input order.
  virtual Result<InferenceResult> Invoke(const TensorList& inputs) = 0;
};

// Loads `model_path` and prepares it on the device `device` names: "sim:N", "cpu", or an Edge
// TPU string (":N", "usb:N", "pci:N", "usb@2-1.3"; "" means any Edge TPU, as in Coral).
Result<std::unique_ptr<Interpreter>> MakeInterpreter(const std::string& model_path,
                                                     const std::string& device = "",
                                                     const InterpreterOptions& options = {});

}  // namespace tpufleet
