// The fleet on simulated devices in virtual time: every request answered exactly once under
// concurrency, Coral's placement rules, cache-aware dispatch, failover, metrics.
#include "tpufleet/fleet.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "fleet/fleet_test_util.h"
#include "support/fixtures.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::Inputs;
using testing::MakeFleet;
using testing::SharedDir;
using testing::SharedModel;
using testing::TwoSimulatedDevices;
using testing::Zoo;

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
  options.devices = {"sim:0", "sim:1"};
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 64), b = Zoo("mobilenet_v1", 0.5, 64),
           c = Zoo("mobilenet_v2", 0.35, 64);
  int ia = fleet->AddModel(a).value(), ib = fleet->AddModel(b).value(),
      ic = fleet->AddModel(c).value();
  EXPECT_THAT(fleet->placement(ia).value(), ElementsAre("sim:0"));
  EXPECT_THAT(fleet->placement(ib).value(), ElementsAre("sim:1"));
  EXPECT_EQ(fleet->placement(ic).value().size(), 1u);  // the third shares a device (least loaded)
  EXPECT_TRUE(fleet->Run(ic, Inputs(*c)).ok());
}

TEST(FleetTest, StrictPlacementRefusesTheModelBeyondTheDevices) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.strict = true;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ASSERT_TRUE(fleet->AddModel(Zoo("mobilenet_v1", 0.25, 64)).ok());
  ASSERT_TRUE(fleet->AddModel(Zoo("mobilenet_v1", 0.5, 64)).ok());
  Result<int> third = fleet->AddModel(Zoo("mobilenet_v2", 0.35, 64));
  ASSERT_FALSE(third.ok());
  EXPECT_THAT(third.status().message(),
              HasSubstr("would be model number 3, but the fleet has 2 devices"));
  // An explicit device is still accepted.
  EXPECT_TRUE(fleet->AddModel(Zoo("mobilenet_v2", 0.35, 64), {"sim:1"}).ok());
}

TEST(FleetTest, ExplicitSelectorsAndBadOnes) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1", "cpu"};
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  EXPECT_THAT(fleet->placement(fleet->AddModel(m, {"sim:1"}).value()).value(),
              ElementsAre("sim:1"));
  EXPECT_THAT(fleet->placement(fleet->AddModel(m, {"cpu"}).value()).value(), ElementsAre("cpu"));
  Result<InferenceResult> on_cpu = fleet->Run(1, Inputs(*m));
  ASSERT_TRUE(on_cpu.ok());
  EXPECT_EQ(on_cpu->device, "cpu");
  Result<int> bad = fleet->AddModel(m, {"usb:0"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("devices found: sim:0"));
  FleetOptions missing;
  missing.devices = {"sim:7"};
  EXPECT_THAT(Fleet::Create(missing).status().message(), HasSubstr("sim:7"));
  FleetOptions twice;
  twice.devices = {"sim:0", "sim:0"};
  EXPECT_THAT(Fleet::Create(twice).status().message(), HasSubstr("listed twice"));
}

TEST(FleetTest, AModelADeviceCannotRunFailsWhenAdded) {
  FleetOptions options;
  options.devices = {"cpu"};
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  Result<int> added = fleet->AddModel(testing::UnsupportedOperatorModel());
  ASSERT_FALSE(added.ok());
  EXPECT_THAT(added.status().message(), HasSubstr("operator #0 (SIN) is not supported"));
  EXPECT_THAT(added.status().message(), HasSubstr("cpu"));
  // Its id was never handed out; a caller guessing it is refused, not served.
  EXPECT_FALSE(fleet->Run(0, {}).ok());
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();  // the device is free for the next model
  EXPECT_THAT(fleet->placement(id).value(), ElementsAre("cpu"));
  EXPECT_TRUE(fleet->Run(id, Inputs(*m)).ok());
}

TEST(FleetTest, FailoverLosesNothingAndAnswersOnce) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
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

TEST(FleetTest, AFasterReplicaGetsMoreOfTheRequests) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.sim_topology_json = R"({"devices": [{"link": "pcie"}, {"link": "usb2"}]})";
  options.real_time = true;  // queues build behind devices busy for their modeled time
  options.sim_outputs = false;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v2", 1.0, 224);
  int id = fleet->AddModel(m, {"sim:0", "sim:1"}).value();
  // Waves of 10: after the first, both devices have been timed (a burst that arrives before
  // any device has run is split by queue length alone).
  for (int wave = 0; wave < 12; ++wave) {
    std::vector<std::future<Result<InferenceResult>>> futures;
    for (int i = 0; i < 10; ++i) futures.push_back(fleet->Submit(id, Inputs(*m)));
    for (auto& f : futures) ASSERT_TRUE(f.get().ok());
  }
  FleetMetrics metrics = fleet->Metrics();
  uint64_t pcie = metrics.devices[0].requests, usb2 = metrics.devices[1].requests;
  std::cout << "PCIe served " << pcie << ", USB 2 served " << usb2 << "\n";
  // USB 2 takes about 4x as long per invocation; by queue length alone each would get half.
  EXPECT_GT(pcie, 2 * usb2);
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

// What the callback form of Submit delivered: each answer, and the thread that delivered it.
struct Delivered {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Result<InferenceResult>> answers;
  std::vector<std::thread::id> threads;

  Fleet::Completion Receiver() {
    return [this](Result<InferenceResult> result) {
      std::lock_guard<std::mutex> lock(mutex);
      answers.push_back(std::move(result));
      threads.push_back(std::this_thread::get_id());
      changed.notify_all();
    };
  }
  size_t WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(60), [&] { return answers.size() >= count; });
    return answers.size();
  }
};

TEST(FleetTest, TheCallbackFormAnswersEachRequestOnceFromTheFleetsThread) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.sim_topology_json = R"({"devices": [{"time_scale": 0}, {"time_scale": 0}]})";
  options.real_time = true;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0", "sim:1"}).value();
  std::vector<uint8_t> want = fleet->Run(id, Inputs(*m)).value().outputs[0];

  Delivered delivered;
  constexpr int kThreads = 2, kPerThread = 100;
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i)
        fleet->Submit(id, Inputs(*m), std::nullopt, delivered.Receiver());
    });
  }
  std::vector<std::thread::id> submitting;
  for (std::thread& s : submitters) submitting.push_back(s.get_id());
  for (std::thread& s : submitters) s.join();
  ASSERT_EQ(delivered.WaitFor(kThreads * kPerThread), size_t{kThreads * kPerThread});
  std::lock_guard<std::mutex> lock(delivered.mutex);
  for (size_t i = 0; i < delivered.answers.size(); ++i) {
    ASSERT_TRUE(delivered.answers[i].ok()) << delivered.answers[i].status().ToString();
    EXPECT_EQ(delivered.answers[i]->outputs[0], want);
    EXPECT_THAT(submitting, ::testing::Not(::testing::Contains(delivered.threads[i])));
  }
  FleetMetrics metrics = fleet->Metrics();
  EXPECT_EQ(metrics.models[0].requests, uint64_t{kThreads * kPerThread + 1});
  EXPECT_GT(metrics.devices[0].requests, 0u);
  EXPECT_GT(metrics.devices[1].requests, 0u);
}

TEST(FleetTest, TheCallbackFormAnswersRefusalsBeforeSubmitReturns) {
  FleetOptions options;
  options.devices = {"sim:0"};
  options.real_time = true;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  Delivered delivered;
  fleet->Submit(99, Inputs(*m), std::nullopt, delivered.Receiver());
  {
    std::lock_guard<std::mutex> lock(delivered.mutex);  // no wait: it is answered already
    ASSERT_EQ(delivered.answers.size(), 1u);
  }
  // Past its deadline: answered where it is found so (the worker), before RemoveModel returns.
  fleet->Submit(id, Inputs(*m), std::chrono::steady_clock::now() - std::chrono::seconds(1),
                delivered.Receiver());
  ASSERT_TRUE(fleet->RemoveModel(id).ok());
  fleet->Submit(id, Inputs(*m), std::nullopt, delivered.Receiver());
  std::lock_guard<std::mutex> lock(delivered.mutex);
  ASSERT_EQ(delivered.answers.size(), 3u);
  EXPECT_THAT(delivered.answers[0].status().message(), HasSubstr("unknown model id 99"));
  EXPECT_EQ(delivered.answers[1].status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(delivered.answers[2].status().code(), StatusCode::kNotFound);
  EXPECT_EQ(delivered.threads[0], std::this_thread::get_id());
  EXPECT_EQ(delivered.threads[2], std::this_thread::get_id());
}

TEST(FleetTest, InVirtualTimeTheCallbackFormWaitsForItsAnswer) {
  auto fleet = MakeFleet(TwoSimulatedDevices());
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  Delivered delivered;
  fleet->Submit(id, Inputs(*m), std::nullopt, delivered.Receiver());
  std::lock_guard<std::mutex> lock(delivered.mutex);
  ASSERT_EQ(delivered.answers.size(), 1u);
  ASSERT_TRUE(delivered.answers[0].ok()) << delivered.answers[0].status().ToString();
  EXPECT_EQ(delivered.answers[0]->outputs[0], fleet->Run(id, Inputs(*m)).value().outputs[0]);
  EXPECT_EQ(fleet->Metrics().clock, "virtual");
}

TEST(FleetTest, ImagesAreDecodedAndResizedOnThePreparationThreads) {
  std::string model_path = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  std::string image = (SharedDir() / "images" / "cat.bmp").string();
  TPUFLEET_REQUIRE_FILE(model_path);
  TPUFLEET_REQUIRE_FILE(image);
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.preparation_threads = 2;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(model_path).value();
  std::vector<std::future<Result<InferenceResult>>> futures;
  for (int i = 0; i < 4; ++i) futures.push_back(fleet->SubmitImage(id, image));
  for (auto& f : futures) {
    Result<InferenceResult> r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->timing_only);  // the simulator computed outputs with the uncompiled twin
    const std::vector<uint8_t>& scores = r->outputs[0];
    EXPECT_EQ(std::max_element(scores.begin(), scores.end()) - scores.begin(), 286);  // cat
  }
  Result<InferenceResult> missing = fleet->SubmitImage(id, "/nonexistent/dog.png").get();
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/dog.png"));
  EXPECT_EQ(fleet->Metrics().models[0].errors, 1u);
}

TEST(FleetTest, ACompiledModelGivenAsBytesIsComputedFromTheModelsNamed) {
  std::string compiled_path = SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(compiled_path);
  ModelPtr from_file = Model::FromFile(compiled_path).value();
  ModelPtr from_bytes = Model::FromBuffer(testing::ReadFileBytes(compiled_path)).value();
  FleetOptions options;
  options.devices = {"sim:0"};
  auto without = MakeFleet(options);
  ASSERT_TRUE(without);
  Result<int> refused = without->AddModel(from_bytes);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("not read from a file"));
  EXPECT_THAT(refused.status().message(), HasSubstr("sim_full_models"));

  // A folder stands for its uncompiled models; the one whose tensors match computes the outputs,
  // the same bytes as the twin beside the compiled file gives.
  options.sim_full_models = {(SharedDir() / "models").string()};
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  int bytes_id = fleet->AddModel(from_bytes).value();
  int file_id = fleet->AddModel(from_file).value();
  Result<InferenceResult> a = fleet->Run(bytes_id, Inputs(*from_bytes));
  Result<InferenceResult> b = fleet->Run(file_id, Inputs(*from_file));
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
  EXPECT_FALSE(a->timing_only);
  EXPECT_EQ(a->outputs, b->outputs);
}

TEST(FleetTest, ASlowPreparationNeverHoldsUpADevice) {
  FleetOptions options;
  options.devices = {"sim:0"};
  options.preparation_threads = 1;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocked = fleet->Submit(id, [&](const Model& model) -> Result<TensorList> {
    released.wait();
    return Inputs(model);
  });
  // The only preparation thread is stuck; the device still serves ready tensors.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(fleet->Run(id, Inputs(*m)).ok());
  release.set_value();
  ASSERT_TRUE(blocked.get().ok());
  Result<InferenceResult> refused = fleet
                                        ->Submit(id,
                                                 [](const Model&) -> Result<TensorList> {
                                                   return InvalidArgumentError("not an image");
                                                 })
                                        .get();
  EXPECT_THAT(refused.status().message(), HasSubstr("not an image"));
}

TEST(FleetTest, CoCompiledModelsSwitchWithoutReloads) {
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 128), b = Zoo("mobilenet_v1", 0.5, 160);
  auto reloads_alternating = [&](bool co_compiled) {
    FleetOptions options;
    options.devices = {"sim:0"};
    auto fleet = MakeFleet(options);
    std::vector<int> ids =
        co_compiled ? fleet->AddCoCompiled({a, b}).value()
                    : std::vector<int>{fleet->AddModel(a).value(), fleet->AddModel(b).value()};
    for (int i = 0; i < 20; ++i) {
      int id = ids[i % 2];
      EXPECT_TRUE(fleet->Run(id, Inputs(id == ids[0] ? *a : *b)).ok());
    }
    return fleet->Metrics().devices[0].reloads;
  };
  EXPECT_EQ(reloads_alternating(false), 20u);  // one request at a time: every switch reloads
  EXPECT_EQ(reloads_alternating(true), 1u);    // both fit together: loaded once
}

TEST(FleetTest, CoCompiledModelsArePlacedTogetherAsOne) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.strict = true;
  auto fleet = MakeFleet(options);
  ASSERT_TRUE(fleet);
  std::vector<int> group =
      fleet->AddCoCompiled({Zoo("mobilenet_v1", 0.25, 128), Zoo("mobilenet_v1", 0.5, 160)}).value();
  int third = fleet->AddModel(Zoo("mobilenet_v2", 0.35, 64)).value();
  EXPECT_THAT(fleet->placement(group[0]).value(), ElementsAre("sim:0"));
  EXPECT_THAT(fleet->placement(group[1]).value(), ElementsAre("sim:0"));
  EXPECT_THAT(fleet->placement(third).value(), ElementsAre("sim:1"));
  Result<int> fourth = fleet->AddModel(Zoo("mobilenet_v2", 0.5, 64));
  EXPECT_THAT(fourth.status().message(), HasSubstr("would be model number 3"));
  EXPECT_THAT(fleet->AddCoCompiled({Zoo("mobilenet_v1", 0.25, 64)}).status().message(),
              HasSubstr("at least two models"));
}

TEST(FleetTest, CompiledFilesCoCompiledTogetherGoToOneDevice) {
  std::string first = SharedModel(
      "mobilenet_v1_0.25_128_quant_cocompiled_with_mobilenet_v1_0.5_160_quant_edgetpu.tflite");
  std::string second = SharedModel(
      "mobilenet_v1_0.5_160_quant_cocompiled_with_mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(first);
  TPUFLEET_REQUIRE_FILE(second);
  auto fleet = MakeFleet(TwoSimulatedDevices());
  ASSERT_TRUE(fleet);
  int a = fleet->AddModel(first).value(), b = fleet->AddModel(second).value();
  EXPECT_EQ(fleet->placement(a).value(),
            fleet->placement(b).value());  // one caching token: one device
  EXPECT_THAT(
      fleet->AddCoCompiled({Model::FromFile(first).value(), Model::FromFile(second).value()})
          .status()
          .message(),
      HasSubstr("already compiled for the Edge TPU"));
}

}  // namespace
}  // namespace tpufleet
