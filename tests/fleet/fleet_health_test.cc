// Device health in the fleet: failed devices are probed and rejoin, hangs are caught by the
// watchdog (real time) or by their modeled duration (virtual time), and a device that keeps
// missing deadlines is taken out. No request is lost or answered twice in any of it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fleet/fleet_test_util.h"
#include "tpufleet/fleet.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using testing::Eventually;
using ::testing::HasSubstr;
using testing::Inputs;
using testing::MakeFleet;
using testing::Zoo;

TEST(FleetHealthTest, DisconnectedDeviceIsProbedAndRejoins) {
  FleetOptions options;
  options.sim_topology_json =
      R"({"devices": [{"faults": {"disconnect_after": 3, "recover_after_probes": 2}}]})";
  options.devices = {"sim:0"};
  options.probe_interval = std::chrono::milliseconds(1);
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fleet->Run(id, Inputs(*m)).ok());
  Result<InferenceResult> lost = fleet->Run(id, Inputs(*m));  // the stick is pulled
  ASSERT_FALSE(lost.ok());
  EXPECT_THAT(lost.status().message(), HasSubstr("every device that can run it is down"));
  // Two failed probes later it is back, with an empty cache.
  ASSERT_TRUE(Eventually([&] { return fleet->Metrics().devices[0].healthy; }));
  Result<InferenceResult> back = fleet->Run(id, Inputs(*m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->device, "sim:0");
  DeviceMetrics device = fleet->Metrics().devices[0];
  EXPECT_EQ(device.failures, 1u);
  EXPECT_EQ(device.rejoins, 1u);
  EXPECT_EQ(device.reloads, 2u);  // once at the start, once after replugging
  EXPECT_THAT(device.down_reason, HasSubstr("device disconnected"));
}

TEST(FleetHealthTest, WatchdogInterruptsAHungDeviceAndTheRequestMovesOn) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.sim_topology_json = R"({"devices": [{"faults": {"hang_after": 1, "hang_seconds": 600}},
                                              {}]})";
  options.real_time = true;  // the hang really blocks the worker thread
  options.invocation_timeout_seconds = 0.2;
  options.probe_interval = std::chrono::hours(1);  // stays down for the test
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0"}).value();
  ASSERT_TRUE(fleet->Run(id, Inputs(*m)).ok());
  Result<InferenceResult> moved = fleet->Run(id, Inputs(*m));  // hangs on sim:0
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->device, "sim:1");
  EXPECT_EQ(moved->attempts, 2);
  DeviceMetrics hung = fleet->Metrics().devices[0];
  EXPECT_FALSE(hung.healthy);
  EXPECT_THAT(hung.down_reason, HasSubstr("no answer within the invocation timeout (0.2 s)"));
}

TEST(FleetHealthTest, ModeledHangInVirtualTimeIsAFailureToo) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.sim_topology_json =
      R"({"devices": [{"faults": {"slowdown": 100000}}, {}]})";  // seconds per invocation
  options.invocation_timeout_seconds = 5;
  options.probe_interval = std::chrono::hours(1);
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0"}).value();
  Result<InferenceResult> slow = fleet->Run(id, Inputs(*m));
  ASSERT_TRUE(slow.ok());  // it did answer, late: the answer is kept, the device taken out
  EXPECT_GT(slow->device_seconds, 5);
  EXPECT_THAT(fleet->Metrics().devices[0].down_reason,
              HasSubstr("over the invocation timeout (5 s)"));
  Result<InferenceResult> next = fleet->Run(id, Inputs(*m));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->device, "sim:1");
}

// Timing-only simulated devices from `topology`, taken down after 3 overruns and never probed
// again.
FleetOptions SlowRig(std::vector<std::string> devices, const char* topology) {
  FleetOptions options;
  options.devices = std::move(devices);
  options.sim_topology_json = topology;
  options.sim_outputs = false;
  options.max_deadline_misses = 3;
  options.probe_interval = std::chrono::hours(1);
  return options;
}

TEST(FleetHealthTest, ADeviceWhoseInvocationsOverrunItsOwnTimeIsTakenOut) {
  // sim:0 turns 1000x slower after two invocations (modeled time, so this runs in virtual time).
  auto fleet = MakeFleet(SlowRig(
      {"sim:0", "sim:1"}, R"({"devices": [{"faults": {"slowdown": 1000, "slow_after": 2}}, {}]})"));
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0"}).value();
  std::vector<std::string> served_by;
  for (int i = 0; i < 6; ++i) {
    Result<InferenceResult> r = fleet->Run(id, Inputs(*m));
    ASSERT_TRUE(r.ok()) << r.status().ToString();  // a slow answer is still an answer
    served_by.push_back(r->device);
  }
  // Two at its usual speed, three overruns (the third takes it down), then the other device.
  EXPECT_THAT(served_by, ElementsAre("sim:0", "sim:0", "sim:0", "sim:0", "sim:0", "sim:1"));
  DeviceMetrics slow = fleet->Metrics().devices[0];
  EXPECT_FALSE(slow.healthy);
  EXPECT_THAT(slow.down_reason, HasSubstr("3 invocations in a row overran its own expected time"));
  EXPECT_EQ(fleet->Metrics().models[0].errors, 0u);
}

TEST(FleetHealthTest, AClientsDeadlinesNeverTakeADeviceDown) {
  // Deadlines are wall-clock times, so this runs in real time: about 0.3 s per invocation, far
  // past a 50 ms deadline. Margins this wide keep a loaded machine from moving the outcome.
  FleetOptions options = SlowRig({"sim:0"}, R"({"devices": [{"faults": {"slowdown": 1000}}]})");
  options.real_time = true;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  for (int i = 0; i < 5; ++i) {  // more than max_deadline_misses
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
    Result<InferenceResult> r = fleet->Submit(id, Inputs(*m), deadline).get();
    ASSERT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  }
  DeviceMetrics device = fleet->Metrics().devices[0];
  EXPECT_TRUE(device.healthy) << device.down_reason;
  EXPECT_EQ(device.failures, 0u);
  EXPECT_EQ(fleet->Metrics().models[0].errors, 5u);
  Result<InferenceResult> in_time = fleet->Run(id, Inputs(*m));  // no deadline
  ASSERT_TRUE(in_time.ok()) << in_time.status().ToString();
  EXPECT_EQ(in_time->device, "sim:0");
}

TEST(FleetHealthTest, StressWithFaultsAndRejoinsAccountsForEveryRequest) {
  FleetOptions options;
  options.sim_topology_json = R"({"devices": [
      {"faults": {"transient_error_every": 7}},
      {"faults": {"disconnect_after": 40, "recover_after_probes": 3}},
      {"faults": {"hang_after": 60, "recover_after_probes": 1}},
      {}]})";
  options.devices = {"sim:0", "sim:1", "sim:2", "sim:3"};
  options.probe_interval = std::chrono::milliseconds(1);
  options.queue_capacity = 1000;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 64), b = Zoo("mobilenet_v2", 0.35, 64);
  int ia = fleet->AddModel(a, {"sim:0", "sim:1"}).value();
  int ib = fleet->AddModel(b, {"sim:2", "sim:3"}).value();
  constexpr int kThreads = 4, kPerThread = 100;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bool first = (i + t) % 2 == 0;
        Result<InferenceResult> r = fleet->Submit(first ? ia : ib, Inputs(first ? *a : *b)).get();
        (r.ok() ? ok : failed)++;
      }
    });
  }
  for (auto& s : submitters) s.join();
  // Some device always stays up, so every request is served.
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  FleetMetrics metrics = fleet->Metrics();
  uint64_t served = 0, failures = 0;
  for (const DeviceMetrics& d : metrics.devices) {
    served += d.requests;
    failures += d.failures;
  }
  EXPECT_EQ(served, static_cast<uint64_t>(kThreads * kPerThread));  // each ran exactly once
  EXPECT_GT(failures, 0u);
  EXPECT_EQ(metrics.models[0].queue_depth + metrics.models[1].queue_depth, 0u);
}

}  // namespace
}  // namespace tpufleet
