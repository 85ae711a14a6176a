#include "devices/doctor.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "devices/order.h"

namespace tpufleet {
namespace {

constexpr int kUsb3Mbps = 5000;
constexpr int kStickDefaultMa = 500;  // at the reduced (default) clock
constexpr int kStickMaxClockMa = 900;
constexpr int kUsb2PortMa = 500;
constexpr int kUsb3PortMa = 900;
constexpr double kThermalMarginC = 5.0;

void CheckSubHubPort(const DeviceInfo& d, std::vector<Finding>& out) {
  if (d.hubs.size() < 2 || d.ports.back() == 1) return;
  const UsbHub& parent = d.hubs.back();
  const UsbHub& outer = d.hubs[d.hubs.size() - 2];
  out.push_back(
      {Severity::kError, PathSelector(d),
       fmt::format(
           "on port {} of hub {}, which sits inside hub {}: a secondary port of a sub-hub "
           "cannot get an Edge TPU context; move it to port 1 of hub {} or to a port of hub {}",
           d.ports.back(), parent.name, outer.name, parent.name, outer.name)});
}

void CheckLinkSpeed(const DeviceInfo& d, std::vector<Finding>& out) {
  if (d.link_speed_mbps == 0) {
    out.push_back(
        {Severity::kWarning, PathSelector(d), "link speed unknown (sysfs 'speed' unreadable)"});
  } else if (d.link_speed_mbps < kUsb3Mbps) {
    out.push_back(
        {Severity::kWarning, PathSelector(d),
         fmt::format("USB 2 link ({}M): expect inference about 4x slower on small models and up to "
                     "12x on large ones than on USB 3; use a USB 3 port, cable and hub",
                     d.link_speed_mbps)});
  }
}

void CheckSharedRootPorts(const std::vector<const DeviceInfo*>& usb, std::vector<Finding>& out) {
  std::map<std::pair<int, int>, std::vector<const DeviceInfo*>> by_root_port;
  for (const DeviceInfo* d : usb) {
    if (!d->ports.empty()) by_root_port[{d->bus, d->ports.front()}].push_back(d);
  }
  for (const auto& [where, devices] : by_root_port) {
    if (devices.size() < 2) continue;
    std::vector<std::string> names;
    for (const DeviceInfo* d : devices) names.push_back(PathSelector(*d));
    out.push_back(
        {Severity::kWarning, fmt::format("bus {} port {}", where.first, where.second),
         fmt::format(
             "{} Edge TPUs share root port {} of bus {} ({}): they share its bandwidth, so models "
             "that stream parameters become bus-bound; spread them over root ports or buses",
             devices.size(), where.second, where.first, fmt::join(names, ", "))});
  }
}

void CheckHubPower(const Inventory& inventory, const std::vector<const DeviceInfo*>& usb,
                   std::vector<Finding>& out) {
  for (const UsbNode& hub : inventory.usb_nodes) {
    if (!hub.is_hub || hub.ports.empty() || hub.self_powered != false) continue;
    int sticks = static_cast<int>(std::count_if(usb.begin(), usb.end(), [&](const DeviceInfo* d) {
      return d->bus == hub.bus && d->ports.size() > hub.ports.size() &&
             std::equal(hub.ports.begin(), hub.ports.end(), d->ports.begin());
    }));
    if (sticks == 0) continue;
    int supply = (hub.speed_mbps >= kUsb3Mbps ? kUsb3PortMa : kUsb2PortMa) - hub.max_power_ma;
    if (supply < sticks * kStickDefaultMa) {
      out.push_back(
          {Severity::kWarning, "hub " + hub.name,
           fmt::format(
               "bus-powered hub with {} Edge TPU(s) has about {} mA for them, less than {} mA "
               "each: sticks may fail to start or reset under load; use a self-powered hub",
               sticks, supply, kStickDefaultMa)});
    } else if (supply < sticks * kStickMaxClockMa) {
      out.push_back(
          {Severity::kWarning, "hub " + hub.name,
           fmt::format(
               "bus-powered hub with {} Edge TPU(s) has about {} mA for them: enough at the "
               "default clock, not the {} mA each needs at the max clock",
               sticks, supply, kStickMaxClockMa)});
    }
  }
}

void CheckPci(const DeviceInfo& d, std::vector<Finding>& out) {
  if (d.state == DeviceState::kMissingNode) {
    out.push_back({Severity::kError, PathSelector(d),
                   fmt::format("no {} node: is the apex (gasket) kernel driver loaded?", d.path)});
  }
  if (d.owner_pid) {
    out.push_back({Severity::kWarning, PathSelector(d),
                   fmt::format("owned by process {}: one process may own a PCIe Edge TPU at a time",
                               *d.owner_pid)});
  }
  if (d.temperature_c && !d.trip_points_c.empty()) {
    double trip = d.trip_points_c.front();
    if (*d.temperature_c >= trip) {
      out.push_back(
          {Severity::kWarning, PathSelector(d),
           fmt::format(
               "{:.1f} C is at or above its first trip point ({:.0f} C): the kernel has lowered "
               "its clock; improve cooling",
               *d.temperature_c, trip)});
    } else if (*d.temperature_c >= trip - kThermalMarginC) {
      out.push_back(
          {Severity::kWarning, PathSelector(d),
           fmt::format(
               "{:.1f} C is within {:.0f} C of its first trip point ({:.0f} C), where the kernel "
               "lowers its clock; improve cooling",
               *d.temperature_c, kThermalMarginC, trip)});
    }
  }
}

}  // namespace

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "info";
}

std::string PathSelector(const DeviceInfo& device) {
  if (device.type == DeviceType::kUsb) return "usb@" + device.name;
  if (device.type == DeviceType::kPci) return "pci@" + device.path;
  return device.name;
}

std::vector<Finding> Diagnose(const Inventory& inventory) {
  std::vector<Finding> findings;
  std::vector<const DeviceInfo*> usb;
  std::vector<DeviceInfo> devices = Ordered(inventory.devices, EnumerationOrder::kStable);
  for (const DeviceInfo& d : devices) {
    if (d.type == DeviceType::kUsb) {
      usb.push_back(&d);
      CheckSubHubPort(d, findings);
      CheckLinkSpeed(d, findings);
      if (d.state == DeviceState::kNeedsFirmware) {
        findings.push_back({Severity::kInfo, PathSelector(d),
                            "in bootloader mode (1a6e:089a): the first open loads its firmware (3 "
                            "s or more), then "
                            "it re-enumerates as 18d1:9302 on the same port"});
      }
    } else if (d.type == DeviceType::kPci) {
      CheckPci(d, findings);
    }
  }
  CheckSharedRootPorts(usb, findings);
  CheckHubPower(inventory, usb, findings);
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
  return findings;
}

}  // namespace tpufleet
