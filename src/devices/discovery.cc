#include "devices/discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "devices/sysfs_reader.h"

namespace tpufleet {
namespace {

constexpr char kReadyId[] = "18d1:9302";       // application mode, after the firmware load
constexpr char kBootloaderId[] = "1a6e:089a";  // DFU mode, before it
constexpr int kHubClass = 0x09;
constexpr int kSelfPoweredBit = 0x40;  // bmAttributes

// "2-3.2.1" -> bus 2, ports {3, 2, 1}. False for anything else (interfaces like "2-3:1.0").
bool ParseUsbName(const std::string& name, int& bus, std::vector<int>& ports) {
  size_t dash = name.find('-');
  if (dash == std::string::npos || dash == 0) return false;
  auto parse = [](std::string_view text, int& out) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc() && end == text.data() + text.size() && out >= 0;
  };
  if (!parse(std::string_view(name).substr(0, dash), bus)) return false;
  ports.clear();
  std::string_view rest = std::string_view(name).substr(dash + 1);
  while (true) {
    size_t dot = rest.find('.');
    int port = 0;
    if (!parse(rest.substr(0, dot), port) || port == 0) return false;
    ports.push_back(port);
    if (dot == std::string::npos) break;
    rest = rest.substr(dot + 1);
  }
  return ports.size() <= 7;  // USB allows at most 7 tiers below the root
}

// "5000" -> 5000, "1.5" -> 1; 0 and a problem note when missing or malformed.
int ReadSpeed(SysfsReader& sysfs, const std::string& dir) {
  std::optional<std::string> text = sysfs.Text(dir + "/speed", /*required=*/true);
  if (!text) return 0;
  double value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value <= 0) {
    sysfs.AddProblem(fmt::format("{}/speed: '{}' is not a link speed in Mb/s",
                                 sysfs.Resolve(dir).string(), *text));
    return 0;
  }
  return static_cast<int>(value);
}

// "896mA" -> 896.
int ReadMilliamps(SysfsReader& sysfs, const std::string& dir) {
  std::optional<std::string> text = sysfs.Text(dir + "/bMaxPower");
  if (!text) return 0;
  int value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || std::string_view(end, text->data() + text->size() - end) != "mA") {
    sysfs.AddProblem(fmt::format("{}/bMaxPower: '{}' is not a current like 500mA",
                                 sysfs.Resolve(dir).string(), *text));
    return 0;
  }
  return value;
}

std::optional<UsbNode> ReadUsbNode(SysfsReader& sysfs, const std::string& name) {
  UsbNode node;
  node.name = name;
  std::string dir = std::string(kUsbDevicesDir) + "/" + name;
  if (name.starts_with("usb")) {
    auto [end, error] = std::from_chars(name.data() + 3, name.data() + name.size(), node.bus);
    if (error != std::errc() || end != name.data() + name.size()) return std::nullopt;
  } else if (!ParseUsbName(name, node.bus, node.ports)) {
    if (name.find(':') == std::string::npos) {
      sysfs.AddProblem(fmt::format("{}: ignored, not a USB device name like 2-1.3",
                                   sysfs.Resolve(dir).string()));
    }
    return std::nullopt;
  }
  node.vendor_id = sysfs.Text(dir + "/idVendor", true).value_or("");
  node.product_id = sysfs.Text(dir + "/idProduct", true).value_or("");
  if (node.vendor_id.empty() || node.product_id.empty()) {
    sysfs.AddProblem(fmt::format("{}: empty idVendor or idProduct; device ignored",
                                 sysfs.Resolve(dir).string()));
    return std::nullopt;
  }
  std::string id = node.vendor_id + ":" + node.product_id;
  node.is_edgetpu = id == kReadyId || id == kBootloaderId;
  std::optional<int64_t> device_class = sysfs.Integer(dir + "/bDeviceClass", 16);
  node.is_hub = device_class == kHubClass || node.ports.empty();
  node.child_ports = static_cast<int>(sysfs.Integer(dir + "/maxchild").value_or(0));
  node.speed_mbps = ReadSpeed(sysfs, dir);
  if (std::optional<int64_t> attributes = sysfs.Integer(dir + "/bmAttributes", 16)) {
    node.self_powered = (*attributes & kSelfPoweredBit) != 0;
  }
  node.max_power_ma = ReadMilliamps(sysfs, dir);
  std::string manufacturer = sysfs.Text(dir + "/manufacturer").value_or("");
  std::string product = sysfs.Text(dir + "/product").value_or("");
  node.description = manufacturer.empty() || product.empty() ? manufacturer + product
                                                             : manufacturer + " " + product;
  return node;
}

std::string UsbName(int bus, const std::vector<int>& ports, size_t depth) {
  std::string name = std::to_string(bus) + "-";
  for (size_t i = 0; i < depth; ++i) name += (i ? "." : "") + std::to_string(ports[i]);
  return name;
}

DeviceInfo UsbDevice(const UsbNode& node, const std::map<std::string, const UsbNode*>& by_name,
                     SysfsReader& sysfs) {
  DeviceInfo device;
  device.type = DeviceType::kUsb;
  device.name = node.name;
  device.path = std::string("/") + kUsbDevicesDir + "/" + node.name;
  device.state = node.vendor_id + ":" + node.product_id == kReadyId ? DeviceState::kReady
                                                                    : DeviceState::kNeedsFirmware;
  device.link_speed_mbps = node.speed_mbps;
  device.bus = node.bus;
  device.ports = node.ports;
  device.max_power_ma = node.max_power_ma;
  device.serial =
      sysfs.Text(std::string(kUsbDevicesDir) + "/" + node.name + "/serial").value_or("");
  if (auto root = by_name.find("usb" + std::to_string(node.bus)); root != by_name.end()) {
    device.root_hub_ports = root->second->child_ports;
    device.root_hub_speed_mbps = root->second->speed_mbps;
  }
  for (size_t depth = 1; depth < node.ports.size(); ++depth) {
    std::string hub_name = UsbName(node.bus, node.ports, depth);
    UsbHub hub;
    hub.name = hub_name;
    hub.port = node.ports[depth - 1];
    if (auto it = by_name.find(hub_name); it != by_name.end()) {
      hub.ports = it->second->child_ports;
      hub.speed_mbps = it->second->speed_mbps;
      hub.self_powered = it->second->self_powered;
      hub.max_power_ma = it->second->max_power_ma;
    } else {
      sysfs.AddProblem(
          fmt::format("{}: hub {} above it is missing from sysfs", device.path, hub_name));
    }
    device.hubs.push_back(std::move(hub));
  }
  return device;
}

void DiscoverUsb(SysfsReader& sysfs, Inventory& inventory) {
  for (const std::string& name : sysfs.List(kUsbDevicesDir)) {
    if (std::optional<UsbNode> node = ReadUsbNode(sysfs, name))
      inventory.usb_nodes.push_back(std::move(*node));
  }
  std::map<std::string, const UsbNode*> by_name;
  for (const UsbNode& node : inventory.usb_nodes) by_name[node.name] = &node;
  for (const UsbNode& node : inventory.usb_nodes) {
    if (node.is_edgetpu) inventory.devices.push_back(UsbDevice(node, by_name, sysfs));
  }
}

void DiscoverPci(SysfsReader& sysfs, Inventory& inventory) {
  for (const std::string& name : sysfs.List(kApexClassDir)) {
    if (!name.starts_with("apex_")) continue;
    std::string dir = std::string(kApexClassDir) + "/" + name;
    DeviceInfo device;
    device.type = DeviceType::kPci;
    device.name = name;
    device.path = "/dev/" + name;
    if (!sysfs.Exists("dev/" + name))
      device.state = DeviceState::kMissingNode;  // the doctor says why
    if (std::optional<int64_t> temp = sysfs.Integer(dir + "/temp", 10, true))
      device.temperature_c = *temp / 1000.0;
    for (int i = 0; i < 3; ++i) {
      if (auto trip = sysfs.Integer(dir + fmt::format("/trip_point{}_temp", i))) {
        device.trip_points_c.push_back(*trip / 1000.0);
      }
    }
    if (sysfs.Integer(dir + "/is_device_owned").value_or(0) != 0) {
      device.owner_pid = static_cast<int>(sysfs.Integer(dir + "/device_owner").value_or(0));
      if (device.state == DeviceState::kReady) device.state = DeviceState::kOwnedElsewhere;
    }
    if (std::optional<std::string> speed = sysfs.Text(dir + "/device/current_link_speed")) {
      double gts = 0;
      std::from_chars(speed->data(), speed->data() + speed->size(), gts);
      device.link_speed_mbps = static_cast<int>(gts * 1000);
    }
    device.pcie_lanes =
        static_cast<int>(sysfs.Integer(dir + "/device/current_link_width").value_or(0));
    inventory.devices.push_back(std::move(device));
  }
}

}  // namespace

Inventory DiscoverDevices(const DiscoveryOptions& options) {
  Inventory inventory;
  inventory.sysfs_root = options.sysfs_root;
  SysfsReader sysfs(options.sysfs_root);
  DiscoverPci(sysfs, inventory);
  DiscoverUsb(sysfs, inventory);
  inventory.problems = sysfs.problems();
  if (options.query_runtime) {
    RuntimeProbe probe = ProbeEdgeTpuRuntime(DefaultRuntimeCandidates());
    MergeRuntimeDevices(probe, inventory);
    inventory.runtime = std::move(probe);
  }
  return inventory;
}

void MergeRuntimeDevices(const RuntimeProbe& probe, Inventory& inventory) {
  for (const RuntimeDevice& seen : probe.devices) {
    auto match = std::find_if(
        inventory.devices.begin(), inventory.devices.end(),
        [&](const DeviceInfo& d) { return d.type == seen.type && d.path == seen.path; });
    if (match != inventory.devices.end()) {
      match->seen_by_runtime = true;
      continue;
    }
    DeviceInfo device;
    device.type = seen.type;
    device.path = seen.path;
    device.name = seen.path.substr(seen.path.find_last_of('/') + 1);
    device.seen_by_runtime = true;
    ParseUsbName(device.name, device.bus, device.ports);
    inventory.problems.push_back(
        fmt::format("{}: listed by libedgetpu but not found in sysfs", seen.path));
    // libedgetpu lists PCIe devices first.
    auto position =
        seen.type == DeviceType::kPci
            ? std::find_if(inventory.devices.begin(), inventory.devices.end(),
                           [](const DeviceInfo& d) { return d.type != DeviceType::kPci; })
            : inventory.devices.end();
    inventory.devices.insert(position, std::move(device));
  }
}

}  // namespace tpufleet
