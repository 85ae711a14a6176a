// The placement planner: small cases whose optimum is known (by reasoning, and by brute force over
// every placement), plans that respect the on-chip memory and never lose to Coral's habits, and
// plan files that read back as written.
#include "planner/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "fleet/fleet_test_util.h"
#include "planner/plan_file.h"
#include "support/shared_files.h"

namespace tpufleet::planner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using tpufleet::testing::SharedModel;
using tpufleet::testing::Zoo;

sim::DeviceConfig Usb3(int bus) { return {sim::Link::kUsb3, sim::Clock::kMax, 8 << 20, bus}; }

PlanInputs Inputs(std::vector<std::pair<ModelPtr, double>> models, int devices) {
  PlanInputs inputs;
  for (auto& [model, rate] : models) inputs.models.push_back({model->name(), model, rate});
  for (int d = 0; d < devices; ++d)
    inputs.devices.push_back({fmt::format("sim:{}", d), Usb3(d + 1)});
  return inputs;
}

CostModel Cost(const PlanInputs& inputs) { return CostModel::Create(inputs).value(); }

TEST(PlannerTest, AHotModelIsReplicatedOnEveryDevice) {
  PlanInputs inputs = Inputs({{Zoo("mobilenet_v2", 1.0, 224), 500}}, 3);
  Plan plan = MakePlan(Cost(inputs));
  ASSERT_EQ(plan.placement.units.size(), 1u);
  EXPECT_THAT(plan.placement.units[0].devices, ElementsAre(0, 1, 2));
  // Identical devices split the load evenly: a third each of what one device would carry.
  double alone = Cost(inputs).Predict(OneModelPerDevice(inputs)).max_utilization;
  EXPECT_NEAR(plan.prediction.max_utilization, alone / 3, 1e-9);
}

TEST(PlannerTest, TwoLargeModelsOnTwoDevicesGetOneEach) {
  // Each needs most of the on-chip memory: together one would stream, apart neither reloads.
  PlanInputs inputs =
      Inputs({{Zoo("inception_v1", 1.0, 224), 100}, {Zoo("inception_v1", 1.0, 192), 100}}, 2);
  Plan plan = MakePlan(Cost(inputs));
  ASSERT_EQ(plan.placement.units.size(), 2u);
  EXPECT_EQ(plan.placement.units[0].devices.size(), 1u);
  EXPECT_EQ(plan.placement.units[1].devices.size(), 1u);
  EXPECT_NE(plan.placement.units[0].devices, plan.placement.units[1].devices);
}

TEST(PlannerTest, TwoSmallModelsOnOneDeviceAreCoCompiled) {
  PlanInputs inputs =
      Inputs({{Zoo("mobilenet_v1", 0.5, 160), 100}, {Zoo("mobilenet_v1", 0.25, 128), 100}}, 1);
  CostModel cost = Cost(inputs);
  Plan plan = MakePlan(cost);
  ASSERT_EQ(plan.placement.units.size(), 1u);
  EXPECT_EQ(plan.placement.units[0].models.size(), 2u);
  EXPECT_LT(plan.prediction.max_utilization,
            cost.Predict(EverythingOnOneDevice(inputs)).max_utilization);
  EXPECT_THAT(CompilerCommands(inputs, plan.placement)[0], HasSubstr("edgetpu_compiler "));
}

TEST(PlannerTest, CompiledFilesAreNeverCoCompiled) {
  std::string a = SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  std::string b = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(a);
  TPUFLEET_REQUIRE_FILE(b);
  PlanInputs inputs =
      Inputs({{Model::FromFile(a).value(), 100}, {Model::FromFile(b).value(), 100}}, 1);
  CostModel cost = Cost(inputs);
  Plan plan = MakePlan(cost);
  EXPECT_EQ(plan.placement.units.size(), 2u);
  EXPECT_THAT(cost.Check({{{{0, 1}, {0}}}}).message(), HasSubstr("only uncompiled models"));
}

// Every placement of `models` models on `devices` devices: set partitions into units, every
// co-compile order, every non-empty device set per unit.
std::vector<Placement> EveryPlacement(int models, int devices) {
  std::vector<std::vector<std::vector<int>>> partitions;
  std::function<void(int, std::vector<std::vector<int>>)> partition = [&](int m, auto units) {
    if (m == models) {
      partitions.push_back(units);
      return;
    }
    for (size_t u = 0; u < units.size(); ++u) {
      auto next = units;
      next[u].push_back(m);
      partition(m + 1, next);
    }
    units.push_back({m});
    partition(m + 1, units);
  };
  partition(0, {});
  std::vector<Placement> all;
  for (auto& units : partitions) {
    for (auto& u : units) std::sort(u.begin(), u.end());
    std::function<void(size_t, Placement)> assign = [&](size_t u, Placement p) {
      if (u == units.size()) {
        all.push_back(p);
        return;
      }
      std::vector<int> order = units[u];
      do {
        for (int mask = 1; mask < (1 << devices); ++mask) {
          std::vector<int> on;
          for (int d = 0; d < devices; ++d) {
            if (mask & (1 << d)) on.push_back(d);
          }
          Placement next = p;
          next.units.push_back({order, on});
          assign(u + 1, next);
        }
      } while (std::next_permutation(order.begin(), order.end()));
    };
    assign(0, {});
  }
  return all;
}

TEST(PlannerTest, MatchesBruteForceOnSmallCases) {
  std::vector<std::vector<std::pair<ModelPtr, double>>> cases = {
      {{Zoo("mobilenet_v2", 1.0, 224), 300},
       {Zoo("inception_v1", 1.0, 224), 20},
       {Zoo("mobilenet_v1", 1.0, 224), 20}},
      {{Zoo("mobilenet_v1", 0.5, 160), 50},
       {Zoo("mobilenet_v1", 0.25, 128), 200},
       {Zoo("squeezenet_1.0", 1.0, 227), 100}},
  };
  for (auto& models : cases) {
    PlanInputs inputs = Inputs(models, 2);
    CostModel cost = Cost(inputs);
    double best = 1e30;
    Placement best_placement;
    std::vector<Placement> all = EveryPlacement(3, 2);
    EXPECT_EQ(all.size(), 1u * 27 + 3 * (2 * 9) + 6 * 3);  // 3 alone, 2+1 (x3), all together
    for (const Placement& p : all) {
      double u = cost.Predict(p).max_utilization;
      if (u < best) {
        best = u;
        best_placement = p;
      }
    }
    Plan plan = MakePlan(cost);
    std::string found, optimum;
    for (const PlanUnit& u : plan.placement.units) found += DescribeUnit(inputs, u) + "; ";
    for (const PlanUnit& u : best_placement.units) optimum += DescribeUnit(inputs, u) + "; ";
    EXPECT_NEAR(plan.prediction.max_utilization, best, 1e-6 * best)
        << "planner: " << found << "\nbrute force: " << optimum;
  }
}

TEST(PlannerTest, PlansFitTheOnChipMemoryAndNeverLoseToTheHabits) {
  PlanInputs inputs = Inputs({{Zoo("mobilenet_v2", 1.0, 224), 400},
                              {Zoo("mobilenet_v1", 0.5, 224), 40},
                              {Zoo("squeezenet_1.0", 1.0, 227), 40},
                              {Zoo("efficientnet_edgetpu_s", 1.0, 224), 20},
                              {Zoo("inception_v1", 1.0, 224), 20}},
                             3);
  inputs.devices[2].hardware.sram_bytes = 2 << 20;  // a small one: more must stream there
  CostModel cost = Cost(inputs);
  Plan plan = MakePlan(cost);
  ASSERT_TRUE(cost.Check(plan.placement).ok());
  for (const PlanUnit& unit : plan.placement.units) {
    for (int d : unit.devices) {
      uint64_t cached = 0;
      for (const sim::EdgeTpuProgram& p : cost.UnitPrograms(unit, d)) cached += p.cached_bytes;
      EXPECT_LE(cached, sim::UsableSram(inputs.devices[d].hardware.sram_bytes));
    }
  }
  EXPECT_LE(plan.prediction.max_utilization,
            cost.Predict(OneModelPerDevice(inputs)).max_utilization);
  EXPECT_LE(plan.prediction.max_utilization,
            cost.Predict(EverythingOnOneDevice(inputs)).max_utilization);
  EXPECT_LT(plan.prediction.max_utilization, 1.0);  // these rates fit: no device over capacity
}

TEST(PlannerTest, LatencyTargetIsHonouredWhenItCanBe) {
  PlanInputs inputs =
      Inputs({{Zoo("mobilenet_v2", 1.0, 224), 200}, {Zoo("inception_v1", 1.0, 224), 10}}, 2);
  Plan plan = MakePlan(Cost(inputs), {.latency_target_ms = 8});
  for (double latency : plan.prediction.latency_ms) EXPECT_LE(latency, 8);
}

TEST(PlanFileTest, ReadsBackWhatItWrites) {
  PlanInputs inputs =
      Inputs({{Zoo("mobilenet_v1", 0.5, 160), 100}, {Zoo("mobilenet_v1", 0.25, 128), 50}}, 2);
  Plan plan = MakePlan(Cost(inputs));
  std::string text = PlanJson(inputs, plan, R"({"devices": [{}, {"link": "usb2"}]})");
  Result<PlanFile> read = ParsePlanFile(text);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->models.size(), 2u);
  EXPECT_EQ(read->models[1].second, 50);
  EXPECT_THAT(read->devices, ElementsAre("sim:0", "sim:1"));
  EXPECT_THAT(read->topology_json, HasSubstr("usb2"));
  ASSERT_EQ(read->units.size(), plan.placement.units.size());
  EXPECT_EQ(read->units[0].models.size(), plan.placement.units[0].models.size());
  EXPECT_THAT(ParsePlanFile("[1, 2]").status().message(), HasSubstr("JSON object"));
  EXPECT_THAT(ParsePlanFile(R"({"models": []})").status().message(), HasSubstr("\"devices\""));
  EXPECT_THAT(ParsePlanFile(R"({"models": [], "devices": [], "units": [{"models": ["x"],
                                "devices": ["sim:0"]}]})")
                  .status()
                  .message(),
              HasSubstr("'x' is not in \"models\""));
  // A model the plan lists but places nowhere would be added without devices: refused.
  EXPECT_THAT(ParsePlanFile(R"({"models": [{"model": "a.tflite", "rate": 5},
                                           {"model": "b.tflite", "rate": 5}],
                                "devices": ["sim:0"],
                                "units": [{"models": ["a.tflite"], "devices": ["sim:0"]}]})")
                  .status()
                  .message(),
              HasSubstr("model 'b.tflite' is in \"models\" but in no unit"));
}

}  // namespace
}  // namespace tpufleet::planner
