// `tpufleet run SEG0 SEG1 ... --pipeline`: a model's segments as a pipeline, each segment on its
// own device (tpufleet/pipeline.h), every image pushed --count times; prints each segment's
// share of the time, which segment limits the throughput, and the results of the first answer of
// each image.
#pragma once

#include <string>
#include <vector>

namespace tpufleet::cli {

struct PipelineRunArgs {
  std::vector<std::string> segments;  // in pipeline order
  std::vector<std::string> inputs;    // image files
  std::string labels;                 // empty: none
  std::string task;                   // the last segment's task; empty: inferred
  std::string output_dir;             // drawings of the results; empty: none
  std::string devices;                // comma-separated, one per segment; empty: the default
  std::string topology;               // the simulated rig's file; empty: the default rig
  std::string full_model;             // the uncompiled model the segments were compiled from
  int top = 5;
  int threads = 1;
  int count = 1;
  float threshold = 0.4f;
  bool json = false;
  bool quiet = false;
  bool real_time = false;
};

// The process exit code: 0 when every request came through, 1 when one failed, 2 for bad
// arguments.
int RunPipeline(const PipelineRunArgs& args);

}  // namespace tpufleet::cli
