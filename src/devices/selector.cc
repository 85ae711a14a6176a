#include "devices/selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "devices/order.h"

namespace tpufleet {
namespace {

constexpr char kUsbPrefix[] = "/sys/bus/usb/devices/";
constexpr char kDevPrefix[] = "/dev/";
constexpr char kExamples[] =
    "usb, pci, :0, usb:0, pci:0, #0, usb#0, pci#0, cpu, sim:0, usb@2-1.3 or pci@/dev/apex_0";

Status Invalid(std::string_view text, const std::string& why) {
  return InvalidArgumentError(fmt::format("invalid device string '{}': {}", text, why));
}

std::optional<DeviceType> TypeWord(std::string_view word) {
  if (word == "usb") return DeviceType::kUsb;
  if (word == "pci") return DeviceType::kPci;
  if (word == "cpu") return DeviceType::kCpu;
  if (word == "sim") return DeviceType::kSim;
  return std::nullopt;
}

Result<int> ParseIndex(std::string_view text, std::string_view index, char mark) {
  if (index.empty()) {
    return Invalid(text, fmt::format("no index after the {}; write {}0 for the first",
                                     mark == ':' ? "colon" : "'#'", text));
  }
  if (!std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Invalid(text, fmt::format("index '{}' is not a non-negative decimal integer", index));
  }
  int value = 0;
  auto [end, error] = std::from_chars(index.data(), index.data() + index.size(), value);
  if (error != std::errc() || end != index.data() + index.size()) {
    return Invalid(text, fmt::format("index '{}' is too large", index));
  }
  return value;
}

bool ValidUsbPort(std::string_view port) {  // "2-1.3"
  size_t dash = port.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == port.size()) return false;
  for (size_t i = 0; i < port.size(); ++i) {
    char c = port[i];
    bool ok = std::isdigit(static_cast<unsigned char>(c)) || (i == dash) ||
              (c == '.' && i > dash + 1 && i + 1 < port.size() && port[i - 1] != '.');
    if (!ok) return false;
  }
  return true;
}

Result<Selector> ParsePathForm(std::string_view text, DeviceType type, std::string_view where) {
  Selector selector;
  selector.text = std::string(text);
  selector.type = type;
  if (type == DeviceType::kUsb) {
    if (where.starts_with(kUsbPrefix)) where.remove_prefix(std::string_view(kUsbPrefix).size());
    if (!ValidUsbPort(where)) {
      return Invalid(text,
                     "after usb@ give the stick's port as sysfs names it, like usb@2-1.3 "
                     "(bus 2, port 1, hub port 3)");
    }
  } else if (type == DeviceType::kPci) {
    if (where.starts_with(kDevPrefix)) where.remove_prefix(std::string_view(kDevPrefix).size());
    if (!where.starts_with("apex_") || where.size() == 5 ||
        !std::all_of(where.begin() + 5, where.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Invalid(text, "after pci@ give the device node, like pci@/dev/apex_0");
    }
  } else {
    return Invalid(text, "only usb@ and pci@ select by path");
  }
  selector.port_or_node = std::string(where);
  return selector;
}

// The device's own index string in `devices`: "usb:1", or "sim:0".
std::map<const DeviceInfo*, std::string> IndexNames(const std::vector<DeviceInfo>& devices) {
  std::map<DeviceType, int> counts;
  std::map<const DeviceInfo*, std::string> names;
  for (const DeviceInfo& d : devices) {
    names[&d] = d.type == DeviceType::kCpu
                    ? "cpu"
                    : fmt::format("{}:{}", DeviceTypeName(d.type), counts[d.type]++);
  }
  return names;
}

}  // namespace

bool IsEdgeTpu(const DeviceInfo& d) {
  return d.type == DeviceType::kUsb || d.type == DeviceType::kPci;
}

Result<Selector> ParseSelector(std::string_view text) {
  Selector selector;
  selector.text = std::string(text);
  if (text.empty()) return selector;
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
    return Invalid(text, "device strings contain no spaces");
  }
  if (text.front() == '/') {
    std::string_view form = text.starts_with(kDevPrefix) ? "pci@" : "usb@";
    return Invalid(
        text, fmt::format("a path is not a device string; select by path with {}{}", form, text));
  }
  size_t at = text.find('@');
  size_t colon = text.find(':');
  size_t hash = text.find('#');
  std::string_view word = text.substr(0, std::min({at, colon, hash}));
  std::optional<DeviceType> type = TypeWord(word);
  if (!type && !word.empty()) {
    std::string lower(word);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (TypeWord(lower))
      return Invalid(text, fmt::format("device strings are lowercase: did you mean '{}'?", lower));
    return Invalid(text, fmt::format("unknown device type '{}'; use {}", word, kExamples));
  }
  if (at != std::string_view::npos && at == word.size()) {
    if (!type) return Invalid(text, "give a type before '@': usb@2-1.3 or pci@/dev/apex_0");
    return ParsePathForm(text, *type, text.substr(at + 1));
  }
  selector.type = type;
  if (word.size() == text.size()) return selector;  // "usb", "pci", "cpu", "sim"
  if (type == DeviceType::kCpu) return Invalid(text, "cpu takes no index; write cpu");
  char mark = text[word.size()];
  if (mark == '#' && type == DeviceType::kSim) {
    return Invalid(text, "simulated devices have one order: write sim:N");
  }
  selector.stable_order = mark == '#';
  TPUFLEET_ASSIGN_OR_RETURN(selector.index, ParseIndex(text, text.substr(word.size() + 1), mark));
  return selector;
}

Result<ModelSpec> ParseModelSpec(std::string_view spec) {
  for (size_t at = spec.find('@'); at != std::string_view::npos; at = spec.find('@', at + 1)) {
    if (ParseSelector(spec.substr(at + 1)).ok()) {
      return ModelSpec{std::string(spec.substr(0, at)), std::string(spec.substr(at + 1))};
    }
  }
  // No device follows any '@': a spec without one, unless the file name itself has an '@'.
  size_t name_start = spec.rfind('/');
  size_t first_at = spec.find('@', name_start == std::string_view::npos ? 0 : name_start);
  if (first_at == std::string_view::npos) return ModelSpec{std::string(spec), ""};
  Status why = ParseSelector(spec.substr(first_at + 1)).status();
  return InvalidArgumentError(fmt::format(
      "model '{}': what follows '@' is no device string ({}); write MODEL@DEVICE, e.g. "
      "model.tflite@usb:0, and end a file name that holds '@' with '@' when it names no device",
      spec, why.message()));
}

std::string DescribeDevices(const std::vector<DeviceInfo>& devices) {
  if (devices.empty()) return "none";
  std::map<const DeviceInfo*, std::string> names = IndexNames(devices);
  std::vector<std::string> parts;
  for (const DeviceInfo& d : devices) {
    std::string where = d.path.empty() ? d.name : d.path;
    parts.push_back(where == names[&d]
                        ? fmt::format("{} ({})", where, DeviceStateName(d.state))
                        : fmt::format("{} {} ({})", names[&d], where, DeviceStateName(d.state)));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string StableDeviceString(const DeviceInfo& device) {
  if (device.type == DeviceType::kUsb || device.type == DeviceType::kPci) {
    return fmt::format("{}@{}", DeviceTypeName(device.type), device.name);
  }
  return device.name;
}

Result<std::vector<const DeviceInfo*>> ResolveSelector(const Selector& selector,
                                                       const std::vector<DeviceInfo>& devices) {
  auto matches_type = [&](const DeviceInfo& d) {
    return selector.type ? d.type == *selector.type : IsEdgeTpu(d);
  };
  std::vector<const DeviceInfo*> candidates;
  for (const DeviceInfo& d : devices) {
    if (matches_type(d)) candidates.push_back(&d);
  }
  std::string kind =
      selector.type ? fmt::format("{} device", DeviceTypeName(*selector.type)) : "Edge TPU";
  std::string existing = "devices found: " + DescribeDevices(devices);

  if (!selector.port_or_node.empty()) {
    for (const DeviceInfo* d : candidates) {
      if (d->name == selector.port_or_node) return std::vector<const DeviceInfo*>{d};
    }
    return NotFoundError(
        fmt::format("'{}': no {} at {}; {}", selector.text, kind, selector.port_or_node, existing));
  }
  if (selector.index) {
    if (selector.stable_order) {
      std::stable_sort(
          candidates.begin(), candidates.end(),
          [](const DeviceInfo* a, const DeviceInfo* b) { return StableBefore(*a, *b); });
    }
    if (static_cast<size_t>(*selector.index) < candidates.size()) {
      return std::vector<const DeviceInfo*>{candidates[*selector.index]};
    }
    return NotFoundError(fmt::format("'{}': index {} is out of range: there {} {} {}{}; {}",
                                     selector.text, *selector.index,
                                     candidates.size() == 1 ? "is" : "are", candidates.size(), kind,
                                     candidates.size() == 1 ? "" : "s", existing));
  }
  if (candidates.empty()) {
    return NotFoundError(fmt::format("'{}': no {} found; {}", selector.text, kind, existing));
  }
  if (!selector.type) {  // Coral's "any": PCIe preferred
    std::stable_partition(candidates.begin(), candidates.end(),
                          [](const DeviceInfo* d) { return d->type == DeviceType::kPci; });
  }
  return candidates;
}

}  // namespace tpufleet
