#include "cli/run_pipeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/files.h"
#include "cli/outputs.h"
#include "cli/task_output.h"
#include "common/labels.h"
#include "devices/selector.h"
#include "tpufleet/image.h"
#include "tpufleet/pipeline.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

std::string FileName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// One device per segment: --devices, else real Edge TPUs for compiled segments when there are
// enough, else the rig's simulated Edge TPUs.
Result<std::vector<std::string>> PipelineDevices(const PipelineRunArgs& args,
                                                 const std::string& topology_json) {
  size_t n = args.segments.size();
  std::vector<std::string> devices = SplitCommas(args.devices);
  if (!devices.empty()) return devices;
  bool compiled = false;
  for (const std::string& segment : args.segments) {
    TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromFile(segment));
    compiled = compiled || model->is_edgetpu_compiled();
  }
  std::vector<DeviceInfo> edgetpus = compiled ? ListDevices().devices : std::vector<DeviceInfo>{};
  if (edgetpus.size() >= n) {
    for (size_t i = 0; i < n; ++i) devices.push_back(StableDeviceString(edgetpus[i]));
    return devices;
  }
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<sim::SimDeviceConfig> rig, LoadRig(topology_json));
  if (rig.size() < n) {
    return InvalidArgumentError(fmt::format(
        "a pipeline of {} segments needs {} devices, one each, but the simulated rig has {} "
        "Edge TPUs{}: give --devices, or a --topology with more devices",
        n, n, rig.size(), compiled ? fmt::format(" and this machine {}", edgetpus.size()) : ""));
  }
  for (size_t i = 0; i < n; ++i) devices.push_back(fmt::format("sim:{}", i));
  return devices;
}

// Pushes every image --count times on its own thread while this one pops; the results of the
// first answer of each image, and the first error.
struct Answers {
  std::map<size_t, TensorList> first;  // by image
  size_t answered = 0;
  Status error;
};

Result<Answers> PushAndPop(const PipelineRunArgs& args, PipelineRunner& runner) {
  std::vector<TensorList> requests;
  for (const std::string& image : args.inputs) {
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> pixels,
                              ImageFileTensor(image, runner.segment(0).model()));
    requests.push_back({std::move(pixels)});
  }
  Status pushed;
  std::thread pusher([&] {
    for (int r = 0; r < args.count && pushed.ok(); ++r) {
      for (size_t i = 0; i < requests.size() && pushed.ok(); ++i) pushed = runner.Push(requests[i]);
    }
    Status shut = runner.Shutdown();
    if (pushed.ok()) pushed = shut;
  });
  Answers answers;
  while (true) {
    Result<std::optional<TensorList>> out = runner.Pop();
    if (!out.ok()) {
      answers.error = out.status();
      break;
    }
    if (!out->has_value()) break;
    answers.first.try_emplace(answers.answered % requests.size(), std::move(**out));
    ++answers.answered;
  }
  pusher.join();
  if (answers.error.ok()) answers.error = pushed;
  return answers;
}

// Each segment's time, and what the slowest one makes of the pipeline: its time per request is
// the pipeline's, and a request's latency is the sum over the segments.
json Timing(const PipelineStats& stats, double wall_seconds, size_t requests) {
  json segments = json::array();
  double slowest = 0, latency = 0;
  size_t slowest_index = 0;
  for (size_t i = 0; i < stats.segments.size(); ++i) {
    const SegmentStats& s = stats.segments[i];
    double each = s.invocations ? s.device_seconds / static_cast<double>(s.invocations) : 0;
    if (each > slowest) {
      slowest = each;
      slowest_index = i;
    }
    latency += each;
    segments.push_back({{"segment", i},
                        {"model", s.model},
                        {"device", s.device},
                        {"invocations", s.invocations},
                        {"device_ms_per_invocation", each * 1e3},
                        {"busy_ms", s.busy_seconds * 1e3},
                        {"timing_only", s.timing_only > 0}});
  }
  return {{"segments", segments},
          {"requests", requests},
          {"slowest_segment", slowest_index},
          {"throughput_per_second", slowest > 0 ? 1 / slowest : 0},
          {"latency_ms", latency * 1e3},
          {"wall_seconds", wall_seconds}};
}

void PrintTiming(const json& timing) {
  std::cout << fmt::format("pipeline of {} segments, {} requests\n", timing["segments"].size(),
                           timing["requests"].get<size_t>());
  for (const json& s : timing["segments"]) {
    std::string device = s["device"];
    std::cout << fmt::format(
        "  segment {}  {}  on {}: {} invocations, {:.3f} ms each{}\n", s["segment"].get<size_t>(),
        FileName(s["model"]), device, s["invocations"].get<uint64_t>(),
        s["device_ms_per_invocation"].get<double>(), device.starts_with("sim") ? " (modeled)" : "");
  }
  std::cout << fmt::format(
      "  slowest segment {}: {:.1f} requests/s through the pipeline, {:.3f} ms from first to "
      "last segment\n\n",
      timing["slowest_segment"].get<size_t>(), timing["throughput_per_second"].get<double>(),
      timing["latency_ms"].get<double>());
}

}  // namespace

int RunPipeline(const PipelineRunArgs& args) {
  if (args.segments.empty()) return ReportFailure(InvalidArgumentError("give the segment files"));
  Result<std::string> topology = ReadTopologyFile(args.topology);
  if (!topology.ok()) return ReportFailure(topology.status());
  Result<std::vector<std::string>> devices = PipelineDevices(args, *topology);
  if (!devices.ok()) return ReportFailure(devices.status());
  Labels labels;
  if (!args.labels.empty()) {
    Result<Labels> loaded = Labels::Load(args.labels);
    if (!loaded.ok()) return ReportFailure(loaded.status());
    labels = std::move(loaded).value();
  }
  DeviceOptions options;
  options.sim_topology_json = *topology;
  options.real_time = args.real_time;
  options.cpu_threads = args.threads;
  if (!args.full_model.empty()) options.sim_full_models = {args.full_model};
  Result<std::unique_ptr<PipelineRunner>> runner =
      PipelineRunner::Open(args.segments, *devices, options, {2, 2});
  if (runner.status().code() == StatusCode::kFailedPrecondition) {
    // A segment a simulated device can only time: say why, and time the pipeline.
    std::cerr << "warning: " << runner.status().message() << "\nwarning: running for timing only\n";
    options.allow_timing_only = true;
    runner = PipelineRunner::Open(args.segments, *devices, options, {2, 2});
  }
  if (!runner.ok()) return ReportFailure(runner.status());
  auto start = std::chrono::steady_clock::now();
  Result<Answers> answers = PushAndPop(args, **runner);
  std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
  if (!answers.ok()) return ReportFailure(answers.status());
  PipelineStats stats = (*runner)->stats();
  bool timing_only = std::any_of(stats.segments.begin(), stats.segments.end(),
                                 [](const SegmentStats& s) { return s.timing_only > 0; });
  json timing = Timing(stats, wall.count(), answers->answered);
  if (!args.json) PrintTiming(timing);

  const Model& last = (*runner)->segment((*runner)->segment_count() - 1).model();
  std::optional<Task> task;
  if (!args.task.empty()) {
    Result<Task> named = ParseTask(args.task);
    if (!named.ok()) return ReportFailure(named.status());
    task = *named;
  } else if (Result<Task> inferred = InferTask(last); inferred.ok()) {
    task = *inferred;
  }
  int failures = 0;
  json results = json::array();
  for (const auto& [image, outputs] : answers->first) {
    json entry = {{"input", args.inputs[image]}, {"timing_only", timing_only}};
    std::string text =
        fmt::format("{} ({})\n", FileName(args.inputs[image]), fmt::join(*devices, " -> "));
    if (timing_only) {
      text +=
          "timing only: a simulated device could not compute a segment's outputs (the "
          "warning above says why)\n";
    } else {
      Result<std::string> described =
          DescribeTaskResult(last, outputs, task, labels, args.inputs[image],
                             {args.top, args.threshold, args.output_dir}, entry);
      if (!described.ok()) {
        ++failures;
        entry["error"] = described.status().message();
        std::cerr << "error: " << described.status().message() << "\n";
      } else {
        text += "-------RESULTS--------\n" + described.value();
      }
      if (args.json) entry["outputs"] = RawOutputs(last, outputs);
    }
    if (!args.json && !args.quiet) std::cout << text << "\n";
    results.push_back(entry);
  }
  if (args.json) {
    json report = {{"pipeline", timing}, {"results", results}};
    if (!answers->error.ok()) report["error"] = answers->error.message();
    std::cout << report.dump(2) << "\n";
  }
  if (!answers->error.ok()) {
    std::cerr << "error: " << answers->error.message() << "\n";
    return 1;
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace tpufleet::cli
