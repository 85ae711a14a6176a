// The simulator's timing model: how long one invocation of a program takes on a simulated Edge
// TPU, from the program's structure and the device's link, clock and SRAM. See
// docs/simulator.md for the model and how its constants were fitted.
#pragma once

#include <algorithm>
#include <string>

#include "sim/compiler.h"
#include "tpufleet/status.h"

namespace tpufleet::sim {

enum class Link { kUsb3, kUsb2, kPcie };
enum class Clock { kStd, kMax };

Result<Link> ParseLink(const std::string& text);    // "usb3", "usb2", "pcie"
Result<Clock> ParseClock(const std::string& text);  // "std", "max"
const char* LinkName(Link link);
const char* ClockName(Clock clock);

// An Edge TPU's on-chip memory for parameters, as Coral's devices have it.
inline constexpr uint64_t kEdgeTpuSramBytes = uint64_t{8} << 20;

struct DeviceConfig {
  Link link = Link::kUsb3;
  Clock clock = Clock::kMax;
  uint64_t sram_bytes = kEdgeTpuSramBytes;
  int bus = 0;  // devices on one bus share its bandwidth
  // Multiplies every modeled time: 0.5 models a device twice as fast, 0 one that takes no time at
  // all (what is left is the host's own cost, which is what a zero-time rig measures).
  double time_scale = 1;
};

// One invocation's time, split by cause. Parameter streaming overlaps computation (the device
// fetches the next layer's weights while it computes), so `busy` counts the larger of the two.
struct InvocationTime {
  double overhead = 0;   // fixed per-invocation cost of the link and runtime
  double input = 0;      // sending the input tensors
  double output = 0;     // receiving the output tensors
  double compute = 0;    // the MACs (or the package's estimated cycles) at the clock
  double streaming = 0;  // streamed parameters over the link
  double reload = 0;     // cached parameters sent again because another token was resident
  double busy() const { return std::max(compute, streaming); }
  double total() const { return overhead + input + output + busy() + reload; }
};

// Whether `program`'s cached parameters must cross the link before it runs on a device whose
// resident caching token is `resident_token` (0: nothing resident). Token 0 (old stand-alone
// packages) is never kept, so such a program reloads every time.
inline bool NeedsReload(const EdgeTpuProgram& program, uint64_t resident_token) {
  return program.cached_bytes > 0 &&
         (resident_token == 0 || resident_token != program.caching_token);
}

// The share of a bus's bandwidth a transfer gets while `other_transfers` others use the bus.
inline double BusShare(int other_transfers) { return 1.0 / (1 + other_transfers); }

// `reload`: the device's cached token differs from the program's (or is 0), so the program's
// cached parameters cross the link before it runs. `bandwidth_share` in (0, 1] is the share of
// the link's bandwidth this device gets while others on its bus transfer.
InvocationTime EstimateInvocation(const EdgeTpuProgram& program, const DeviceConfig& device,
                                  bool reload, double bandwidth_share = 1.0);

}  // namespace tpufleet::sim
