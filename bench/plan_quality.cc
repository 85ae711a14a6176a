// The placement planner against Coral's two habits, on kept scenarios (2 to 8 models, 1 to 4
// simulated devices, skewed rates): each placement replays the same Poisson trace in virtual
// time, offered at 1.25x the rates the plan can sustain by its own prediction, so every
// placement that cannot keep up shows its real capacity. Figures are ratios to the better habit.
//
//   build/bench/plan_quality [--seconds S]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "model/zoo/zoo.h"
#include "planner/planner.h"
#include "planner/replay.h"

namespace tpufleet {
namespace {

using planner::PlanInputs;

struct ModelSpec {
  std::string zoo;
  double width = 1.0;
  int resolution = 0;  // 0: the architecture's default
  double rate = 1;
};

struct Scenario {
  std::string name;
  std::vector<ModelSpec> models;
  std::vector<sim::DeviceConfig> devices;
};

sim::DeviceConfig Usb3(int bus) { return {sim::Link::kUsb3, sim::Clock::kMax, 8 << 20, bus}; }
sim::DeviceConfig Usb2(int bus) { return {sim::Link::kUsb2, sim::Clock::kMax, 8 << 20, bus}; }
sim::DeviceConfig Pcie(int bus) { return {sim::Link::kPcie, sim::Clock::kMax, 8 << 20, bus}; }

std::vector<Scenario> Scenarios() {
  return {
      {"2 models, 1 device: a pair that fits together",
       {{"mobilenet_v1", 0.5, 160, 100}, {"mobilenet_v1", 0.25, 128, 100}},
       {Usb3(1)}},
      {"2 equal models, 2 devices (nothing to gain)",
       {{"mobilenet_v2", 1.0, 0, 100}, {"mobilenet_v2", 0.75, 0, 100}},
       {Usb3(1), Usb3(2)}},
      {"1 hot + 2 cold, 2 devices",
       {{"mobilenet_v2", 1.0, 0, 300}, {"inception_v1", 1.0, 0, 20}, {"mobilenet_v1", 1.0, 0, 20}},
       {Usb3(1), Usb3(2)}},
      {"4 skewed models, 3 devices",
       {{"mobilenet_v2", 1.0, 0, 400},
        {"mobilenet_v1", 0.5, 0, 40},
        {"squeezenet_1.0", 1.0, 0, 40},
        {"efficientnet_edgetpu_s", 1.0, 0, 20}},
       {Usb3(1), Usb3(2), Usb3(3)}},
      {"8 models with Zipf rates, 4 devices",
       {{"mobilenet_v2", 1.0, 0, 400},
        {"mobilenet_v1", 1.0, 0, 200},
        {"mobilenet_v1", 0.5, 0, 133},
        {"mobilenet_v2", 0.5, 0, 100},
        {"squeezenet_1.0", 1.0, 0, 80},
        {"mobilenet_v1", 0.25, 0, 67},
        {"mobilenet_v2", 0.35, 0, 57},
        {"inception_v1", 1.0, 0, 50}},
       {Usb3(1), Usb3(2), Usb3(3), Usb3(4)}},
      {"1 hot model, PCIe + USB 3 + 2 USB 2 on one hub",
       {{"mobilenet_v2", 1.0, 0, 500}, {"mobilenet_v1", 0.25, 0, 20}},
       {Pcie(1), Usb3(2), Usb2(3), Usb2(3)}},
  };
}

Result<PlanInputs> Build(const Scenario& scenario) {
  PlanInputs inputs;
  for (const ModelSpec& spec : scenario.models) {
    zoo::ZooOptions options;
    options.width = spec.width;
    if (spec.resolution) options.resolution = spec.resolution;
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, zoo::BuildZooModel(spec.zoo, options));
    std::string name = fmt::format("{}_{}", spec.zoo, spec.width);
    TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromBuffer(std::move(bytes), name));
    inputs.models.push_back({name, model, spec.rate});
  }
  for (size_t d = 0; d < scenario.devices.size(); ++d) {
    inputs.devices.push_back({fmt::format("sim:{}", d), scenario.devices[d]});
  }
  return inputs;
}

}  // namespace
}  // namespace tpufleet

int main(int argc, char** argv) {
  using namespace tpufleet;
  CLI::App app{"The placement planner beside Coral's habits, replayed in virtual time"};
  double seconds = 20;
  app.add_option("--seconds", seconds, "Length of each replayed trace, virtual seconds");
  CLI11_PARSE(app, argc, argv);

  std::cout << fmt::format("{:<50} {:>10} {:>10} {:>10} {:>7} {:>9} {:>9} {:>10}\n", "scenario",
                           "plan rq/s", "1/device", "1 device", "ratio", "plan p99", "habit p99",
                           "predicted");
  for (const Scenario& scenario : Scenarios()) {
    Result<PlanInputs> inputs = Build(scenario);
    Result<planner::CostModel> cost =
        inputs.ok() ? planner::CostModel::Create(inputs.value()) : inputs.status();
    if (!cost.ok()) {
      std::cerr << scenario.name << ": " << cost.status().ToString() << "\n";
      return 1;
    }
    planner::Plan plan = planner::MakePlan(cost.value());
    std::vector<planner::TraceRequest> trace = planner::PoissonTrace(
        inputs.value(), seconds, 1.25 * plan.prediction.capacity_scale(), /*seed=*/42);
    planner::ReplayResult ours = planner::Replay(cost.value(), plan.placement, trace);
    planner::ReplayResult spread =
        planner::Replay(cost.value(), planner::OneModelPerDevice(inputs.value()), trace);
    planner::ReplayResult single =
        planner::Replay(cost.value(), planner::EverythingOnOneDevice(inputs.value()), trace);
    const planner::ReplayResult& habit =
        spread.throughput() >= single.throughput() ? spread : single;
    // What the cost model says the plan sustains: every rate times its capacity scale.
    double predicted = 0;
    for (const planner::PlanModel& m : inputs->models) {
      predicted += m.rate * plan.prediction.capacity_scale();
    }
    std::cout << fmt::format(
        "{:<50} {:>10.1f} {:>10.1f} {:>10.1f} {:>6.2f}x {:>9.1f} {:>9.1f} {:>10.1f}\n",
        scenario.name, ours.throughput(), spread.throughput(), single.throughput(),
        ours.throughput() / habit.throughput(), ours.p99_ms, habit.p99_ms, predicted);
    for (const planner::PlanUnit& unit : plan.placement.units) {
      std::cout << "    " << planner::DescribeUnit(inputs.value(), unit) << "\n";
    }
  }
  std::cout << "(requests per second over the replay; ratio = plan / the better habit; p99 in ms;\n"
               " predicted = what the cost model says the plan sustains)\n";
  return 0;
}
