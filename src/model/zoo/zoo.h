// The synthetic model zoo: standard architectures built with deterministic pseudo-random weights,
// their structure (parameters, MACs) matching the published networks. docs/zoo.md lists the
// reference figures and their sources.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/zoo/network.h"
#include "tpufleet/status.h"

namespace tpufleet::zoo {

struct ZooOptions {
  double width = 1.0;  // width (depth) multiplier, for architectures that have one
  int resolution = 0;  // input height and width; 0 = the architecture's default
  int classes = 0;     // 0 = the architecture's default
  Precision precision = Precision::kUInt8;
  uint64_t seed = 1;
};

struct ZooArchitecture {
  std::string name;
  std::string description;
  int default_resolution;
  int min_resolution;
  int default_classes;  // 0: the model has no classes (an embedding extractor, a pose model)
  bool has_width;
  // Builds the model; options are complete (defaults applied) and validated.
  std::function<std::vector<uint8_t>(const ZooOptions&)> build;
  int resolution_multiple = 1;  // the resolution must be a multiple of this
};

// Every architecture, in a fixed order.
const std::vector<ZooArchitecture>& Architectures();

// Fills defaults, validates options against the architecture and builds the .tflite bytes.
// Unknown names and out-of-range options give INVALID_ARGUMENT listing what is accepted.
Result<std::vector<uint8_t>> BuildZooModel(const std::string& name, ZooOptions options);

}  // namespace tpufleet::zoo
