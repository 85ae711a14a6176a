#include "backends/edgetpu/edgetpu_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <optional>

namespace tpufleet::backends {
namespace {

struct OptionRule {
  const char* name;
  std::vector<std::string> values;  // empty: an integer in [low, high]
  int low = 0, high = 0;

  // "Performance=Low|Medium|High|Max", "Usb.MaxBulkInQueueLength=0..256".
  std::string Accepted() const {
    if (values.empty()) return fmt::format("{}={}..{}", name, low, high);
    return fmt::format("{}={}", name, fmt::join(values, "|"));
  }
};

const std::vector<OptionRule>& Rules() {
  static const std::vector<OptionRule> rules = {
      {"Performance", {"Low", "Medium", "High", "Max"}},
      {"Usb.AlwaysDfu", {"True", "False"}},
      {"Usb.MaxBulkInQueueLength", {}, 0, 256},
  };
  return rules;
}

// Plain ASCII digits within [rule.low, rule.high]: no sign, space or other characters.
bool InRange(const OptionRule& rule, const std::string& value) {
  int number = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return !value.empty() && value[0] != '-' && error == std::errc() &&
         end == value.data() + value.size() && number >= rule.low && number <= rule.high;
}

}  // namespace

Status ValidateEdgeTpuOptions(const std::vector<EdgeTpuOption>& options) {
  std::vector<std::string> accepted;
  for (const OptionRule& r : Rules()) accepted.push_back(r.Accepted());
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& name = options[i].first;  // plain references: lambdas capture them
    const std::string& value = options[i].second;
    auto rule = std::find_if(Rules().begin(), Rules().end(),
                             [&](const OptionRule& r) { return name == r.name; });
    if (rule == Rules().end()) {
      return InvalidArgumentError(
          fmt::format("unknown Edge TPU option '{}'; the runtime takes {} (names are "
                      "case-sensitive)",
                      name, fmt::join(accepted, ", ")));
    }
    for (size_t earlier = 0; earlier < i; ++earlier) {
      if (options[earlier].first == name) {
        return InvalidArgumentError(
            fmt::format("Edge TPU option {} is given twice ({}, then {}); give it once: {}", name,
                        options[earlier].second, value, rule->Accepted()));
      }
    }
    if (!rule->values.empty()) {
      if (std::find(rule->values.begin(), rule->values.end(), value) == rule->values.end()) {
        return InvalidArgumentError(
            fmt::format("Edge TPU option {}={}: the value must be one of {}", name, value,
                        fmt::join(rule->values, ", ")));
      }
    } else if (!InRange(*rule, value)) {
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
