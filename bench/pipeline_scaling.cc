// When pipelining pays: Inception v4 (zoo, 299x299, 40.77 MiB of parameters, far more than
// one Edge TPU's 8 MiB) on 1 to 4 real-time simulated USB 3 sticks, each on a bus of its own,
// timing only (the sticks wait their modeled time and compute nothing). For N sticks it measures
// the throughput of N replicas (a fleet with the whole model on every stick) and of an
// N-segment pipeline (the model cut by SplitModel, one segment per stick, PipelineRunner), each
// beside one stick's, measured in the same run, and beside the simulator's prediction
// (sim/pipelining.h, the figures `tpufleet simulate --segments N` prints).
//
//   build/bench/pipeline_scaling [--sticks 4] [--requests 24]
//
// The sticks only sleep, so the host's cores matter little; each figure is requests over the
// wall time from the first push to the last answer.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "model/split.h"
#include "model/zoo/zoo.h"
#include "rig.h"
#include "sim/pipelining.h"
#include "tpufleet/fleet.h"
#include "tpufleet/pipeline.h"

namespace tpufleet::bench {
namespace {

using BenchClock = std::chrono::steady_clock;

// `sticks` USB 3 sticks, each on a bus of its own, in real time and timing only.
DeviceOptions Rig(int sticks) {
  DeviceOptions options;
  options.sim_topology_json = OwnBusRig(sticks, R"(, "link": "usb3")");
  options.real_time = true;
  options.sim_outputs = false;
  return options;
}

TensorList ZeroInputs(const Model& model) {
  TensorList inputs;
  for (size_t i = 0; i < model.input_indices().size(); ++i)
    inputs.emplace_back(model.input(i).byte_size, 0);
  return inputs;
}

// Requests per second of `model` replicated on `sticks` sticks of one fleet, `requests` queued
// at once.
Result<double> ReplicasPerSecond(const ModelPtr& model, int sticks, int requests) {
  FleetOptions options;
  static_cast<DeviceOptions&>(options) = Rig(sticks);
  options.devices = SimDevices(sticks);
  options.queue_capacity = static_cast<size_t>(requests);
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Fleet> fleet, Fleet::Create(options));
  TPUFLEET_ASSIGN_OR_RETURN(int id, fleet->AddModel(model, options.devices));
  TPUFLEET_RETURN_IF_ERROR(fleet->Run(id, ZeroInputs(*model)).status());  // warm: parameters in
  BenchClock::time_point start = BenchClock::now();
  std::vector<std::future<Result<InferenceResult>>> answers;
  for (int r = 0; r < requests; ++r) answers.push_back(fleet->Submit(id, ZeroInputs(*model)));
  for (auto& answer : answers) TPUFLEET_RETURN_IF_ERROR(answer.get().status());
  return requests / std::chrono::duration<double>(BenchClock::now() - start).count();
}

// Requests per second of `model` cut into `sticks` segments, one per stick, as a pipeline.
Result<double> PipelinePerSecond(const ModelPtr& model, int sticks, int requests) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<ModelSegment> segments,
                            SplitModel(*model, sticks, "inception_v4"));
  std::vector<std::unique_ptr<Interpreter>> interpreters;
  DeviceOptions rig = Rig(sticks);
  for (int s = 0; s < sticks; ++s) {
    TPUFLEET_ASSIGN_OR_RETURN(
        std::unique_ptr<Interpreter> interpreter,
        MakeInterpreter(segments[static_cast<size_t>(s)].model, fmt::format("sim:{}", s), rig));
    interpreters.push_back(std::move(interpreter));
  }
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<PipelineRunner> pipeline,
                            PipelineRunner::Create(std::move(interpreters)));
  TPUFLEET_RETURN_IF_ERROR(pipeline->Push(ZeroInputs(*model)));  // warm: parameters in
  TPUFLEET_RETURN_IF_ERROR(pipeline->Pop().status());
  BenchClock::time_point start = BenchClock::now();
  Status pushed;
  std::thread producer([&] {
    for (int r = 0; r < requests && pushed.ok(); ++r) pushed = pipeline->Push(ZeroInputs(*model));
  });
  Status popped;
  for (int r = 0; r < requests && popped.ok(); ++r) popped = pipeline->Pop().status();
  double seconds = std::chrono::duration<double>(BenchClock::now() - start).count();
  producer.join();
  TPUFLEET_RETURN_IF_ERROR(pushed);
  TPUFLEET_RETURN_IF_ERROR(popped);
  TPUFLEET_RETURN_IF_ERROR(pipeline->Shutdown());
  return requests / seconds;
}

int Run(int max_sticks, int requests) {
  zoo::ZooOptions zoo_options;
  Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel("inception_v4", zoo_options);
  Result<ModelPtr> model =
      bytes.ok() ? Model::FromBuffer(std::move(bytes).value(), "inception_v4") : bytes.status();
  if (!model.ok()) return fmt::print(stderr, "{}\n", model.status().ToString()), EXIT_FAILURE;
  fmt::print(
      "Inception v4 (zoo, 299x299) on real-time simulated USB 3 sticks, a bus each; {} requests "
      "per figure (x sticks for replicas and pipelines)\n",
      requests);
  Result<double> one = ReplicasPerSecond(*model, 1, requests);
  if (!one.ok()) return fmt::print(stderr, "{}\n", one.status().ToString()), EXIT_FAILURE;
  fmt::print("{:>6}  {:<25}  {:<25}  {:>10}\n", "", "replicas", "pipeline", "pipeline");
  fmt::print("{:>6}  {:>17} {:>7}  {:>17} {:>7}  {:>10}\n", "sticks", "req/s (predicted)", "x one",
             "req/s (predicted)", "x one", "x replicas");
  for (int sticks = 1; sticks <= max_sticks; ++sticks) {
    Result<sim::PipeliningComparison> predicted =
        sim::ComparePipelining(**model, sticks, sim::DeviceConfig{});
    Result<double> replicas =
        sticks == 1 ? one : ReplicasPerSecond(*model, sticks, requests * sticks);
    Result<double> pipeline = PipelinePerSecond(*model, sticks, requests * sticks);
    for (const Status& status : {predicted.status(), replicas.status(), pipeline.status()}) {
      if (!status.ok()) return fmt::print(stderr, "{}\n", status.ToString()), EXIT_FAILURE;
    }
    // deployments: one device, the replicas, the pipeline (sim/pipelining.h).
    double predicted_replicas = predicted->deployments[1].requests_per_second;
    double predicted_pipeline = predicted->deployments.back().requests_per_second;
    fmt::print("{:>6}  {:8.1f} ({:6.1f}) {:6.2f}x  {:8.1f} ({:6.1f}) {:6.2f}x  {:9.2f}x\n", sticks,
               *replicas, predicted_replicas, *replicas / *one, *pipeline, predicted_pipeline,
               *pipeline / *one, *pipeline / *replicas);
  }
  return EXIT_SUCCESS;
}

}  // namespace
}  // namespace tpufleet::bench

int main(int argc, char** argv) {
  CLI::App app{
      "Inception v4 on 1 to N simulated USB 3 sticks: replicas and pipelines against one stick "
      "and the simulator's prediction"};
  int sticks = 4;
  int requests = 24;
  app.add_option("--sticks", sticks, "Up to this many sticks")->check(CLI::Range(1, 8));
  app.add_option("--requests", requests, "Requests per figure, times the sticks")
      ->check(CLI::Range(2, 10000));
  CLI11_PARSE(app, argc, argv);
  return tpufleet::bench::Run(sticks, requests);
}
