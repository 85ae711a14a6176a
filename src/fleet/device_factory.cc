#include "fleet/device_factory.h"

#include <fmt/format.h>

#include "backends/cpu_device.h"
#include "backends/isolation/isolated_device.h"
#include "devices/discovery.h"
#include "devices/order.h"
#include "devices/selector.h"

namespace tpufleet::fleet {

Result<std::unique_ptr<DeviceFactory>> DeviceFactory::Create(const DeviceOptions& options) {
  std::unique_ptr<DeviceFactory> factory(new DeviceFactory());
  factory->options_ = options;
  factory->rig_ = sim::DefaultTopology();
  if (!options.sim_topology_json.empty()) {
    TPUFLEET_ASSIGN_OR_RETURN(factory->rig_, sim::ParseTopology(options.sim_topology_json));
  }
  for (size_t i = 0; i < factory->rig_.size(); ++i) {
    factory->available_.push_back(
        sim::SimDevice(static_cast<int>(i), factory->rig_[i], sim::MakeVirtualClock(), nullptr)
            .info());
  }
  factory->available_.push_back(backends::CpuDevice().info());
  std::vector<DeviceInfo> edgetpus =
      Ordered(DiscoverDevices({}).devices, EnumerationOrder::kStable);
  factory->available_.insert(factory->available_.begin(), edgetpus.begin(), edgetpus.end());
  if (options.real_time) factory->wall_clock_ = sim::MakeRealTimeClock();
  return factory;
}

Result<std::unique_ptr<backends::Device>> DeviceFactory::Open(const std::string& device_string) {
  TPUFLEET_ASSIGN_OR_RETURN(Selector selector, ParseSelector(device_string));
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<const DeviceInfo*> found,
                            ResolveSelector(selector, available_));
  if (found.size() != 1) {
    return InvalidArgumentError(fmt::format("'{}' names {} devices; give one device per string",
                                            device_string, found.size()));
  }
  const DeviceInfo& info = *found[0];
  if (info.type == DeviceType::kCpu) {
    return std::unique_ptr<backends::Device>(new backends::CpuDevice(options_.cpu_threads));
  }
  if (info.type == DeviceType::kUsb || info.type == DeviceType::kPci) {
    Result<std::unique_ptr<backends::Device>> opened = OpenEdgeTpu(info);
    if (!opened.ok()) return opened.status().WithContext(device_string);
    return opened;
  }
  int index = std::stoi(info.name.substr(4));  // "sim:N"
  sim::SimDeviceConfig config = rig_[index];
  config.compute_outputs = config.compute_outputs && options_.sim_outputs;
  config.allow_timing_only = options_.allow_timing_only;
  std::shared_ptr<sim::SimBus>& bus = buses_[config.hardware.bus];
  if (!bus) bus = std::make_shared<sim::SimBus>();
  return std::unique_ptr<backends::Device>(
      new sim::SimDevice(index, config, wall_clock_ ? wall_clock_ : sim::MakeVirtualClock(), bus));
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
