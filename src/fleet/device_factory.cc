#include "fleet/device_factory.h"

#include <fmt/format.h>

#include <algorithm>

#include "backends/cpu_device.h"
#include "backends/isolation/isolated_device.h"
#include "devices/discovery.h"
#include "devices/order.h"
#include "devices/selector.h"
#include "fleet/device_handle_internal.h"
#include "sim/topology.h"

namespace tpufleet::fleet {
namespace {

// The real Edge TPUs open in this process, by (type, path). Guarded by OpenDevicesMutex().
std::map<std::pair<DeviceType, std::string>, std::weak_ptr<DeviceHandle>>& OpenEdgeTpus() {
  static auto* open = new std::map<std::pair<DeviceType, std::string>, std::weak_ptr<DeviceHandle>>;
  return *open;
}

DevicePtr FindOpen(const DeviceInfo& info) {
  auto it = OpenEdgeTpus().find({info.type, info.path});
  return it == OpenEdgeTpus().end() ? nullptr : it->second.lock();
}

// OK when a handle opened with `open` serves a caller asking for `wanted`: default options
// take whatever the device was opened with, as libedgetpu's shared devices do.
Status Compatible(const DeviceHandle& handle, const DeviceOptions& wanted) {
  const DeviceOptions& open = handle.options();
  if (!wanted.edgetpu_options.empty() && wanted.edgetpu_options != open.edgetpu_options) {
    return FailedPreconditionError(fmt::format(
        "{} is open in this process already with other Edge TPU options; a device is opened "
        "once per process: ask for the same options, or none",
        handle.name()));
  }
  if (wanted.isolate && !open.isolate) {
    return FailedPreconditionError(
        fmt::format("{} is open in this process already, not isolated; close it first to isolate "
                    "it in a child process",
                    handle.name()));
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<DeviceFactory>> DeviceFactory::Create(const DeviceOptions& options) {
  std::unique_ptr<DeviceFactory> factory(new DeviceFactory());
  factory->options_ = options;
  factory->rig_ = sim::DefaultTopology();
  if (!options.sim_topology_json.empty()) {
    TPUFLEET_ASSIGN_OR_RETURN(factory->rig_, sim::ParseTopology(options.sim_topology_json));
  }
  factory->available_ = CoralOrdered(DiscoverDevices({}));
  for (size_t i = 0; i < factory->rig_.size(); ++i) {
    factory->available_.push_back(
        sim::SimDevice(static_cast<int>(i), factory->rig_[i], sim::MakeVirtualClock(), nullptr)
            .info());
  }
  factory->available_.push_back(backends::CpuDevice().info());
  if (options.real_time) factory->wall_clock_ = sim::MakeRealTimeClock();
  return factory;
}

Result<const DeviceInfo*> DeviceFactory::Resolve(const std::string& device_string) const {
  TPUFLEET_ASSIGN_OR_RETURN(Selector selector, ParseSelector(device_string));
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<const DeviceInfo*> found,
                            ResolveSelector(selector, available_));
  std::lock_guard<std::recursive_mutex> lock(OpenDevicesMutex());
  auto open = std::find_if(found.begin(), found.end(), [](const DeviceInfo* d) {
    return IsEdgeTpu(*d) && FindOpen(*d) != nullptr;
  });
  return open != found.end() ? *open : found.front();
}

Result<std::unique_ptr<backends::Device>> DeviceFactory::Open(const std::string& device_string) {
  TPUFLEET_ASSIGN_OR_RETURN(const DeviceInfo* info, Resolve(device_string));
  if (!IsEdgeTpu(*info)) return OpenNew(*info);
  Result<DevicePtr> shared = OpenShared(*info);
  if (!shared.ok()) return shared.status().WithContext(device_string);
  return SharedDeviceView(std::move(shared).value());
}

Result<DevicePtr> DeviceFactory::OpenShared(const std::string& device_string) {
  TPUFLEET_ASSIGN_OR_RETURN(const DeviceInfo* info, Resolve(device_string));
  Result<DevicePtr> shared = OpenShared(*info);
  if (!shared.ok() && IsEdgeTpu(*info)) return shared.status().WithContext(device_string);
  return shared;
}

Result<DevicePtr> DeviceFactory::OpenShared(const DeviceInfo& info) {
  if (!IsEdgeTpu(info)) {
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Device> device, OpenNew(info));
    return DeviceHandleInternal::Make(std::move(device), options_);
  }
  TPUFLEET_RETURN_IF_ERROR(backends::ValidateEdgeTpuOptions(options_.edgetpu_options));
  // Held while opening, so two threads never open one device twice.
  std::lock_guard<std::recursive_mutex> lock(OpenDevicesMutex());
  if (DevicePtr open = FindOpen(info)) {
    TPUFLEET_RETURN_IF_ERROR(Compatible(*open, options_));
    return open;
  }
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Device> device, OpenEdgeTpu(info));
  DevicePtr handle = DeviceHandleInternal::Make(std::move(device), options_);
  OpenEdgeTpus()[{info.type, info.path}] = handle;
  return handle;
}

Result<std::unique_ptr<backends::Device>> DeviceFactory::OpenNew(const DeviceInfo& info) {
  if (info.type == DeviceType::kCpu) {
    return std::unique_ptr<backends::Device>(new backends::CpuDevice(options_.cpu_threads));
  }
  if (IsEdgeTpu(info)) return OpenEdgeTpu(info);
  auto sim = std::find_if(available_.begin(), available_.end(), [&](const DeviceInfo& d) {
    return d.type == DeviceType::kSim && d.name == info.name;
  });
  if (sim == available_.end()) {
    return NotFoundError(fmt::format("no simulated device {} in the rig; devices found: {}",
                                     info.name, DescribeDevices(available_)));
  }
  int index = std::stoi(info.name.substr(4));  // "sim:N", as the rig above named it
  sim::SimDeviceConfig config = rig_[index];
  config.compute_outputs = config.compute_outputs && options_.sim_outputs;
  config.allow_timing_only = options_.allow_timing_only;
  config.full_models = options_.sim_full_models;
  std::shared_ptr<sim::SimBus>& bus = buses_[config.hardware.bus];
  if (!bus) bus = std::make_shared<sim::SimBus>();
  std::shared_ptr<sim::SimClock> clock = wall_clock_;
  if (!clock) clock = rig_clock_ ? rig_clock_->AddLane() : sim::MakeVirtualClock();
  return std::unique_ptr<backends::Device>(new sim::SimDevice(index, config, clock, bus));
}

void DeviceFactory::UseRigClock() {
  if (!wall_clock_ && !rig_clock_) rig_clock_ = std::make_shared<sim::RigClock>();
}

Result<std::unique_ptr<backends::Device>> DeviceFactory::OpenEdgeTpu(const DeviceInfo& info) {
  backends::EdgeTpuDeviceOptions device{options_.edgetpu_options, options_.cpu_threads};
  if (options_.isolate) {
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::IsolatedDevice> isolated,
                              backends::IsolatedDevice::Open(info, {options_.device_host, device}));
    return std::unique_ptr<backends::Device>(std::move(isolated));
  }
  TPUFLEET_ASSIGN_OR_RETURN(const backends::EdgeTpuRuntime* runtime,
                            backends::EdgeTpuRuntime::Get());
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::EdgeTpuDevice> opened,
                            backends::EdgeTpuDevice::Open(*runtime, info, device));
  return std::unique_ptr<backends::Device>(std::move(opened));
}

}  // namespace tpufleet::fleet
