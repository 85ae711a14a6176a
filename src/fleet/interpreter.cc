#include "tpufleet/interpreter.h"

#include <fmt/format.h>

#include "devices/discovery.h"
#include "devices/order.h"
#include "fleet/device_factory.h"

namespace tpufleet {
namespace {

class DeviceInterpreter : public Interpreter {
 public:
  DeviceInterpreter(std::unique_ptr<backends::Device> device,
                    std::unique_ptr<backends::Program> program)
      : device_(std::move(device)), program_(std::move(program)) {}

  const Model& model() const override { return program_->model(); }
  const DeviceInfo& device() const override { return device_->info(); }

  Result<InferenceResult> Invoke(const TensorList& inputs) override {
    TPUFLEET_ASSIGN_OR_RETURN(backends::RunResult run, device_->Run(*program_, inputs));
    InferenceResult result;
    result.outputs = std::move(run.outputs);
    result.device = device_->info().name;
    result.device_seconds = run.device_seconds;
    result.timing_only = run.timing_only;
    return result;
  }

 private:
  std::unique_ptr<backends::Device> device_;
  std::unique_ptr<backends::Program> program_;
};

}  // namespace

std::vector<DeviceInfo> ListDevices() {
  return Ordered(DiscoverDevices({}).devices, EnumerationOrder::kStable);
}

Result<std::unique_ptr<Interpreter>> MakeInterpreter(const std::string& model_path,
                                                     const std::string& device,
                                                     const InterpreterOptions& options) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromFile(model_path));
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<fleet::DeviceFactory> factory,
                            fleet::DeviceFactory::Create(options));
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Device> opened, factory->Open(device));
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Program> program, opened->Prepare(model));
  return std::unique_ptr<Interpreter>(new DeviceInterpreter(std::move(opened), std::move(program)));
}

}  // namespace tpufleet
