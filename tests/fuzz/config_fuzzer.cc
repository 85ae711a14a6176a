// libFuzzer target: arbitrary text as each configuration a user hands tpufleet - a plan file, a
// request trace, a simulated topology, Edge TPU options. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "backends/edgetpu/edgetpu_api.h"
#include "model/zoo/zoo.h"
#include "planner/plan_file.h"
#include "planner/replay.h"
#include "sim/topology.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tpufleet::planner::PlanInputs inputs = [] {
    tpufleet::planner::PlanInputs in;
    tpufleet::zoo::ZooOptions options;
    options.width = 0.25;
    options.resolution = 32;
    auto model = tpufleet::Model::FromBuffer(
                     tpufleet::zoo::BuildZooModel("mobilenet_v1", options).value(), "a.tflite")
                     .value();
    in.models = {{"a.tflite", model, 10}, {"zoo:b", model, 5}};
    return in;
  }();
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: (void)tpufleet::planner::ParsePlanFile(text); break;
    case 1: (void)tpufleet::planner::ParseTrace(text, inputs); break;
    case 2: (void)tpufleet::sim::ParseTopology(text); break;
    default: (void)tpufleet::backends::ParseEdgeTpuOptions(text); break;
  }
  return 0;
}
