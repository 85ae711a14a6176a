// DeviceInfo: what tpufleet knows about one Edge TPU (or a CPU or simulated device).
//
// A device's identity is (type, path), as libedgetpu has it: `/sys/bus/usb/devices/2-1.3` for a
// USB stick (stable across the firmware load, since it names the port), `/dev/apex_0` for a PCIe
// device. Indexes such as `usb:1` depend on the enumeration order; see devices/order.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tpufleet {

enum class DeviceType { kPci, kUsb, kCpu, kSim };

// "pci", "usb", "cpu", "sim": the words of device strings.
const char* DeviceTypeName(DeviceType type);

enum class DeviceState {
  kReady,           // usable now
  kNeedsFirmware,   // USB stick in bootloader mode (1a6e:089a); the runtime loads firmware on open
  kOwnedElsewhere,  // PCIe node owned by another process
  kMissingNode,     // PCIe device without its /dev/apex_N node (driver not loaded?)
};

const char* DeviceStateName(DeviceState state);

// One hub between a USB device and its root hub.
struct UsbHub {
  std::string name;  // sysfs name, e.g. "2-3.2"
  int port = 0;      // port of the parent this hub is plugged into
  int ports = 0;     // downstream ports (maxchild)
  int speed_mbps = 0;
  std::optional<bool> self_powered;  // from bmAttributes; absent when sysfs does not say
  int max_power_ma = 0;              // what the hub itself draws upstream (bMaxPower)
};

struct DeviceInfo {
  DeviceType type = DeviceType::kUsb;
  std::string path;  // libedgetpu's path string
  std::string name;  // sysfs name: "2-1.3", "apex_0"; for sim and cpu devices their selector
  DeviceState state = DeviceState::kReady;
  int link_speed_mbps = 0;  // USB: 5000, 480, ...; PCIe: per-lane rate (5000 for Gen2); 0 = unknown
  bool seen_by_runtime = false;  // also listed by libedgetpu's edgetpu_list_devices

  // USB
  int bus = 0;
  std::vector<int> ports;    // port chain from the root hub, e.g. {3, 2, 1}
  std::vector<UsbHub> hubs;  // hubs from the root hub's child down to the device's parent
  int root_hub_ports = 0;
  int root_hub_speed_mbps = 0;
  int max_power_ma = 0;  // bMaxPower
  std::string serial;

  // PCIe
  std::optional<double> temperature_c;
  std::vector<double> trip_points_c;  // the kernel lowers the clock one step at each
  std::optional<int> owner_pid;       // set when owned by another process
  int pcie_lanes = 0;
};

}  // namespace tpufleet
