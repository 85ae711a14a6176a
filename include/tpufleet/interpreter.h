// Coral-familiar entry points: list the Edge TPUs (as list_edge_tpus does) and run models on a
// device with in-place tensors (as make_interpreter and TensorFlow Lite's Interpreter do), for
// programs that need no fleet.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tpufleet/device.h"
#include "tpufleet/fleet.h"
#include "tpufleet/model.h"
#include "tpufleet/status.h"
#include "tpufleet/tensor.h"

namespace tpufleet {

// The Edge TPUs on this machine (sysfs, merged with what libedgetpu lists when it loads), in
// libedgetpu's enumeration order, as list_edge_tpus gives them: `:N` indexes this list, `usb:N`
// and `pci:N` the devices of one type in it. `tpufleet devices` shows these indexes beside the
// stable ones (`#N`, `usb@PORT`).
std::vector<DeviceInfo> ListDevices();

using InterpreterOptions = DeviceOptions;

// Where one invocation's time went, operator by operator (CPU device only).
struct OperatorProfile {
  struct Operator {
    int index = 0;   // in the model
    std::string op;  // "CONV_2D"
    bool in_xnnpack = false;
    double seconds = 0;
  };
  std::vector<Operator> operators;
  double total_seconds = 0;
};

// What the last invocation cost and gave.
struct InvocationInfo {
  double device_seconds = 0;  // modeled (simulator) or measured device time
  bool timing_only = false;   // a simulated device could not compute outputs: they are zeros
};

// One model prepared on one device. Not thread-safe: one caller at a time, as with TFLite;
// interpreters on one device (the same DeviceHandle) may be used from different threads, and
// take turns on the device.
class Interpreter {
 public:
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  const Model& model() const;
  // The device it runs on; both live as long as the interpreter (the handle may outlive it).
  const DeviceInfo& device() const;
  const DevicePtr& device_handle() const;

  // Inputs and outputs in model order, in place (see tpufleet/tensor.h).
  size_t input_count() const;
  size_t output_count() const;
  Tensor& input(size_t i);
  const Tensor& output(size_t i) const;
  // By name; NOT_FOUND lists the names there are.
  Result<Tensor*> FindInput(std::string_view name);
  Result<const Tensor*> FindOutput(std::string_view name) const;

  // Runs on the inputs as they are now; the outputs are then in output(i). No copy on the CPU
  // and the simulator; on a real Edge TPU the runtime's one copy to the device. Blocks while the
  // device runs other interpreters' invocations first. Errors: UNAVAILABLE when the device
  // failed, DEADLINE_EXCEEDED when it hung, and the model's own errors.
  Status Invoke();
  // Invoke, recording each operator's time; UNIMPLEMENTED on devices other than the CPU.
  Status Invoke(OperatorProfile& profile);
  const InvocationInfo& last_invocation() const;

  // Copies `inputs` (raw bytes in the model's layout, in input order) into the inputs, invokes,
  // and copies the outputs out. INVALID_ARGUMENT names an input of the wrong size.
  Result<InferenceResult> Invoke(const TensorList& inputs);

 private:
  friend class InterpreterInternal;
  struct State;
  explicit Interpreter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Prepares a model on a device: a file path, the bytes of a .tflite file, or a loaded Model; on
// the device a device string names (see OpenDevice: "" is any Edge TPU, as in Coral; "sim:N",
// "cpu") or an opened handle, which several interpreters share (co-compiled models, above all).
// Errors: those of Model::FromFile / FromBuffer and OpenDevice, and what the device reports when
// it cannot run the model.
Result<std::unique_ptr<Interpreter>> MakeInterpreter(const std::string& model_path,
                                                     const std::string& device = "",
                                                     const InterpreterOptions& options = {});
Result<std::unique_ptr<Interpreter>> MakeInterpreter(const std::string& model_path,
                                                     const DevicePtr& device);
Result<std::unique_ptr<Interpreter>> MakeInterpreter(std::vector<uint8_t> model_bytes,
                                                     const std::string& device = "",
                                                     const InterpreterOptions& options = {});
Result<std::unique_ptr<Interpreter>> MakeInterpreter(std::vector<uint8_t> model_bytes,
                                                     const DevicePtr& device);
Result<std::unique_ptr<Interpreter>> MakeInterpreter(ModelPtr model, const std::string& device = "",
                                                     const InterpreterOptions& options = {});
Result<std::unique_ptr<Interpreter>> MakeInterpreter(ModelPtr model, const DevicePtr& device);

}  // namespace tpufleet
