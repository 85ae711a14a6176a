#include "tpufleet/interpreter.h"

#include <fmt/format.h>

#include <algorithm>

#include "devices/discovery.h"
#include "devices/order.h"
#include "fleet/device_handle_internal.h"

namespace tpufleet {

struct Interpreter::State {  // members go in reverse order: the program before its device
  DevicePtr handle;
  std::unique_ptr<backends::Device> device;  // the handle's device, in turn with its other users
  std::unique_ptr<backends::Program> program;
  std::vector<Tensor> inputs, outputs;  // over the program's buffers
  InvocationInfo last;
};

class InterpreterInternal {
 public:
  static Result<std::unique_ptr<Interpreter>> Make(ModelPtr model, const DevicePtr& handle) {
    if (!model) return InvalidArgumentError("MakeInterpreter: no model given");
    if (!handle) return InvalidArgumentError("MakeInterpreter: no device given (a null handle)");
    auto state = std::make_unique<Interpreter::State>();
    state->handle = handle;
    state->device = SharedDeviceView(handle);
    TPUFLEET_ASSIGN_OR_RETURN(state->program, state->device->Prepare(model));
    const Model& m = state->program->model();
    for (size_t i = 0; i < m.input_indices().size(); ++i)
      state->inputs.emplace_back(m.input(i), state->program->input_buffer(i));
    for (size_t i = 0; i < m.output_indices().size(); ++i)
      state->outputs.emplace_back(m.output(i), state->program->output_buffer(i));
    return std::unique_ptr<Interpreter>(new Interpreter(std::move(state)));
  }
};

namespace {

template <typename T>
Result<T*> FindByName(std::vector<Tensor>& tensors, std::string_view name, const Model& model,
                      const char* what) {
  for (Tensor& t : tensors) {
    if (t.name() == name) return &t;
  }
  std::vector<std::string> names;
  for (const Tensor& t : tensors) names.push_back("'" + t.name() + "'");
  return NotFoundError(fmt::format("{} has no {} named '{}'; its {}s are {}", model.name(), what,
                                   name, what, fmt::join(names, ", ")));
}

OperatorProfile PublicProfile(const cpu::Profile& profile) {
  OperatorProfile out;
  for (const cpu::Profile::Node& n : profile.nodes)
    out.operators.push_back({n.index, n.op, n.in_xnnpack, n.seconds});
  out.total_seconds = profile.total_seconds;
  return out;
}

}  // namespace

Interpreter::Interpreter(std::unique_ptr<State> state) : state_(std::move(state)) {}
Interpreter::~Interpreter() = default;

const Model& Interpreter::model() const { return state_->program->model(); }
const DeviceInfo& Interpreter::device() const { return state_->handle->info(); }
const DevicePtr& Interpreter::device_handle() const { return state_->handle; }
size_t Interpreter::input_count() const { return state_->inputs.size(); }
size_t Interpreter::output_count() const { return state_->outputs.size(); }
Tensor& Interpreter::input(size_t i) { return state_->inputs.at(i); }
const Tensor& Interpreter::output(size_t i) const { return state_->outputs.at(i); }
const InvocationInfo& Interpreter::last_invocation() const { return state_->last; }

Result<Tensor*> Interpreter::FindInput(std::string_view name) {
  return FindByName<Tensor>(state_->inputs, name, model(), "input");
}

Result<const Tensor*> Interpreter::FindOutput(std::string_view name) const {
  TPUFLEET_ASSIGN_OR_RETURN(Tensor * found,
                            FindByName<Tensor>(state_->outputs, name, model(), "output"));
  return const_cast<const Tensor*>(found);
}

Status Interpreter::Invoke() {
  TPUFLEET_ASSIGN_OR_RETURN(backends::RunResult run, state_->device->RunInPlace(*state_->program));
  state_->last = {run.device_seconds, run.timing_only};
  return OkStatus();
}

Status Interpreter::Invoke(OperatorProfile& profile) {
  cpu::Profile recorded;
  TPUFLEET_ASSIGN_OR_RETURN(backends::RunResult run,
                            state_->device->RunInPlace(*state_->program, &recorded));
  state_->last = {run.device_seconds, run.timing_only};
  profile = PublicProfile(recorded);
  return OkStatus();
}

Result<InferenceResult> Interpreter::Invoke(const TensorList& inputs) {
  TPUFLEET_ASSIGN_OR_RETURN(
      backends::RunResult run,
      backends::RunThroughBuffers(*state_->device, *state_->program, inputs));  // via the tensors
  state_->last = {run.device_seconds, run.timing_only};
  InferenceResult result;
  result.outputs = std::move(run.outputs);
  result.device = device().name;
  result.device_seconds = run.device_seconds;
  result.timing_only = run.timing_only;
  return result;
}

std::vector<DeviceInfo> ListDevices() { return CoralOrdered(DiscoverDevices({})); }

Result<std::unique_ptr<Interpreter>> MakeInterpreter(ModelPtr model, const DevicePtr& device) {
  return InterpreterInternal::Make(std::move(model), device);
}

Result<std::unique_ptr<Interpreter>> MakeInterpreter(ModelPtr model, const std::string& device,
                                                     const InterpreterOptions& options) {
  if (!model) return InvalidArgumentError("MakeInterpreter: no model given");
  TPUFLEET_ASSIGN_OR_RETURN(DevicePtr handle, OpenDevice(device, options));
  return InterpreterInternal::Make(std::move(model), handle);
}

Result<std::unique_ptr<Interpreter>> MakeInterpreter(const std::string& model_path,
                                                     const std::string& device,
                                                     const InterpreterOptions& options) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromFile(model_path));
  return MakeInterpreter(std::move(model), device, options);
}

Result<std::unique_ptr<Interpreter>> MakeInterpreter(const std::string& model_path,
                                                     const DevicePtr& device) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromFile(model_path));
  return MakeInterpreter(std::move(model), device);
}

Result<std::unique_ptr<Interpreter>> MakeInterpreter(std::vector<uint8_t> model_bytes,
                                                     const std::string& device,
                                                     const InterpreterOptions& options) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromBuffer(std::move(model_bytes)));
  return MakeInterpreter(std::move(model), device, options);
}

Result<std::unique_ptr<Interpreter>> MakeInterpreter(std::vector<uint8_t> model_bytes,
                                                     const DevicePtr& device) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromBuffer(std::move(model_bytes)));
  return MakeInterpreter(std::move(model), device);
}

}  // namespace tpufleet
