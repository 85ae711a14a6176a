// `tpufleet bench --devices SEL[,SEL...] --model A --model B [-n N]`: Coral's two-model scenario
// on simulated Edge TPUs, four ways, in modeled (virtual) time:
//   1. both models on one device, alternating in batches of 10 (Coral's first part);
//   2. each model on its own device, in its own thread (Coral's second part);
//   3. both co-compiled, on one device;
//   4. tpufleet's fleet: both models placed automatically on all the devices given,
//      requests submitted at once, cache-aware dispatch.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/files.h"
#include "cli/progress.h"
#include "devices/selector.h"
#include "model/edgetpu_package.h"
#include "model/zoo/zoo.h"
#include "sim/sim_device.h"
#include "tpufleet/fleet.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

struct BenchArgs {
  std::string devices = "sim:0,sim:1";
  std::vector<std::string> models;
  int count = 2000;
  std::string topology;
  bool json = false;
};

struct Strategy {
  std::string name;
  double seconds = 0;  // makespan in modeled time
  uint64_t reloads = 0;
};

backends::TensorBytes ZeroInput(const Model& model) {
  return backends::TensorBytes(model.input(0).byte_size, 0);
}

// Strategies 1 and 3: one device; `co_compiled` prepares both models together.
Result<Strategy> OneDevice(const sim::SimDeviceConfig& config, const std::vector<ModelPtr>& models,
                           int n, bool co_compiled, Progress& progress) {
  Strategy s{co_compiled ? "co-compiled on one Edge TPU"
                         : "one Edge TPU, alternating in batches of 10"};
  sim::SimDevice device(0, config, sim::MakeVirtualClock(), nullptr);  // timing only: see Run()
  std::vector<std::unique_ptr<backends::Program>> programs;
  if (co_compiled) {
    // Compiled files cannot be co-compiled again: co-compile the models they came from.
    std::vector<ModelPtr> sources;
    for (const ModelPtr& m : models) {
      std::string twin = m->is_edgetpu_compiled() ? UncompiledTwinPath(m->name()) : "";
      Result<ModelPtr> uncompiled = twin.empty() ? Result<ModelPtr>(m) : Model::FromFile(twin);
      if (!uncompiled.ok()) {
        return FailedPreconditionError(
            fmt::format("{} is compiled and its uncompiled twin {} cannot be read: give uncompiled "
                        "models to co-compile them",
                        m->name(), twin));
      }
      sources.push_back(uncompiled.value());
    }
    TPUFLEET_ASSIGN_OR_RETURN(programs, device.PrepareGroup(sources));
  } else {
    for (const ModelPtr& m : models) {
      TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Program> p, device.Prepare(m));
      programs.push_back(std::move(p));
    }
  }
  for (int done = 0; done < n; done += 10) {
    for (size_t m = 0; m < models.size(); ++m) {
      for (int i = 0; i < 10 && done + i < n; ++i) {
        TPUFLEET_ASSIGN_OR_RETURN(backends::RunResult r,
                                  device.Run(*programs[m], {ZeroInput(*models[m])}));
        s.seconds += r.device_seconds;
        progress.Step(s.name);
      }
    }
  }
  s.reloads = device.stats().reloads;
  return s;
}

// Strategy 2: each model on its own device in its own thread; the slower device sets the time.
Result<Strategy> DevicePerModel(const std::vector<sim::SimDeviceConfig>& configs,
                                const std::vector<ModelPtr>& models, int n, Progress& progress) {
  Strategy s{"one Edge TPU per model, one thread each"};
  std::vector<double> busy(models.size(), 0);
  std::vector<Status> errors(models.size());
  std::vector<uint64_t> reloads(models.size(), 0);
  std::vector<std::thread> threads;
  for (size_t m = 0; m < models.size(); ++m) {
    threads.emplace_back([&, m] {
      sim::SimDevice device(static_cast<int>(m), configs[m], sim::MakeVirtualClock(), nullptr);
      Result<std::unique_ptr<backends::Program>> program = device.Prepare(models[m]);
      if (!program.ok()) {
        errors[m] = program.status();
        return;
      }
      for (int i = 0; i < n; ++i) {
        Result<backends::RunResult> r = device.Run(*program.value(), {ZeroInput(*models[m])});
        if (!r.ok()) {
          errors[m] = r.status();
          return;
        }
        busy[m] += r->device_seconds;
        progress.Step(s.name);
      }
      reloads[m] = device.stats().reloads;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& e : errors) TPUFLEET_RETURN_IF_ERROR(e);
  s.seconds = *std::max_element(busy.begin(), busy.end());
  for (uint64_t r : reloads) s.reloads += r;
  return s;
}

// Strategy 4: the fleet, automatic placement, everything submitted at once.
Result<Strategy> WithFleet(const std::vector<std::string>& devices, const std::string& topology,
                           const std::vector<ModelPtr>& models, int n, Progress& progress) {
  Strategy s{"tpufleet: automatic placement, cache-aware"};
  FleetOptions options;
  options.devices = devices;
  options.sim_topology_json = topology;
  options.queue_capacity = static_cast<size_t>(n) * models.size() + 1;
  options.sim_outputs = false;
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Fleet> fleet, Fleet::Create(options));
  std::vector<int> ids;
  for (const ModelPtr& m : models) {
    TPUFLEET_ASSIGN_OR_RETURN(int id, fleet->AddModel(m));
    ids.push_back(id);
  }
  std::vector<std::future<Result<InferenceResult>>> futures;
  for (int i = 0; i < n; ++i) {
    for (size_t m = 0; m < models.size(); ++m)
      futures.push_back(fleet->Submit(ids[m], {ZeroInput(*models[m])}));
  }
  for (auto& f : futures) {
    Result<InferenceResult> r = f.get();
    if (!r.ok()) return r.status();
    progress.Step(s.name);
  }
  for (const DeviceMetrics& d : fleet->Metrics().devices) {
    s.seconds = std::max(s.seconds, d.busy_seconds);
    s.reloads += d.reloads;
  }
  return s;
}

int Run(const BenchArgs& args) {
  if (args.models.size() != 2)
    return ReportFailure(InvalidArgumentError("give exactly two models: --model A --model B"));
  std::vector<std::string> devices;
  std::stringstream list(args.devices);
  for (std::string d; std::getline(list, d, ',');) devices.push_back(d);
  if (devices.size() < 2)
    return ReportFailure(
        InvalidArgumentError("give at least two devices, e.g. --devices sim:0,sim:1"));
  Result<std::string> read = ReadTopologyFile(args.topology);
  if (!read.ok()) return ReportFailure(read.status());
  const std::string& topology = read.value();
  Result<std::vector<sim::SimDeviceConfig>> loaded_rig = LoadRig(topology);
  if (!loaded_rig.ok()) return ReportFailure(loaded_rig.status());
  const std::vector<sim::SimDeviceConfig>& rig = loaded_rig.value();
  std::vector<sim::SimDeviceConfig> chosen;
  for (const std::string& d : devices) {
    Result<Selector> selector = ParseSelector(d);
    if (!selector.ok() || selector->type != DeviceType::kSim || !selector->index)
      return ReportFailure(UnimplementedError("bench runs on simulated devices (sim:N); got " + d));
    size_t index = *selector->index;
    if (index >= rig.size()) {
      return ReportFailure(
          InvalidArgumentError(fmt::format("{}: the simulated rig has {} devices", d, rig.size())));
    }
    chosen.push_back(rig[index]);
    chosen.back().compute_outputs =
        false;  // the scenario measures time; outputs would cost CPU only
  }
  std::vector<ModelPtr> models;
  for (const std::string& spec : args.models) {
    Result<ModelPtr> m = LoadModel(spec);
    if (!m.ok()) return ReportFailure(m.status());
    models.push_back(m.value());
  }
  Progress progress(args.count * 2 * 4, !args.json);
  std::vector<Result<Strategy>> results;
  results.push_back(OneDevice(chosen[0], models, args.count, false, progress));
  results.push_back(DevicePerModel(chosen, models, args.count, progress));
  results.push_back(OneDevice(chosen[0], models, args.count, true, progress));
  results.push_back(WithFleet(devices, topology, models, args.count, progress));
  for (const auto& r : results) {
    if (!r.ok()) return ReportFailure(r.status());
  }
  double anchor = results[0]->seconds;
  if (args.json) {
    json out = json::array();
    for (const auto& r : results) {
      out.push_back({{"strategy", r->name},
                     {"seconds", r->seconds},
                     {"reloads", r->reloads},
                     {"speedup", anchor / r->seconds}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{} and {}, {} inferences each, simulated time:\n", models[0]->name(),
                           models[1]->name(), args.count);
  std::cout << fmt::format("{:<44} {:>10} {:>8} {:>9}\n", "strategy", "seconds", "reloads",
                           "speedup");
  for (const auto& r : results) {
    std::cout << fmt::format("{:<44} {:>10.3f} {:>8} {:>8.2f}x\n", r->name, r->seconds, r->reloads,
                             anchor / r->seconds);
  }
  std::cout << fmt::format("Inference with one Edge TPU costs {:.2f} seconds.\n",
                           results[0]->seconds);
  std::cout << fmt::format("Inference with two Edge TPUs costs {:.2f} seconds.\n",
                           results[1]->seconds);
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd =
      root.add_subcommand("bench", "Coral's two-model scenario, four ways, on simulated Edge TPUs");
  cmd->footer(
      "Runs two models N times each (Coral's two_models_inference example) four ways and prints\n"
      "their modeled times side by side: both on one Edge TPU alternating in batches of 10; each\n"
      "on its own Edge TPU in its own thread; co-compiled on one Edge TPU; and tpufleet's fleet\n"
      "(automatic placement, cache-aware dispatch). Models are files or zoo:NAME.\n\n"
      "Examples:\n"
      "  tpufleet bench --model zoo:mobilenet_v2 --model zoo:inception_v1 -n 200\n"
      "  tpufleet bench --devices sim:0,sim:1 --model a.tflite --model b.tflite --topology "
      "rig.json");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("--devices", args->devices, "Simulated devices, comma-separated")
      ->default_val("sim:0,sim:1");
  cmd->add_option("--model", args->models, "A model file or zoo:NAME (twice)")->required();
  cmd->add_option("-n,--count", args->count, "Inferences per model")
      ->default_val(2000)
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--topology", args->topology, "Simulated rig (JSON, see docs/simulator.md)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace tpufleet::cli
