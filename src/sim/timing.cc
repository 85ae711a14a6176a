#include "sim/timing.h"

#include "sim/calibration.h"

namespace tpufleet::sim {
namespace {

struct LinkParameters {
  double bytes_per_second;
  double overhead_seconds;
};

LinkParameters ParametersOf(Link link) {
  switch (link) {
    case Link::kUsb3: return {kUsb3BytesPerSecond, kUsb3OverheadSeconds};
    case Link::kUsb2: return {kUsb2BytesPerSecond, kUsb2OverheadSeconds};
    case Link::kPcie: return {kPcieBytesPerSecond, kPcieOverheadSeconds};
  }
  return {kUsb3BytesPerSecond, kUsb3OverheadSeconds};
}

double ComputeCycles(const EdgeTpuProgram& program) {
  if (program.macs.total() == 0 && program.estimated_cycles > 0) {
    return static_cast<double>(program.estimated_cycles);  // only the package is known
  }
  const MacBreakdown& m = program.macs;
  return m.pointwise / (kMacsPerCycle * kPointwiseEfficiency) +
         m.spatial / (kMacsPerCycle * kSpatialEfficiency) +
         m.depthwise / (kMacsPerCycle * kDepthwiseEfficiency) +
         m.fully_connected / (kMacsPerCycle * kFullyConnectedEfficiency) +
         program.tpu_operators * kCyclesPerOperator;
}

}  // namespace

Result<Link> ParseLink(const std::string& text) {
  if (text == "usb3") return Link::kUsb3;
  if (text == "usb2") return Link::kUsb2;
  if (text == "pcie") return Link::kPcie;
  return InvalidArgumentError("unknown link '" + text + "'; use usb3, usb2 or pcie");
}

Result<Clock> ParseClock(const std::string& text) {
  if (text == "max") return Clock::kMax;
  if (text == "std") return Clock::kStd;
  return InvalidArgumentError("unknown clock '" + text + "'; use std (250 MHz) or max (500 MHz)");
}

const char* LinkName(Link link) {
  switch (link) {
    case Link::kUsb3: return "usb3";
    case Link::kUsb2: return "usb2";
    case Link::kPcie: return "pcie";
  }
  return "usb3";
}

const char* ClockName(Clock clock) { return clock == Clock::kMax ? "max" : "std"; }

InvocationTime EstimateInvocation(const EdgeTpuProgram& program, const DeviceConfig& device,
                                  bool reload, double bandwidth_share) {
  LinkParameters link = ParametersOf(device.link);
  double bandwidth = link.bytes_per_second * std::clamp(bandwidth_share, 1e-6, 1.0);
  double clock = device.clock == Clock::kMax ? kMaxClockHz : kStdClockHz;
  double scale = device.time_scale;
  InvocationTime t;
  t.overhead = scale * link.overhead_seconds;
  t.input = scale * program.input_bytes / bandwidth;
  t.output = scale * program.output_bytes / bandwidth;
  t.compute = scale * ComputeCycles(program) / clock;
  t.streaming = scale * program.streamed_bytes / bandwidth;
  t.reload = reload ? scale * program.cached_bytes / bandwidth : 0;
  return t;
}

}  // namespace tpufleet::sim
