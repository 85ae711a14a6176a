// The fleet under the faults real sticks show: a bad request is not a bad device, failover
// never damages placement, every device call is bounded, and prepares stay out of the metrics.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "fleet/fleet_test_util.h"
#include "support/shared_files.h"
#include "tpufleet/fleet.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using testing::Eventually;
using ::testing::HasSubstr;
using testing::Inputs;
using testing::MakeFleet;
using testing::Zoo;

constexpr uint8_t kPoison = 0x5a;

// sim:0 fails every `every`-th invocation (ABORTED) and answers its probes; sim:1 is fine and, in
// real time, slow enough (about 5 ms an invocation) that a burst queues on it and spreads to sim:0
// instead of following the cache.
FleetOptions FlakyBesideASlowSurvivor(int every) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.sim_topology_json = fmt::format(
      R"({{"devices": [{{"faults": {{"transient_error_every": {}}}}},
                       {{"faults": {{"slowdown": 15}}}}]}})",
      every);
  options.real_time = true;
  options.sim_outputs = false;
  options.max_batch = 1;
  return options;
}

// Submits `count` requests at once and waits for all; returns the answers.
std::vector<Result<InferenceResult>> Burst(Fleet& fleet, int id, const Model& model, int count) {
  std::vector<std::future<Result<InferenceResult>>> futures;
  for (int i = 0; i < count; ++i) futures.push_back(fleet.Submit(id, Inputs(model)));
  std::vector<Result<InferenceResult>> answers;
  for (auto& f : futures) answers.push_back(f.get());
  return answers;
}

TensorList Poisoned(const Model& model) {
  TensorList inputs = Inputs(model);
  inputs[0][0] = kPoison;
  return inputs;
}

// sim:0 and sim:1 of `topology` in real time, timing only, never probed again once down.
FleetOptions TwoSticksInRealTime(std::string topology) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.sim_topology_json = std::move(topology);
  options.real_time = true;
  options.sim_outputs = false;
  options.probe_interval = std::chrono::hours(1);
  return options;
}

FleetOptions ThreeSticksThatChokeOnPoison() {
  FleetOptions options;
  options.sim_topology_json = R"({"devices": [{"faults": {"abort_on_input_byte": 90}},
                                              {"faults": {"abort_on_input_byte": 90}},
                                              {"faults": {"abort_on_input_byte": 90}}]})";
  options.devices = {"sim:0", "sim:1", "sim:2"};
  options.sim_outputs = false;
  options.probe_interval = std::chrono::hours(1);  // a device taken down would stay down
  return options;
}

TEST(FleetFaultsTest, APoisonRequestTakesNoDeviceDownAndGetsItsFirstError) {
  auto fleet = MakeFleet(ThreeSticksThatChokeOnPoison());
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1", "sim:2"}).value();
  for (int i = 0; i < 10; ++i) {
    Result<InferenceResult> poisoned = fleet->Run(id, Poisoned(*m));
    ASSERT_FALSE(poisoned.ok());
    EXPECT_EQ(poisoned.status().code(), StatusCode::kAborted);
    EXPECT_THAT(poisoned.status().message(),
                HasSubstr("invocation failed on an input the device cannot take"));
  }
  FleetMetrics metrics = fleet->Metrics();
  uint64_t tries = 0;
  for (const DeviceMetrics& d : metrics.devices) {
    EXPECT_TRUE(d.healthy) << d.device << ": " << d.down_reason;
    EXPECT_EQ(d.failures, 0u);
    tries += d.requests;
  }
  EXPECT_EQ(metrics.models[0].requests, 10u);
  EXPECT_EQ(metrics.models[0].errors, 10u);
  // Each was tried three times (the first try and two retries) and answered once, by the last.
  EXPECT_EQ(tries, 10u);
  EXPECT_TRUE(fleet->Run(id, Inputs(*m)).ok());
}

TEST(FleetFaultsTest, RetriesAreCappedByTheOption) {
  FleetOptions options = ThreeSticksThatChokeOnPoison();
  options.max_retries = 0;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1", "sim:2"}).value();
  Result<InferenceResult> poisoned = fleet->Run(id, Poisoned(*m));
  ASSERT_FALSE(poisoned.ok());
  // Tried once: the other two devices never saw it.
  uint64_t sim_invocations = 0;
  for (const DeviceMetrics& d : fleet->Metrics().devices) sim_invocations += d.requests;
  EXPECT_EQ(sim_invocations, 1u);
  options.max_retries = -1;
  EXPECT_THAT(Fleet::Create(options).status().message(), HasSubstr("max_retries is -1"));
}

TEST(FleetFaultsTest, ARequestsOwnErrorIsAnsweredAtOnce) {
  auto fleet = MakeFleet(ThreeSticksThatChokeOnPoison());
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1", "sim:2"}).value();
  Result<InferenceResult> wrong = fleet->Run(id, {{1, 2, 3}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(), HasSubstr("has 3 bytes"));
  uint64_t tried = 0;
  for (const DeviceMetrics& d : fleet->Metrics().devices) {
    EXPECT_TRUE(d.healthy);
    tried += d.requests;
  }
  EXPECT_EQ(tried, 1u);
}

TEST(FleetFaultsTest, ADeviceFailingWhatOthersServeIsTakenDown) {
  // sim:0 fails every invocation but answers its probes.
  FleetOptions options = FlakyBesideASlowSurvivor(1);
  options.max_failures_served_elsewhere = 3;
  options.probe_interval = std::chrono::hours(1);
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1"}).value();
  for (int burst = 0; burst < 10 && fleet->Metrics().devices[0].healthy; ++burst) {
    for (const Result<InferenceResult>& r : Burst(*fleet, id, *m, 20)) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->device, "sim:1");
    }
  }
  DeviceMetrics bad = fleet->Metrics().devices[0];
  EXPECT_FALSE(bad.healthy);
  // At least three: requests already in flight when the third came may add to the count.
  EXPECT_THAT(bad.down_reason,
              HasSubstr("requests in a row failed here and were then served by another device"));
  EXPECT_EQ(bad.failures, 1u);
}

// A compiled model runs on Edge TPUs, real or simulated, never on the CPU.
TEST(FleetFaultsTest, FailoverOnlyToDevicesOfTheSameKindAndBackWhenHomeRejoins) {
  std::string compiled = testing::SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  if (!std::filesystem::exists(compiled)) GTEST_SKIP() << "missing " << compiled;
  ModelPtr m = Model::FromFile(compiled).value();
  {
    FleetOptions options;
    options.sim_topology_json = R"({"devices": [{"faults": {"disconnect_after": 1}}]})";
    options.devices = {"sim:0", "cpu"};
    options.sim_outputs = false;
    options.probe_interval = std::chrono::hours(1);
    auto fleet = MakeFleet(options);
    ASSERT_TRUE(fleet);
    int id = fleet->AddModel(m, {"sim:0"}).value();
    ASSERT_TRUE(fleet->Run(id, Inputs(*m)).ok());
    Result<InferenceResult> lost = fleet->Run(id, Inputs(*m));
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(lost.status().message(), HasSubstr("every device that can run it is down"));
    EXPECT_EQ(fleet->Metrics().devices[1].requests, 0u);  // the CPU never saw it
  }
  FleetOptions options;
  options.sim_topology_json =
      R"({"devices": [{"faults": {"disconnect_after": 1, "recover_after_probes": 2}}, {}]})";
  options.devices = {"sim:0", "sim:1", "cpu"};
  options.sim_outputs = false;
  options.probe_interval = std::chrono::milliseconds(1);
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(m, {"sim:0"}).value();
  ASSERT_TRUE(fleet->Run(id, Inputs(*m)).ok());
  Result<InferenceResult> moved = fleet->Run(id, Inputs(*m));
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->device, "sim:1");
  // Once sim:0 is back, its requests go home again.
  ASSERT_TRUE(Eventually([&] { return fleet->Metrics().devices[0].healthy; }));
  EXPECT_THAT(fleet->placement(id).value(), ElementsAre("sim:0"));
  Result<InferenceResult> home = fleet->Run(id, Inputs(*m));
  ASSERT_TRUE(home.ok()) << home.status().ToString();
  EXPECT_EQ(home->device, "sim:0");
}

TEST(FleetFaultsTest, AdmittedRequestsAreServedEvenWhenTheSurvivorsQueuesAreFull) {
  // About 20 ms per invocation in real time; sim:0 is pulled after two.
  FleetOptions options = TwoSticksInRealTime(
      R"({"devices": [{"faults": {"slowdown": 60, "disconnect_after": 2}},
                      {"faults": {"slowdown": 60}}]})");
  options.queue_capacity = 3;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1"}).value();
  std::vector<std::future<Result<InferenceResult>>> answers;
  for (int i = 0; i < 8; ++i) answers.push_back(fleet->Submit(id, Inputs(*m)));
  int served = 0, refused_at_once = 0;
  for (auto& answer : answers) {
    bool ready_at_once = answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    Result<InferenceResult> r = answer.get();
    if (r.ok()) {
      ++served;
    } else {
      // Only a request refused when it was submitted may be refused for a full queue.
      EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
      EXPECT_TRUE(ready_at_once) << r.status().ToString();
      ++refused_at_once;
    }
  }
  EXPECT_EQ(served + refused_at_once, 8);
  FleetMetrics metrics = fleet->Metrics();
  EXPECT_FALSE(metrics.devices[0].healthy);
  EXPECT_EQ(metrics.devices[0].requests + metrics.devices[1].requests,
            static_cast<uint64_t>(served));
  EXPECT_EQ(metrics.models[0].queue_depth, 0u);
}

TEST(FleetFaultsTest, AHangInPrepareIsBoundedAndStaysOutOfTheMetrics) {
  FleetOptions options =
      TwoSticksInRealTime(R"({"devices": [{"faults": {"prepare_seconds": 600}}, {}]})");
  options.invocation_timeout_seconds = 0.2;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  // sim:0 never finishes preparing: the watchdog ends it, and the model is left to sim:1.
  Result<int> id = fleet->AddModel(m, {"sim:0", "sim:1"});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  FleetMetrics metrics = fleet->Metrics();
  EXPECT_FALSE(metrics.devices[0].healthy);
  EXPECT_THAT(metrics.devices[0].down_reason, HasSubstr("no answer within the invocation timeout"));
  EXPECT_EQ(metrics.devices[0].requests, 0u);
  EXPECT_EQ(metrics.models[0].requests, 0u);
  EXPECT_EQ(metrics.models[0].queue_depth, 0u);
  Result<InferenceResult> r = fleet->Run(id.value(), Inputs(*m));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->device, "sim:1");
  EXPECT_EQ(fleet->Metrics().models[0].queue_depth, 0u);
}

TEST(FleetFaultsTest, AFirstUseHasTheWholeTimeoutToPrepareAndTheWholeTimeoutToRun) {
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  // The modeled time of the model's first invocation on a stick (with its reload).
  FleetOptions measure;
  measure.devices = {"sim:0"};
  measure.sim_outputs = false;
  auto probe = MakeFleet(measure);
  ASSERT_TRUE(probe);
  double first_run = probe->Run(probe->AddModel(m).value(), Inputs(*m)).value().device_seconds;
  // sim:0 is pulled on its first invocation; sim:1, standing in, takes 1.2 s to prepare the
  // model and 1.2 s to run it: each within the 2 s timeout, not both together.
  FleetOptions options = TwoSticksInRealTime(fmt::format(
      R"({{"devices": [{{"faults": {{"disconnect_after": 0}}}},
                       {{"faults": {{"prepare_seconds": 1.2, "slowdown": {}}}}}]}})",
      1.2 / first_run));
  options.invocation_timeout_seconds = 2;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(m, {"sim:0"}).value();
  Result<InferenceResult> r = fleet->Run(id, Inputs(*m));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->device, "sim:1");
  EXPECT_NEAR(r->device_seconds, 1.2, 0.01);
  EXPECT_TRUE(fleet->Metrics().devices[1].healthy) << fleet->Metrics().devices[1].down_reason;
}

TEST(FleetFaultsTest, APrepareOrphanedByAFailingDeviceLeavesNoQueueDepth) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  // sim:0 is pulled on its first invocation, with a prepare for a second model queued behind it.
  options.sim_topology_json =
      R"({"devices": [{"faults": {"disconnect_after": 0, "slowdown": 300}}, {}]})";
  options.real_time = true;
  options.sim_outputs = false;
  options.probe_interval = std::chrono::hours(1);
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 64), b = Zoo("mobilenet_v1", 0.5, 64);
  int ia = fleet->AddModel(a, {"sim:0", "sim:1"}).value();
  std::future<Result<InferenceResult>> first = fleet->Submit(ia, Inputs(*a));
  Result<int> ib = fleet->AddModel(b, {"sim:0", "sim:1"});
  ASSERT_TRUE(ib.ok()) << ib.status().ToString();
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(fleet->Run(ib.value(), Inputs(*b)).ok());
  for (const ModelMetrics& model : fleet->Metrics().models) {
    EXPECT_EQ(model.queue_depth, 0u) << model.model;
    EXPECT_EQ(model.requests, 1u) << model.model;
  }
}

TEST(FleetFaultsTest, AHangInReopenIsBoundedAndTheFleetStillStops) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.sim_topology_json = R"({"devices": [{"faults": {"disconnect_after": 1,
                                                          "reopen_seconds": 600}}, {}]})";
  options.real_time = true;
  options.sim_outputs = false;
  options.invocation_timeout_seconds = 0.2;
  options.probe_interval = std::chrono::milliseconds(1);
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1"}).value();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(fleet->Run(id, Inputs(*m)).ok());
  // sim:0 went down and keeps hanging in its reopen attempts; each is interrupted.
  ASSERT_TRUE(Eventually([&] { return !fleet->Metrics().devices[0].healthy; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(fleet->Metrics().devices[0].rejoins, 0u);
  fleet.reset();  // returns although a reopen may be in progress
}

TEST(FleetFaultsTest, ADeviceThatFailsRightAfterRejoiningFlaps) {
  // sim:0 fails every other invocation and answers its probes: each failure another device then
  // serves takes it down, and it fails again soon after it rejoins.
  FleetOptions options = FlakyBesideASlowSurvivor(2);
  options.max_failures_served_elsewhere = 1;
  options.probe_interval = std::chrono::milliseconds(1);
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1"}).value();
  for (int burst = 0; burst < 200 && fleet->Metrics().devices[0].flaps < 2; ++burst) {
    for (const Result<InferenceResult>& r : Burst(*fleet, id, *m, 20)) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // room for a probe
  }
  DeviceMetrics flapping = fleet->Metrics().devices[0];
  EXPECT_GE(flapping.flaps, 2u);
  EXPECT_GE(flapping.rejoins, flapping.flaps);
}

}  // namespace
}  // namespace tpufleet
