#include "server/request_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace tpufleet::server {

const std::vector<double>& RequestMetrics::Buckets() {
  static const std::vector<double> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

void RequestMetrics::Record(const std::string& protocol, const std::string& model, int code,
                            double seconds) {
  const std::vector<double>& bounds = Buckets();
  size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  std::lock_guard<std::mutex> lock(mutex_);
  Series& s = series_[{protocol, model, code}];
  if (s.buckets.empty()) s.buckets.assign(bounds.size(), 0);
  ++s.count;
  s.sum += seconds;
  if (bucket < bounds.size()) ++s.buckets[bucket];
}

void RequestMetrics::RecordInference(const std::string& model, bool ok, double seconds,
                                     double device_seconds) {
  auto ns = [](double s) { return static_cast<uint64_t>(std::max(0.0, s) * 1e9); };
  uint64_t now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  std::lock_guard<std::mutex> lock(mutex_);
  InferenceStatistics& s = statistics_[model];
  s.last_inference_ms = now_ms;
  if (ok) {
    ++s.success_count;
    s.success_ns += ns(seconds);
    s.infer_ns += ns(device_seconds);
    s.queue_ns += ns(seconds - device_seconds);
  } else {
    ++s.fail_count;
    s.fail_ns += ns(seconds);
  }
}

InferenceStatistics RequestMetrics::Statistics(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = statistics_.find(model);
  return it == statistics_.end() ? InferenceStatistics{} : it->second;
}

std::string PrometheusLabel(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string RequestMetrics::Prometheus() const {
  const std::vector<double>& bounds = Buckets();
  std::string counts =
      "# HELP tpufleet_server_requests_total Requests answered, by protocol, model and HTTP "
      "status.\n# TYPE tpufleet_server_requests_total counter\n";
  std::string histogram =
      "# HELP tpufleet_server_request_duration_seconds Time from a request's arrival to its "
      "answer.\n# TYPE tpufleet_server_request_duration_seconds histogram\n";
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, s] : series_) {
    const auto& [protocol, model, code] = key;
    std::string labels = fmt::format("protocol=\"{}\",model=\"{}\",code=\"{}\"",
                                     PrometheusLabel(protocol), PrometheusLabel(model), code);
    counts += fmt::format("tpufleet_server_requests_total{{{}}} {}\n", labels, s.count);
    uint64_t cumulative = 0;
    for (size_t b = 0; b < bounds.size(); ++b) {
      cumulative += s.buckets[b];
      histogram +=
          fmt::format("tpufleet_server_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                      labels, bounds[b], cumulative);
    }
    histogram += fmt::format(
        "tpufleet_server_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n"
        "tpufleet_server_request_duration_seconds_sum{{{}}} {}\n"
        "tpufleet_server_request_duration_seconds_count{{{}}} {}\n",
        labels, s.count, labels, s.sum, labels, s.count);
  }
  return counts + histogram;
}

}  // namespace tpufleet::server
