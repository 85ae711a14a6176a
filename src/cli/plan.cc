// `tpufleet plan --model A[:RATE]... [--devices SEL,...] [--topology FILE] [--latency-target MS]
//  [--json] [-o FILE] [--replay TRACE] [--segments N]`: a placement for models on simulated Edge
// TPUs from their request rates, with the simulator's predictions, the edgetpu_compiler commands
// it needs, when a model would be better pipelined, and optionally a replay of a request trace
// against it and against Coral's habits.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/files.h"
#include "cli/simulator_report.h"
#include "planner/plan_file.h"
#include "planner/planner.h"
#include "planner/replay.h"
#include "sim/pipelining.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

struct PlanArgs {
  std::vector<std::string> models;  // "a.tflite", "a.tflite:120", "zoo:mobilenet_v2:40"
  std::string devices;              // comma-separated; empty: every device of the rig
  std::string topology;
  double latency_target_ms = 0;
  std::string output;
  std::string replay;
  int segments = 0;  // > 0: compare pipelining for every model; 0: for the ones that overflow
  bool json = false;
};

// "path:RATE" when what follows the last ':' is a number; else no rate (0).
std::pair<std::string, double> SplitRate(const std::string& spec) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos) return {spec, 0};
  std::string tail = spec.substr(colon + 1);
  try {
    size_t used = 0;
    double rate = std::stod(tail, &used);
    if (used == tail.size()) return {spec.substr(0, colon), rate};
  } catch (const std::exception&) {
  }
  return {spec, 0};
}

Result<planner::PlanInputs> Inputs(const PlanArgs& args, const std::string& topology) {
  planner::PlanInputs inputs;
  double given = 0;
  int with_rate = 0;
  for (const std::string& spec : args.models) {
    auto [name, rate] = SplitRate(spec);
    if (rate < 0 || !std::isfinite(rate)) {
      return InvalidArgumentError(fmt::format("{}: a rate is requests per second, > 0", spec));
    }
    TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, LoadModel(name));
    inputs.models.push_back({name, model, rate});
    given += rate;
    with_rate += rate > 0;
  }
  // A model without a rate gets the mean of the given ones; equal shares when none is given.
  for (planner::PlanModel& m : inputs.models) {
    if (m.rate == 0) m.rate = with_rate ? given / with_rate : 1;
  }
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<sim::SimDeviceConfig> rig, LoadRig(topology));
  std::vector<std::string> names;
  std::stringstream list(args.devices);
  for (std::string d; std::getline(list, d, ',');) names.push_back(d);
  if (names.empty()) {
    for (size_t i = 0; i < rig.size(); ++i) names.push_back(fmt::format("sim:{}", i));
  }
  for (const std::string& name : names) {
    size_t index = 0;
    bool simulated = name.starts_with("sim:") && name.size() > 4 &&
                     name.find_first_not_of("0123456789", 4) == std::string::npos;
    if (simulated) index = std::stoul(name.substr(4, 6));
    if (!simulated || index >= rig.size()) {
      return InvalidArgumentError(fmt::format(
          "{}: plan takes simulated devices sim:0 ... sim:{} of the rig (--topology gives their "
          "links, buses and memory)",
          name, rig.size() - 1));
    }
    inputs.devices.push_back({name, rig[index].hardware});
  }
  return inputs;
}

std::string Percent(double u) { return std::isfinite(u) ? fmt::format("{:.0f}%", 100 * u) : "-"; }

void PrintPlan(const planner::PlanInputs& inputs, const planner::Plan& plan,
               const planner::CostModel& cost) {
  auto file = [](const std::string& name) {
    return std::filesystem::path(name).filename().string();
  };
  std::cout << fmt::format("Placement of {} models on {} simulated Edge TPUs\n\n",
                           inputs.models.size(), inputs.devices.size());
  for (const planner::PlanUnit& u : plan.placement.units) {
    std::vector<std::string> models, devices;
    for (int m : u.models) models.push_back(file(inputs.models[m].name));
    for (int d : u.devices) devices.push_back(inputs.devices[d].name);
    std::string kind = u.models.size() > 1 ? "co-compiled, in this order" : "alone";
    if (u.devices.size() > 1) kind += fmt::format("; {} replicas", u.devices.size());
    std::cout << fmt::format("{} ({}):\n  {}\n", fmt::join(devices, ", "), kind,
                             fmt::join(models, "\n  "));
  }
  std::cout << fmt::format("\n{:<8} {:<5} {:>4} {:>12}\n", "device", "link", "bus", "utilization");
  for (size_t d = 0; d < inputs.devices.size(); ++d) {
    const sim::DeviceConfig& hw = inputs.devices[d].hardware;
    std::cout << fmt::format("{:<8} {:<5} {:>4} {:>12}\n", inputs.devices[d].name,
                             sim::LinkName(hw.link), hw.bus,
                             Percent(plan.prediction.utilization[d]));
  }
  std::cout << fmt::format("\n{:<44} {:>9} {:>11} {:>12}\n", "model", "rate/s", "latency ms",
                           "max rate/s");
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    double latency = plan.prediction.latency_ms[m];
    std::cout << fmt::format("{:<44} {:>9.1f} {:>11} {:>12.1f}\n", file(inputs.models[m].name),
                             inputs.models[m].rate,
                             std::isfinite(latency) ? fmt::format("{:.2f}", latency) : "saturated",
                             inputs.models[m].rate * plan.prediction.capacity_scale());
  }
  std::cout << fmt::format("\nEvery rate can grow {:.2f}x before the busiest device saturates.\n",
                           plan.prediction.capacity_scale());
  std::cout << fmt::format(
      "Coral's habits, busiest device: one model per device {}, everything on one device {}.\n",
      Percent(cost.Predict(planner::OneModelPerDevice(inputs)).max_utilization),
      Percent(cost.Predict(planner::EverythingOnOneDevice(inputs)).max_utilization));
  std::vector<std::string> commands = planner::CompilerCommands(inputs, plan.placement);
  if (!commands.empty()) {
    std::cout << "\nCo-compile with:\n";
    for (const std::string& c : commands) std::cout << "  " << c << "\n";
    bool zoo = std::any_of(inputs.models.begin(), inputs.models.end(),
                           [](const planner::PlanModel& m) { return m.name.starts_with("zoo:"); });
    if (zoo) std::cout << "(write zoo models first: tpufleet zoo NAME -o NAME.tflite)\n";
  }
}

// An N-segment pipeline of each model beside one device and N replicas, on the first device's
// hardware. With --segments N, for every model (one that cannot be cut is an error); else with N
// the number of devices, for the models whose parameters overflow one device's memory (as the
// cost model compiled them) and can be cut.
Result<std::vector<std::pair<std::string, sim::PipeliningComparison>>> ComparePipelining(
    const PlanArgs& args, const planner::PlanInputs& inputs, const planner::CostModel& cost) {
  std::vector<std::pair<std::string, sim::PipeliningComparison>> comparisons;
  int segments = args.segments > 0 ? args.segments : static_cast<int>(inputs.devices.size());
  if (segments < 2 || inputs.devices.empty()) return comparisons;
  const sim::DeviceConfig& device = inputs.devices[0].hardware;
  for (size_t i = 0; i < inputs.models.size(); ++i) {
    const planner::PlanModel& m = inputs.models[i];
    bool overflows = cost.UnitPrograms({{static_cast<int>(i)}, {0}}, 0)[0].streamed_bytes > 0;
    if (args.segments == 0 && !overflows) continue;
    Result<sim::PipeliningComparison> c = sim::ComparePipelining(*m.model, segments, device);
    if (args.segments > 0 && !c.ok()) return c.status();
    if (c.ok()) comparisons.emplace_back(m.name, std::move(c).value());
  }
  return comparisons;
}

void PrintPipeliningAdvice(
    const planner::PlanInputs& inputs,
    const std::vector<std::pair<std::string, sim::PipeliningComparison>>& all) {
  if (all.empty()) return;
  const planner::PlanDevice& device = inputs.devices[0];
  std::cout << fmt::format("\nPipelining, on {}'s hardware:\n", device.name);
  for (const auto& [name, comparison] : all) {
    PrintPipelining(name, device.hardware, comparison, "  ");
    if (comparison.best == sim::PipeliningComparison::kPipeline) {
      std::cout << fmt::format(
          "  cut it with: tpufleet split {} --segments {} -o segments/, then run the segments "
          "with 'tpufleet run SEGMENTS... --pipeline' (compile each for the Edge TPU)\n",
          name, comparison.segments.size());
    }
  }
}

json ReplayJson(const std::string& name, const planner::ReplayResult& r) {
  return {{"placement", name},     {"requests", r.requests},
          {"seconds", r.makespan}, {"throughput", r.throughput()},
          {"p50_ms", r.p50_ms},    {"p99_ms", r.p99_ms},
          {"reloads", r.reloads}};
}

int Run(const PlanArgs& args) {
  Result<std::string> read = ReadTopologyFile(args.topology);
  if (!read.ok()) return ReportFailure(read.status());
  const std::string& topology = read.value();
  Result<planner::PlanInputs> inputs = Inputs(args, topology);
  if (!inputs.ok()) return ReportFailure(inputs.status());
  Result<planner::CostModel> cost = planner::CostModel::Create(inputs.value());
  if (!cost.ok()) return ReportFailure(cost.status());
  planner::Plan plan = planner::MakePlan(cost.value(), {args.latency_target_ms});
  Result<std::vector<std::pair<std::string, sim::PipeliningComparison>>> pipelining =
      ComparePipelining(args, inputs.value(), cost.value());
  if (!pipelining.ok()) return ReportFailure(pipelining.status());
  std::string plan_json = planner::PlanJson(inputs.value(), plan, topology);
  if (!args.output.empty()) {
    std::ofstream out(args.output);
    out << plan_json << "\n";
    if (!out) return ReportFailure(NotFoundError(args.output + ": cannot write the plan"));
  }
  json replays = json::array();
  if (!args.replay.empty()) {
    Result<std::string> text = ReadTextFile(args.replay, "the trace");
    if (!text.ok()) return ReportFailure(text.status());
    Result<std::vector<planner::TraceRequest>> trace =
        planner::ParseTrace(text.value(), inputs.value());
    if (!trace.ok()) return ReportFailure(trace.status().WithContext(args.replay));
    std::vector<std::pair<std::string, planner::Placement>> placements = {
        {"plan", plan.placement},
        {"one model per device", planner::OneModelPerDevice(inputs.value())},
        {"everything on one device", planner::EverythingOnOneDevice(inputs.value())}};
    for (const auto& [name, placement] : placements) {
      replays.push_back(ReplayJson(name, planner::Replay(cost.value(), placement, trace.value())));
    }
  }
  if (args.json) {
    json out = json::parse(plan_json);
    if (!replays.empty()) out["replay"] = replays;
    if (!pipelining->empty()) {
      json comparisons = json::array();
      for (const auto& [name, c] : pipelining.value())
        comparisons.push_back(PipeliningJson(name, c));
      out["pipelining"] = comparisons;
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  PrintPlan(inputs.value(), plan, cost.value());
  PrintPipeliningAdvice(inputs.value(), pipelining.value());
  if (!replays.empty()) {
    std::cout << fmt::format("\nReplay of {} ({} requests, virtual time):\n", args.replay,
                             replays[0]["requests"].get<size_t>());
    std::cout << fmt::format("{:<26} {:>10} {:>12} {:>10} {:>10} {:>8}\n", "placement", "seconds",
                             "requests/s", "p50 ms", "p99 ms", "reloads");
    for (const json& r : replays) {
      std::cout << fmt::format("{:<26} {:>10.3f} {:>12.1f} {:>10.2f} {:>10.2f} {:>8}\n",
                               r["placement"].get<std::string>(), r["seconds"].get<double>(),
                               r["throughput"].get<double>(), r["p50_ms"].get<double>(),
                               r["p99_ms"].get<double>(), r["reloads"].get<uint64_t>());
    }
  }
  if (!args.output.empty()) std::cout << "\nPlan written to " << args.output << "\n";
  return 0;
}

}  // namespace

void AddPlanCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "plan", "Place models on simulated Edge TPUs from their request rates, and replay traces");
  cmd->footer(
      "Decides which models share an Edge TPU (co-compiled, in which order), which get one of\n"
      "their own and which are replicated, from each model's request rate and each device's link,\n"
      "bus and on-chip memory, with the simulator's compiler stand-in and timing model: parameter\n"
      "caching and streaming, reloads when separately compiled models share a device, bus\n"
      "sharing. Prints the placement, predicted utilization per device, latency and the highest\n"
      "sustainable rate per model, and the edgetpu_compiler commands for the co-compiled units.\n"
      "--replay runs a trace (CSV 'time,model' lines, time in seconds) in virtual time against\n"
      "the plan and against Coral's habits (one model per device in order; everything on one\n"
      "device). 'tpufleet run --plan FILE' starts a fleet from a plan written with -o.\n\n"
      "Models whose parameters overflow one device's on-chip memory are also compared, on the\n"
      "first device's hardware, as one device, N replicas and an N-segment pipeline (N: the\n"
      "number of devices; with one device nothing is compared). The plan says which wins and\n"
      "why, and prints the 'tpufleet split' command when the pipeline wins. --segments N sets N\n"
      "and compares every model; a model that cannot be cut, such as a compiled one, is then an\n"
      "error.\n\n"
      "Examples:\n"
      "  tpufleet plan --model zoo:mobilenet_v2:300 --model zoo:inception_v1:20 --model\n"
      "      zoo:mobilenet_v1:20 --devices sim:0,sim:1\n"
      "  tpufleet plan --model a.tflite:120 --model b.tflite --topology rig.json -o plan.json\n"
      "  tpufleet plan --model a.tflite --model b.tflite --replay trace.csv --json\n"
      "  tpufleet plan --model zoo:inception_v4:30 --model zoo:mobilenet_v2:100 --segments 2");
  auto args = std::make_shared<PlanArgs>();
  cmd->add_option("--model", args->models,
                  "A model file or zoo:NAME, with :RATE in requests per second (repeatable)")
      ->required();
  cmd->add_option("--devices", args->devices,
                  "Simulated devices, comma-separated (default: every device of the rig)");
  cmd->add_option("--topology", args->topology, "Simulated rig (JSON, see docs/simulator.md)");
  cmd->add_option("--latency-target", args->latency_target_ms,
                  "Mean latency each model should stay under, in milliseconds")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-o,--output", args->output, "Write the plan as JSON to this file");
  cmd->add_option("--replay", args->replay, "Replay this trace (CSV: time,model) in virtual time");
  cmd->add_option("--segments", args->segments,
                  "Compare every model as one device, N replicas and an N-segment pipeline "
                  "(N instead of the number of devices)")
      ->check(CLI::Range(2, 64));
  cmd->add_flag("--json", args->json, "Print the plan (and replay, pipelining) as JSON");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace tpufleet::cli
