// Request counts and latency histograms in Prometheus' text format, the statistics extension's
// figures, and admission's bounds.
#include "server/request_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/admission.h"

namespace tpufleet::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RequestMetricsTest, HistogramsAreCumulativePerProtocolModelAndCode) {
  RequestMetrics metrics;
  metrics.Record("kserve", "cat", 200, 0.003);
  metrics.Record("kserve", "cat", 200, 0.02);
  metrics.Record("kserve", "cat", 200, 20.0);  // past the last bound: +Inf only
  metrics.Record("deepstack", "ssd\"x", 400, 0.0001);
  std::string text = metrics.Prometheus();
  const std::string cat = R"(protocol="kserve",model="cat",code="200")";
  EXPECT_THAT(text, HasSubstr("# TYPE tpufleet_server_request_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("tpufleet_server_requests_total{" + cat + "} 3\n"));
  EXPECT_THAT(text, HasSubstr("_bucket{" + cat + ",le=\"0.0025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("_bucket{" + cat + ",le=\"0.005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("_bucket{" + cat + ",le=\"0.025\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("_bucket{" + cat + ",le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("_bucket{" + cat + ",le=\"+Inf\"} 3\n"));
  const std::string sum = "tpufleet_server_request_duration_seconds_sum{" + cat + "} ";
  size_t at = text.find(sum);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NEAR(std::stod(text.substr(at + sum.size())), 20.023, 1e-9);
  EXPECT_THAT(text, HasSubstr("tpufleet_server_request_duration_seconds_count{" + cat + "} 3\n"));
  // Label values are escaped.
  EXPECT_THAT(text, HasSubstr(R"(model="ssd\"x",code="400",le="0.0005"} 1)"));
  EXPECT_THAT(text, Not(HasSubstr("ssd\"x\"")));
}

TEST(RequestMetricsTest, StatisticsSplitSuccessFailureAndDeviceTime) {
  RequestMetrics metrics;
  EXPECT_EQ(metrics.Statistics("m").success_count, 0u);
  metrics.RecordInference("m", true, 0.010, 0.004);
  metrics.RecordInference("m", true, 0.020, 0.006);
  metrics.RecordInference("m", false, 0.001, 0);
  InferenceStatistics s = metrics.Statistics("m");
  EXPECT_EQ(s.success_count, 2u);
  EXPECT_NEAR(s.success_ns, 30e6, 10);
  EXPECT_NEAR(s.infer_ns, 10e6, 10);
  EXPECT_NEAR(s.queue_ns, 20e6, 10);
  EXPECT_EQ(s.fail_count, 1u);
  EXPECT_NEAR(s.fail_ns, 1e6, 10);
  EXPECT_GT(s.last_inference_ms, 0u);
}

TEST(AdmissionTest, FullIsRefusedAndPriorityOneKeepsAReserve) {
  Admission admission(4);
  std::vector<Admission::Ticket> held;
  for (int i = 0; i < 3; ++i) held.push_back(admission.Enter(0).value());
  Result<Admission::Ticket> refused = admission.Enter(0);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("holds 3 requests"));
  held.push_back(admission.Enter(1).value());  // the reserve
  EXPECT_EQ(admission.Enter(1).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(admission.in_flight(), 4u);
  held.pop_back();
  EXPECT_EQ(admission.in_flight(), 3u);
  EXPECT_FALSE(admission.WaitIdle(std::chrono::milliseconds(0)));
  admission.Drain();
  EXPECT_EQ(admission.Enter(1).status().code(), StatusCode::kUnavailable);
  held.clear();
  EXPECT_TRUE(admission.WaitIdle(std::chrono::milliseconds(0)));
}

}  // namespace
}  // namespace tpufleet::server
