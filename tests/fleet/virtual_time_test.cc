// A fleet of simulated devices in virtual time is one discrete-event simulation on its rig's
// clock: queueing and a shared bus are modeled in modeled time, so the same requests give the
// same metrics bit for bit, whatever the host's threads do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fleet/fleet_test_util.h"
#include "tpufleet/fleet.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;
using testing::Inputs;
using testing::MakeFleet;
using testing::Zoo;

// Four sticks; all on bus 1, or each on its own.
FleetOptions FourSticks(bool one_bus) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1", "sim:2", "sim:3"};
  options.sim_topology_json =
      one_bus ? R"({"devices": [{"bus": 1}, {"bus": 1}, {"bus": 1, "link": "usb2"}, {"bus": 1}]})"
              : R"({"devices": [{"bus": 1}, {"bus": 2}, {"bus": 3, "link": "usb2"}, {"bus": 4}]})";
  options.sim_outputs = false;  // the timing is what is compared
  options.max_batch = 4;
  return options;
}

// Two models (one replicated on three sticks, one sharing the USB 2 stick), four threads
// submitting at once: a burst at modeled time 0 and a second wave at given modeled times.
// While `busy_host` is set another thread keeps a core busy.
FleetMetrics RunRig(bool one_bus, bool busy_host) {
  std::atomic<bool> stop{false};
  std::thread noise;
  if (busy_host) {
    noise = std::thread([&] {
      volatile uint64_t x = 0;
      while (!stop.load()) x = x + 1;
    });
  }
  auto fleet = MakeFleet(FourSticks(one_bus));
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 128), b = Zoo("mobilenet_v1", 0.5, 160);
  int ia = fleet->AddModel(a, {"sim:0", "sim:1", "sim:2"}).value();
  int ib = fleet->AddModel(b, {"sim:2", "sim:3"}).value();
  std::vector<std::vector<std::future<Result<InferenceResult>>>> answers(4);
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        bool first = (i + t) % 3 != 0;
        answers[t].push_back(fleet->Submit(first ? ia : ib, Inputs(first ? *a : *b)));
      }
      for (int i = 0; i < 15; ++i) {
        double at = 0.05 + 0.004 * i + 0.001 * t;
        answers[t].push_back(fleet->SubmitAt(at, i % 2 ? ia : ib, Inputs(i % 2 ? *a : *b)));
      }
    });
  }
  for (std::thread& s : submitters) s.join();
  for (auto& mine : answers) {
    for (auto& answer : mine) EXPECT_TRUE(answer.get().ok());
  }
  FleetMetrics metrics = fleet->Metrics();
  stop = true;
  if (noise.joinable()) noise.join();
  return metrics;
}

TEST(VirtualTimeTest, TwoRunsOfARigWithASharedBusGiveIdenticalMetrics) {
  FleetMetrics first = RunRig(/*one_bus=*/true, /*busy_host=*/false);
  FleetMetrics second = RunRig(/*one_bus=*/true, /*busy_host=*/true);
  EXPECT_EQ(first.clock, "virtual");
  EXPECT_EQ(first.latency_clock, "modeled");
  EXPECT_EQ(MetricsJson(first), MetricsJson(second));  // every figure, bit for bit
  uint64_t served = 0;
  for (const DeviceMetrics& d : first.devices) served += d.requests;
  EXPECT_EQ(served, 160u);
  EXPECT_GT(first.models[0].p99_ms, first.models[0].p50_ms);  // the burst queued
}

TEST(VirtualTimeTest, TheSharedBusIsContendedInModeledTime) {
  FleetMetrics shared = RunRig(/*one_bus=*/true, /*busy_host=*/false);
  FleetMetrics separate = RunRig(/*one_bus=*/false, /*busy_host=*/false);
  double shared_busy = 0, separate_busy = 0;
  for (const DeviceMetrics& d : shared.devices) shared_busy += d.busy_seconds;
  for (const DeviceMetrics& d : separate.devices) separate_busy += d.busy_seconds;
  // Transfers at the same modeled instants split one bus's bandwidth.
  EXPECT_GT(shared_busy, separate_busy * 1.05);
  EXPECT_GT(shared.elapsed_seconds, separate.elapsed_seconds);
}

// One timing-only simulated stick in virtual time.
FleetOptions OneStick() {
  FleetOptions options;
  options.devices = {"sim:0"};
  options.sim_outputs = false;
  return options;
}

TEST(VirtualTimeTest, AClosedLoopArrivesWhenItsLastAnswerCame) {
  auto fleet = MakeFleet(OneStick());
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 128);
  int id = fleet->AddModel(m).value();
  double busy = 0;
  for (int i = 0; i < 5; ++i) busy += fleet->Run(id, Inputs(*m)).value().device_seconds;
  FleetMetrics metrics = fleet->Metrics();
  // One after another, none waiting: the rig's time is the device's, each latency its own run.
  EXPECT_DOUBLE_EQ(metrics.elapsed_seconds, busy);
  EXPECT_NEAR(metrics.models[0].latency_sum_seconds, busy, busy * 0.03);
}

TEST(VirtualTimeTest, SubmitAtNeedsVirtualTimeAndAFiniteTime) {
  FleetOptions options = OneStick();
  auto fleet = MakeFleet(options);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  Result<InferenceResult> negative = fleet->SubmitAt(-1, id, Inputs(*m)).get();
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.status().message(), HasSubstr("finite number of seconds >= 0"));
  options.real_time = true;
  auto wall = MakeFleet(options);
  int wall_id = wall->AddModel(m).value();
  Result<InferenceResult> refused = wall->SubmitAt(0, wall_id, Inputs(*m)).get();
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("virtual time"));
}

}  // namespace
}  // namespace tpufleet
