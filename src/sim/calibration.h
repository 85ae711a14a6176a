// The simulator's global constants: one set for every model, fitted once (docs/simulator.md says
// how) to Coral's published inference times. Nothing here is specific to a model.
#pragma once

#include <cstdint>

namespace tpufleet::sim {

// Peak multiply-accumulates per cycle: 4 TOPS int8 at 500 MHz is 2e12 MAC/s.
inline constexpr double kMacsPerCycle = 4000;
inline constexpr double kMaxClockHz = 500e6;  // the "max" runtime
inline constexpr double kStdClockHz = 250e6;  // the "std" runtime, libedgetpu's default

// Fraction of the peak each kind of layer reaches.
inline constexpr double kPointwiseEfficiency = 0.56;   // 1x1 convolutions
inline constexpr double kSpatialEfficiency = 0.30;     // k x k convolutions, k > 1
inline constexpr double kDepthwiseEfficiency = 0.023;  // one filter per channel: the array idles
inline constexpr double kFullyConnectedEfficiency = 0.10;
// Fixed cycles per operator on the Edge TPU (instruction issue, pipeline fill and drain).
inline constexpr double kCyclesPerOperator = 5900;

// Sustained host<->device throughput and fixed cost per invocation of each link.
inline constexpr double kUsb3BytesPerSecond = 420e6;
inline constexpr double kUsb3OverheadSeconds = 0.75e-3;
inline constexpr double kPcieBytesPerSecond = 350e6;
inline constexpr double kPcieOverheadSeconds = 0.72e-3;
inline constexpr double kUsb2BytesPerSecond = 34e6;
inline constexpr double kUsb2OverheadSeconds = 4.1e-3;

// Parameter memory the compiler may use of the 8 MiB SRAM (compilers report 7.62 to 7.88 MiB).
inline constexpr double kUsableSramFraction = 0.955;
// What compiling adds to each output channel's weights (bias, requantization, alignment); fitted to
// the real compiled MobileNets in shared/models (within 2.4%).
inline constexpr uint64_t kCompiledBytesPerChannel = 24;

}  // namespace tpufleet::sim
