// libFuzzer target: arbitrary bytes through the CPU backend - load (verification), then
// Interpreter::Create (every kernel's Prepare and the arena plan), then one Invoke on a
// deterministic input. Models beyond the fuzz budget (fuzz_budget.h) are skipped before they
// run, so each input takes bounded time and memory; everything else must be refused with a
// status or run cleanly under AddressSanitizer and UBSan.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/interpreter.h"
#include "fuzz_budget.h"
#include "tpufleet/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  tpufleet::Result<tpufleet::ModelPtr> model =
      tpufleet::Model::FromBuffer(std::move(bytes), "fuzz");
  if (!model.ok() || !tpufleet::fuzz::WithinMacBudget(*model.value())) return 0;
  tpufleet::cpu::InterpreterOptions options;
  options.max_arena_bytes = tpufleet::fuzz::kMaxArenaBytes;
  auto interpreter = tpufleet::cpu::Interpreter::Create(model.value(), options);
  if (!interpreter.ok()) return 0;
  tpufleet::cpu::Interpreter& run = *interpreter.value();
  for (size_t i = 0; i < run.input_count(); ++i) {
    tpufleet::cpu::Tensor& input = run.input(i);
    for (size_t b = 0; b < input.byte_size(); ++b) input.data[b] = static_cast<uint8_t>(b * 37);
  }
  if (!run.Invoke().ok()) return 0;
  volatile uint8_t sink = 0;
  for (size_t o = 0; o < run.output_count(); ++o) {
    const tpufleet::cpu::Tensor& output = run.output(o);
    for (size_t b = 0; b < output.byte_size(); ++b) sink = sink ^ output.data[b];
  }
  return 0;
}
