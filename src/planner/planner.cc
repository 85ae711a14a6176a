#include "planner/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <tuple>

namespace tpufleet::planner {
namespace {

struct Scored {
  Placement placement;
  Prediction prediction;
  std::tuple<int, double, double, int> key;  // lower is better
};

Scored Score(const CostModel& cost, const PlannerOptions& options, Placement placement) {
  Prediction prediction = cost.Predict(placement);
  const PlanInputs& inputs = cost.inputs();
  int misses = 0;
  double weighted = 0, total_rate = 0;
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    double latency = prediction.latency_ms[m];
    if (!std::isfinite(latency) ||
        (options.latency_target_ms > 0 && latency > options.latency_target_ms)) {
      ++misses;
    }
    weighted += inputs.models[m].rate * std::min(latency, 1e12);
    total_rate += inputs.models[m].rate;
  }
  int assignments = 0;
  for (const PlanUnit& u : placement.units) assignments += static_cast<int>(u.devices.size());
  // Utilization is compared at a resolution that ignores rounding noise.
  double utilization = std::round(prediction.max_utilization * 1e9) / 1e9;
  return {std::move(placement),
          std::move(prediction),
          {misses, utilization, weighted / total_rate, assignments}};
}

bool HasDevice(const std::vector<int>& devices, int d) {
  return std::find(devices.begin(), devices.end(), d) != devices.end();
}

// Moves of unit `u`'s replicas: drop one (if it keeps one), add one, or move one to another
// device.
void ReplicaMoves(const Placement& p, size_t u, int devices, std::vector<Placement>& out) {
  const PlanUnit& unit = p.units[u];
  for (int d = 0; d < devices; ++d) {
    if (HasDevice(unit.devices, d)) {
      if (unit.devices.size() > 1) {  // drop a replica
        Placement n = p;
        std::erase(n.units[u].devices, d);
        out.push_back(std::move(n));
      }
      continue;
    }
    Placement replicate = p;  // add a replica
    replicate.units[u].devices.push_back(d);
    out.push_back(std::move(replicate));
    for (int from : unit.devices) {  // move one replica
      Placement moved = p;
      std::replace(moved.units[u].devices.begin(), moved.units[u].devices.end(), from, d);
      out.push_back(std::move(moved));
    }
  }
}

// Each model of a co-compiled unit `u` taken out into a unit of its own, on the same devices.
void SplitMoves(const Placement& p, size_t u, std::vector<Placement>& out) {
  const PlanUnit& unit = p.units[u];
  if (unit.models.size() < 2) return;
  for (size_t k = 0; k < unit.models.size(); ++k) {
    Placement split = p;
    int m = unit.models[k];
    split.units[u].models.erase(split.units[u].models.begin() + k);
    split.units.push_back({{m}, unit.devices});
    out.push_back(std::move(split));
  }
}

// Unit `u` co-compiled with another unit, or one of its models moved into another unit, where
// the models can be co-compiled.
void MergeMoves(const CostModel& cost, const Placement& p, size_t u, std::vector<Placement>& out) {
  const PlanUnit& unit = p.units[u];
  for (size_t v = 0; v < p.units.size(); ++v) {
    if (v == u) continue;
    std::vector<int> together = unit.models;
    together.insert(together.end(), p.units[v].models.begin(), p.units[v].models.end());
    if (!cost.CanCoCompile(together)) continue;
    if (u < v) {  // co-compile u and v (u's models first) on u's devices
      Placement merged = p;
      merged.units[u].models = together;
      merged.units.erase(merged.units.begin() + v);
      out.push_back(std::move(merged));
    }
    for (size_t k = 0; k < unit.models.size() && unit.models.size() > 1; ++k) {
      Placement moved = p;  // one model from u to the end of v
      moved.units[v].models.push_back(unit.models[k]);
      moved.units[u].models.erase(moved.units[u].models.begin() + k);
      out.push_back(std::move(moved));
    }
  }
}

// Two neighbouring models of unit `u` swapped: the first model gets the on-chip memory first.
void ReorderMoves(const Placement& p, size_t u, std::vector<Placement>& out) {
  for (size_t k = 1; k < p.units[u].models.size(); ++k) {
    Placement reordered = p;
    std::swap(reordered.units[u].models[k - 1], reordered.units[u].models[k]);
    out.push_back(std::move(reordered));
  }
}

// Every placement one move away from `p`.
std::vector<Placement> Neighbours(const CostModel& cost, const Placement& p) {
  const int devices = static_cast<int>(cost.inputs().devices.size());
  std::vector<Placement> out;
  for (size_t u = 0; u < p.units.size(); ++u) {
    ReplicaMoves(p, u, devices, out);
    SplitMoves(p, u, out);
    MergeMoves(cost, p, u, out);
    ReorderMoves(p, u, out);
  }
  return out;
}

Scored Climb(const CostModel& cost, const PlannerOptions& options, Placement start) {
  Scored best = Score(cost, options, std::move(start));
  while (true) {
    bool improved = false;
    for (Placement& n : Neighbours(cost, best.placement)) {
      Scored candidate = Score(cost, options, std::move(n));
      if (candidate.key < best.key) {
        best = std::move(candidate);
        improved = true;
      }
    }
    if (!improved) return best;
  }
}

// Largest load first, each onto the device that ends up least utilized.
Placement Greedy(const CostModel& cost, const PlannerOptions& options) {
  const PlanInputs& inputs = cost.inputs();
  std::vector<int> order(inputs.models.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> load(order.size());
  for (int m : order) {
    PlanUnit alone{{m}, {0}};
    load[m] = inputs.models[m].rate * sim::EstimateInvocation(cost.UnitPrograms(alone, 0)[0],
                                                              inputs.devices[0].hardware, false)
                                          .total();
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) { return load[a] > load[b]; });
  Placement placement;
  for (int m : order) {
    std::optional<Scored> best;
    for (size_t d = 0; d < inputs.devices.size(); ++d) {
      Placement trial = placement;
      trial.units.push_back({{m}, {static_cast<int>(d)}});
      // Models not placed yet carry no load in the partial placement.
      Scored s = Score(cost, options, trial);
      if (!best || s.prediction.max_utilization < best->prediction.max_utilization) best = s;
    }
    placement = best->placement;
  }
  return placement;
}

}  // namespace

Placement OneModelPerDevice(const PlanInputs& inputs) {
  Placement p;
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    p.units.push_back({{static_cast<int>(m)}, {static_cast<int>(m % inputs.devices.size())}});
  }
  return p;
}

Placement EverythingOnOneDevice(const PlanInputs& inputs) {
  Placement p;
  for (size_t m = 0; m < inputs.models.size(); ++m) p.units.push_back({{static_cast<int>(m)}, {0}});
  return p;
}

namespace {

// Every model on every device: separately, or co-compiled into one unit.
Placement EverythingEverywhere(const PlanInputs& inputs, bool co_compiled) {
  std::vector<int> all(inputs.devices.size());
  std::iota(all.begin(), all.end(), 0);
  Placement p;
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    if (co_compiled && !p.units.empty()) {
      p.units[0].models.push_back(static_cast<int>(m));
    } else {
      p.units.push_back({{static_cast<int>(m)}, all});
    }
  }
  return p;
}

}  // namespace

Plan MakePlan(const CostModel& cost, const PlannerOptions& options) {
  const PlanInputs& inputs = cost.inputs();
  std::vector<Placement> starts = {OneModelPerDevice(inputs), EverythingOnOneDevice(inputs),
                                   Greedy(cost, options), EverythingEverywhere(inputs, false)};
  std::vector<int> every_model(inputs.models.size());
  std::iota(every_model.begin(), every_model.end(), 0);
  if (cost.CanCoCompile(every_model)) starts.push_back(EverythingEverywhere(inputs, true));
  std::optional<Scored> best;
  for (Placement& start : starts) {
    Scored s = Climb(cost, options, std::move(start));
    if (!best || s.key < best->key) best = std::move(s);
  }
  for (PlanUnit& unit : best->placement.units) std::sort(unit.devices.begin(), unit.devices.end());
  std::sort(best->placement.units.begin(), best->placement.units.end(),
            [](const PlanUnit& a, const PlanUnit& b) {
              return std::tie(a.devices, a.models) < std::tie(b.devices, b.models);
            });
  return {best->placement, cost.Predict(best->placement)};
}

std::vector<std::string> CompilerCommands(const PlanInputs& inputs, const Placement& placement) {
  std::vector<std::string> commands;
  for (const PlanUnit& unit : placement.units) {
    if (unit.models.size() < 2) continue;
    std::vector<std::string> files;
    for (int m : unit.models) {
      const std::string& name = inputs.models[m].name;
      files.push_back(name.starts_with("zoo:") ? name.substr(4) + ".tflite" : name);
    }
    commands.push_back(fmt::format("edgetpu_compiler {}", fmt::join(files, " ")));
  }
  return commands;
}

}  // namespace tpufleet::planner
