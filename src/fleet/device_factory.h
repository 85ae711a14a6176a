// Opens the devices that device strings name, for the fleet and for OpenDevice: real Edge TPUs
// (found in sysfs and by libedgetpu, `:N` indexed in libedgetpu's order, `#N` in the stable one;
// opened in this process or isolated in a child, once per process and shared), simulated Edge
// TPUs from a rig (devices on one bus share it; in real time they share one wall clock, in
// virtual time each has its own timeline, or with UseRigClock a lane of the rig's one clock), and
// the CPU.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/device.h"
#include "sim/rig_clock.h"
#include "sim/sim_device.h"
#include "tpufleet/device.h"

namespace tpufleet::fleet {

class DeviceFactory {
 public:
  static Result<std::unique_ptr<DeviceFactory>> Create(const DeviceOptions& options);

  // Every device a string may name: the real Edge TPUs in libedgetpu's order, sim:0 ... sim:N-1,
  // then cpu.
  const std::vector<DeviceInfo>& available() const { return available_; }

  // The one device `device_string` names. For "", "usb" and "pci": the first of those it may
  // name that is open in this process, else the first (PCIe first for "").
  Result<const DeviceInfo*> Resolve(const std::string& device_string) const;

  // Opens the device `device_string` names, for one owner (a fleet's worker). A real Edge TPU
  // open in this process already is shared with its other users (each Run takes its turn).
  Result<std::unique_ptr<backends::Device>> Open(const std::string& device_string);

  // The shared handle of the device `device_string` (or `info`, one of available()) names: the
  // handle already open in this process for a real Edge TPU, else a new one.
  Result<DevicePtr> OpenShared(const std::string& device_string);
  Result<DevicePtr> OpenShared(const DeviceInfo& info);

  // In virtual time, simulated devices opened from now on get lanes of one clock (in the order
  // opened) for whoever steps the rig (a fleet's VirtualRig); null until then.
  void UseRigClock();
  const std::shared_ptr<sim::RigClock>& rig_clock() const { return rig_clock_; }

 private:
  DeviceFactory() = default;
  Result<std::unique_ptr<backends::Device>> OpenNew(const DeviceInfo& info);
  Result<std::unique_ptr<backends::Device>> OpenEdgeTpu(const DeviceInfo& info);

  DeviceOptions options_;
  std::vector<sim::SimDeviceConfig> rig_;
  std::vector<DeviceInfo> available_;
  std::map<int, std::shared_ptr<sim::SimBus>> buses_;
  std::shared_ptr<sim::SimClock> wall_clock_;  // real time only
  std::shared_ptr<sim::RigClock> rig_clock_;
};

}  // namespace tpufleet::fleet
