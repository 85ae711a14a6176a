// FleetMetrics as JSON and as Prometheus text exposition (format version 0.0.4).
#include <fmt/format.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "tpufleet/fleet.h"

namespace tpufleet {
namespace {

using nlohmann::json;

// A label value with backslash, double quote and newline escaped, as the format requires.
std::string LabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

template <typename Row>
struct Series {
  const char* name;
  const char* type;  // counter or gauge
  const char* help;
  std::function<double(const Row&)> value;
};

// One block per series: HELP, TYPE, then a sample per row labelled `label`="row's key".
template <typename Row>
void AppendSeries(std::string& out, const std::vector<Series<Row>>& series,
                  const std::vector<Row>& rows, const char* label,
                  const std::function<std::string(const Row&)>& key) {
  for (const Series<Row>& s : series) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", s.name, s.help, s.name, s.type);
    for (const Row& row : rows) {
      out += fmt::format("{}{{{}=\"{}\"}} {}\n", s.name, label, LabelValue(key(row)), s.value(row));
    }
  }
}

// Latency as a summary per row: quantiles, then the sum and count of every latency recorded.
template <typename Row>
void AppendLatency(std::string& out, const char* name, const char* help,
                   const std::vector<Row>& rows, const char* label,
                   const std::function<std::string(const Row&)>& key) {
  out += fmt::format("# HELP {} {}\n# TYPE {} summary\n", name, help, name);
  for (const Row& row : rows) {
    std::string who = LabelValue(key(row));
    for (auto [q, ms] :
         {std::pair{"0.5", row.p50_ms}, {"0.95", row.p95_ms}, {"0.99", row.p99_ms}}) {
      out += fmt::format("{}{{{}=\"{}\",quantile=\"{}\"}} {}\n", name, label, who, q, ms / 1e3);
    }
    out += fmt::format("{}_sum{{{}=\"{}\"}} {}\n", name, label, who, row.latency_sum_seconds);
    out += fmt::format("{}_count{{{}=\"{}\"}} {}\n", name, label, who, row.requests);
  }
}

}  // namespace

std::string MetricsJson(const FleetMetrics& metrics) {
  json devices = json::array(), models = json::array();
  for (const DeviceMetrics& d : metrics.devices) {
    devices.push_back({{"device", d.device},
                       {"healthy", d.healthy},
                       {"down_reason", d.down_reason},
                       {"requests", d.requests},
                       {"errors", d.errors},
                       {"reloads", d.reloads},
                       {"reloaded_bytes", d.reloaded_bytes},
                       {"failures", d.failures},
                       {"rejoins", d.rejoins},
                       {"flaps", d.flaps},
                       {"busy_seconds", d.busy_seconds},
                       {"busy_fraction", d.busy_fraction},
                       {"queue_depth", d.queue_depth},
                       {"latency_ms", {{"p50", d.p50_ms}, {"p95", d.p95_ms}, {"p99", d.p99_ms}}},
                       {"latency_sum_seconds", d.latency_sum_seconds}});
  }
  for (const ModelMetrics& m : metrics.models) {
    models.push_back({{"model", m.model},
                      {"devices", m.devices},
                      {"requests", m.requests},
                      {"errors", m.errors},
                      {"reloads", m.reloads},
                      {"reloaded_bytes", m.reloaded_bytes},
                      {"queue_depth", m.queue_depth},
                      {"latency_ms", {{"p50", m.p50_ms}, {"p95", m.p95_ms}, {"p99", m.p99_ms}}},
                      {"latency_sum_seconds", m.latency_sum_seconds}});
  }
  return json{{"clock", metrics.clock},
              {"latency_clock", metrics.latency_clock},
              {"elapsed_seconds", metrics.elapsed_seconds},
              {"devices", devices},
              {"models", models}}
      .dump(2);
}

std::string MetricsPrometheus(const FleetMetrics& metrics) {
  std::string out = fmt::format(
      "# HELP tpufleet_elapsed_seconds Time the fleet has run (wall time; in virtual time, the "
      "rig's modeled time).\n# TYPE tpufleet_elapsed_seconds gauge\n"
      "tpufleet_elapsed_seconds{{clock=\"{}\",latency_clock=\"{}\"}} {}\n",
      metrics.clock, metrics.latency_clock, metrics.elapsed_seconds);
  using D = DeviceMetrics;
  std::vector<Series<D>> device_series = {
      {"tpufleet_device_up", "gauge", "1 while the device takes requests, 0 while it is down.",
       [](const D& d) { return d.healthy ? 1.0 : 0.0; }},
      {"tpufleet_device_requests_total", "counter", "Requests the device answered.",
       [](const D& d) { return double(d.requests); }},
      {"tpufleet_device_errors_total", "counter", "Requests that failed on the device.",
       [](const D& d) { return double(d.errors); }},
      {"tpufleet_device_reloads_total", "counter", "Parameter cache reloads.",
       [](const D& d) { return double(d.reloads); }},
      {"tpufleet_device_reloaded_bytes_total", "counter", "Parameter bytes reloaded.",
       [](const D& d) { return double(d.reloaded_bytes); }},
      {"tpufleet_device_failures_total", "counter", "Times the device was marked down.",
       [](const D& d) { return double(d.failures); }},
      {"tpufleet_device_rejoins_total", "counter", "Times the device came back after a probe.",
       [](const D& d) { return double(d.rejoins); }},
      {"tpufleet_device_flaps_total", "counter",
       "Times the device failed again soon after rejoining.",
       [](const D& d) { return double(d.flaps); }},
      {"tpufleet_device_busy_seconds_total", "counter", "Device time spent invoking.",
       [](const D& d) { return d.busy_seconds; }},
      {"tpufleet_device_busy_ratio", "gauge", "Busy seconds over elapsed seconds.",
       [](const D& d) { return d.busy_fraction; }},
      {"tpufleet_device_queue_depth", "gauge", "Requests waiting for the device.",
       [](const D& d) { return double(d.queue_depth); }},
  };
  auto device_key = [](const D& d) { return d.device; };
  AppendSeries<D>(out, device_series, metrics.devices, "device", device_key);
  AppendLatency<D>(out, "tpufleet_device_latency_seconds",
                   "Submit-to-answer latency of requests the device answered.", metrics.devices,
                   "device", device_key);
  using M = ModelMetrics;
  std::vector<Series<M>> model_series = {
      {"tpufleet_model_requests_total", "counter", "Requests of the model answered.",
       [](const M& m) { return double(m.requests); }},
      {"tpufleet_model_errors_total", "counter", "Requests of the model answered with an error.",
       [](const M& m) { return double(m.errors); }},
      {"tpufleet_model_reloads_total", "counter", "Times the model's parameters were reloaded.",
       [](const M& m) { return double(m.reloads); }},
      {"tpufleet_model_reloaded_bytes_total", "counter", "Parameter bytes reloaded for the model.",
       [](const M& m) { return double(m.reloaded_bytes); }},
      {"tpufleet_model_queue_depth", "gauge", "Requests of the model submitted, not yet answered.",
       [](const M& m) { return double(m.queue_depth); }},
      {"tpufleet_model_devices", "gauge", "Devices the model is placed on.",
       [](const M& m) { return double(m.devices.size()); }},
  };
  auto model_key = [](const M& m) { return m.model; };
  AppendSeries<M>(out, model_series, metrics.models, "model", model_key);
  AppendLatency<M>(out, "tpufleet_model_latency_seconds", "Submit-to-answer latency of the model.",
                   metrics.models, "model", model_key);
  return out;
}

}  // namespace tpufleet
