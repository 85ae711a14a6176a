// The fleet on simulated devices in virtual time: every request answered exactly once under
// concurrency, Coral's placement rules, cache-aware dispatch, failover, metrics.
#include "tpufleet/fleet.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "model/zoo/zoo.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ModelPtr Zoo(const std::string& name, double width, int resolution) {
  zoo::ZooOptions options;
  options.width = width;
  options.resolution = resolution;
  return Model::FromBuffer(zoo::BuildZooModel(name, options).value(),
                           fmt::format("{}_{}_{}", name, width, resolution))
      .value();
}

TensorList Inputs(const Model& model) {
  TensorList inputs;
  for (int i : model.input_indices()) inputs.emplace_back(model.tensors()[i].byte_size, 9);
  return inputs;
}

std::unique_ptr<Fleet> MakeFleet(FleetOptions options) {
  Result<std::unique_ptr<Fleet>> fleet = Fleet::Create(options);
  EXPECT_TRUE(fleet.ok()) << fleet.status().ToString();
  return fleet.ok() ? std::move(fleet).value() : nullptr;
}

TEST(FleetTest, ManySubmittersEveryRequestAnsweredExactlyOnce) {
  FleetOptions options;
  options.sim_topology_json = R"({"devices": [{}, {}, {}]})";
  options.devices = {"sim:0", "sim:1", "sim:2"};
  options.queue_capacity = 32;  // small: some submissions meet back-pressure
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 64), b = Zoo("mobilenet_v1", 0.5, 64);
  int ia = fleet->AddModel(a, {"sim:0", "sim:1"}).value();
  int ib = fleet->AddModel(b).value();
  constexpr int kThreads = 4, kPerThread = 150;
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      std::vector<std::future<Result<InferenceResult>>> futures;
      for (int i = 0; i < kPerThread; ++i) {
        bool first = (i + t) % 2 == 0;
        futures.push_back(fleet->Submit(first ? ia : ib, Inputs(first ? *a : *b)));
      }
      for (auto& f : futures) {
        Result<InferenceResult> r = f.get();  // get() throws if a promise were never set
        (r.ok() ? ok : r.status().code() == StatusCode::kResourceExhausted ? exhausted : other)++;
      }
    });
  }
  for (auto& s : submitters) s.join();
  EXPECT_EQ(ok.load() + exhausted.load(), kThreads * kPerThread);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(ok.load(), 0);
  FleetMetrics metrics = fleet->Metrics();
  uint64_t served = 0;
  for (const DeviceMetrics& d : metrics.devices) served += d.requests;
  EXPECT_EQ(served, static_cast<uint64_t>(ok.load()));  // each accepted request ran exactly once
  EXPECT_EQ(metrics.models[0].requests + metrics.models[1].requests,
            static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_GT(metrics.devices[0].requests, 0u);  // the replicated model used both of its devices
  EXPECT_GT(metrics.devices[1].requests, 0u);
}

TEST(FleetTest, AutoPlacementGivesEachModelItsOwnDeviceThenSharesByToken) {
  FleetOptions options;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 64), b = Zoo("mobilenet_v1", 0.5, 64),
           c = Zoo("mobilenet_v2", 0.35, 64);
  int ia = fleet->AddModel(a).value(), ib = fleet->AddModel(b).value(),
      ic = fleet->AddModel(c).value();
  EXPECT_THAT(fleet->placement(ia), ElementsAre("sim:0"));
  EXPECT_THAT(fleet->placement(ib), ElementsAre("sim:1"));
  EXPECT_EQ(fleet->placement(ic).size(), 1u);  // the third shares a device (least loaded)
  EXPECT_TRUE(fleet->Run(ic, Inputs(*c)).ok());
}

TEST(FleetTest, StrictPlacementRefusesTheModelBeyondTheDevices) {
  FleetOptions options;
  options.strict = true;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ASSERT_TRUE(fleet->AddModel(Zoo("mobilenet_v1", 0.25, 64)).ok());
  ASSERT_TRUE(fleet->AddModel(Zoo("mobilenet_v1", 0.5, 64)).ok());
  Result<int> third = fleet->AddModel(Zoo("mobilenet_v2", 0.35, 64));
  ASSERT_FALSE(third.ok());
  EXPECT_THAT(third.status().message(),
              HasSubstr("is the 3th without an explicit device, but the fleet has 2 devices"));
  // An explicit device is still accepted.
  EXPECT_TRUE(fleet->AddModel(Zoo("mobilenet_v2", 0.35, 64), {"sim:1"}).ok());
}

TEST(FleetTest, ExplicitSelectorsAndBadOnes) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1", "cpu"};
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  EXPECT_THAT(fleet->placement(fleet->AddModel(m, {"sim:1"}).value()), ElementsAre("sim:1"));
  EXPECT_THAT(fleet->placement(fleet->AddModel(m, {"cpu"}).value()), ElementsAre("cpu"));
  Result<InferenceResult> on_cpu = fleet->Run(1, Inputs(*m));
  ASSERT_TRUE(on_cpu.ok());
  EXPECT_EQ(on_cpu->device, "cpu");
  Result<int> bad = fleet->AddModel(m, {"usb:0"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("devices found: sim:0"));
  EXPECT_FALSE(Fleet::Create({{"sim:7"}}).ok());
  EXPECT_THAT(Fleet::Create({{"sim:0", "sim:0"}}).status().message(), HasSubstr("listed twice"));
}

TEST(FleetTest, FailoverLosesNothingAndAnswersOnce) {
  FleetOptions options;
  options.sim_topology_json = R"({"devices": [{"faults": {"disconnect_after": 5}}, {}]})";
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0"}).value();  // only on the device that will fail
  std::vector<std::future<Result<InferenceResult>>> futures;
  for (int i = 0; i < 40; ++i) futures.push_back(fleet->Submit(id, Inputs(*m)));
  int retried = 0;
  for (auto& f : futures) {
    Result<InferenceResult> r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->attempts > 1) {
      ++retried;
      EXPECT_EQ(r->device, "sim:1");
    }
  }
  EXPECT_GE(retried, 1);
  FleetMetrics metrics = fleet->Metrics();
  EXPECT_FALSE(metrics.devices[0].healthy);
  EXPECT_EQ(metrics.devices[0].requests, 5u);
  EXPECT_EQ(metrics.devices[1].requests, 35u);
  EXPECT_EQ(metrics.models[0].requests, 40u);
  EXPECT_EQ(metrics.models[0].errors, 0u);
}

TEST(FleetTest, WhenEveryDeviceIsDownRequestsGetAClearError) {
  FleetOptions options;
  options.sim_topology_json = R"({"devices": [{"faults": {"disconnect_after": 2}}]})";
  options.devices = {"sim:0"};
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  int ok = 0, failed = 0;
  for (int i = 0; i < 6; ++i) {
    Result<InferenceResult> r = fleet->Run(id, Inputs(*m));
    if (r.ok()) {
      ++ok;
    } else {
      ++failed;
      EXPECT_THAT(r.status().message(), HasSubstr("no device can serve model"));
      EXPECT_THAT(r.status().message(), HasSubstr("sim:0 (sim:0: device disconnected"));
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(failed, 4);
}

TEST(FleetTest, SharedDeviceBatchesSameModelRequestsToAvoidReloads) {
  FleetOptions options;
  options.devices = {"sim:0"};
  options.real_time = true;  // the worker is busy while requests queue up behind it
  options.max_batch = 10;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 64), b = Zoo("mobilenet_v1", 0.5, 64);
  int ia = fleet->AddModel(a).value(), ib = fleet->AddModel(b).value();
  std::vector<std::future<Result<InferenceResult>>> futures;
  for (int i = 0; i < 40; ++i)
    futures.push_back(i % 2 ? fleet->Submit(ib, Inputs(*b)) : fleet->Submit(ia, Inputs(*a)));
  for (auto& f : futures) ASSERT_TRUE(f.get().ok());
  // Strict alternation would reload 40 times; batches of up to 10 need far fewer.
  EXPECT_LE(fleet->Metrics().devices[0].reloads, 10u);
}

TEST(FleetTest, FullQueueAndExpiredDeadlineAndUnknownModel) {
  FleetOptions options;
  options.devices = {"sim:0"};
  options.real_time = true;
  options.queue_capacity = 2;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("inception_v4", 1.0, 75);  // slow enough to keep the queue full
  int id = fleet->AddModel(m).value();
  std::vector<std::future<Result<InferenceResult>>> futures;
  for (int i = 0; i < 8; ++i) futures.push_back(fleet->Submit(id, Inputs(*m)));
  int exhausted = 0;
  for (auto& f : futures) {
    Result<InferenceResult> r = f.get();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
      EXPECT_THAT(r.status().message(), HasSubstr("queue full"));
      ++exhausted;
    }
  }
  EXPECT_GE(exhausted, 1);
  Result<InferenceResult> late =
      fleet->Submit(id, Inputs(*m), std::chrono::steady_clock::now() - std::chrono::seconds(1))
          .get();
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(fleet->Run(99, {}).status().message(), HasSubstr("unknown model id 99"));
}

}  // namespace
}  // namespace tpufleet
