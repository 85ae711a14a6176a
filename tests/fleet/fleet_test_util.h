// Helpers shared by the fleet tests: small zoo models, inputs for them, a fleet that must build.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <span>
#include <thread>

#include "support/zoo_models.h"
#include "tpufleet/fleet.h"
#include "tpufleet/interpreter.h"

namespace tpufleet::testing {

// Inputs of the right sizes, every byte 9.
inline TensorList Inputs(const Model& model) {
  TensorList inputs;
  for (int i : model.input_indices()) inputs.emplace_back(model.tensors()[i].byte_size, 9);
  return inputs;
}

// One interpreter per thread, all at once, each invoking `times` times on its own input (in
// place): how many answers (output 0) differ from `want` or failed, per interpreter.
struct ThreadedRun {
  Interpreter* interpreter;
  std::vector<uint8_t> input;
  std::vector<uint8_t> want;
};
inline std::vector<int> MismatchesFromThreads(const std::vector<ThreadedRun>& runs, int times) {
  std::vector<int> wrong(runs.size(), 0);
  std::vector<std::thread> threads;
  for (size_t r = 0; r < runs.size(); ++r) {
    threads.emplace_back([&, r] {
      Interpreter& interpreter = *runs[r].interpreter;
      for (int i = 0; i < times; ++i) {
        std::copy(runs[r].input.begin(), runs[r].input.end(), interpreter.input(0).bytes().begin());
        std::span<const uint8_t> out = interpreter.output(0).bytes();
        if (!interpreter.Invoke().ok() ||
            !std::equal(out.begin(), out.end(), runs[r].want.begin(), runs[r].want.end())) {
          ++wrong[r];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return wrong;
}

// The default rig's two simulated Edge TPUs, named: a fleet's default devices are real ones.
inline FleetOptions TwoSimulatedDevices() {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  return options;
}

inline std::unique_ptr<Fleet> MakeFleet(const FleetOptions& options) {
  Result<std::unique_ptr<Fleet>> fleet = Fleet::Create(options);
  EXPECT_TRUE(fleet.ok()) << fleet.status().ToString();
  return fleet.ok() ? std::move(fleet).value() : nullptr;
}

// Polls `condition` until it holds or 20 s passed; returns whether it held. For state that
// another thread changes (a device rejoining after probes), not for timing.
inline bool Eventually(const std::function<bool()>& condition) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace tpufleet::testing
