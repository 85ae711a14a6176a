// `tpufleet split MODEL --segments N -o DIR`: an uncompiled model cut into N segments for a
// pipeline on the CPU or simulated Edge TPUs, balanced by parameters as edgetpu_compiler
// --num_segments balances them, written as .tflite files.
#include "model/split.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/files.h"
#include "common/text.h"
#include "sim/compiler.h"

namespace tpufleet::cli {
namespace {

struct SplitArgs {
  std::string model;
  int segments = 2;
  std::string output = ".";
  std::string topology;
  bool json = false;
};

uint64_t TensorBytes(const Model& model, const std::vector<int>& indices) {
  uint64_t sum = 0;
  for (int t : indices) sum += model.tensors()[t].byte_size;
  return sum;
}

int Split(const SplitArgs& args) {
  Result<ModelPtr> model = LoadModel(args.model);
  if (!model.ok()) return ReportFailure(model.status());
  Result<std::string> topology = ReadTopologyFile(args.topology);
  Result<std::vector<sim::SimDeviceConfig>> rig =
      topology.ok() ? LoadRig(*topology)
                    : Result<std::vector<sim::SimDeviceConfig>>(topology.status());
  if (!rig.ok()) return ReportFailure(rig.status());
  uint64_t sram = rig->front().hardware.sram_bytes;
  std::string stem = std::filesystem::path(args.model).stem().string();
  if (stem.starts_with("zoo:")) stem = stem.substr(4);
  Result<std::vector<ModelSegment>> segments = SplitModel(**model, args.segments, stem);
  if (!segments.ok()) return ReportFailure(segments.status());
  std::error_code error;
  std::filesystem::create_directories(args.output, error);

  nlohmann::json report = {{"model", args.model}, {"segments", nlohmann::json::array()}};
  if (!args.json) {
    std::cout << fmt::format("{}: {} operators, {} of parameters, in {} segments\n", args.model,
                             (*model)->operators().size(), FormatBytes((*model)->parameter_bytes()),
                             segments->size());
  }
  for (const ModelSegment& s : *segments) {
    std::string path =
        (std::filesystem::path(args.output) / (s.model->name() + ".tflite")).string();
    if (Status written = WriteFile(path, s.model->bytes()); !written.ok()) {
      return ReportFailure(written);
    }
    Result<sim::EdgeTpuProgram> program = sim::Compile(*s.model, sram);
    uint64_t cached = program.ok() ? program->cached_bytes : 0;
    uint64_t streamed = program.ok() ? program->streamed_bytes : 0;
    uint64_t in = TensorBytes(*s.model, s.model->input_indices());
    uint64_t out = TensorBytes(*s.model, s.model->output_indices());
    report["segments"].push_back({{"file", path},
                                  {"operators", {s.first_operator, s.end_operator}},
                                  {"parameter_bytes", s.parameter_bytes},
                                  {"on_chip_bytes", cached},
                                  {"streamed_bytes", streamed},
                                  {"fits_on_chip", program.ok() && streamed == 0},
                                  {"input_bytes", in},
                                  {"output_bytes", out}});
    if (args.json) continue;
    std::cout << fmt::format(
        "  {}: operators {}..{}, parameters {}, {}, in {} out {}\n", path, s.first_operator,
        s.end_operator - 1, FormatBytes(s.parameter_bytes),
        program.ok()
            ? fmt::format("on chip {} streamed {}", FormatBytes(cached), FormatBytes(streamed))
            : fmt::format("not for an Edge TPU ({})", program.status().message()),
        FormatBytes(in), FormatBytes(out));
  }
  if (args.json) std::cout << report.dump(2) << "\n";
  return 0;
}

}  // namespace

void AddSplitCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "split", "Cut an uncompiled model into segments for a pipeline of devices");
  cmd->footer(
      "Cuts the model's operators, in order, into N runs whose largest share of the parameters\n"
      "is as small as it can be (as 'edgetpu_compiler --num_segments N' balances them, so that\n"
      "each segment's parameters fit one Edge TPU's on-chip memory), and writes each as\n"
      "DIR/MODEL_segment_K_of_N.tflite: segment 0 takes the model's inputs, each later one the\n"
      "tensors earlier ones computed, the last gives the model's outputs. Prints, per segment,\n"
      "the parameters a simulated Edge TPU keeps on chip and streams (--topology's first\n"
      "device) and the bytes passed in and out. Run them with 'tpufleet run --pipeline' on\n"
      "simulated Edge TPUs or the CPU.\n\n"
      "Examples:\n"
      "  tpufleet split ssd.tflite --segments 2 -o seg/\n"
      "  tpufleet run seg/ssd_segment_0_of_2.tflite seg/ssd_segment_1_of_2.tflite --pipeline\n"
      "      -i cat.bmp\n"
      "  tpufleet split zoo:inception_v4 --segments 4 -o seg/ --json");
  auto args = std::make_shared<SplitArgs>();
  cmd->add_option("model", args->model, "The uncompiled .tflite model, or zoo:NAME")->required();
  cmd->add_option("-n,--segments", args->segments, "How many segments")
      ->default_val(2)
      ->check(CLI::Range(1, 64));
  cmd->add_option("-o,--output", args->output, "Folder to write the segments to")->default_val(".");
  cmd->add_option("--topology", args->topology, "Simulated rig (JSON): its first device's memory");
  cmd->add_flag("--json", args->json, "Print the segments as JSON");
  cmd->callback([args, &exit_code] { exit_code = Split(*args); });
}

}  // namespace tpufleet::cli
