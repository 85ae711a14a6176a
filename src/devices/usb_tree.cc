#include "devices/usb_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace tpufleet {
namespace {

std::string Speed(int mbps) { return mbps ? fmt::format("{}M", mbps) : "speed unknown"; }

std::string Power(const UsbNode& hub) {
  if (!hub.self_powered) return "";
  return *hub.self_powered ? ", self-powered"
                           : fmt::format(", bus-powered ({} mA itself)", hub.max_power_ma);
}

class TreeWriter {
 public:
  TreeWriter(const Inventory& inventory, const std::vector<Finding>& findings)
      : inventory_(inventory) {
    for (const Finding& f : findings) marks_[f.device].push_back(&f);
  }

  std::string Draw() {
    std::vector<const UsbNode*> roots;
    for (const UsbNode& n : inventory_.usb_nodes) {
      if (n.ports.empty()) roots.push_back(&n);
    }
    std::sort(roots.begin(), roots.end(),
              [](const UsbNode* a, const UsbNode* b) { return a->bus < b->bus; });
    for (const UsbNode* root : roots) {
      out_ += fmt::format("/:  Bus {:02}: root hub, {} ports, {}\n", root->bus, root->child_ports,
                          Speed(root->speed_mbps));
      Children(*root, 1);
    }
    return out_;
  }

 private:
  void Children(const UsbNode& parent, int depth) {
    std::vector<const UsbNode*> children;
    for (const UsbNode& n : inventory_.usb_nodes) {
      if (n.bus == parent.bus && n.ports.size() == parent.ports.size() + 1 &&
          std::equal(parent.ports.begin(), parent.ports.end(), n.ports.begin())) {
        children.push_back(&n);
      }
    }
    std::sort(children.begin(), children.end(),
              [](const UsbNode* a, const UsbNode* b) { return a->ports.back() < b->ports.back(); });
    for (const UsbNode* child : children) {
      std::string indent(4 * static_cast<size_t>(depth), ' ');
      out_ +=
          fmt::format("{}|__ Port {}: {}\n", indent, child->ports.back(), Describe(*child, depth));
      for (const Finding* f : Marks(*child)) {
        out_ += fmt::format("{}      [{}] {}\n", indent, SeverityName(f->severity), f->message);
      }
      if (child->is_hub) Children(*child, depth + 1);
    }
  }

  std::string Describe(const UsbNode& node, int depth) const {
    if (node.is_edgetpu) {
      bool ready = node.vendor_id == "18d1";
      return fmt::format("Edge TPU usb@{}, {}, {}", node.name,
                         ready ? "ready" : "needs firmware (1a6e:089a)", Speed(node.speed_mbps));
    }
    if (node.is_hub) {
      return fmt::format("hub {}, {} ports, {}{}{}", node.name, node.child_ports,
                         Speed(node.speed_mbps), Power(node),
                         depth > 1 ? ", inside another hub" : "");
    }
    return fmt::format("{}:{} {}, {}", node.vendor_id, node.product_id,
                       node.description.empty() ? "device" : node.description,
                       Speed(node.speed_mbps));
  }

  // The findings about `node`, which count as placed.
  std::vector<const Finding*> Marks(const UsbNode& node) {
    std::vector<const Finding*> found;
    for (const std::string& key : {"usb@" + node.name, "hub " + node.name}) {
      if (auto it = marks_.find(key); it != marks_.end()) {
        found.insert(found.end(), it->second.begin(), it->second.end());
        marks_.erase(it);
      }
    }
    return found;
  }

 public:
  // Findings no tree line took (shared root ports, PCIe devices), in their original order.
  std::vector<const Finding*> Unplaced(const std::vector<Finding>& findings) const {
    std::vector<const Finding*> rest;
    for (const Finding& f : findings) {
      if (marks_.count(f.device)) rest.push_back(&f);
    }
    return rest;
  }

 private:
  const Inventory& inventory_;
  std::map<std::string, std::vector<const Finding*>> marks_;
  std::string out_;
};

std::string DrawPci(const Inventory& inventory) {
  std::string out;
  for (const DeviceInfo& d : inventory.devices) {
    if (d.type != DeviceType::kPci) continue;
    std::string temperature = d.temperature_c ? fmt::format(", {:.1f} C", *d.temperature_c) : "";
    std::string trips;
    if (!d.trip_points_c.empty()) {
      std::vector<std::string> t;
      for (double c : d.trip_points_c) t.push_back(fmt::format("{:.0f}", c));
      trips = fmt::format(" (trip points {} C)", fmt::join(t, "/"));
    }
    std::string link = d.link_speed_mbps ? fmt::format(", {:.1f} GT/s x{}",
                                                       d.link_speed_mbps / 1000.0, d.pcie_lanes)
                                         : "";
    out += fmt::format("PCIe: Edge TPU pci@{}, {}{}{}{}\n", d.path, DeviceStateName(d.state), link,
                       temperature, trips);
  }
  return out;
}

}  // namespace

std::string DrawTopology(const Inventory& inventory, const std::vector<Finding>& findings) {
  TreeWriter tree(inventory, findings);
  std::string out = tree.Draw() + DrawPci(inventory);
  for (const Finding* f : tree.Unplaced(findings)) {
    out += fmt::format("[{}] {}: {}\n", SeverityName(f->severity), f->device, f->message);
  }
  return out;
}

}  // namespace tpufleet
