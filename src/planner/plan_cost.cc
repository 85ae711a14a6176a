#include "planner/plan_cost.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

namespace tpufleet::planner {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// One unit's model on one device, with the requests per second it gets there.
struct Slot {
  int model = 0;
  double rate = 0;
  sim::EdgeTpuProgram program;
};

struct DeviceLoad {
  double utilization = 0;
  std::vector<double> latency_seconds;  // per slot
};

// Utilization and per-slot latency of one device whose transfers get `share` of the link and
// whose switches between caching tokens are divided by `batching` (see plan_cost.h).
DeviceLoad LoadOf(const std::vector<Slot>& slots, const sim::DeviceConfig& hardware, double share,
                  double batching) {
  DeviceLoad load;
  double total_rate = 0;
  std::map<uint64_t, double> token_rate;
  for (const Slot& s : slots) {
    total_rate += s.rate;
    token_rate[s.program.caching_token] += s.rate;
  }
  std::vector<double> service(slots.size());
  double second_moment = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    double run = sim::EstimateInvocation(s.program, hardware, false, share).total();
    double reload = sim::EstimateInvocation(s.program, hardware, true, share).reload;
    // Token 0 keeps nothing resident: every run reloads what it caches.
    double p_switch = s.program.caching_token == 0
                          ? 1.0
                          : (1.0 - token_rate[s.program.caching_token] / total_rate) / batching;
    service[i] = run + p_switch * reload;
    load.utilization += s.rate * service[i];
    second_moment += s.rate / total_rate *
                     (run * run + 2 * run * p_switch * reload + p_switch * reload * reload);
  }
  double wait =
      load.utilization < 1 ? total_rate * second_moment / (2 * (1 - load.utilization)) : kInfinity;
  for (double s : service) load.latency_seconds.push_back(wait + s);
  return load;
}

}  // namespace

std::string DescribeUnit(const PlanInputs& inputs, const PlanUnit& unit) {
  std::vector<std::string> models, devices;
  for (int m : unit.models) {
    models.push_back(std::filesystem::path(inputs.models[m].name).filename().string());
  }
  for (int d : unit.devices) devices.push_back(inputs.devices[d].name);
  return fmt::format("{} on {}", fmt::join(models, " + "), fmt::join(devices, ", "));
}

Result<CostModel> CostModel::Create(const PlanInputs& inputs) {
  CostModel model(inputs);
  std::set<uint64_t> srams;
  for (const PlanDevice& d : inputs.devices) srams.insert(d.hardware.sram_bytes);
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    if (!(inputs.models[m].rate > 0)) {
      return InvalidArgumentError(fmt::format("{}: the request rate must be positive, not {}",
                                              inputs.models[m].name, inputs.models[m].rate));
    }
    for (uint64_t sram : srams) {
      TPUFLEET_ASSIGN_OR_RETURN(sim::EdgeTpuProgram program,
                                sim::Compile(*inputs.models[m].model, sram));
      model.programs_[{static_cast<int>(m), sram}] = std::move(program);
    }
  }
  if (inputs.devices.empty()) return InvalidArgumentError("planning needs at least one device");
  if (inputs.models.empty()) return InvalidArgumentError("planning needs at least one model");
  for (const PlanDevice& d : inputs.devices) {
    if (!(d.hardware.time_scale > 0)) {
      return InvalidArgumentError(fmt::format(
          "{} has time_scale 0: a device that takes no time has no capacity to plan by; give "
          "it a time_scale above 0",
          d.name));
    }
  }
  return model;
}

Status CostModel::Check(const Placement& placement) const {
  std::vector<int> seen(inputs_.models.size(), 0);
  for (const PlanUnit& unit : placement.units) {
    if (unit.models.empty() || unit.devices.empty()) {
      return InvalidArgumentError("a unit needs at least one model and one device");
    }
    for (int m : unit.models) {
      if (m < 0 || static_cast<size_t>(m) >= seen.size()) {
        return InvalidArgumentError(fmt::format("model index {} is out of range", m));
      }
      ++seen[m];
    }
    for (int d : unit.devices) {
      if (d < 0 || static_cast<size_t>(d) >= inputs_.devices.size()) {
        return InvalidArgumentError(fmt::format("device index {} is out of range", d));
      }
    }
    if (unit.models.size() > 1 && !CanCoCompile(unit.models)) {
      return InvalidArgumentError(fmt::format("{}: only uncompiled models can be co-compiled",
                                              DescribeUnit(inputs_, unit)));
    }
  }
  for (size_t m = 0; m < seen.size(); ++m) {
    if (seen[m] != 1) {
      return InvalidArgumentError(fmt::format("{} is in {} units; each model needs exactly one",
                                              inputs_.models[m].name, seen[m]));
    }
  }
  return OkStatus();
}

bool CostModel::CanCoCompile(const std::vector<int>& models) const {
  for (int m : models) {
    if (inputs_.models[m].model->is_edgetpu_compiled()) return false;
  }
  return true;
}

std::vector<sim::EdgeTpuProgram> CostModel::UnitPrograms(const PlanUnit& unit, int device) const {
  uint64_t sram = inputs_.devices[device].hardware.sram_bytes;
  std::vector<sim::EdgeTpuProgram> programs;
  for (int m : unit.models) programs.push_back(programs_.at({m, sram}));
  if (programs.size() > 1) programs = sim::CoCompile(std::move(programs), sram);
  return programs;
}

Prediction CostModel::Predict(const Placement& placement) const {
  const size_t models = inputs_.models.size(), devices = inputs_.devices.size();
  Prediction out;
  out.rates.assign(models, std::vector<double>(devices, 0));
  std::vector<std::vector<Slot>> slots(devices);
  for (const PlanUnit& unit : placement.units) {
    std::vector<std::vector<sim::EdgeTpuProgram>> programs;
    for (int d : unit.devices) programs.push_back(UnitPrograms(unit, d));
    for (size_t k = 0; k < unit.models.size(); ++k) {
      int m = unit.models[k];
      // Replicas share the model's requests in proportion to how fast each serves it.
      std::vector<double> speed;
      for (size_t i = 0; i < unit.devices.size(); ++i) {
        speed.push_back(1 / sim::EstimateInvocation(
                                programs[i][k], inputs_.devices[unit.devices[i]].hardware, false)
                                .total());
      }
      double total_speed = 0;
      for (double s : speed) total_speed += s;
      for (size_t i = 0; i < unit.devices.size(); ++i) {
        double rate = inputs_.models[m].rate * speed[i] / total_speed;
        out.rates[m][unit.devices[i]] += rate;
        slots[unit.devices[i]].push_back({m, rate, programs[i][k]});
      }
    }
  }
  // Bus sharing and batching both depend on the utilization they change: a few rounds settle it.
  std::vector<double> slowdown(devices, 1.0);
  std::vector<DeviceLoad> loads(devices);
  for (int round = 0; round < 8; ++round) {
    for (size_t d = 0; d < devices; ++d) {
      double busy = std::min(1.0, loads[d].utilization);
      double batching = 1 + (inputs_.max_batch - 1) * busy * busy;
      loads[d] = slots[d].empty()
                     ? DeviceLoad{}
                     : LoadOf(slots[d], inputs_.devices[d].hardware, 1 / slowdown[d], batching);
    }
    for (size_t d = 0; d < devices; ++d) {
      slowdown[d] = 1;
      for (size_t e = 0; e < devices; ++e) {
        if (e != d && inputs_.devices[e].hardware.bus == inputs_.devices[d].hardware.bus) {
          slowdown[d] += std::min(1.0, loads[e].utilization);
        }
      }
    }
  }
  std::vector<double> weighted_latency(models, 0);
  for (size_t d = 0; d < devices; ++d) {
    out.utilization.push_back(loads[d].utilization);
    out.max_utilization = std::max(out.max_utilization, loads[d].utilization);
    for (size_t i = 0; i < slots[d].size(); ++i) {
      weighted_latency[slots[d][i].model] += slots[d][i].rate * loads[d].latency_seconds[i];
    }
  }
  for (size_t m = 0; m < models; ++m) {
    out.latency_ms.push_back(weighted_latency[m] / inputs_.models[m].rate * 1e3);
  }
  return out;
}

}  // namespace tpufleet::planner
