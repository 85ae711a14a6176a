#include "backends/edgetpu/edgetpu_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <optional>

namespace tpufleet::backends {
namespace {

struct OptionRule {
  const char* name;
  std::vector<std::string> values;  // empty: an integer in [low, high]
  int low = 0, high = 0;
};

const std::vector<OptionRule>& Rules() {
  static const std::vector<OptionRule> rules = {
      {"Performance", {"Low", "Medium", "High", "Max"}},
      {"Usb.AlwaysDfu", {"True", "False"}},
      {"Usb.MaxBulkInQueueLength", {}, 0, 256},
  };
  return rules;
}

}  // namespace

Status ValidateEdgeTpuOptions(const std::vector<EdgeTpuOption>& options) {
  for (const EdgeTpuOption& option : options) {
    const std::string& name = option.first;  // a plain reference: lambdas capture it
    const std::string& value = option.second;
    auto rule = std::find_if(Rules().begin(), Rules().end(),
                             [&](const OptionRule& r) { return name == r.name; });
    if (rule == Rules().end()) {
      return InvalidArgumentError(fmt::format(
          "unknown Edge TPU option '{}'; the runtime takes Performance, Usb.AlwaysDfu and "
          "Usb.MaxBulkInQueueLength (names are case-sensitive)",
          name));
    }
    if (!rule->values.empty()) {
      if (std::find(rule->values.begin(), rule->values.end(), value) == rule->values.end()) {
        return InvalidArgumentError(
            fmt::format("Edge TPU option {}={}: the value must be one of {}", name, value,
                        fmt::join(rule->values, ", ")));
      }
      continue;
    }
    bool digits = !value.empty() && value.size() <= 4 &&
                  value.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(value) < rule->low || std::stoi(value) > rule->high) {
      return InvalidArgumentError(
          fmt::format("Edge TPU option {}={}: the value must be an integer from {} to {}", name,
                      value, rule->low, rule->high));
    }
  }
  return OkStatus();
}

Result<std::vector<EdgeTpuOption>> ParseEdgeTpuOptions(const std::string& text) {
  std::vector<EdgeTpuOption> options;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    size_t equals = item.find('=');
    if (equals == std::string::npos) {
      return InvalidArgumentError(
          fmt::format("Edge TPU option '{}': write NAME=VALUE, e.g. Performance=High", item));
    }
    options.emplace_back(item.substr(0, equals), item.substr(equals + 1));
    start = end + 1;
  }
  TPUFLEET_RETURN_IF_ERROR(ValidateEdgeTpuOptions(options));
  return options;
}

Result<const EdgeTpuRuntime*> EdgeTpuRuntime::Get() {
  static std::once_flag once;
  static std::optional<Result<EdgeTpuRuntime>> loaded;
  std::call_once(once, [] {
    Result<EdgeTpuApi> edgetpu = LoadEdgeTpuApi(DefaultRuntimeCandidates());
    Result<TfLiteCApi> tflite = LoadTfLiteC(TfLiteCCandidates());
    if (!edgetpu.ok()) {
      loaded = edgetpu.status();
    } else if (!tflite.ok()) {
      loaded = tflite.status().WithContext(
          "real Edge TPUs need TensorFlow Lite's C library beside libedgetpu");
    } else {
      loaded = EdgeTpuRuntime{std::move(tflite).value(), std::move(edgetpu).value()};
    }
  });
  if (!loaded->ok()) return loaded->status();
  return &loaded->value();
}

}  // namespace tpufleet::backends
