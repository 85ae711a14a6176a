// The C++ anchor of bench/python_invoke_overhead.py: the median time of one Interpreter::Invoke()
// of a model on a zero-time simulated device (virtual time, timing only: the device neither
// waits nor computes), so what is measured is the runtime's own cost per call.
//
//   build/bench/invoke_overhead MODEL [--calls N]
// prints one line: "cpp_invoke_us <median microseconds per call>".
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "median_time.h"
#include "tpufleet/interpreter.h"

int main(int argc, char** argv) {
  CLI::App app{"Median time of one Invoke() on a zero-time simulated device"};
  std::string model;
  int calls = 1000;
  app.add_option("model", model, "a .tflite file")->required();
  app.add_option("--calls", calls, "Invoke() calls per timed run");
  CLI11_PARSE(app, argc, argv);

  tpufleet::InterpreterOptions options;
  options.real_time = false;
  options.sim_outputs = false;
  auto interpreter = tpufleet::MakeInterpreter(model, "sim:0", options);
  if (!interpreter.ok()) {
    fmt::print(stderr, "{}\n", interpreter.status().ToString());
    return EXIT_FAILURE;
  }
  tpufleet::Interpreter& run = **interpreter;
  const double ms = tpufleet::bench::MedianMs(
      [&] {
        for (int i = 0; i < calls; ++i) {
          if (!run.Invoke().ok()) return false;
        }
        return true;
      },
      2.0);
  if (ms < 0) {
    fmt::print(stderr, "Invoke failed: {}\n", run.Invoke().ToString());
    return EXIT_FAILURE;
  }
  fmt::print("cpp_invoke_us {:.3f}\n", ms * 1000.0 / calls);
  return EXIT_SUCCESS;
}
