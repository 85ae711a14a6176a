#include "fleet/device_factory.h"

#include <fmt/format.h>

#include "backends/cpu_device.h"
#include "devices/selector.h"

namespace tpufleet::fleet {

Result<std::unique_ptr<DeviceFactory>> DeviceFactory::Create(const DeviceFactoryOptions& options) {
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
  int index = static_cast<int>(found[0] - available_.data());
  sim::SimDeviceConfig config = rig_[index];
  config.compute_outputs = config.compute_outputs && options_.sim_outputs;
  std::shared_ptr<sim::SimBus>& bus = buses_[config.hardware.bus];
  if (!bus) bus = std::make_shared<sim::SimBus>();
  return std::unique_ptr<backends::Device>(
      new sim::SimDevice(index, config, wall_clock_ ? wall_clock_ : sim::MakeVirtualClock(), bus));
}

}  // namespace tpufleet::fleet
