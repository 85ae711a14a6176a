// Discovery of Edge TPUs from sysfs (root injectable, so fixture trees stand in for hardware),
// merged with libedgetpu's own list when that library can be loaded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "devices/edgetpu_runtime.h"
#include "tpufleet/device.h"

namespace tpufleet {

inline constexpr char kUsbDevicesDir[] = "sys/bus/usb/devices";
inline constexpr char kApexClassDir[] = "sys/class/apex";

// Every USB device sysfs lists (root hubs, hubs, Edge TPUs, anything else), for drawing the tree.
struct UsbNode {
  std::string name;  // "usb2", "2-3", "2-3.2.1"
  int bus = 0;
  std::vector<int> ports;   // empty for a root hub
  std::string vendor_id;    // "18d1"
  std::string product_id;   // "9302"
  std::string description;  // manufacturer and product strings, when present
  bool is_hub = false;
  int child_ports = 0;  // maxchild
  int speed_mbps = 0;   // 0 when unknown
  std::optional<bool> self_powered;
  int max_power_ma = 0;
  bool is_edgetpu = false;
};

struct Inventory {
  std::string sysfs_root;
  // Edge TPUs in discovery order: PCIe in readdir order of /sys/class/apex, then USB in readdir
  // order of /sys/bus/usb/devices (the order libusb reports them in).
  std::vector<DeviceInfo> devices;
  std::vector<UsbNode> usb_nodes;       // readdir order
  std::vector<std::string> problems;    // malformed or missing sysfs files, with their paths
  std::optional<RuntimeProbe> runtime;  // absent when not queried
};

struct DiscoveryOptions {
  std::string sysfs_root = "/";
  // Ask libedgetpu too. Only meaningful against the real root: with a fixture root the runtime's
  // devices would be the machine's, not the fixture's.
  bool query_runtime = true;
};

Inventory DiscoverDevices(const DiscoveryOptions& options);

// Marks devices the runtime also lists, and adds those it lists that sysfs does not show.
void MergeRuntimeDevices(const RuntimeProbe& probe, Inventory& inventory);

}  // namespace tpufleet
