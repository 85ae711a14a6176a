#include "sim/pipelining.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "model/split.h"

namespace tpufleet::sim {

Result<PipeliningComparison> ComparePipelining(const Model& model, int segments,
                                               const DeviceConfig& device) {
  if (!(device.time_scale > 0)) {
    return InvalidArgumentError(
        "a device with time_scale 0 takes no time, so there is nothing to compare; give it a "
        "time_scale above 0");
  }
  PipeliningComparison c;
  TPUFLEET_ASSIGN_OR_RETURN(c.whole, Compile(model, device.sram_bytes));
  c.whole_time = EstimateInvocation(c.whole, device, false);
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<ModelSegment> parts,
                            SplitModel(model, segments, model.name()));
  double slowest = 0, latency = 0;
  uint64_t streamed = 0, passed = 0;
  for (const ModelSegment& part : parts) {
    TPUFLEET_ASSIGN_OR_RETURN(EdgeTpuProgram program, Compile(*part.model, device.sram_bytes));
    InvocationTime time = EstimateInvocation(program, device, false);
    slowest = std::max(slowest, time.total());
    latency += time.total();
    streamed += program.streamed_bytes;
    passed += program.input_bytes + program.output_bytes;
    c.segments.push_back(std::move(program));
    c.segment_times.push_back(time);
  }
  passed -=
      c.whole.input_bytes + c.whole.output_bytes;  // sent by one segment, received by the next
  double one = c.whole_time.total();
  c.deployments = {{"one device", 1 / one, one},
                   {fmt::format("{} replicas", segments), segments / one, one},
                   {fmt::format("{}-segment pipeline", segments), 1 / slowest, latency}};
  for (size_t i = 1; i < c.deployments.size(); ++i) {
    if (c.deployments[i].requests_per_second > c.deployments[c.best].requests_per_second) {
      c.best = i;
    }
  }
  if (c.best == PipeliningComparison::kPipeline) {
    c.why = fmt::format(
        "on one device the model streams {} of parameters on every invocation; its segments "
        "stream {} in all, which saves more than the {} sent and received between segments costs",
        FormatBytes(c.whole.streamed_bytes), FormatBytes(streamed), FormatBytes(passed));
  } else {
    c.why = fmt::format(
        "{} of parameters stream on one device and {} in the segments: what pipelining saves "
        "does not pay for the {} sent and received between segments and their overheads, while "
        "each replica runs the whole model at its full rate",
        FormatBytes(c.whole.streamed_bytes), FormatBytes(streamed), FormatBytes(passed));
  }
  return c;
}

}  // namespace tpufleet::sim
