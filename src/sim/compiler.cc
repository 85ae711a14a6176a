#include "sim/compiler.h"

#include <fmt/format.h>

#include <limits>
#include <set>

#include "common/text.h"
#include "cpu/quantization.h"
#include "model/op_cost.h"
#include "model/schema.h"
#include "sim/calibration.h"

namespace tpufleet::sim {
namespace {

using Op = tfl::BuiltinOperator;

// Operators the Edge TPU runs (on 8-bit tensors).
const std::set<Op>& EdgeTpuOperators() {
  static const std::set<Op> kOps = {
      Op::ADD,
      Op::AVERAGE_POOL_2D,
      Op::CONCATENATION,
      Op::CONV_2D,
      Op::DEPTHWISE_CONV_2D,
      Op::FULLY_CONNECTED,
      Op::LOGISTIC,
      Op::MAX_POOL_2D,
      Op::MEAN,
      Op::MUL,
      Op::PAD,
      Op::QUANTIZE,
      Op::RELU,
      Op::RELU6,
      Op::RESHAPE,
      Op::RESIZE_BILINEAR,
      Op::RESIZE_NEAREST_NEIGHBOR,
      Op::SOFTMAX,
      Op::SQUEEZE,
      Op::STRIDED_SLICE,
      Op::SUB,
      Op::TANH,
      Op::HARD_SWISH,
      Op::TRANSPOSE,
      Op::SPLIT,
  };
  return kOps;
}

uint64_t TensorBytes(const Model& model, const std::vector<int>& indices) {
  uint64_t bytes = 0;
  for (int i : indices) bytes += model.tensors()[i].byte_size;
  return bytes;
}

// Adds one operator's MACs and compiled parameter bytes. Operands may be missing or oddly
// shaped (the model is only verified, not checked per operator): they count as nothing.
void Account(const Model& model, const OperatorInfo& op, EdgeTpuProgram& program) {
  const TensorInfo* weights = OperandOf(op.inputs, 1, model.tensors());
  uint64_t weight_bytes = weights && weights->is_constant ? weights->element_count : 0;  // 1 each
  auto parameters = [&](uint64_t channels) {
    program.parameter_bytes =
        SaturatingAdd(program.parameter_bytes, weight_bytes + kCompiledBytesPerChannel * channels);
  };
  switch (static_cast<Op>(op.builtin_code)) {
    case Op::CONV_2D: {  // filter [O, KH, KW, I]
      bool pointwise =
          weights && weights->shape.size() == 4 && DimOf(weights, 1) == 1 && DimOf(weights, 2) == 1;
      uint64_t& kind = pointwise ? program.macs.pointwise : program.macs.spatial;
      kind = SaturatingAdd(kind, op.macs);
      parameters(DimOf(weights, 0));
      break;
    }
    case Op::DEPTHWISE_CONV_2D:  // filter [1, KH, KW, O]
      program.macs.depthwise = SaturatingAdd(program.macs.depthwise, op.macs);
      parameters(DimOf(weights, -1));
      break;
    case Op::FULLY_CONNECTED:  // weights [O, I]
      program.macs.fully_connected = SaturatingAdd(program.macs.fully_connected, op.macs);
      parameters(DimOf(weights, 0));
      break;
    default: break;
  }
}

void Split(EdgeTpuProgram& program, uint64_t available) {
  program.cached_bytes = std::min(program.parameter_bytes, available);
  program.streamed_bytes = program.parameter_bytes - program.cached_bytes;
}

// A deterministic stand-in for the compiler's random token: FNV-1a of each member's name, size
// and MACs, so different models (or groups) get different tokens.
uint64_t TokenFor(const std::vector<EdgeTpuProgram>& programs) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const EdgeTpuProgram& p : programs) {
    std::string key = fmt::format("{}\n{}\n{}\n", p.name, p.parameter_bytes, p.macs.total());
    for (char c : key) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  }
  return hash == 0 ? 1 : hash;
}

}  // namespace

uint64_t UsableSram(uint64_t sram_bytes) {
  return static_cast<uint64_t>(sram_bytes * kUsableSramFraction);
}

Result<EdgeTpuProgram> Compile(const Model& model, uint64_t sram_bytes) {
  EdgeTpuProgram program;
  program.name = model.name();
  program.input_bytes = TensorBytes(model, model.input_indices());
  program.output_bytes = TensorBytes(model, model.output_indices());
  if (model.is_edgetpu_compiled()) {
    program.from_package = true;
    for (const EdgeTpuPackage& p : model.edgetpu_packages()) {
      program.cached_bytes += p.cached_bytes();
      program.streamed_bytes += p.streamed_bytes();
      program.caching_token = p.caching_token();
      for (const EdgeTpuExecutable& e : p.executables) {
        // The package's figures are untrusted: saturate rather than overflow.
        if (__builtin_add_overflow(program.estimated_cycles, e.estimated_cycles,
                                   &program.estimated_cycles))
          program.estimated_cycles = std::numeric_limits<int64_t>::max();
      }
    }
    program.parameter_bytes = program.cached_bytes + program.streamed_bytes;
    program.tpu_operators = static_cast<int>(model.edgetpu_packages().size());
    program.cpu_operators = static_cast<int>(model.operators().size()) - program.tpu_operators;
    return program;
  }
  for (const OperatorInfo& op : model.operators()) {
    bool quantized = !op.outputs.empty() && cpu::IsQuantized8(model.tensors()[op.outputs[0]].type);
    bool mappable =
        !op.is_custom && EdgeTpuOperators().count(static_cast<Op>(op.builtin_code)) && quantized;
    if (program.cpu_operators == 0 && mappable) {
      ++program.tpu_operators;
      Account(model, op, program);
    } else {
      if (program.cpu_operators == 0)
        program.first_cpu_operator = fmt::format("#{} {}", op.index, op.name);
      ++program.cpu_operators;
    }
  }
  if (program.tpu_operators == 0) {
    return FailedPreconditionError(
        fmt::format("{}: no operator maps to the Edge TPU (the first, {}, {}); the Edge TPU runs "
                    "8-bit quantized models only",
                    model.name(), program.first_cpu_operator,
                    model.operators().empty() ? "is missing"
                                              : "is not an 8-bit operator the Edge TPU supports"));
  }
  Split(program, UsableSram(sram_bytes));
  program.caching_token = TokenFor({program});
  return program;
}

std::vector<EdgeTpuProgram> CoCompile(std::vector<EdgeTpuProgram> programs, uint64_t sram_bytes) {
  uint64_t token = TokenFor(programs);
  uint64_t available = UsableSram(sram_bytes);
  for (EdgeTpuProgram& p : programs) {
    if (p.from_package) continue;  // already compiled: its split and token are fixed
    Split(p, available);
    available -= p.cached_bytes;
    p.caching_token = token;
  }
  return programs;
}

std::vector<std::string> CompilerReport(const EdgeTpuProgram& program, uint64_t remaining_sram) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("On-chip memory used for caching model parameters: {}",
                              FormatBytes(program.cached_bytes)));
  lines.push_back(fmt::format("On-chip memory remaining for caching model parameters: {}",
                              FormatBytes(remaining_sram)));
  lines.push_back(fmt::format("Off-chip memory used for streaming uncached model parameters: {}",
                              FormatBytes(program.streamed_bytes)));
  if (program.from_package) {  // compiled elsewhere: only the package's sizes are known
    lines.push_back(fmt::format("Operators left on the CPU around the Edge TPU subgraph: {}",
                                program.cpu_operators));
    return lines;
  }
  lines.push_back(
      fmt::format("Number of operations that will run on Edge TPU: {}", program.tpu_operators));
  lines.push_back(fmt::format(
      "Number of operations that will run on CPU: {}{}", program.cpu_operators,
      program.first_cpu_operator.empty() ? "" : " (from " + program.first_cpu_operator + " on)"));
  return lines;
}

}  // namespace tpufleet::sim
