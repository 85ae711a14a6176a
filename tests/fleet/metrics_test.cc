// Latency percentiles from the histogram, and the metrics as JSON and Prometheus text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "fleet/fleet_test_util.h"
#include "fleet/latency_histogram.h"
#include "tpufleet/fleet.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;

TEST(LatencyHistogramTest, QuantilesWithinOnePercentOfExact) {
  fleet::LatencyHistogram histogram;
  std::mt19937 random(7);
  std::lognormal_distribution<double> latency(std::log(0.004), 1.0);  // around 4 ms, long tail
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) {
    values.push_back(latency(random));
    histogram.Record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double p : {0.5, 0.95, 0.99, 1.0}) {
    double exact = values[static_cast<size_t>(std::ceil(p * values.size())) - 1];
    EXPECT_NEAR(histogram.Quantile(p), exact, 0.01 * exact) << "p=" << p;
  }
  EXPECT_EQ(histogram.count(), 20000u);
  EXPECT_EQ(fleet::LatencyHistogram().Quantile(0.5), 0);
}

TEST(LatencyHistogramTest, ExtremesLandInTheEndBuckets) {
  fleet::LatencyHistogram histogram;
  histogram.Record(0);
  histogram.Record(-1);  // a clock step backwards must not index out of range
  histogram.Record(1e9);
  EXPECT_LT(histogram.Quantile(0.5), 2e-6);
  EXPECT_GT(histogram.Quantile(1.0), 1000);
}

// Ten requests on a virtual-time fleet; `device_seconds` gets the sum the answers reported.
FleetMetrics ServedMetrics(double* device_seconds = nullptr) {
  auto fleet = testing::MakeFleet(testing::TwoSimulatedDevices());
  ModelPtr m = testing::Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  double sum = 0;
  for (int i = 0; i < 10; ++i) {
    Result<InferenceResult> r = fleet->Run(id, testing::Inputs(*m));
    EXPECT_TRUE(r.ok());
    if (r.ok()) sum += r->device_seconds;
  }
  if (device_seconds != nullptr) *device_seconds = sum;
  return fleet->Metrics();
}

TEST(MetricsTextTest, JsonCarriesEveryFigure) {
  double answered_seconds = 0;
  FleetMetrics metrics = ServedMetrics(&answered_seconds);
  nlohmann::json json = nlohmann::json::parse(MetricsJson(metrics));
  EXPECT_EQ(json["clock"], "virtual");
  ASSERT_EQ(json["devices"].size(), 2u);
  EXPECT_EQ(json["devices"][0]["device"], "sim:0");
  EXPECT_EQ(json["devices"][0]["requests"], 10);
  EXPECT_EQ(json["devices"][0]["reloads"], 1);
  // The device's modeled time is what its answers reported, and in virtual time the fleet's
  // elapsed time is the rig's clock: one request after another on the one busy device.
  EXPECT_NEAR(json["devices"][0]["busy_seconds"].get<double>(), answered_seconds, 1e-12);
  EXPECT_NEAR(json["elapsed_seconds"].get<double>(), answered_seconds, 1e-12);
  EXPECT_EQ(json["devices"][1]["requests"], 0);
  EXPECT_EQ(json["devices"][1]["busy_fraction"], 0);
  EXPECT_EQ(json["models"][0]["devices"], nlohmann::json::array({"sim:0"}));
  double p99 = json["models"][0]["latency_ms"]["p99"].get<double>();
  double sum = json["models"][0]["latency_sum_seconds"].get<double>();
  EXPECT_GT(p99, 0);
  EXPECT_LE(sum, 10 * p99 / 1e3 * 1.02);  // no latency above the p99 bucket's upper edge
  EXPECT_GT(sum, 0);
}

TEST(MetricsTextTest, PrometheusTextIsWellFormed) {
  FleetMetrics metrics = ServedMetrics();
  metrics.models[0].model = "odd \"name\"\\with\nbreak";  // labels must be escaped
  std::string text = MetricsPrometheus(metrics);
  EXPECT_THAT(text, HasSubstr("tpufleet_device_requests_total{device=\"sim:0\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("tpufleet_device_up{device=\"sim:1\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("tpufleet_model_requests_total{model=\"odd \\\"name\\\"\\\\with\\nbreak\"}"));
  // Every line is a comment or `name{labels} value`, and every sample's name has a TYPE line.
  std::regex sample(
      R"(^([a-z_]+?)(?:_sum|_count)?\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,quantile="[0-9.]+")?\} (\S+)$)");
  std::set<std::string> typed;
  std::istringstream lines(text);
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.starts_with("# HELP ") || line.starts_with("tpufleet_elapsed_seconds{")) continue;
    std::smatch match;
    ASSERT_TRUE(std::regex_match(line, match, sample)) << line;
    EXPECT_TRUE(typed.count(match[1])) << line;
    std::stod(match[2]);  // the value is a number
    ++samples;
  }
  // Per device and per model: its series, then three quantiles, a sum and a count.
  EXPECT_EQ(samples, 2 * (11 + 5) + 1 * (6 + 5));
  EXPECT_THAT(text,
              HasSubstr("tpufleet_elapsed_seconds{clock=\"virtual\",latency_clock=\"modeled\"} "));
  EXPECT_THAT(text, HasSubstr("tpufleet_device_latency_seconds_count{device=\"sim:0\"} 10\n"));
}

}  // namespace
}  // namespace tpufleet
