// Replaying traces in virtual time: exact accounting against hand-computed timelines, the fleet's
// batching and bus sharing, and trace files with clear errors.
#include "planner/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fleet/fleet_test_util.h"
#include "planner/planner.h"

namespace tpufleet::planner {
namespace {

using ::testing::HasSubstr;
using tpufleet::testing::Zoo;

PlanInputs Rig(std::vector<ModelPtr> models, std::vector<int> buses) {
  PlanInputs inputs;
  for (const ModelPtr& m : models) inputs.models.push_back({m->name(), m, 10});
  for (size_t d = 0; d < buses.size(); ++d) {
    inputs.devices.push_back(
        {fmt::format("sim:{}", d), {sim::Link::kUsb3, sim::Clock::kMax, 8 << 20, buses[d]}});
  }
  return inputs;
}

double Seconds(const CostModel& cost, const PlanUnit& unit, int device, bool reload,
               double share = 1) {
  return sim::EstimateInvocation(cost.UnitPrograms(unit, device)[0],
                                 cost.inputs().devices[device].hardware, reload, share)
      .total();
}

TEST(ReplayTest, SpacedRequestsOnOneDeviceMatchTheTimingModelExactly) {
  PlanInputs inputs = Rig({Zoo("mobilenet_v1", 0.25, 128)}, {1});
  CostModel cost = CostModel::Create(inputs).value();
  Placement placement{{{{0}, {0}}}};
  std::vector<TraceRequest> trace = {{0, 0}, {1, 0}, {2, 0}, {3, 0}};  // far apart: no queueing
  ReplayResult r = Replay(cost, placement, trace);
  double first = Seconds(cost, placement.units[0], 0, true);
  double warm = Seconds(cost, placement.units[0], 0, false);
  EXPECT_EQ(r.requests, 4u);
  EXPECT_EQ(r.reloads, 1u);
  EXPECT_NEAR(r.device_busy_seconds[0], first + 3 * warm, 1e-12);
  EXPECT_NEAR(r.makespan, 3 + warm, 1e-12);
  EXPECT_NEAR(r.p50_ms, warm * 1e3, 1e-9);  // (arrival + warm) - arrival, in milliseconds
  EXPECT_NEAR(r.p99_ms, first * 1e3, 1e-9);
}

TEST(ReplayTest, SimultaneousRequestsQueueAndSharedBusesSlowTransfers) {
  // Two models, each on its own device, both devices on bus 1.
  PlanInputs inputs = Rig({Zoo("mobilenet_v1", 0.25, 128), Zoo("mobilenet_v1", 0.5, 128)}, {1, 1});
  CostModel cost = CostModel::Create(inputs).value();
  Placement placement{{{{0}, {0}}, {{1}, {1}}}};
  // Both at once: the second device starts while the first transfers, with half the bus.
  ReplayResult r = Replay(cost, placement, {{0, 0}, {0, 1}});
  double alone = Seconds(cost, placement.units[0], 0, true);
  double shared = Seconds(cost, placement.units[1], 1, true, 0.5);
  EXPECT_DOUBLE_EQ(r.device_busy_seconds[0], alone);
  EXPECT_DOUBLE_EQ(r.device_busy_seconds[1], shared);
  EXPECT_DOUBLE_EQ(r.makespan, std::max(alone, shared));
  // Three at once on one device: the last waits for two.
  ReplayResult queued = Replay(cost, placement, {{0, 0}, {0, 0}, {0, 0}});
  double warm = Seconds(cost, placement.units[0], 0, false);
  EXPECT_NEAR(queued.makespan, alone + 2 * warm, 1e-12);
  EXPECT_NEAR(queued.p99_ms, (alone + 2 * warm) * 1e3, 1e-9);
}

TEST(ReplayTest, EveryRequestIsServedOnceAndBatchesCutReloads) {
  PlanInputs inputs = Rig({Zoo("mobilenet_v2", 1.0, 224), Zoo("mobilenet_v2", 1.0, 192)}, {1});
  CostModel cost = CostModel::Create(inputs).value();
  std::vector<TraceRequest> trace;
  // Interleaved, a microsecond apart: all there before the first is done. (Arrivals at one
  // instant are taken by model: a burst at one instant would be two runs of one model.)
  for (int i = 0; i < 200; ++i) trace.push_back({i * 1e-6, i % 2});
  ReplayResult separate = Replay(cost, EverythingOnOneDevice(inputs), trace);
  EXPECT_EQ(separate.requests, 200u);
  EXPECT_EQ(separate.model_requests[0], 100u);
  EXPECT_EQ(separate.model_requests[1], 100u);
  EXPECT_EQ(separate.reloads, 20u);  // batches of 10: one reload per batch
  inputs.max_batch = 1;
  CostModel strict = CostModel::Create(inputs).value();
  EXPECT_EQ(Replay(strict, EverythingOnOneDevice(inputs), trace).reloads, 200u);
}

// One trace through the live fleet in virtual time and through the replay: the same rules (the
// dispatch order, the batch pick, the reload predicate, the bus, the stepping) give the same
// per-device counts.
TEST(ReplayTest, TheFleetInVirtualTimeServesATraceAsTheReplayPredicts) {
  PlanInputs inputs = Rig({Zoo("mobilenet_v1", 0.25, 128), Zoo("mobilenet_v1", 0.5, 160),
                           Zoo("mobilenet_v2", 0.5, 128)},
                          {1, 1, 2});
  inputs.devices[2].hardware.link = sim::Link::kUsb2;
  inputs.max_batch = 4;
  inputs.models[0].rate = 400;
  inputs.models[1].rate = 150;
  inputs.models[2].rate = 100;
  CostModel cost = CostModel::Create(inputs).value();
  // Model 0 on every device, model 1 beside it on two, model 2 on the USB 2 stick alone.
  Placement placement{{{{0}, {0, 1, 2}}, {{1}, {1, 2}}, {{2}, {2}}}};
  ASSERT_TRUE(cost.Check(placement).ok());
  std::vector<TraceRequest> trace = PoissonTrace(inputs, 1.0, 1.0, 11);
  ReplayResult replayed = Replay(cost, placement, trace);

  FleetOptions options;
  options.devices = {"sim:0", "sim:1", "sim:2"};
  options.sim_topology_json =
      R"({"devices": [{"bus": 1}, {"bus": 1}, {"bus": 2, "link": "usb2"}]})";
  options.sim_outputs = false;
  options.max_batch = inputs.max_batch;
  options.queue_capacity = trace.size();
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  std::vector<int> ids;
  for (const PlanUnit& unit : placement.units) {
    std::vector<std::string> devices;
    for (int d : unit.devices) devices.push_back(inputs.devices[d].name);
    ids.push_back(fleet->AddModel(inputs.models[unit.models[0]].model, devices).value());
  }
  std::vector<std::future<Result<InferenceResult>>> answers;
  for (const TraceRequest& r : trace) {
    const Model& model = *inputs.models[r.model].model;
    answers.push_back(fleet->SubmitAt(r.time, ids[r.model], testing::Inputs(model)));
  }
  for (auto& answer : answers) ASSERT_TRUE(answer.get().ok());
  FleetMetrics metrics = fleet->Metrics();
  ASSERT_GT(trace.size(), 500u);
  for (size_t d = 0; d < inputs.devices.size(); ++d) {
    EXPECT_EQ(metrics.devices[d].requests, replayed.device_requests[d]) << "device " << d;
    EXPECT_EQ(metrics.devices[d].reloads, replayed.device_reloads[d]) << "device " << d;
    EXPECT_NEAR(metrics.devices[d].busy_seconds, replayed.device_busy_seconds[d], 1e-9);
  }
  EXPECT_NEAR(metrics.elapsed_seconds, replayed.makespan, 1e-9);
  EXPECT_GT(replayed.reloads, 0u);  // the shared devices switched models
}

TEST(ReplayTest, PoissonTraceIsReproducibleAndAtTheRate) {
  PlanInputs inputs = Rig({Zoo("mobilenet_v1", 0.25, 128)}, {1});
  inputs.models[0].rate = 200;
  std::vector<TraceRequest> a = PoissonTrace(inputs, 50, 1.0, 7),
                            b = PoissonTrace(inputs, 50, 1.0, 7);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.back().time, b.back().time);
  EXPECT_NEAR(a.size(), 10000.0, 400);  // 200/s for 50 s, within 4 standard deviations
}

TEST(ReplayTest, TraceFilesParseWithClearErrors) {
  PlanInputs inputs = Rig({Zoo("mobilenet_v1", 0.25, 128), Zoo("mobilenet_v1", 0.5, 128)}, {1});
  Result<std::vector<TraceRequest>> trace =
      ParseTrace("time,model\n0.5,mobilenet_v1_0.5_128\n# note\n\n0.25,0\r\n", inputs);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->size(), 2u);
  EXPECT_EQ((*trace)[0].model, 0);  // sorted by time
  EXPECT_EQ((*trace)[1].model, 1);
  EXPECT_THAT(ParseTrace("0.1 mobilenet", inputs).status().message(),
              HasSubstr("trace line 1: expected 'time,model'"));
  EXPECT_THAT(ParseTrace("x,0", inputs).status().message(), HasSubstr("'x' is not a time"));
  EXPECT_THAT(ParseTrace("-1,0", inputs).status().message(), HasSubstr(">= 0"));
  EXPECT_THAT(ParseTrace("0,resnet", inputs).status().message(),
              HasSubstr("trace line 1: unknown model 'resnet'; the models are"));
  EXPECT_THAT(ParseTrace("0,7", inputs).status().message(), HasSubstr("unknown model '7'"));
}

}  // namespace
}  // namespace tpufleet::planner
