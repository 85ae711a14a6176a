#include "fleet/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>

#include "fleet/dispatch_order.h"

namespace tpufleet::fleet {
namespace {

struct DeviceState {
  std::deque<size_t> queue;  // trace indices
  bool busy = false;
  double finish = 0;
  size_t running = 0;
  uint64_t resident = 0;  // caching token whose parameters are on chip
  int batch = 0;
  double service = 0;  // moving average of invocation times without reload, as workers keep it
};

Result<int> ModelIndex(const std::string& field, const PlanInputs& inputs) {
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    const std::string& name = inputs.models[m].name;
    if (field == name || field == std::filesystem::path(name).filename().string()) {
      return static_cast<int>(m);
    }
  }
  // Plain ASCII digits only: ::isdigit on a negative char (UTF-8 bytes) is undefined.
  bool digits =
      !field.empty() && field.size() < 6 &&
      std::all_of(field.begin(), field.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits && static_cast<size_t>(std::stoi(field)) < inputs.models.size()) {
    return std::stoi(field);
  }
  std::vector<std::string> names;
  for (const PlanModel& m : inputs.models) names.push_back(m.name);
  return InvalidArgumentError(fmt::format("unknown model '{}'; the models are {} (or their index)",
                                          field, fmt::join(names, ", ")));
}

}  // namespace

Result<std::vector<TraceRequest>> ParseTrace(const std::string& csv, const PlanInputs& inputs) {
  std::vector<TraceRequest> trace;
  std::istringstream lines(csv);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || (number == 1 && line == "time,model")) continue;
    size_t comma = line.find(',');
    std::string where = fmt::format("trace line {}", number);
    if (comma == std::string::npos) {
      return InvalidArgumentError(where + ": expected 'time,model', e.g. '0.0125,a.tflite'");
    }
    TraceRequest request;
    try {
      size_t used = 0;
      request.time = std::stod(line.substr(0, comma), &used);
      if (used != comma) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      return InvalidArgumentError(
          fmt::format("{}: '{}' is not a time in seconds", where, line.substr(0, comma)));
    }
    if (!(request.time >= 0) || !std::isfinite(request.time)) {
      return InvalidArgumentError(
          fmt::format("{}: time {} must be a finite number >= 0", where, line.substr(0, comma)));
    }
    Result<int> model = ModelIndex(line.substr(comma + 1), inputs);
    if (!model.ok()) return model.status().WithContext(where);
    request.model = model.value();
    trace.push_back(request);
  }
  std::stable_sort(trace.begin(), trace.end(),
                   [](const TraceRequest& a, const TraceRequest& b) { return a.time < b.time; });
  return trace;
}

std::vector<TraceRequest> PoissonTrace(const PlanInputs& inputs, double seconds, double scale,
                                       uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<TraceRequest> trace;
  for (size_t m = 0; m < inputs.models.size(); ++m) {
    std::exponential_distribution<double> gap(inputs.models[m].rate * scale);
    for (double t = gap(random); t < seconds; t += gap(random)) {
      trace.push_back({t, static_cast<int>(m)});
    }
  }
  std::sort(trace.begin(), trace.end(),
            [](const TraceRequest& a, const TraceRequest& b) { return a.time < b.time; });
  return trace;
}

ReplayResult Replay(const CostModel& cost, const Placement& placement,
                    const std::vector<TraceRequest>& trace) {
  const PlanInputs& inputs = cost.inputs();
  const size_t devices = inputs.devices.size();
  // Where each model runs, and its program on each device of its unit.
  std::vector<const PlanUnit*> unit_of(inputs.models.size());
  std::vector<std::vector<sim::EdgeTpuProgram>> program(inputs.models.size(),
                                                        std::vector<sim::EdgeTpuProgram>(devices));
  for (const PlanUnit& unit : placement.units) {
    for (int d : unit.devices) {
      std::vector<sim::EdgeTpuProgram> programs = cost.UnitPrograms(unit, d);
      for (size_t k = 0; k < unit.models.size(); ++k) program[unit.models[k]][d] = programs[k];
    }
    for (int m : unit.models) unit_of[m] = &unit;
  }
  auto token = [&](size_t request, size_t d) {
    return program[trace[request].model][d].caching_token;
  };

  ReplayResult result;
  result.device_busy_seconds.assign(devices, 0);
  result.device_requests.assign(devices, 0);
  result.model_requests.assign(inputs.models.size(), 0);
  std::vector<DeviceState> state(devices);
  std::vector<double> latencies;

  // A worker's choice: the resident model's requests while the batch bound allows, else the
  // oldest. Then the run, its bus share taken when it starts.
  auto start = [&](size_t d, double now) {
    DeviceState& s = state[d];
    auto pick = s.queue.begin();
    bool resident_pick = false;
    if (s.batch < inputs.max_batch) {
      auto resident = std::find_if(s.queue.begin(), s.queue.end(), [&](size_t r) {
        return s.resident != 0 && token(r, d) == s.resident;
      });
      if (resident != s.queue.end()) {
        pick = resident;
        resident_pick = true;
      }
    }
    s.batch = resident_pick ? s.batch + 1 : 1;
    size_t request = *pick;
    s.queue.erase(pick);
    const sim::EdgeTpuProgram& p = program[trace[request].model][d];
    bool reload = p.cached_bytes > 0 && (s.resident == 0 || s.resident != p.caching_token);
    int others = 0;
    for (size_t e = 0; e < devices; ++e) {
      others += e != d && state[e].busy &&
                inputs.devices[e].hardware.bus == inputs.devices[d].hardware.bus;
    }
    double seconds =
        sim::EstimateInvocation(p, inputs.devices[d].hardware, reload, 1.0 / (1 + others)).total();
    s.busy = true;
    s.running = request;
    s.finish = now + seconds;
    if (!reload) s.service = s.service == 0 ? seconds : 0.8 * s.service + 0.2 * seconds;
    s.resident = p.caching_token;
    result.device_busy_seconds[d] += seconds;
    result.reloads += reload;
  };

  size_t next = 0;
  while (true) {
    size_t done = devices;  // the device finishing first, if any is busy
    for (size_t d = 0; d < devices; ++d) {
      if (state[d].busy && (done == devices || state[d].finish < state[done].finish)) done = d;
    }
    bool arrivals_left = next < trace.size();
    if (!arrivals_left && done == devices) break;
    if (arrivals_left && (done == devices || trace[next].time <= state[done].finish)) {
      double now = trace[next].time;
      // The fleet's own dispatch rule, on the replayed devices' state.
      const PlanUnit& unit = *unit_of[trace[next].model];
      std::vector<DispatchCandidate> candidates;
      for (int d : unit.devices) {
        candidates.push_back({state[d].queue.size(),
                              state[d].resident != 0 && state[d].resident == token(next, d),
                              state[d].service});
      }
      int chosen = unit.devices[DispatchOrder(candidates, inputs.max_batch)[0]];
      state[chosen].queue.push_back(next);
      if (!state[chosen].busy) start(chosen, now);
      ++next;
    } else {
      DeviceState& s = state[done];
      double now = s.finish;
      latencies.push_back((now - trace[s.running].time) * 1e3);
      ++result.device_requests[done];
      ++result.model_requests[trace[s.running].model];
      result.makespan = std::max(result.makespan, now);
      s.busy = false;
      if (!s.queue.empty()) start(done, now);
    }
  }
  result.requests = latencies.size();
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double p) {
      return latencies[std::min(latencies.size() - 1,
                                static_cast<size_t>(std::ceil(p * latencies.size())) - 1)];
    };
    result.p50_ms = at(0.50);
    result.p99_ms = at(0.99);
  }
  return result;
}

}  // namespace tpufleet::fleet
