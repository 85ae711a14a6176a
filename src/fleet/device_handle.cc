#include <fmt/format.h>

#include <algorithm>

#include "devices/selector.h"
#include "fleet/device_factory.h"
#include "fleet/device_handle_internal.h"
#include "tpufleet/device.h"

namespace tpufleet {
namespace {

// A shared handle's device for one owner: every call but Interrupt takes the handle's turn.
class SharedView : public backends::Device {
 public:
  explicit SharedView(DevicePtr handle)
      : handle_(std::move(handle)), state_(DeviceHandleInternal::Of(*handle_)) {}
  ~SharedView() override = default;

  const DeviceInfo& info() const override { return state_.device->info(); }
  Result<std::unique_ptr<backends::Program>> Prepare(ModelPtr model) override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Program> program,
                              state_.device->Prepare(std::move(model)));
    return Guard(std::move(program));
  }
  Result<std::vector<std::unique_ptr<backends::Program>>> PrepareGroup(
      const std::vector<ModelPtr>& models) override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<backends::Program>> programs,
                              state_.device->PrepareGroup(models));
    for (auto& program : programs) program = Guard(std::move(program));
    return programs;
  }
  Result<backends::RunResult> Run(backends::Program& program,
                                  const std::vector<backends::TensorBytes>& inputs) override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    return state_.device->Run(Inner(program), inputs);
  }
  Result<backends::RunResult> RunInPlace(backends::Program& program,
                                         cpu::Profile* profile) override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    return state_.device->RunInPlace(Inner(program), profile);
  }
  Status Probe() override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    return state_.device->Probe();
  }
  // Reopened from scratch only when nothing else holds the device (no other interpreter, no
  // program); else only probed, so no one else's programs lose their device.
  Status Reopen() override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    return handle_.use_count() == 1 ? state_.device->Reopen() : state_.device->Probe();
  }
  void Interrupt() override { state_.device->Interrupt(); }  // while a Run holds the turn
  void ClearInterrupt() override { state_.device->ClearInterrupt(); }

 private:
  // A program of the shared device, destroyed in the device's turn; it keeps the device open,
  // so the device outlives its programs whatever order their owner drops them in.
  class GuardedProgram : public backends::Program {
   public:
    GuardedProgram(std::unique_ptr<backends::Program> inner, DevicePtr handle)
        : Program(inner->model_ptr(), inner->caching_token()),
          inner_(std::move(inner)),
          handle_(std::move(handle)) {}
    ~GuardedProgram() override {
      std::lock_guard<std::mutex> lock(DeviceHandleInternal::Of(*handle_).mutex);
      inner_.reset();
    }
    std::span<uint8_t> input_buffer(size_t i) override { return inner_->input_buffer(i); }
    std::span<uint8_t> output_buffer(size_t i) override { return inner_->output_buffer(i); }
    backends::Program& inner() { return *inner_; }

   private:
    std::unique_ptr<backends::Program> inner_;
    DevicePtr handle_;
  };

  std::unique_ptr<backends::Program> Guard(std::unique_ptr<backends::Program> program) {
    return std::make_unique<GuardedProgram>(std::move(program), handle_);
  }
  static backends::Program& Inner(backends::Program& program) {
    return static_cast<GuardedProgram&>(program).inner();
  }

  DevicePtr handle_;  // keeps the device open
  DeviceHandleInternal::State& state_;
};

fleet::DeviceFactoryOptions FactoryOptions(const DeviceOptions& options) {
  return {
      options.sim_topology_json, options.real_time,
      /*sim_outputs=*/true,      options.cpu_threads, options.edgetpu_options, options.isolate, ""};
}

}  // namespace

std::recursive_mutex& OpenDevicesMutex() {
  static auto* mutex = new std::recursive_mutex;
  return *mutex;
}

DeviceOptions HandleOptions(const fleet::DeviceFactoryOptions& options) {
  return {options.sim_topology_json, options.real_time, options.cpu_threads,
          options.edgetpu_options, options.isolate};
}

DevicePtr DeviceHandleInternal::Make(std::unique_ptr<backends::Device> device,
                                     DeviceOptions options) {
  auto state = std::make_unique<State>();
  state->device = std::move(device);
  state->options = std::move(options);
  return DevicePtr(new DeviceHandle(std::move(state)));
}

std::unique_ptr<backends::Device> SharedDeviceView(DevicePtr handle) {
  return std::make_unique<SharedView>(std::move(handle));
}

DeviceHandle::DeviceHandle(std::unique_ptr<State> state) : state_(std::move(state)) {}

DeviceHandle::~DeviceHandle() {
  // Closed while no one opens: a new open of this device then finds its lock free.
  std::lock_guard<std::recursive_mutex> lock(OpenDevicesMutex());
  state_.reset();
}

const DeviceInfo& DeviceHandle::info() const { return state_->device->info(); }
std::string DeviceHandle::name() const { return StableDeviceString(info()); }
const DeviceOptions& DeviceHandle::options() const { return state_->options; }

Result<DevicePtr> OpenDevice(const std::string& device, const DeviceOptions& options) {
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<fleet::DeviceFactory> factory,
                            fleet::DeviceFactory::Create(FactoryOptions(options)));
  return factory->OpenShared(device);
}

Result<DevicePtr> OpenDevice(const DeviceInfo& device, const DeviceOptions& options) {
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<fleet::DeviceFactory> factory,
                            fleet::DeviceFactory::Create(FactoryOptions(options)));
  const std::vector<DeviceInfo>& available = factory->available();
  auto found = std::find_if(available.begin(), available.end(), [&](const DeviceInfo& d) {
    return d.type == device.type &&
           (d.type == DeviceType::kUsb || d.type == DeviceType::kPci ? d.path == device.path
                                                                     : d.name == device.name);
  });
  if (found == available.end()) {
    return NotFoundError(
        fmt::format("no {} device {}; devices found: {}", DeviceTypeName(device.type),
                    device.path.empty() ? device.name : device.path, DescribeDevices(available)));
  }
  return factory->OpenShared(*found);
}

Result<DevicePtr> OpenDevice(DeviceType type, const std::string& path,
                             const DeviceOptions& options) {
  if (type != DeviceType::kUsb && type != DeviceType::kPci) {
    return InvalidArgumentError(
        fmt::format("OpenDevice(type, path) opens Edge TPUs (usb, pci), not {}; open it by its "
                    "device string",
                    DeviceTypeName(type)));
  }
  if (path.empty()) return OpenDevice(std::string(DeviceTypeName(type)), options);
  DeviceInfo wanted;
  wanted.type = type;
  wanted.path = path;
  return OpenDevice(wanted, options);
}

}  // namespace tpufleet
