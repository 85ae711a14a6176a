// Opens the devices that device strings name, for the fleet and for MakeInterpreter: real Edge
// TPUs (found in sysfs and by libedgetpu, indexed in tpufleet's stable order, as `tpufleet
// devices` numbers them; opened in this process or
// isolated in a child), simulated Edge TPUs from a rig (devices on one bus share it; in real
// time they share one wall clock, in virtual time each has its own timeline), and the CPU.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/device.h"
#include "sim/sim_device.h"
#include "tpufleet/options.h"

namespace tpufleet::fleet {

class DeviceFactory {
 public:
  static Result<std::unique_ptr<DeviceFactory>> Create(const DeviceOptions& options);

  // Every device a string may name: the real Edge TPUs, sim:0 ... sim:N-1, then cpu.
  const std::vector<DeviceInfo>& available() const { return available_; }
  // Opens the one device `device_string` names ("sim:1", "cpu"); an error when it names none
  // or several.
  Result<std::unique_ptr<backends::Device>> Open(const std::string& device_string);

 private:
  DeviceFactory() = default;
  Result<std::unique_ptr<backends::Device>> OpenEdgeTpu(const DeviceInfo& info);

  DeviceOptions options_;
  std::vector<sim::SimDeviceConfig> rig_;
  std::vector<DeviceInfo> available_;
  std::map<int, std::shared_ptr<sim::SimBus>> buses_;
  std::shared_ptr<sim::SimClock> wall_clock_;  // real time only
};

}  // namespace tpufleet::fleet
