// `tpufleet zoo NAME [options] -o FILE` and `tpufleet zoo --list`: synthetic standard models.
#include "model/zoo/zoo.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/files.h"
#include "common/text.h"
#include "tpufleet/model.h"

namespace tpufleet::cli {
namespace {

struct ZooArgs {
  std::string name;
  std::string output;
  double width = 1.0;
  int resolution = 0;
  int classes = 0;
  std::string dtype = "uint8";
  uint64_t seed = 1;
  bool list = false;
  bool json = false;
};

// NOLINTNEXTLINE(cert-err58-cpp): allocation failing before main ends the process, as it should
const std::map<std::string, zoo::Precision> kPrecisions = {{"uint8", zoo::Precision::kUInt8},
                                                           {"int8", zoo::Precision::kInt8},
                                                           {"float32", zoo::Precision::kFloat32}};

int List(bool as_json) {
  if (as_json) {
    nlohmann::json list = nlohmann::json::array();
    for (const zoo::ZooArchitecture& a : zoo::Architectures()) {
      list.push_back({{"name", a.name},
                      {"description", a.description},
                      {"default_resolution", a.default_resolution},
                      {"min_resolution", a.min_resolution},
                      {"resolution_multiple", a.resolution_multiple},
                      {"default_classes", a.default_classes},
                      {"has_width", a.has_width}});
    }
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<24} {:>10} {:>8} {:>6}  {}\n", "NAME", "RESOLUTION", "CLASSES",
                           "WIDTH", "DESCRIPTION");
  for (const zoo::ZooArchitecture& a : zoo::Architectures()) {
    std::cout << fmt::format("{:<24} {:>10} {:>8} {:>6}  {}\n", a.name, a.default_resolution,
                             a.default_classes > 0 ? std::to_string(a.default_classes) : "-",
                             a.has_width ? "yes" : "-", a.description);
  }
  return 0;
}

int Build(const ZooArgs& args) {
  if (args.name.empty() || args.output.empty()) {
    std::cerr << "error: give a model name and -o FILE, or --list to see the names\n";
    return 2;
  }
  zoo::ZooOptions options;
  options.width = args.width;
  options.resolution = args.resolution;
  options.classes = args.classes;
  options.precision = kPrecisions.at(args.dtype);
  options.seed = args.seed;
  Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel(args.name, options);
  if (!bytes.ok()) {
    std::cerr << "error: " << bytes.status().message() << "\n";
    return 2;
  }
  // Every zoo model goes through the same verification as a file from elsewhere.
  Result<ModelPtr> model = Model::FromBuffer(bytes.value(), args.output);
  if (!model.ok()) {
    std::cerr << "internal error: the zoo built an invalid model: " << model.status().message()
              << "\n";
    return 1;
  }
  Status written = WriteFile(args.output, bytes.value());
  if (!written.ok()) {
    std::cerr << "error: " << written.message() << "\n";
    return 1;
  }
  const Model& m = *model.value();
  std::cout << fmt::format("wrote {}: {} {}, {} parameters, {} MACs, {} operators, {}\n",
                           args.output, args.name, args.dtype, WithThousands(m.parameter_count()),
                           FormatCount(m.total_macs()), m.operators().size(),
                           FormatBytes(m.bytes().size()));
  return 0;
}

}  // namespace

void AddZooCommand(CLI::App& root, int& exit_code) {
  CLI::App* cmd = root.add_subcommand(
      "zoo", "Write a standard architecture as a .tflite with synthetic weights");
  cmd->footer(
      "Architectures: MobileNet v1/v2/v3 and a MobileNet v1 embedding extractor, Inception\n"
      "v1/v4, ResNet-50, VGG16, SqueezeNet, EfficientNet-EdgeTPU S/M/L and Lite 0-4, SSD\n"
      "MobileNet v1/v2, SSDLite MobileDet, EfficientDet-Lite 0-4, U-Net MobileNet v2, MoveNet\n"
      "Lightning/Thunder (pose, decoded in the graph) and YOLOv5/v8 n/s/m (one output before\n"
      "non-maximum suppression); EfficientDet's, YOLO's, U-Net's and MoveNet's resolutions are\n"
      "multiples of 32. Weights are deterministic pseudo-random numbers: the structure is the\n"
      "published network's, and so are the parameter count and MACs where published\n"
      "(docs/zoo.md); outputs mean nothing.\n"
      "The file is verified by the same loader as any other model.\n\n"
      "Examples:\n"
      "  tpufleet zoo --list\n"
      "  tpufleet zoo mobilenet_v1 --width 0.25 --resolution 128 -o mobilenet_v1_0.25_128.tflite\n"
      "  tpufleet zoo resnet50_v1 --dtype int8 -o resnet50_int8.tflite");
  auto args = std::make_shared<ZooArgs>();
  cmd->add_option("name", args->name, "Architecture name (see --list)");
  cmd->add_option("-o,--output", args->output, "Where to write the .tflite file");
  cmd->add_flag("--list", args->list, "List the architectures and their defaults");
  cmd->add_flag("--json", args->json, "With --list: print JSON");
  cmd->add_option("--width", args->width, "Width multiplier (MobileNets, SSD and U-Net only)")
      ->default_val(1.0);
  cmd->add_option("--resolution", args->resolution,
                  "Input height and width (default: the architecture's)");
  cmd->add_option("--classes", args->classes, "Number of classes (default: the architecture's)");
  cmd->add_option("--dtype", args->dtype,
                  "uint8 (per-tensor), int8 (per-channel weights) or float32")
      ->check(CLI::IsMember({"uint8", "int8", "float32"}))
      ->default_val("uint8");
  cmd->add_option("--seed", args->seed, "Seed of the synthetic weights")->default_val(1);
  cmd->callback([args, &exit_code] { exit_code = args->list ? List(args->json) : Build(*args); });
}

}  // namespace tpufleet::cli
