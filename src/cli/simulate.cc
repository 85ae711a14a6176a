// `tpufleet simulate`: what a model costs on a simulated Edge TPU, split by cause, with the
// compiler's report; `--calibration` sets the simulator beside Coral's published timings.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/simulator_report.h"
#include "common/text.h"
#include "model/zoo/zoo.h"
#include "sim/compiler.h"
#include "sim/pipelining.h"
#include "sim/published_timings.h"
#include "sim/timing.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

struct SimulateArgs {
  std::vector<std::string> models;
  std::vector<std::string> zoo;
  std::string link = "usb3";
  std::string clock = "max";
  uint64_t sram = sim::kEdgeTpuSramBytes;
  int segments = 0;  // > 0: one device, replicas and a pipeline of this many segments
  bool cocompile = false;
  bool calibration = false;
  bool json = false;
};

Result<ModelPtr> ZooModel(const std::string& name) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, zoo::BuildZooModel(name, {}));
  return Model::FromBuffer(std::move(bytes), "zoo:" + name);
}

int Calibration(bool as_json) {
  json rows = json::array();
  if (!as_json) {
    std::cout << fmt::format("{:<24} {:<5} {:>14} {:>14} {:>8}\n", "model", "link", "published ms",
                             "simulated ms", "error");
  }
  for (const sim::PublishedTiming& row : sim::PublishedTimings()) {
    Result<ModelPtr> model = ZooModel(row.zoo);
    Result<sim::EdgeTpuProgram> program = model.ok()
                                              ? sim::Compile(*model.value(), sim::kEdgeTpuSramBytes)
                                              : Result<sim::EdgeTpuProgram>(model.status());
    if (!program.ok()) {
      std::cerr << "error: " << program.status().message() << "\n";
      return 1;
    }
    sim::DeviceConfig device;
    device.link = row.link;
    double ms = sim::EstimateInvocation(program.value(), device, false).total() * 1e3;
    double error = ms / row.milliseconds - 1;
    rows.push_back({{"model", row.model},
                    {"zoo", row.zoo},
                    {"link", sim::LinkName(row.link)},
                    {"published_ms", row.milliseconds},
                    {"simulated_ms", ms},
                    {"error", error}});
    if (!as_json) {
      std::cout << fmt::format("{:<24} {:<5} {:>14.1f} {:>14.2f} {:>+7.1f}%\n", row.model,
                               sim::LinkName(row.link), row.milliseconds, ms, 100 * error);
    }
  }
  if (as_json) std::cout << rows.dump(2) << "\n";
  return 0;
}

// --segments N: one device, N replicas and an N-segment pipeline of each model, side by side.
int ComparePipelines(const std::vector<ModelPtr>& models, const SimulateArgs& args,
                     const sim::DeviceConfig& device) {
  json report = json::array();
  for (const ModelPtr& m : models) {
    Result<sim::PipeliningComparison> c = sim::ComparePipelining(*m, args.segments, device);
    if (!c.ok()) return ReportFailure(c.status());
    if (args.json) {
      report.push_back(PipeliningJson(m->name(), c.value()));
    } else {
      PrintPipelining(m->name(), device, c.value());
    }
  }
  if (args.json) std::cout << report.dump(2) << "\n";
  return 0;
}

int Run(const SimulateArgs& args) {
  if (args.calibration) return Calibration(args.json);
  Result<sim::Link> link = sim::ParseLink(args.link);
  if (!link.ok()) return ReportFailure(link.status());
  Result<sim::Clock> clock = sim::ParseClock(args.clock);
  if (!clock.ok()) return ReportFailure(clock.status());
  sim::DeviceConfig device{link.value(), clock.value(), args.sram, 0};

  std::vector<ModelPtr> models;
  for (const std::string& path : args.models) {
    Result<ModelPtr> m = Model::FromFile(path);
    if (!m.ok()) return ReportFailure(m.status());
    models.push_back(m.value());
  }
  for (const std::string& name : args.zoo) {
    Result<ModelPtr> m = ZooModel(name);
    if (!m.ok()) return ReportFailure(m.status());
    models.push_back(m.value());
  }
  if (models.empty())
    return ReportFailure(InvalidArgumentError("give models, --zoo NAME, or --calibration"));
  if (args.segments > 0) return ComparePipelines(models, args, device);
  std::vector<sim::EdgeTpuProgram> programs;
  for (const ModelPtr& m : models) {
    Result<sim::EdgeTpuProgram> p = sim::Compile(*m, args.sram);
    if (!p.ok()) return ReportFailure(p.status());
    programs.push_back(std::move(p).value());
  }
  if (args.cocompile) programs = sim::CoCompile(std::move(programs), args.sram);

  json report = json::array();
  uint64_t remaining = sim::UsableSram(args.sram);
  for (const sim::EdgeTpuProgram& p : programs) {
    remaining = args.cocompile ? remaining - std::min(remaining, p.cached_bytes)
                               : sim::UsableSram(args.sram) -
                                     std::min(sim::UsableSram(args.sram), p.cached_bytes);
    sim::InvocationTime steady = sim::EstimateInvocation(p, device, false);
    sim::InvocationTime first = sim::EstimateInvocation(p, device, true);
    if (args.json) {
      report.push_back({{"model", p.name},
                        {"from_package", p.from_package},
                        {"macs", p.macs.total()},
                        {"tpu_operators", p.tpu_operators},
                        {"cpu_operators", p.cpu_operators},
                        {"cached_bytes", p.cached_bytes},
                        {"streamed_bytes", p.streamed_bytes},
                        {"caching_token", FormatToken(p.caching_token)},
                        {"link", sim::LinkName(device.link)},
                        {"clock", sim::ClockName(device.clock)},
                        {"steady", TimeJson(steady)},
                        {"after_other_token", TimeJson(first)}});
      continue;
    }
    std::cout << p.name << "\n";
    for (const std::string& line : sim::CompilerReport(p, remaining))
      std::cout << "  " << line << "\n";
    std::cout << fmt::format("  Caching token: {}\n", FormatToken(p.caching_token));
    std::cout << fmt::format("  On a simulated Edge TPU ({}, {} clock):\n",
                             sim::LinkName(device.link), sim::ClockName(device.clock));
    std::cout << "    steady state:        " << TimeLine(steady) << "\n";
    std::cout << "    after another token:  " << TimeLine(first) << "\n";
    if (p.macs.total() == 0 && p.from_package) {
      std::cout << fmt::format("    (compute from the package's estimated cycles: {})\n",
                               p.estimated_cycles);
    }
  }
  if (args.json) std::cout << report.dump(2) << "\n";
  return 0;
}

}  // namespace

void AddSimulateCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "simulate", "Estimate a model's time on a simulated Edge TPU, split by cause");
  cmd->footer(
      "Compiles each model for a simulated Edge TPU (compiled models keep their package's sizes),\n"
      "prints the compiler's report (on-chip and off-chip parameter memory, operators on the Edge\n"
      "TPU and on the CPU) and the time of one invocation: fixed overhead, input and output\n"
      "transfer, computation, parameter streaming, and the reload of cached parameters after\n"
      "another model ran. --cocompile compiles the models together (one caching token, SRAM\n"
      "shared in order). --calibration prints Coral's published timings beside the simulator's.\n"
      "--segments N compares, for an uncompiled model, one device, N replicas and the model cut\n"
      "into an N-segment pipeline as 'tpufleet split' cuts it: requests per second, latency,\n"
      "each segment's on-chip fit and time, and which wins and why.\n"
      "The model and its constants: docs/simulator.md.\n\n"
      "Examples:\n"
      "  tpufleet simulate --zoo inception_v4 --link usb2\n"
      "  tpufleet simulate a.tflite b.tflite --cocompile\n"
      "  tpufleet simulate --calibration\n"
      "  tpufleet simulate --zoo inception_v4 --segments 4");
  auto args = std::make_shared<SimulateArgs>();
  cmd->add_option("models", args->models, "TFLite models (compiled or not)");
  cmd->add_option("--zoo", args->zoo, "A zoo architecture at its defaults (repeatable)");
  cmd->add_option("--link", args->link, "usb3, usb2 or pcie")->default_val("usb3");
  cmd->add_option("--clock", args->clock, "std (250 MHz) or max (500 MHz)")->default_val("max");
  cmd->add_option("--sram", args->sram, "Parameter SRAM in bytes")
      ->default_val(sim::kEdgeTpuSramBytes)
      ->check(CLI::Range(1024, 1 << 30));
  cmd->add_flag("--cocompile", args->cocompile, "Co-compile the models (first listed first)");
  cmd->add_option("--segments", args->segments,
                  "Compare one device, N replicas and an N-segment pipeline (uncompiled models)")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--calibration", args->calibration, "Compare with Coral's published timings");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace tpufleet::cli
