// Helpers shared by the fleet tests: small zoo models, inputs for them, a fleet that must build.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "model/zoo/zoo.h"
#include "tpufleet/fleet.h"

namespace tpufleet::testing {

inline ModelPtr Zoo(const std::string& name, double width, int resolution) {
  zoo::ZooOptions options;
  options.width = width;
  options.resolution = resolution;
  return Model::FromBuffer(zoo::BuildZooModel(name, options).value(),
                           fmt::format("{}_{}_{}", name, width, resolution))
      .value();
}

// Inputs of the right sizes, every byte 9.
inline TensorList Inputs(const Model& model) {
  TensorList inputs;
  for (int i : model.input_indices()) inputs.emplace_back(model.tensors()[i].byte_size, 9);
  return inputs;
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
