// `tpufleet devices [--json] [--tree] [--sysfs ROOT] [--order stable|coral]`: the Edge TPUs that
// exist, how to address them, and why any of them will be slow or unusable.
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "backends/edgetpu/tflite_c.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "devices/discovery.h"
#include "devices/doctor.h"
#include "devices/order.h"
#include "devices/usb_tree.h"
#include "sim/topology.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

struct DevicesArgs {
  bool json = false;
  bool tree = false;
  std::string sysfs_root = "/";
  std::string order = "stable";
  std::optional<std::string> sim;  // "" for the default rig, else a topology file
};

// The simulated devices of a rig (the default one, or a topology file), as `sim:N`.
Result<std::vector<DeviceInfo>> SimulatedDevices(const std::string& topology_file) {
  std::vector<sim::SimDeviceConfig> rig = sim::DefaultTopology();
  if (!topology_file.empty()) {
    TPUFLEET_ASSIGN_OR_RETURN(std::string text, ReadTextFile(topology_file, "the topology file"));
    Result<std::vector<sim::SimDeviceConfig>> parsed = sim::ParseTopology(text);
    if (!parsed.ok()) return parsed.status().WithContext(topology_file);
    rig = std::move(parsed).value();
  }
  std::vector<DeviceInfo> devices;
  for (size_t i = 0; i < rig.size(); ++i) {
    devices.push_back(
        sim::SimDevice(static_cast<int>(i), rig[i], sim::MakeVirtualClock(), nullptr).info());
  }
  return devices;
}

// Index of each device (by path) in Coral's order, so users can map one numbering to the other.
std::map<std::string, int> CoralIndexes(const Inventory& inventory) {
  std::map<std::string, int> indexes;
  int i = 0;
  for (const DeviceInfo& d : Ordered(inventory.devices, EnumerationOrder::kCoral))
    indexes[d.path] = i++;
  return indexes;
}

std::string Link(const DeviceInfo& d) {
  if (d.link_speed_mbps == 0) return "-";
  if (d.type == DeviceType::kPci)
    return fmt::format("{:.1f}GT/s x{}", d.link_speed_mbps / 1000.0, d.pcie_lanes);
  return fmt::format("{}M", d.link_speed_mbps);
}

json DeviceJson(const DeviceInfo& d, int index, const std::string& type_index, int coral_index) {
  json hubs = json::array();
  for (const UsbHub& h : d.hubs) {
    hubs.push_back({{"name", h.name},
                    {"port", h.port},
                    {"ports", h.ports},
                    {"speed_mbps", h.speed_mbps},
                    {"self_powered", h.self_powered ? json(*h.self_powered) : json(nullptr)},
                    {"max_power_ma", h.max_power_ma}});
  }
  json out = {{"index", index},
              {"selector", type_index},
              {"path_selector", PathSelector(d)},
              {"coral_index", coral_index},
              {"type", DeviceTypeName(d.type)},
              {"path", d.path},
              {"name", d.name},
              {"state", DeviceStateName(d.state)},
              {"link_speed_mbps", d.link_speed_mbps},
              {"seen_by_runtime", d.seen_by_runtime}};
  if (d.type == DeviceType::kUsb) {
    out["bus"] = d.bus;
    out["ports"] = d.ports;
    out["hubs"] = hubs;
    out["max_power_ma"] = d.max_power_ma;
    out["serial"] = d.serial;
  } else {
    out["temperature_c"] = d.temperature_c ? json(*d.temperature_c) : json(nullptr);
    out["trip_points_c"] = d.trip_points_c;
    out["owner_pid"] = d.owner_pid ? json(*d.owner_pid) : json(nullptr);
    out["pcie_lanes"] = d.pcie_lanes;
  }
  return out;
}

std::string RuntimeLine(const Inventory& inventory) {
  if (!inventory.runtime)
    return fmt::format("libedgetpu: not queried (devices read from {})", inventory.sysfs_root);
  const RuntimeProbe& r = *inventory.runtime;
  if (r.loaded) {
    return fmt::format("libedgetpu: {} loaded{}, lists {} device(s)", r.library,
                       r.version.empty() ? "" : " (" + r.version + ")", r.devices.size());
  }
  return fmt::format(
      "libedgetpu: not loaded, devices read from sysfs only (tried {}). Install the Edge TPU "
      "runtime or set TPUFLEET_EDGETPU_LIB to use real devices.",
      fmt::join(r.tried, "; "));
}

// Whether TensorFlow Lite's C library, which real Edge TPUs need beside libedgetpu, loads.
Result<backends::TfLiteCApi> ProbeTfLiteC() {
  return backends::LoadTfLiteC(backends::TfLiteCCandidates());
}

std::string TfLiteLine(const Result<backends::TfLiteCApi>& tflite) {
  if (tflite.ok()) {
    return fmt::format("TensorFlow Lite C: {} loaded (version {})", tflite->library,
                       tflite->version);
  }
  return fmt::format(
      "TensorFlow Lite C: {}. Real Edge TPUs need it beside libedgetpu; install it or set "
      "TPUFLEET_TFLITE_LIB.",
      tflite.status().message());
}

int Run(const DevicesArgs& args) {
  Result<EnumerationOrder> order = ParseEnumerationOrder(args.order);
  if (!order.ok()) {
    std::cerr << "error: " << order.status().message() << "\n";
    return 2;
  }
  DiscoveryOptions options;
  options.sysfs_root = args.sysfs_root;
  options.query_runtime = args.sysfs_root == "/";
  Inventory inventory = DiscoverDevices(options);
  std::vector<Finding> findings = Diagnose(inventory);
  std::vector<DeviceInfo> devices = Ordered(inventory.devices, *order);
  if (args.sim) {
    Result<std::vector<DeviceInfo>> simulated = SimulatedDevices(*args.sim);
    if (!simulated.ok()) {
      std::cerr << "error: " << simulated.status().message() << "\n";
      return 1;
    }
    devices.insert(devices.end(), simulated->begin(), simulated->end());
  }
  std::map<std::string, int> coral = CoralIndexes(inventory);
  std::map<DeviceType, int> per_type;
  std::vector<std::string> type_indexes;
  for (const DeviceInfo& d : devices)
    type_indexes.push_back(fmt::format("{}:{}", DeviceTypeName(d.type), per_type[d.type]++));

  if (args.json) {
    json report = {{"order", EnumerationOrderName(*order)}, {"sysfs_root", inventory.sysfs_root}};
    report["devices"] = json::array();
    for (size_t i = 0; i < devices.size(); ++i) {
      report["devices"].push_back(
          DeviceJson(devices[i], static_cast<int>(i), type_indexes[i], coral[devices[i].path]));
      if (devices[i].type == DeviceType::kSim) {
        report["devices"].back()["index"] = nullptr;
        report["devices"].back()["coral_index"] = nullptr;
      }
    }
    report["findings"] = json::array();
    for (const Finding& f : findings) {
      report["findings"].push_back(
          {{"severity", SeverityName(f.severity)}, {"device", f.device}, {"message", f.message}});
    }
    report["problems"] = inventory.problems;
    report["runtime"] = nullptr;
    report["tflite"] = nullptr;
    if (inventory.runtime) {
      report["runtime"] = {{"loaded", inventory.runtime->loaded},
                           {"library", inventory.runtime->library},
                           {"version", inventory.runtime->version},
                           {"tried", inventory.runtime->tried}};
      Result<backends::TfLiteCApi> tflite = ProbeTfLiteC();
      report["tflite"] = {{"loaded", tflite.ok()},
                          {"library", tflite.ok() ? tflite->library : ""},
                          {"version", tflite.ok() ? tflite->version : ""},
                          {"error", tflite.ok() ? "" : tflite.status().message()}};
    }
    std::cout << report.dump(2) << "\n";
    return 0;
  }

  if (args.tree) {
    std::cout << DrawTopology(inventory, findings);
  } else if (devices.empty()) {
    std::cout << "No Edge TPU found.\n";
  } else {
    std::cout << fmt::format("{:<4} {:<7} {:<30} {:<25} {:<12} {:<8} {}\n", "#", "DEVICE", "PATH",
                             "STATE", "LINK", "TEMP", "CORAL");
    for (size_t i = 0; i < devices.size(); ++i) {
      const DeviceInfo& d = devices[i];
      std::string temp = d.temperature_c ? fmt::format("{:.1f} C", *d.temperature_c) : "-";
      // ":N" and Coral's numbering cover Edge TPUs only; simulated devices are "sim:N".
      bool edgetpu = d.type == DeviceType::kUsb || d.type == DeviceType::kPci;
      std::cout << fmt::format("{:<4} {:<7} {:<30} {:<25} {:<12} {:<8} {}\n",
                               edgetpu ? fmt::format(":{}", i) : "-", type_indexes[i], d.path,
                               DeviceStateName(d.state), Link(d), temp,
                               edgetpu ? fmt::format(":{}", coral[d.path]) : "-");
    }
  }
  std::cout << fmt::format("\nOrder: {} ({}).\n{}\n", EnumerationOrderName(*order),
                           *order == EnumerationOrder::kStable
                               ? "by port; --order coral gives libedgetpu's numbering"
                               : "libedgetpu's numbering; it changes when sticks load firmware",
                           RuntimeLine(inventory));
  if (inventory.runtime) std::cout << TfLiteLine(ProbeTfLiteC()) << "\n";
  if (!args.tree) {
    for (const Finding& f : findings)
      std::cout << fmt::format("{}: {}: {}\n", SeverityName(f.severity), f.device, f.message);
  }
  for (const std::string& p : inventory.problems) std::cout << "sysfs: " << p << "\n";
  return 0;
}

}  // namespace

void AddDevicesCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd =
      root.add_subcommand("devices", "List Edge TPUs, how to address them, and what limits them");
  cmd->footer(
      "Lists USB and PCIe Edge TPUs like Coral's lstpu, with the device strings that select them\n"
      "(:N, usb:N, pci:N in the chosen order; usb@PORT and pci@/dev/apex_N by path, which never\n"
      "change), state, link speed and temperature. --tree draws the USB topology like `lsusb -t`.\n"
      "Problems that make a device unusable or slow are listed: a stick on a secondary port of a\n"
      "sub-hub, USB 2 links, sticks sharing a root port, under-powered bus-powered hubs, PCIe\n"
      "devices near a thermal trip point or owned by another process.\n\n"
      "Examples:\n"
      "  tpufleet devices\n"
      "  tpufleet devices --tree\n"
      "  tpufleet devices --order coral --json\n"
      "  tpufleet devices --sysfs tests/fixtures/sysfs/coral_hub_example --tree");
  auto args = std::make_shared<DevicesArgs>();
  cmd->add_flag("--json", args->json, "Print JSON (format in docs/cli.md)");
  cmd->add_flag("--tree", args->tree, "Draw the USB topology with findings beside each device");
  cmd->add_option("--sysfs", args->sysfs_root,
                  "Root to read sys/ and dev/ from (a fixture tree in tests)")
      ->default_val("/")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--order", args->order, "stable (by port) or coral (libedgetpu's enumeration)")
      ->default_val("stable");
  cmd->add_option("--sim", args->sim,
                  "Also list simulated devices: the default rig, or a topology file")
      ->expected(0, 1);
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace tpufleet::cli
