#include "planner/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "fleet/dispatch_order.h"
#include "sim/bus.h"
#include "sim/discrete_events.h"

namespace tpufleet::planner {
namespace {

struct DeviceState {
  std::deque<size_t> queue;  // trace indices
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
        state_(inputs_.devices.size()),
        lanes_(inputs_.devices.size()) {
    // Arrivals at one instant in the fleet's order (sim/discrete_events.h).
    order_.resize(trace_.size());
    for (size_t r = 0; r < trace_.size(); ++r) order_[r] = r;
    std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
      return sim::ArrivalKey{trace_[a].time, trace_[a].model, a} <
             sim::ArrivalKey{trace_[b].time, trace_[b].model, b};
    });
    for (const PlanDevice& d : inputs_.devices) {
      std::shared_ptr<sim::SimBus>& bus = buses_[d.hardware.bus];
      if (!bus) bus = std::make_shared<sim::SimBus>();
      bus_of_.push_back(bus.get());
    }
    for (const PlanUnit& unit : placement.units) {
      for (int d : unit.devices) {
        std::vector<sim::EdgeTpuProgram> programs = cost.UnitPrograms(unit, d);
        for (size_t k = 0; k < unit.models.size(); ++k) program_[unit.models[k]][d] = programs[k];
      }
      for (int m : unit.models) unit_of_[m] = &unit;
    }
    result_.device_busy_seconds.assign(state_.size(), 0);
    result_.device_requests.assign(state_.size(), 0);
    result_.device_reloads.assign(state_.size(), 0);
    result_.model_requests.assign(inputs_.models.size(), 0);
  }

  ReplayResult Run() {
    size_t next = 0;
    while (true) {
      std::optional<double> arrival;
      if (next < order_.size()) arrival = trace_[order_[next]].time;
      sim::NextEvent event = sim::ChooseNextEvent(arrival, lanes_);
      if (event.kind == sim::NextEvent::kNone) break;
      if (event.kind == sim::NextEvent::kArrival) {
        Arrive(order_[next++]);
      } else {
        Finish(event.lane);
      }
    }
    Summarize();
    return result_;
  }

 private:
  const sim::EdgeTpuProgram& ProgramOf(size_t request, size_t d) const {
    return program_[trace_[request].model][d];
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
    if (!lanes_[chosen].busy) Start(chosen, trace_[request].time);
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
    // The bus as a simulated device shares it: in progress from the start to the finish.
    double share = bus_of_[d]->ShareForNewTransfer();
    bus_of_[d]->Begin();
    double seconds = sim::EstimateInvocation(p, inputs_.devices[d].hardware, reload, share).total();
    lanes_[d] = {true, now + seconds};
    s.running = request;
    s.service = fleet::UpdateServiceSeconds(s.service, seconds, reload);
    s.resident = p.caching_token;
    result_.device_busy_seconds[d] += seconds;
    result_.reloads += reload;
    result_.device_reloads[d] += reload;
  }

  void Finish(size_t d) {
    DeviceState& s = state_[d];
    double now = lanes_[d].finish;
    latencies_.push_back((now - trace_[s.running].time) * 1e3);
    ++result_.device_requests[d];
    ++result_.model_requests[trace_[s.running].model];
    result_.makespan = std::max(result_.makespan, now);
    lanes_[d].busy = false;
    bus_of_[d]->End();
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
  std::vector<sim::LaneState> lanes_;  // busy until the finish, as the stepping sees them
  std::vector<size_t> order_;          // trace indices in arrival order
  std::map<int, std::shared_ptr<sim::SimBus>> buses_;
  std::vector<sim::SimBus*> bus_of_;  // per device
  std::vector<double> latencies_;
  ReplayResult result_;
};

}  // namespace

ReplayResult Replay(const CostModel& cost, const Placement& placement,
                    const std::vector<TraceRequest>& trace) {
  return ReplaySimulation(cost, placement, trace).Run();
}

}  // namespace tpufleet::planner
