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
  TPUFLEET_ASSIGN_OR_RETURN(std::string text, ReadTopologyFile(topology_file));
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<sim::SimDeviceConfig> rig, LoadRig(text));
  std::vector<DeviceInfo> devices;
  for (size_t i = 0; i < rig.size(); ++i) {
    devices.push_back(
        sim::SimDevice(static_cast<int>(i), rig[i], sim::MakeVirtualClock(), nullptr).info());
  }
  return devices;
}

// The device strings of each Edge TPU (by path) in one order: ":N" and "usb:N" for Coral's,
// "#N" and "usb#N" for the stable one, so users can map one numbering to the other.
struct Indexes {
  int all = 0;          // the N of :N or #N
  std::string of_type;  // "usb:1", "usb#1"
};
std::map<std::string, Indexes> IndexesIn(const std::vector<DeviceInfo>& ordered, char mark) {
  std::map<std::string, Indexes> indexes;
  std::map<DeviceType, int> per_type;
  int all = 0;
  for (const DeviceInfo& d : ordered) {
    indexes[d.path] = {all++,
                       fmt::format("{}{}{}", DeviceTypeName(d.type), mark, per_type[d.type]++)};
  }
  return indexes;
}

std::string Link(const DeviceInfo& d) {
  if (d.link_speed_mbps == 0) return "-";
  if (d.type == DeviceType::kPci)
    return fmt::format("{:.1f}GT/s x{}", d.link_speed_mbps / 1000.0, d.pcie_lanes);
  return fmt::format("{}M", d.link_speed_mbps);
}

json DeviceJson(const DeviceInfo& d, const Indexes& stable, const Indexes& coral) {
  json hubs = json::array();
  for (const UsbHub& h : d.hubs) {
    hubs.push_back({{"name", h.name},
                    {"port", h.port},
                    {"ports", h.ports},
                    {"speed_mbps", h.speed_mbps},
                    {"self_powered", h.self_powered ? json(*h.self_powered) : json(nullptr)},
                    {"max_power_ma", h.max_power_ma}});
  }
  json out = {{"index", stable.all},
              {"selector", coral.of_type},
              {"stable_selector", stable.of_type},
              {"path_selector", PathSelector(d)},
              {"coral_index", coral.all},
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
  std::vector<DeviceInfo> devices = *order == EnumerationOrder::kCoral
                                        ? CoralOrdered(inventory)
                                        : Ordered(inventory.devices, *order);
  if (args.sim) {
    Result<std::vector<DeviceInfo>> simulated = SimulatedDevices(*args.sim);
    if (!simulated.ok()) {
      std::cerr << "error: " << simulated.status().message() << "\n";
      return 1;
    }
    devices.insert(devices.end(), simulated->begin(), simulated->end());
  }
  std::map<std::string, Indexes> coral = IndexesIn(CoralOrdered(inventory), ':');
  std::map<std::string, Indexes> stable =
      IndexesIn(Ordered(inventory.devices, EnumerationOrder::kStable), '#');
  auto edgetpu = [](const DeviceInfo& d) {
    return d.type == DeviceType::kUsb || d.type == DeviceType::kPci;
  };

  if (args.json) {
    json report = {{"order", EnumerationOrderName(*order)}, {"sysfs_root", inventory.sysfs_root}};
    report["devices"] = json::array();
    for (const DeviceInfo& d : devices) {
      if (edgetpu(d)) {
        report["devices"].push_back(DeviceJson(d, stable[d.path], coral[d.path]));
        continue;
      }
      report["devices"].push_back(DeviceJson(d, {}, {}));  // simulated: one numbering, sim:N
      report["devices"].back()["index"] = nullptr;
      report["devices"].back()["coral_index"] = nullptr;
      report["devices"].back()["selector"] = d.name;
      report["devices"].back()["stable_selector"] = d.name;
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
    std::cout << fmt::format("{:<5} {:<7} {:<6} {:<7} {:<30} {:<25} {:<12} {}\n", "CORAL", "",
                             "STABLE", "", "PATH", "STATE", "LINK", "TEMP");
    for (const DeviceInfo& d : devices) {
      std::string temp = d.temperature_c ? fmt::format("{:.1f} C", *d.temperature_c) : "-";
      // Coral's and the stable numbering cover Edge TPUs; simulated devices are "sim:N" in both.
      bool numbered = edgetpu(d);
      std::cout << fmt::format("{:<5} {:<7} {:<6} {:<7} {:<30} {:<25} {:<12} {}\n",
                               numbered ? fmt::format(":{}", coral[d.path].all) : "-",
                               numbered ? coral[d.path].of_type : d.name,
                               numbered ? fmt::format("#{}", stable[d.path].all) : "-",
                               numbered ? stable[d.path].of_type : d.name, d.path,
                               DeviceStateName(d.state), Link(d), temp);
    }
  }
  std::cout << fmt::format("\nOrder: {} ({}).\n{}\n", EnumerationOrderName(*order),
                           *order == EnumerationOrder::kStable
                               ? "listed by port; --order coral lists them as libedgetpu does"
                               : "listed as libedgetpu numbers them; that changes when sticks "
                                 "load firmware",
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
      "Lists USB and PCIe Edge TPUs like Coral's lstpu, with the device strings that select them:\n"
      ":N, usb:N, pci:N in libedgetpu's enumeration order (as in Coral, so a PyCoral script opens\n"
      "the same device), #N, usb#N, pci#N in the stable order by port, and usb@PORT and\n"
      "pci@/dev/apex_N by path, which never change; state, link speed and temperature. --tree "
      "draws the USB topology like `lsusb -t`.\n"
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
