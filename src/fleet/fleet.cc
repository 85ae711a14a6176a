#include "tpufleet/fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "backends/cpu_device.h"
#include "devices/selector.h"
#include "fleet/worker.h"
#include "sim/compiler.h"
#include "sim/sim_device.h"

namespace tpufleet {

using fleet::RequestPtr;
using fleet::Worker;

struct ModelEntry {
  ModelPtr model;
  uint64_t token = 0;        // caching token on an Edge TPU (0: none or unknown)
  std::vector<int> devices;  // placement: worker indices
  std::vector<double> latencies_ms;
  uint64_t requests = 0, errors = 0;
};

struct Fleet::Impl {
  FleetOptions options;
  std::vector<DeviceInfo> infos;
  std::vector<std::unique_ptr<Worker>> workers;
  mutable std::mutex mutex;  // models and placement
  std::vector<ModelEntry> models;
  std::vector<std::string> failures;  // why each down device went down, by worker
  bool closing = false;  // set by ~Fleet: failed-over requests are answered, not re-queued

  Status Dispatch(RequestPtr& request);
  void OnFailure(int worker, const Status& why, std::vector<RequestPtr> orphans);
  void OnAnswer(const fleet::Request& request, bool ok);
  Result<std::vector<int>> Place(const ModelEntry& entry,
                                 const std::vector<std::string>& selectors);
};

namespace {

void Answer(RequestPtr& request, Status status) { request->promise.set_value(std::move(status)); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  size_t k = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

uint64_t CachingToken(const Model& model) {
  Result<sim::EdgeTpuProgram> program = sim::Compile(model, 8 * 1024 * 1024);
  return program.ok() ? program->caching_token : 0;
}

}  // namespace

Result<std::unique_ptr<Fleet>> Fleet::Create(const FleetOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::vector<sim::SimDeviceConfig> rig = sim::DefaultTopology();
  if (!options.sim_topology_json.empty()) {
    TPUFLEET_ASSIGN_OR_RETURN(rig, sim::ParseTopology(options.sim_topology_json));
  }
  std::vector<DeviceInfo> available;
  for (size_t i = 0; i < rig.size(); ++i) {
    available.push_back(
        sim::SimDevice(static_cast<int>(i), rig[i], sim::MakeVirtualClock(), nullptr).info());
  }
  available.push_back(backends::CpuDevice().info());
  std::map<int, std::shared_ptr<sim::SimBus>> buses;
  auto clock = options.real_time ? sim::MakeRealTimeClock() : nullptr;
  Impl* raw = impl.get();
  for (const std::string& text : options.devices) {
    TPUFLEET_ASSIGN_OR_RETURN(Selector selector, ParseSelector(text));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<const DeviceInfo*> found,
                              ResolveSelector(selector, available));
    if (found.size() != 1) {
      return InvalidArgumentError(fmt::format(
          "'{}' names {} devices; give the fleet one device per string", text, found.size()));
    }
    const DeviceInfo& info = *found[0];
    if (std::any_of(raw->infos.begin(), raw->infos.end(),
                    [&](const DeviceInfo& d) { return d.name == info.name; })) {
      return InvalidArgumentError(fmt::format("device {} is listed twice", info.name));
    }
    std::unique_ptr<backends::Device> device;
    if (info.type == DeviceType::kCpu) {
      device = std::make_unique<backends::CpuDevice>();
    } else {
      int index = std::stoi(info.name.substr(4));
      sim::SimDeviceConfig config = rig[index];
      config.compute_outputs = config.compute_outputs && options.sim_outputs;
      auto& bus = buses[config.hardware.bus];
      if (!bus) bus = std::make_shared<sim::SimBus>();
      // Virtual time is per device: each gets its own timeline.
      device = std::make_unique<sim::SimDevice>(index, config,
                                                clock ? clock : sim::MakeVirtualClock(), bus);
    }
    int worker_index = static_cast<int>(raw->workers.size());
    raw->infos.push_back(device->info());
    raw->failures.emplace_back();
    raw->workers.push_back(std::make_unique<Worker>(
        worker_index, std::move(device), options.queue_capacity, options.max_batch,
        [raw](int w, const Status& why, std::vector<RequestPtr> orphans) {
          raw->OnFailure(w, why, std::move(orphans));
        },
        [raw](const fleet::Request& r, bool ok) { raw->OnAnswer(r, ok); }));
  }
  if (raw->workers.empty()) return InvalidArgumentError("a fleet needs at least one device");
  return std::unique_ptr<Fleet>(new Fleet(std::move(impl)));
}

Fleet::Fleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Fleet::~Fleet() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->closing = true;
  }
  // Join every worker before destroying any: a failing worker may still look at the others.
  for (auto& worker : impl_->workers) worker->Stop();
}

Result<std::vector<int>> Fleet::Impl::Place(const ModelEntry& entry,
                                            const std::vector<std::string>& selectors) {
  std::vector<int> placed;
  for (const std::string& text : selectors) {
    TPUFLEET_ASSIGN_OR_RETURN(Selector selector, ParseSelector(text));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<const DeviceInfo*> found,
                              ResolveSelector(selector, infos));
    int index =
        static_cast<int>(found[0] - infos.data());  // "any" forms take the first, PCIe first
    if (std::find(placed.begin(), placed.end(), index) == placed.end()) placed.push_back(index);
  }
  if (!placed.empty()) return placed;
  // Automatic: a device no auto-placed model uses yet, in order (as Coral's old API did).
  std::vector<int> load(infos.size(), 0);
  for (const ModelEntry& m : models) {
    for (int d : m.devices) ++load[d];
  }
  for (size_t d = 0; d < infos.size(); ++d) {
    if (load[d] == 0) return std::vector<int>{static_cast<int>(d)};
  }
  if (options.strict) {
    return FailedPreconditionError(
        fmt::format("model {} is the {}th without an explicit device, but the fleet has {} devices "
                    "({}); give it a device "
                    "string (model.tflite@sim:0) or leave strict placement off to share devices",
                    entry.model->name(), models.size() + 1, infos.size(), DescribeDevices(infos)));
  }
  // Shared: beside a model with the same caching token (co-compiled), else the least loaded.
  for (const ModelEntry& m : models) {
    if (entry.token != 0 && m.token == entry.token && !m.devices.empty())
      return std::vector<int>{m.devices[0]};
  }
  return std::vector<int>{
      static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin())};
}

Result<int> Fleet::AddModel(ModelPtr model, const std::vector<std::string>& selectors) {
  if (!model) return InvalidArgumentError("no model given");
  ModelEntry entry;
  entry.model = model;
  entry.token = CachingToken(*model);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  TPUFLEET_ASSIGN_OR_RETURN(entry.devices, impl_->Place(entry, selectors));
  int id = static_cast<int>(impl_->models.size());
  for (int d : entry.devices) impl_->workers[d]->AddModel(id, model, entry.token);
  impl_->models.push_back(std::move(entry));
  return id;
}

Result<int> Fleet::AddModel(const std::string& spec) {
  size_t at = spec.rfind('@');
  std::string path = at == std::string::npos ? spec : spec.substr(0, at);
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromFile(path));
  if (at == std::string::npos) return AddModel(model);
  return AddModel(model, {spec.substr(at + 1)});
}

Status Fleet::Impl::Dispatch(RequestPtr& request) {
  // A device may go down between choosing it and queueing on it: then choose again. Each round
  // either queues the request or sees one more device down, so this ends.
  Status last;
  for (size_t round = 0; round <= workers.size(); ++round) {
    std::vector<int> candidates;
    uint64_t token = 0;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (closing) return UnavailableError("the fleet is shutting down");
      ModelEntry& entry = models[request->model];
      token = entry.token;
      for (int d : entry.devices) {
        if (workers[d]->healthy()) candidates.push_back(d);
      }
      if (candidates.empty()) {  // failover: any healthy device can load the model
        for (size_t d = 0; d < workers.size(); ++d) {
          if (!workers[d]->healthy()) continue;
          if (!workers[d]->CanRun(request->model))
            workers[d]->AddModel(request->model, entry.model, entry.token);
          entry.devices.push_back(static_cast<int>(d));
          candidates.push_back(static_cast<int>(d));
        }
      }
      if (candidates.empty()) {
        std::vector<std::string> why;
        for (size_t d = 0; d < workers.size(); ++d)
          why.push_back(fmt::format("{} ({})", infos[d].name, failures[d]));
        return UnavailableError(
            fmt::format("no device can serve model {}: every device is down: {}",
                        entry.model->name(), fmt::join(why, "; ")));
      }
    }
    // Resident parameters first when that device is not busier than a batch; else least loaded.
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
      auto key = [&](int d) {
        size_t depth = workers[d]->depth();
        bool resident = token != 0 && workers[d]->resident_token() == token &&
                        depth < static_cast<size_t>(options.max_batch);
        return std::make_pair(!resident, depth);
      };
      return key(a) < key(b);
    });
    bool only_down = true;
    for (int d : candidates) {
      last = workers[d]->Enqueue(request);
      if (last.ok()) return last;
      only_down = only_down && last.code() == StatusCode::kUnavailable;
    }
    if (!only_down) return last;  // queues full
  }
  return last;
}

void Fleet::Impl::OnFailure(int worker, const Status& why, std::vector<RequestPtr> orphans) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    failures[worker] = why.message();
  }
  for (RequestPtr& request : orphans) {
    Status dispatched = Dispatch(request);
    if (!dispatched.ok()) {
      OnAnswer(*request, false);
      Answer(request, dispatched);
    }
  }
}

void Fleet::Impl::OnAnswer(const fleet::Request& request, bool ok) {
  std::lock_guard<std::mutex> lock(mutex);
  ModelEntry& entry = models[request.model];
  ++entry.requests;
  if (!ok) ++entry.errors;
  entry.latencies_ms.push_back(
      std::chrono::duration<double, std::milli>(fleet::Clock::now() - request.submitted).count());
}

std::future<Result<InferenceResult>> Fleet::Submit(
    int model, TensorList inputs, std::optional<std::chrono::steady_clock::time_point> deadline) {
  auto request = std::make_unique<fleet::Request>();
  request->model = model;
  request->inputs = std::move(inputs);
  request->deadline = deadline;
  std::future<Result<InferenceResult>> future = request->promise.get_future();
  size_t model_count;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    model_count = impl_->models.size();
  }
  if (model < 0 || static_cast<size_t>(model) >= model_count) {
    Answer(request, InvalidArgumentError(fmt::format("unknown model id {}; the fleet has {} models",
                                                     model, model_count)));
    return future;
  }
  Status dispatched = impl_->Dispatch(request);
  if (!dispatched.ok()) {
    impl_->OnAnswer(*request, false);
    Answer(request, dispatched);
  }
  return future;
}

Result<InferenceResult> Fleet::Run(int model, TensorList inputs) {
  return Submit(model, std::move(inputs)).get();
}

std::vector<std::string> Fleet::device_names() const {
  std::vector<std::string> names;
  for (const DeviceInfo& d : impl_->infos) names.push_back(d.name);
  return names;
}

std::vector<std::string> Fleet::placement(int model) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<std::string> names;
  for (int d : impl_->models.at(model).devices) names.push_back(impl_->infos[d].name);
  return names;
}

FleetMetrics Fleet::Metrics() const {
  FleetMetrics metrics;
  for (const auto& w : impl_->workers) metrics.devices.push_back(w->metrics());
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (const ModelEntry& m : impl_->models) {
    metrics.models.push_back({m.model->name(), m.requests, m.errors,
                              Percentile(m.latencies_ms, 0.50), Percentile(m.latencies_ms, 0.95),
                              Percentile(m.latencies_ms, 0.99)});
  }
  return metrics;
}

}  // namespace tpufleet
