// What the daemon's requests did, counted for Prometheus (/metrics) and for KServe's statistics
// extension (/v2/models/{m}/stats).
//
// Prometheus series (text exposition format 0.0.4), labelled protocol ("kserve", "deepstack",
// "grpc"), model (empty when the request named no model the daemon serves, so unknown names
// cannot grow the series) and code (the HTTP status; for gRPC the status code's number):
//   tpufleet_server_requests_total                 counter
//   tpufleet_server_request_duration_seconds       histogram (_bucket{le}, _sum, _count), from
//                                                  the request's arrival to its answer
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace tpufleet::server {

// Cumulative per-model inference figures, as the statistics extension reports them: durations
// are totals in nanoseconds with their counts.
struct InferenceStatistics {
  uint64_t last_inference_ms = 0;  // since the epoch; 0: none yet
  uint64_t success_count = 0, success_ns = 0;
  uint64_t fail_count = 0, fail_ns = 0;
  uint64_t infer_ns = 0;  // device time of the successful ones
  uint64_t queue_ns = 0;  // the rest of their time in the daemon: queueing, preparation, transfer
};

class RequestMetrics {
 public:
  // The histogram's upper bounds in seconds (+Inf follows).
  static const std::vector<double>& Buckets();

  // One answered request.
  void Record(const std::string& protocol, const std::string& model, int code, double seconds);
  // One inference of `model` that reached the fleet: `ok` with its device time, or failed.
  void RecordInference(const std::string& model, bool ok, double seconds, double device_seconds);

  InferenceStatistics Statistics(const std::string& model) const;
  std::string Prometheus() const;

 private:
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::vector<uint64_t> buckets;  // per bound, not cumulative
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;
  std::map<std::string, InferenceStatistics> statistics_;
};

// A Prometheus label value with '\', '"' and newlines escaped.
std::string PrometheusLabel(const std::string& value);

}  // namespace tpufleet::server
