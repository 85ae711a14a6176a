// The simulator's view of a model on an Edge TPU, and its stand-in for edgetpu_compiler.
//
// For an uncompiled quantized model it maps operators to the Edge TPU from the first one until
// the first the Edge TPU cannot run (the rest stays on the CPU, as with the real compiler),
// estimates the compiled parameter size, and splits it into cached (on-chip) and streamed bytes.
// For a compiled model the sizes and the caching token come from its Edge TPU package.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/op_cost.h"
#include "tpufleet/model.h"
#include "tpufleet/status.h"

namespace tpufleet::sim {

// Multiply-accumulates on the Edge TPU, by kind of layer (the kinds run at different speeds).
// Sums saturate at the largest uint64_t (a hostile model's operators could wrap them).
struct MacBreakdown {
  uint64_t pointwise = 0;
  uint64_t spatial = 0;
  uint64_t depthwise = 0;
  uint64_t fully_connected = 0;
  uint64_t total() const {
    return SaturatingAdd(SaturatingAdd(pointwise, spatial),
                         SaturatingAdd(depthwise, fully_connected));
  }
};

struct EdgeTpuProgram {
  std::string name;
  bool from_package = false;  // sizes from a compiled file's package
  MacBreakdown macs;          // empty when only the package is known
  int tpu_operators = 0;
  int cpu_operators = 0;
  std::string first_cpu_operator;  // why mapping stopped, when it did
  uint64_t parameter_bytes = 0;
  uint64_t cached_bytes = 0;
  uint64_t streamed_bytes = 0;
  uint64_t caching_token = 0;
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;
  int64_t estimated_cycles = 0;  // the compiler's estimate, when the package has one
};

// Usable parameter memory for `sram_bytes` of SRAM.
uint64_t UsableSram(uint64_t sram_bytes);

// Describes one model for the Edge TPU. Uncompiled models must be 8-bit quantized; float models
// are refused as the real compiler refuses them. The cached/streamed split assumes the model has
// the whole usable SRAM; CoCompile splits it between several.
Result<EdgeTpuProgram> Compile(const Model& model, uint64_t sram_bytes);

// Co-compiles programs in order (first listed first): all share one caching token and the SRAM,
// each keeping as much of its parameters on chip as what the earlier ones left allows; the rest
// streams. Programs from packages keep their sizes and token.
std::vector<EdgeTpuProgram> CoCompile(std::vector<EdgeTpuProgram> programs, uint64_t sram_bytes);

// The lines edgetpu_compiler prints for a model: on-chip memory used and remaining, off-chip
// memory used for streaming, and how many operators run where.
std::vector<std::string> CompilerReport(const EdgeTpuProgram& program, uint64_t remaining_sram);

}  // namespace tpufleet::sim
