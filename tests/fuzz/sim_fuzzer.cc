// libFuzzer target: arbitrary bytes through the simulator - load, then the compiler stand-in
// (alone and co-compiled with itself), its report, and the timing model on every link. These
// run on every model added to a fleet, so any verified model must be handled.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/compiler.h"
#include "sim/timing.h"
#include "tpufleet/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  tpufleet::Result<tpufleet::ModelPtr> model =
      tpufleet::Model::FromBuffer(std::move(bytes), "fuzz");
  if (!model.ok()) return 0;
  constexpr uint64_t kSram = 8 << 20;
  tpufleet::Result<tpufleet::sim::EdgeTpuProgram> program =
      tpufleet::sim::Compile(*model.value(), kSram);
  if (!program.ok()) return 0;
  std::vector<tpufleet::sim::EdgeTpuProgram> group =
      tpufleet::sim::CoCompile({program.value(), program.value()}, kSram);
  volatile double sink = 0;
  for (const std::string& line : tpufleet::sim::CompilerReport(group[0], 0))
    sink = sink + line.size();
  for (tpufleet::sim::Link link :
       {tpufleet::sim::Link::kUsb3, tpufleet::sim::Link::kUsb2, tpufleet::sim::Link::kPcie}) {
    tpufleet::sim::DeviceConfig device;
    device.link = link;
    for (bool reload : {false, true}) {
      sink = sink + tpufleet::sim::EstimateInvocation(group[1], device, reload, 0.5).total();
    }
  }
  return 0;
}
