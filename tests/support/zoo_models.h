// Zoo models for tests, built in memory and loaded.
#pragma once

#include <fmt/format.h>

#include <string>

#include "model/zoo/zoo.h"
#include "tpufleet/model.h"

namespace tpufleet::testing {

// The zoo architecture `name` with `options`, loaded; named "<name>_<width>_<resolution>".
inline ModelPtr Zoo(const std::string& name, zoo::ZooOptions options = {}) {
  return Model::FromBuffer(zoo::BuildZooModel(name, options).value(),
                           fmt::format("{}_{}_{}", name, options.width, options.resolution))
      .value();
}

// The same at a width multiplier and input resolution (0: the architecture's own).
inline ModelPtr Zoo(const std::string& name, double width, int resolution = 0) {
  zoo::ZooOptions options;
  options.width = width;
  options.resolution = resolution;
  return Zoo(name, options);
}

}  // namespace tpufleet::testing
