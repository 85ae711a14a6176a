// `tpufleet run MODEL[@DEVICE]... --input IMAGE... [options]`: every model on every image, on a
// fleet (the CPU, simulated Edge TPUs), results printed as Coral's examples print them.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "backends/edgetpu/edgetpu_api.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/metrics_table.h"
#include "cli/outputs.h"
#include "cli/progress.h"
#include "cli/run_pipeline.h"
#include "cli/task_output.h"
#include "common/image.h"
#include "common/labels.h"
#include "cpu/interpreter.h"
#include "devices/selector.h"
#include "planner/plan_file.h"
#include "sim/sim_device.h"
#include "tpufleet/fleet.h"
#include "tpufleet/interpreter.h"

namespace tpufleet::cli {
namespace {

using nlohmann::json;

struct RunArgs {
  std::vector<std::string> models;  // "model.tflite" or "model.tflite@sim:1"
  std::vector<std::string> inputs;
  std::vector<std::string> labels;  // one for every model, or one per model
  std::vector<std::string> tasks;   // likewise; none: inferred
  std::string output_dir;           // drawings of the results; empty: none
  std::string devices;              // comma-separated; empty: DefaultDevices
  std::string topology;
  std::string metrics;  // "", "table", "json" or "prometheus"
  std::string plan;     // a plan file from `tpufleet plan -o`
  int top = 5;
  int threads = 1;
  int count = 1;
  float threshold = 0.4f;
  bool json = false;
  bool profile = false;
  bool strict = false;
  bool real_time = false;
  bool quiet = false;
  std::vector<std::string> edgetpu_options;  // NAME=VALUE
  bool isolate = false;
  bool pipeline = false;   // the models are the segments of one model (run_pipeline.h)
  std::string full_model;  // with --pipeline: the model the segments were compiled from
};

// --pipeline: the models are segments; the options that mean something for a pipeline pass on.
int RunAsPipeline(const RunArgs& args) {
  if (!args.plan.empty() || args.labels.size() > 1 || args.tasks.size() > 1) {
    return ReportFailure(
        InvalidArgumentError("--pipeline runs one model's segments: give at most one --labels "
                             "file and one --task, and no --plan"));
  }
  return RunPipeline({args.models, args.inputs, args.labels.empty() ? "" : args.labels[0],
                      args.tasks.empty() ? "" : args.tasks[0], args.output_dir, args.devices,
                      args.topology, args.full_model, args.top, args.threads, args.count,
                      args.threshold, args.json, args.quiet, args.real_time});
}

struct Placed {
  ModelPtr model;
  std::string selector;  // after '@'; empty: automatic placement
  Labels labels;
  std::optional<Task> task;  // none: not inferred from the outputs
  int id = 0;
};

// Time per operator type of one CPU invocation, largest first.
void PrintProfile(const cpu::Profile& profile) {
  std::map<std::string, std::pair<double, int>> by_op;
  for (const cpu::Profile::Node& n : profile.nodes) {
    auto& [seconds, count] = by_op[n.op + (n.in_xnnpack ? " (XNNPACK)" : "")];
    seconds += n.seconds;
    ++count;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_op.begin(), by_op.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  for (const auto& [op, entry] : rows) {
    std::cout << fmt::format("{:<36} x{:<4} {:8.3f} ms {:5.1f}%\n", op, entry.second,
                             entry.first * 1e3, 100 * entry.first / profile.total_seconds);
  }
  std::cout << fmt::format("{:<42} {:8.3f} ms, {:.1f}% outside XNNPACK\n", "total",
                           profile.total_seconds * 1e3,
                           100 * (1 - profile.xnnpack_seconds() / profile.total_seconds));
}

// One CPU invocation of `model` on `image`, timed per operator.
Status Profile(const Placed& placed, const std::string& image, int threads) {
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<cpu::Interpreter> interpreter,
                            cpu::Interpreter::Create(placed.model, {threads}));
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> pixels, ImageFileTensor(image, *placed.model));
  std::copy(pixels.begin(), pixels.end(), interpreter->input(0).data);
  cpu::Profile profile;
  TPUFLEET_RETURN_IF_ERROR(interpreter->Invoke(profile));
  std::cout << fmt::format("-------PROFILE-------- {} on the CPU, {} thread{}\n",
                           placed.model->name(), threads, threads == 1 ? "" : "s");
  PrintProfile(profile);
  return OkStatus();
}

// When a model needs an Edge TPU or names one: every real Edge TPU, else every simulated one
// of the rig. The CPU when no Edge TPU is chosen or a model names it.
Result<std::vector<std::string>> DefaultDevices(const std::vector<Placed>& placed,
                                                const std::string& topology) {
  bool edgetpus = false, sims = false, cpu = false;
  for (const Placed& p : placed) {
    edgetpus = edgetpus || p.model->is_edgetpu_compiled() || p.selector.starts_with("usb") ||
               p.selector.starts_with("pci") || p.selector.starts_with(":") ||
               p.selector.starts_with("#");
    sims = sims || p.selector.starts_with("sim");
    cpu = cpu || p.selector == "cpu";
  }
  std::vector<std::string> devices;
  if (edgetpus) {
    for (const DeviceInfo& d : ListDevices().devices) devices.push_back(StableDeviceString(d));
  }
  sims = sims || (edgetpus && devices.empty());
  if (sims) {
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<sim::SimDeviceConfig> rig, LoadRig(topology));
    for (size_t i = 0; i < rig.size(); ++i) devices.push_back(fmt::format("sim:{}", i));
  }
  if (cpu || devices.empty()) devices.push_back("cpu");
  return devices;
}

// Models as written ("a.tflite", "a.tflite@sim:1", "zoo:NAME"), with their labels and tasks.
Result<std::vector<Placed>> LoadModels(const std::vector<std::string>& specs,
                                       const std::vector<std::string>& labels,
                                       const std::vector<std::string>& tasks) {
  if (labels.size() > 1 && labels.size() != specs.size()) {
    return InvalidArgumentError(
        fmt::format("{} label files for {} models: give one for all, or one per model in order",
                    labels.size(), specs.size()));
  }
  std::vector<Placed> placed;
  for (size_t i = 0; i < specs.size(); ++i) {
    TPUFLEET_ASSIGN_OR_RETURN(ModelSpec spec, ParseModelSpec(specs[i]));
    Placed p;
    TPUFLEET_ASSIGN_OR_RETURN(p.model, LoadModel(spec.model));
    p.selector = spec.device;
    if (!labels.empty()) {
      TPUFLEET_ASSIGN_OR_RETURN(p.labels, Labels::Load(labels[labels.size() == 1 ? 0 : i]));
    }
    placed.push_back(std::move(p));
  }
  std::vector<ModelPtr> models;
  for (const Placed& p : placed) models.push_back(p.model);
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<std::optional<Task>> chosen, ChooseTasks(models, tasks));
  for (size_t i = 0; i < placed.size(); ++i) placed[i].task = chosen[i];
  return placed;
}

// Each model on the device it names, or placed automatically.
Status Place(std::vector<Placed>& placed, Fleet& fleet) {
  for (Placed& p : placed) {
    TPUFLEET_ASSIGN_OR_RETURN(
        p.id, p.selector.empty() ? fleet.AddModel(p.model) : fleet.AddModel(p.model, {p.selector}));
  }
  return OkStatus();
}

// The plan's units on its devices: co-compiled units through AddCoCompiled, in their order.
Status PlaceFromPlan(const planner::PlanFile& plan, std::vector<Placed>& placed, Fleet& fleet) {
  for (const planner::PlanFile::Unit& unit : plan.units) {
    std::vector<size_t> members;
    for (const std::string& name : unit.models) {
      auto it = std::find_if(plan.models.begin(), plan.models.end(),
                             [&](const auto& m) { return m.first == name; });
      members.push_back(static_cast<size_t>(it - plan.models.begin()));
    }
    if (members.size() == 1) {
      TPUFLEET_ASSIGN_OR_RETURN(placed[members[0]].id,
                                fleet.AddModel(placed[members[0]].model, unit.devices));
      continue;
    }
    std::vector<ModelPtr> models;
    for (size_t m : members) models.push_back(placed[m].model);
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<int> ids, fleet.AddCoCompiled(models, unit.devices));
    for (size_t k = 0; k < members.size(); ++k) placed[members[k]].id = ids[k];
  }
  return OkStatus();
}

// The plan file --plan names, checked against the other arguments; none without --plan.
Result<std::optional<planner::PlanFile>> ReadPlan(const RunArgs& args) {
  if (args.plan.empty()) {
    if (args.models.empty()) return InvalidArgumentError("give models to run, or --plan FILE");
    return std::optional<planner::PlanFile>();
  }
  if (!args.models.empty() || !args.devices.empty() || !args.topology.empty()) {
    return InvalidArgumentError(
        "--plan gives the models, devices and topology; leave out models, --devices and "
        "--topology");
  }
  Result<std::string> text = ReadTextFile(args.plan, "the plan");
  Result<planner::PlanFile> parsed =
      text.ok() ? planner::ParsePlanFile(text.value()) : Result<planner::PlanFile>(text.status());
  if (!parsed.ok()) return parsed.status().WithContext(args.plan);
  return std::optional<planner::PlanFile>(std::move(parsed).value());
}

// The fleet the arguments (or the plan) describe, for `total` requests submitted at once.
Result<FleetOptions> RunFleetOptions(const RunArgs& args,
                                     const std::optional<planner::PlanFile>& plan,
                                     const std::vector<Placed>& placed, size_t total) {
  FleetOptions options;
  if (plan) {
    options.sim_topology_json = plan->topology_json;
  } else {
    TPUFLEET_ASSIGN_OR_RETURN(options.sim_topology_json, ReadTopologyFile(args.topology));
  }
  options.devices = plan ? plan->devices : SplitCommas(args.devices);
  if (options.devices.empty()) {
    TPUFLEET_ASSIGN_OR_RETURN(options.devices, DefaultDevices(placed, options.sim_topology_json));
  }
  options.queue_capacity = std::max<size_t>(options.queue_capacity, total);  // no back-pressure
  options.real_time = args.real_time;
  options.strict = args.strict;
  options.cpu_threads = args.threads;
  options.isolate = args.isolate;
  options.allow_timing_only = true;  // answers say so, and the command prints it
  for (const std::string& option : args.edgetpu_options) {
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<backends::EdgeTpuOption> parsed,
                              backends::ParseEdgeTpuOptions(option));
    options.edgetpu_options.insert(options.edgetpu_options.end(), parsed.begin(), parsed.end());
  }
  return options;
}

// The first answer of each (model, image) pair, the one shown.
using ShownAnswers = std::map<std::pair<size_t, size_t>, Result<InferenceResult>>;

// Every repetition of every model on every image, submitted at once (the fleet's preparation
// threads decode and resize while the devices run), then awaited. `failures` counts the
// answers that failed.
ShownAnswers SubmitAndAwait(const RunArgs& args, const std::vector<Placed>& placed, Fleet& fleet,
                            size_t total, int& failures) {
  struct Job {
    size_t model, input;
    std::future<Result<InferenceResult>> answer;
  };
  std::vector<Job> jobs;
  for (int r = 0; r < args.count; ++r) {
    for (size_t m = 0; m < placed.size(); ++m) {
      for (size_t i = 0; i < args.inputs.size(); ++i) {
        jobs.push_back({m, i, fleet.SubmitImage(placed[m].id, args.inputs[i])});
      }
    }
  }
  Progress progress(static_cast<int>(total), !args.json && total >= 100);
  ShownAnswers shown;
  failures = 0;
  for (Job& job : jobs) {
    Result<InferenceResult> answer = job.answer.get();
    failures += answer.ok() ? 0 : 1;
    shown.try_emplace({job.model, job.input}, std::move(answer));
    progress.Step("running");
  }
  return shown;
}

// Prints each shown answer as its task's result (unless --json or --quiet), drawn with
// --output; returns them as JSON entries. Answers whose outputs are not their task's count in
// `failures`.
json PrintAnswers(const RunArgs& args, const std::vector<Placed>& placed, const ShownAnswers& shown,
                  int& failures) {
  json results = json::array();
  for (const auto& [key, answer] : shown) {
    const Placed& p = placed[key.first];
    std::string image = args.inputs[key.second];
    json entry = {{"model", p.model->name()}, {"input", image}};
    const std::string name =
        fmt::format("{}, {}", std::filesystem::path(p.model->name()).filename().string(),
                    std::filesystem::path(image).filename().string());
    std::string text = name;
    if (!answer.ok()) {
      entry["error"] = answer.status().message();
      std::cerr << fmt::format("error: {}: {}\n", name, answer.status().message());
      results.push_back(entry);
      continue;
    }
    entry["device"] = answer->device;
    entry["device_ms"] = answer->device_seconds * 1e3;
    entry["attempts"] = answer->attempts;
    entry["timing_only"] = answer->timing_only;
    text += fmt::format(" ({}, {:.2f} ms{})\n", answer->device, answer->device_seconds * 1e3,
                        answer->device.starts_with("sim") ? " modeled" : "");
    if (answer->timing_only) {
      text +=
          "timing only: the simulator has no uncompiled twin of this model to compute outputs\n";
    } else {
      Result<std::string> described =
          DescribeTaskResult(*p.model, answer->outputs, p.task, p.labels, image,
                             {args.top, args.threshold, args.output_dir}, entry);
      if (!described.ok()) {
        ++failures;
        entry["error"] = described.status().message();
        std::cerr << fmt::format("error: {}: {}\n", name, described.status().message());
        results.push_back(entry);
        continue;
      }
      text += "-------RESULTS--------\n" + described.value();
      if (args.json) entry["outputs"] = RawOutputs(*p.model, answer->outputs);
    }
    if (!args.json && !args.quiet) std::cout << text << "\n";
    results.push_back(entry);
  }
  return results;
}

// The results as JSON with the metrics (--json), or the metrics as --metrics asks; then the
// profiles --profile asks for.
void PrintReport(const RunArgs& args, const std::vector<Placed>& placed, const json& results,
                 const FleetMetrics& metrics) {
  if (args.json) {
    std::cout << json{{"results", results}, {"metrics", json::parse(MetricsJson(metrics))}}.dump(2)
              << "\n";
  } else if (args.metrics == "table") {
    std::cout << MetricsTable(metrics);
  } else if (args.metrics == "json") {
    std::cout << MetricsJson(metrics) << "\n";
  } else if (args.metrics == "prometheus") {
    std::cout << MetricsPrometheus(metrics);
  }
  if (!args.profile || args.json) return;
  for (const Placed& p : placed) {
    // A model the CPU cannot run (compiled for the Edge TPU, say) has no profile; that is said,
    // and does not fail the run.
    if (Status s = Profile(p, args.inputs[0], args.threads); !s.ok()) {
      std::cout << fmt::format("-------PROFILE-------- {}: none ({})\n", p.model->name(),
                               s.message());
    }
  }
}

int Run(const RunArgs& args) {
  if (args.pipeline) return RunAsPipeline(args);
  Result<std::optional<planner::PlanFile>> read_plan = ReadPlan(args);
  if (!read_plan.ok()) return ReportFailure(read_plan.status());
  const std::optional<planner::PlanFile>& plan = read_plan.value();
  std::vector<std::string> specs = args.models;
  if (plan) {
    specs.clear();
    for (const auto& [name, rate] : plan->models) specs.push_back(name);
  }
  Result<std::vector<Placed>> loaded = LoadModels(specs, args.labels, args.tasks);
  if (!loaded.ok()) return ReportFailure(loaded.status());
  std::vector<Placed>& placed = loaded.value();
  const size_t total = static_cast<size_t>(args.count) * placed.size() * args.inputs.size();
  Result<FleetOptions> options = RunFleetOptions(args, plan, placed, total);
  if (!options.ok()) return ReportFailure(options.status());
  Result<std::unique_ptr<Fleet>> created = Fleet::Create(options.value());
  if (!created.ok()) return ReportFailure(created.status());
  Fleet& fleet = *created.value();
  Status added = plan ? PlaceFromPlan(*plan, placed, fleet) : Place(placed, fleet);
  if (!added.ok()) return ReportFailure(added);
  int failures = 0;
  ShownAnswers shown = SubmitAndAwait(args, placed, fleet, total, failures);
  PrintReport(args, placed, PrintAnswers(args, placed, shown, failures), fleet.Metrics());
  return failures == 0 ? 0 : 1;
}

}  // namespace

void AddRunCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "run", "Run models on images on the CPU or simulated Edge TPUs and print what they found");
  cmd->footer(
      "Every model runs on every image (--count times), all submitted at once to a fleet: one\n"
      "worker per device, images decoded and resized on their own threads, models placed as\n"
      "Coral's old API placed them (each on its own device, then shared) unless a model names\n"
      "its device (model.tflite@sim:1). For the first answer of each model and image it prints\n"
      "the result of the model's task, inferred from its outputs or named with --task:\n"
      "  classification  the top classes, with labels\n"
      "  detection       boxes in image pixels (SSD TF1 and TF2, EfficientDet-Lite)\n"
      "  segmentation    the classes of the per-pixel map and the share of each\n"
      "  pose            keypoints with scores in image pixels (PoseNet, BodyPix, MoveNet)\n"
      "  embedding       the vector and its norm\n"
      "--output DIR draws them: a segmentation's mask (class ids as grey levels) and overlay,\n"
      "detection boxes, pose keypoints, as PNG files named IMAGE.MODEL.KIND.png.\n\n"
      "Devices default, when a model is compiled for the Edge TPU, to every Edge TPU on the\n"
      "machine (through libedgetpu and TensorFlow Lite's C library; 'tpufleet devices' says if\n"
      "they load), else to every simulated Edge TPU of the rig (--topology, else two USB 3\n"
      "sticks); otherwise to the CPU. Simulated devices compute real outputs with the uncompiled\n"
      "model (for a compiled file, the uncompiled twin beside it) and report modeled time;\n"
      "without the twin a compiled model runs for its timing only, and the output says so.\n\n"
      "Images are prepared as Coral's examples prepare them: quantized inputs take\n"
      "(p - 128) / (128 * scale) + zero_point (the pixels themselves for the usual scale 1/128\n"
      "and zero point 128), float32 inputs (p - 127.5) / 127.5. --json prints results with raw\n"
      "output tensors, and the metrics (docs/cli.md has the format).\n\n"
      "With --pipeline the models are the segments of one model, in order (as\n"
      "'edgetpu_compiler --num_segments N' writes them), run as a pipeline: each segment on its\n"
      "own device (--devices names one per segment; by default real Edge TPUs when there are\n"
      "enough, else the simulated rig's), every image pushed --count times. Prints each\n"
      "segment's time, the slowest one (it sets the throughput) and the results. A simulated\n"
      "device computes a compiled segment from the full uncompiled model, the part between the\n"
      "segment's inputs and outputs (matched by name): --full-model, else X.tflite or X*.tflite\n"
      "beside X_segment_K_of_N_edgetpu.tflite or in its parent folder.\n\n"
      "Examples:\n"
      "  tpufleet run mobilenet_v2_1.0_224_quant.tflite -i cat.bmp -l imagenet_labels.txt\n"
      "  tpufleet run mobilenet_v2_1.0_224_quant_edgetpu.tflite ssd.tflite@sim:1 -i cat.bmp\n"
      "      -i kite.jpg --count 100 --metrics table\n"
      "  tpufleet run deeplabv3.tflite -i bird.bmp -l pascal_voc_labels.txt --output drawn\n"
      "  tpufleet run posenet_decoder.tflite -i people.bmp --json\n"
      "  tpufleet run model.tflite -i cat.bmp --devices cpu --threads 2 --profile\n"
      "  tpufleet run a.tflite b.tflite -i cat.bmp --count 1000 --metrics prometheus --quiet\n"
      "  tpufleet run ssd_segment_0_of_2_edgetpu.tflite ssd_segment_1_of_2_edgetpu.tflite\n"
      "      --pipeline --devices sim:0,sim:1 -i cat.bmp -l coco_labels.txt --count 100");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("models", args->models,
                  "Model files or zoo:NAME, each optionally @DEVICE (model@sim:1)");
  cmd->add_option("--plan", args->plan,
                  "Start from a plan written by 'tpufleet plan -o' (models, devices, placement)");
  cmd->add_option("-i,--input", args->inputs, "Image files (BMP, JPEG or PNG); repeatable")
      ->required();
  cmd->add_option("-l,--labels", args->labels,
                  "Labels file (one per line, or '<id> <label>'): one for all, or one per model");
  cmd->add_option("--devices", args->devices,
                  "Devices, comma-separated: sim:N, cpu (default: see below)");
  cmd->add_option("--topology", args->topology, "Simulated rig (JSON, see docs/simulator.md)");
  cmd->add_option("--task", args->tasks,
                  "classification, detection, segmentation, pose or embedding: one for all, or "
                  "one per model (default: inferred from each model's outputs)")
      ->type_name("TASK");
  cmd->add_option("-o,--output", args->output_dir,
                  "Folder for PNG drawings of the results (masks and overlays, boxes, keypoints)")
      ->type_name("DIR");
  cmd->add_option("-k,--top", args->top, "How many classes, detections or poses to print")
      ->default_val(5)
      ->check(CLI::Range(1, 100000));
  cmd->add_option("-t,--threads", args->threads, "Threads of the CPU device")
      ->default_val(1)
      ->check(CLI::Range(1, 256));
  cmd->add_option("-c,--count", args->count, "How many times to run each model on each image")
      ->default_val(1)
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--threshold", args->threshold, "Minimum score of a detection or a pose")
      ->default_val(0.4f);
  cmd->add_option("--metrics", args->metrics,
                  "Print per-device and per-model metrics: table, json or prometheus")
      ->check(CLI::IsMember({"table", "json", "prometheus"}));
  cmd->add_option("--edgetpu-option", args->edgetpu_options,
                  "Edge TPU delegate option NAME=VALUE: Performance=Low|Medium|High|Max, "
                  "Usb.AlwaysDfu=True|False, Usb.MaxBulkInQueueLength=0..256 (repeatable)");
  cmd->add_flag("--isolate", args->isolate,
                "Run each real Edge TPU in a child process: an abort or hang in libedgetpu then "
                "takes down only that device, whose requests fail over");
  cmd->add_flag("--strict", args->strict,
                "More models without a device than devices is an error (Coral's old API)");
  cmd->add_flag("--real-time", args->real_time,
                "Simulated devices take their modeled time for real (default: virtual time)");
  cmd->add_flag("--pipeline", args->pipeline,
                "The models are one model's segments, in order: run them as a pipeline, one "
                "device per segment");
  cmd->add_option("--full-model", args->full_model,
                  "With --pipeline: the uncompiled model the segments were compiled from (default: "
                  "found beside them)");
  cmd->add_flag("--json", args->json, "Print JSON: results with raw outputs, and metrics");
  cmd->add_flag("-q,--quiet", args->quiet, "Do not print results (metrics only)");
  cmd->add_flag("--profile", args->profile,
                "Also time each model's operators in one CPU run on the first image");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace tpufleet::cli
