#include "planner/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>

#include "fleet/dispatch_order.h"

namespace tpufleet::planner {
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
    // NOLINTNEXTLINE(cert-flp30-c): t is a time, not a counter; the loop ends when it passes
    for (double t = gap(random); t < seconds; t += gap(random)) {
      trace.push_back({t, static_cast<int>(m)});
    }
  }
  std::sort(trace.begin(), trace.end(),
            [](const TraceRequest& a, const TraceRequest& b) { return a.time < b.time; });
  return trace;
}

namespace {

// The replay's state: each device's queue, what it runs and what is resident, stepped event by
// event with the fleet's own rules (fleet/dispatch_order.h) and the simulator's timing.
class ReplaySimulation {
 public:
  ReplaySimulation(const CostModel& cost, const Placement& placement,
                   const std::vector<TraceRequest>& trace)
      : inputs_(cost.inputs()),
        trace_(trace),
        unit_of_(inputs_.models.size()),
        program_(inputs_.models.size(), std::vector<sim::EdgeTpuProgram>(inputs_.devices.size())),
        state_(inputs_.devices.size()) {
    for (const PlanUnit& unit : placement.units) {
      for (int d : unit.devices) {
        std::vector<sim::EdgeTpuProgram> programs = cost.UnitPrograms(unit, d);
        for (size_t k = 0; k < unit.models.size(); ++k) program_[unit.models[k]][d] = programs[k];
      }
      for (int m : unit.models) unit_of_[m] = &unit;
    }
    result_.device_busy_seconds.assign(state_.size(), 0);
    result_.device_requests.assign(state_.size(), 0);
    result_.model_requests.assign(inputs_.models.size(), 0);
  }

  ReplayResult Run() {
    size_t next = 0;
    while (true) {
      size_t done = FirstToFinish();
      bool arrivals_left = next < trace_.size();
      if (!arrivals_left && done == state_.size()) break;
      if (arrivals_left && (done == state_.size() || trace_[next].time <= state_[done].finish)) {
        Arrive(next++);
      } else {
        Finish(done);
      }
    }
    Summarize();
    return result_;
  }

 private:
  const sim::EdgeTpuProgram& ProgramOf(size_t request, size_t d) const {
    return program_[trace_[request].model][d];
  }

  // The busy device finishing first; state_.size() when none is busy.
  size_t FirstToFinish() const {
    size_t done = state_.size();
    for (size_t d = 0; d < state_.size(); ++d) {
      if (state_[d].busy && (done == state_.size() || state_[d].finish < state_[done].finish)) {
        done = d;
      }
    }
    return done;
  }

  // The fleet's dispatch rule on the replayed devices' state.
  void Arrive(size_t request) {
    const PlanUnit& unit = *unit_of_[trace_[request].model];
    std::vector<fleet::DispatchCandidate> candidates;
    for (int d : unit.devices) {
      const DeviceState& s = state_[d];
      candidates.push_back({s.queue.size(),
                            fleet::IsResident(ProgramOf(request, d).caching_token, s.resident),
                            s.service});
    }
    int chosen = unit.devices[fleet::DispatchOrder(candidates, inputs_.max_batch)[0]];
    state_[chosen].queue.push_back(request);
    if (!state_[chosen].busy) Start(chosen, trace_[request].time);
  }

  // A worker's choice, then the run, its bus share taken when it starts.
  void Start(size_t d, double now) {
    DeviceState& s = state_[d];
    fleet::BatchPick pick = fleet::PickNext(
        s.queue,
        [&](size_t r) { return fleet::IsResident(ProgramOf(r, d).caching_token, s.resident); },
        s.batch, inputs_.max_batch);
    s.batch = pick.batch;
    size_t request = s.queue[pick.index];
    s.queue.erase(s.queue.begin() + static_cast<std::ptrdiff_t>(pick.index));
    const sim::EdgeTpuProgram& p = ProgramOf(request, d);
    bool reload = sim::NeedsReload(p, s.resident);
    int others = 0;
    for (size_t e = 0; e < state_.size(); ++e) {
      others += e != d && state_[e].busy &&
                inputs_.devices[e].hardware.bus == inputs_.devices[d].hardware.bus;
    }
    double seconds =
        sim::EstimateInvocation(p, inputs_.devices[d].hardware, reload, sim::BusShare(others))
            .total();
    s.busy = true;
    s.running = request;
    s.finish = now + seconds;
    s.service = fleet::UpdateServiceSeconds(s.service, seconds, reload);
    s.resident = p.caching_token;
    result_.device_busy_seconds[d] += seconds;
    result_.reloads += reload;
  }

  void Finish(size_t d) {
    DeviceState& s = state_[d];
    double now = s.finish;
    latencies_.push_back((now - trace_[s.running].time) * 1e3);
    ++result_.device_requests[d];
    ++result_.model_requests[trace_[s.running].model];
    result_.makespan = std::max(result_.makespan, now);
    s.busy = false;
    if (!s.queue.empty()) Start(d, now);
  }

  void Summarize() {
    result_.requests = latencies_.size();
    if (latencies_.empty()) return;
    std::sort(latencies_.begin(), latencies_.end());
    auto at = [&](double p) {
      return latencies_[std::min(latencies_.size() - 1,
                                 static_cast<size_t>(std::ceil(p * latencies_.size())) - 1)];
    };
    result_.p50_ms = at(0.50);
    result_.p99_ms = at(0.99);
  }

  const PlanInputs& inputs_;
  const std::vector<TraceRequest>& trace_;
  std::vector<const PlanUnit*> unit_of_;                   // where each model runs
  std::vector<std::vector<sim::EdgeTpuProgram>> program_;  // [model][device]
  std::vector<DeviceState> state_;
  std::vector<double> latencies_;
  ReplayResult result_;
};

}  // namespace

ReplayResult Replay(const CostModel& cost, const Placement& placement,
                    const std::vector<TraceRequest>& trace) {
  return ReplaySimulation(cost, placement, trace).Run();
}

}  // namespace tpufleet::planner
