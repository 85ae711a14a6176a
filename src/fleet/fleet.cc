#include "tpufleet/fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "common/image.h"
#include "common/thread_pool.h"
#include "devices/selector.h"
#include "fleet/device_factory.h"
#include "fleet/dispatch_order.h"
#include "fleet/worker.h"
#include "sim/compiler.h"

namespace tpufleet {

using fleet::Clock;
using fleet::RequestPtr;
using fleet::Worker;

namespace {

struct ModelEntry {
  ModelPtr model;
  uint64_t token = 0;        // caching token on an Edge TPU (0: none or unknown)
  std::vector<int> group;    // ids of its co-compiled group, itself included; empty: alone
  std::vector<int> devices;  // placement: worker indices
  Status unusable;  // set when a device could not prepare it: AddModel failed, never dispatched
  fleet::LatencyHistogram latency;
  uint64_t submitted = 0, requests = 0, errors = 0, reloads = 0, reloaded_bytes = 0;

  // Models placed as one unit (co-compiled: one caching token) share this key.
  uint64_t unit(size_t id) const { return token != 0 ? token : (uint64_t{1} << 63) | id; }
};

// The caching token the models get when compiled (together, in order, if several) for an Edge
// TPU: the same for every device, so it identifies what is resident.
uint64_t CachingToken(const std::vector<ModelPtr>& models) {
  constexpr uint64_t kSram = 8 * 1024 * 1024;
  std::vector<sim::EdgeTpuProgram> programs;
  for (const ModelPtr& model : models) {
    Result<sim::EdgeTpuProgram> program = sim::Compile(*model, kSram);
    if (!program.ok()) return 0;
    programs.push_back(std::move(program).value());
  }
  if (programs.size() > 1) programs = sim::CoCompile(std::move(programs), kSram);
  return programs[0].caching_token;
}

// The devices a fleet opens: those `named`, or else every Edge TPU among `available`.
Result<std::vector<std::string>> DevicesToOpen(const std::vector<std::string>& named,
                                               const std::vector<DeviceInfo>& available) {
  if (!named.empty()) return named;
  std::vector<std::string> edgetpus;
  for (const DeviceInfo& d : available) {
    if (d.type == DeviceType::kUsb || d.type == DeviceType::kPci)
      edgetpus.push_back(StableDeviceString(d));
  }
  if (edgetpus.empty()) {
    return NotFoundError(
        "no Edge TPU on this machine ('tpufleet devices' says what was looked at); name the "
        "devices to use in FleetOptions::devices, e.g. {\"sim:0\", \"sim:1\"} for simulated "
        "Edge TPUs or {\"cpu\"}");
  }
  return edgetpus;
}

Status UnknownModelError(int model, size_t models) {
  return InvalidArgumentError(fmt::format(
      "unknown model id {}; the fleet has {} models (ids from AddModel)", model, models));
}

void Answer(RequestPtr& request, Status status) { request->promise.set_value(std::move(status)); }

}  // namespace

struct Fleet::Impl {
  FleetOptions options;
  std::unique_ptr<fleet::DeviceFactory> factory;  // what device strings can name
  Clock::time_point started = Clock::now();
  std::vector<DeviceInfo> infos;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<ThreadPool> preparation;
  mutable std::mutex mutex;  // models, placement, closing
  std::vector<ModelEntry> models;
  bool closing = false;  // set by ~Fleet: failed-over requests are answered, not re-queued

  std::thread watchdog;
  std::mutex watchdog_mutex;
  std::condition_variable watchdog_wake;
  bool watchdog_stop = false;

  Status Dispatch(RequestPtr& request);
  void OrderByExpectedStart(std::vector<int>& candidates, uint64_t token) const;
  // Dispatches, or answers with the reason no device took the request.
  void DispatchOrAnswer(RequestPtr request);
  void OnFailure(std::vector<RequestPtr> orphans);
  void OnAnswer(const fleet::Request& request, const fleet::Outcome& outcome);
  Result<std::vector<int>> Place(const std::string& name, uint64_t token,
                                 const std::vector<std::string>& selectors) const;
  Result<std::vector<int>> Add(std::vector<ModelPtr> models,
                               const std::vector<std::string>& selectors, bool group);
  // Makes worker `d` able to run `id` (and its group): failover to a device not placed before.
  void ExtendPlacementLocked(int id, int d);
  void WatchTimeouts();
};

Result<std::unique_ptr<Fleet>> Fleet::Create(const FleetOptions& options) {
  auto impl = std::make_unique<Impl>();
  TPUFLEET_ASSIGN_OR_RETURN(impl->factory, fleet::DeviceFactory::Create(options));
  impl->options = options;
  Impl* raw = impl.get();
  fleet::DeviceFactory* factory = impl->factory.get();
  fleet::WorkerOptions worker_options{options.queue_capacity, options.max_batch,
                                      options.invocation_timeout_seconds,
                                      options.max_deadline_misses, options.probe_interval};
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<std::string> devices,
                            DevicesToOpen(options.devices, factory->available()));
  for (const std::string& text : devices) {
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Device> device, factory->Open(text));
    const std::string& name = device->info().name;
    if (std::any_of(raw->infos.begin(), raw->infos.end(),
                    [&](const DeviceInfo& d) { return d.name == name; })) {
      return InvalidArgumentError(
          fmt::format("device {} is listed twice", StableDeviceString(device->info())));
    }
    raw->infos.push_back(device->info());
    raw->workers.push_back(std::make_unique<Worker>(
        std::move(device), worker_options,
        [raw](std::vector<RequestPtr> orphans) { raw->OnFailure(std::move(orphans)); },
        [raw](const fleet::Request& r, const fleet::Outcome& o) { raw->OnAnswer(r, o); }));
  }
  if (raw->workers.empty()) return InvalidArgumentError("a fleet needs at least one device");
  int threads = options.preparation_threads > 0
                    ? options.preparation_threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  raw->preparation = std::make_unique<ThreadPool>(threads);
  if (options.invocation_timeout_seconds > 0) {
    raw->watchdog = std::thread([raw] { raw->WatchTimeouts(); });
  }
  return std::unique_ptr<Fleet>(new Fleet(std::move(impl)));
}

Fleet::Fleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Fleet::~Fleet() {
  impl_->preparation->Drain();  // prepared requests are dispatched like any other
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->closing = true;
  }
  // Join every worker before destroying any: a failing worker may still look at the others.
  for (auto& worker : impl_->workers) worker->Stop();
  {
    std::lock_guard<std::mutex> lock(impl_->watchdog_mutex);
    impl_->watchdog_stop = true;
  }
  impl_->watchdog_wake.notify_all();
  if (impl_->watchdog.joinable()) impl_->watchdog.join();
}

void Fleet::Impl::WatchTimeouts() {
  auto period = std::chrono::duration<double>(
      std::clamp(options.invocation_timeout_seconds / 10, 0.001, 0.1));
  std::unique_lock<std::mutex> lock(watchdog_mutex);
  while (!watchdog_wake.wait_for(lock, period, [&] { return watchdog_stop; })) {
    for (auto& worker : workers) worker->CheckTimeout(Clock::now());
  }
}

Result<std::vector<int>> Fleet::Impl::Place(const std::string& name, uint64_t token,
                                            const std::vector<std::string>& selectors) const {
  std::vector<int> placed;
  for (const std::string& text : selectors) {
    // Strings mean what they mean machine-wide ("sim:1" is sim:1 even in a fleet without
    // sim:0); "any" forms take the first match the fleet has, PCIe first.
    TPUFLEET_ASSIGN_OR_RETURN(Selector selector, ParseSelector(text));
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<const DeviceInfo*> found,
                              ResolveSelector(selector, factory->available()));
    int index = -1;
    for (const DeviceInfo* wanted : found) {
      for (size_t d = 0; d < infos.size() && index < 0; ++d) {
        if (infos[d].type == wanted->type && infos[d].name == wanted->name) {
          index = static_cast<int>(d);
        }
      }
      if (index >= 0) break;
    }
    if (index < 0) {
      std::vector<std::string> names;
      for (const DeviceInfo& d : infos) names.push_back(StableDeviceString(d));
      return NotFoundError(
          fmt::format("'{}' names {}, which is not one of the fleet's devices ({})", text,
                      StableDeviceString(*found[0]), fmt::join(names, ", ")));
    }
    if (std::find(placed.begin(), placed.end(), index) == placed.end()) placed.push_back(index);
  }
  if (!placed.empty()) return placed;
  // Automatic. Co-compiled models (one caching token) go where the first of them went.
  for (const ModelEntry& m : models) {
    if (token != 0 && m.token == token && !m.devices.empty()) return std::vector<int>{m.devices[0]};
  }
  // Else a device no model uses yet, PCIe first, then in order, as Coral's old API; a
  // co-compiled group counts as one model.
  std::vector<std::set<uint64_t>> units(infos.size());
  std::set<uint64_t> all_units;
  for (size_t id = 0; id < models.size(); ++id) {
    for (int d : models[id].devices) units[d].insert(models[id].unit(id));
    all_units.insert(models[id].unit(id));
  }
  for (bool pcie : {true, false}) {  // PCIe first, as the old API preferred the on-board device
    for (size_t d = 0; d < infos.size(); ++d) {
      if (units[d].empty() && (!pcie || infos[d].type == DeviceType::kPci)) {
        return std::vector<int>{static_cast<int>(d)};
      }
    }
  }
  if (options.strict) {
    return FailedPreconditionError(fmt::format(
        "{} would be model number {}, but the fleet has {} devices ({}) and strict placement "
        "gives each model its own; give it a device string (model.tflite@sim:0) or leave strict "
        "placement off to share devices",
        name, all_units.size() + 1, infos.size(), DescribeDevices(infos)));
  }
  // Shared: the device with the fewest models.
  auto least = std::min_element(units.begin(), units.end(),
                                [](const auto& a, const auto& b) { return a.size() < b.size(); });
  return std::vector<int>{static_cast<int>(least - units.begin())};
}

Result<std::vector<int>> Fleet::Impl::Add(std::vector<ModelPtr> models,
                                          const std::vector<std::string>& selectors, bool group) {
  for (const ModelPtr& m : models) {
    if (!m) return InvalidArgumentError("no model given");
  }
  if (models.empty()) return InvalidArgumentError("no model given");
  uint64_t token = CachingToken(models);
  std::vector<int> ids, devices;
  {
    std::lock_guard<std::mutex> lock(mutex);
    TPUFLEET_ASSIGN_OR_RETURN(devices, Place(models[0]->name(), token, selectors));
    for (size_t i = 0; i < models.size(); ++i) {
      ids.push_back(static_cast<int>(this->models.size() + i));
    }
    for (size_t i = 0; i < models.size(); ++i) {
      ModelEntry entry;
      entry.model = models[i];
      entry.token = token;
      entry.devices = devices;
      if (group) entry.group = ids;
      this->models.push_back(std::move(entry));
    }
    for (int d : devices) workers[d]->AddModels(ids, models, token, group);
  }
  // Prepare on every placed device now, so a model a device cannot run fails here, not on its
  // first request. A device that is down or full prepares it later, on first use.
  std::vector<std::future<Result<InferenceResult>>> prepared;
  for (int d : devices) {
    auto request = std::make_unique<fleet::Request>();
    request->model = ids[0];
    request->prepare_only = true;
    std::future<Result<InferenceResult>> done = request->promise.get_future();
    if (workers[d]->Enqueue(request).ok()) prepared.push_back(std::move(done));
  }
  Status failed;
  for (auto& done : prepared) {
    Result<InferenceResult> result = done.get();
    if (!result.ok() && failed.ok()) failed = result.status();
  }
  if (failed.ok()) return ids;
  std::lock_guard<std::mutex> lock(mutex);
  for (int id : ids) {
    this->models[id].devices.clear();
    this->models[id].unusable = failed;
  }
  return failed;
}

Result<int> Fleet::AddModel(ModelPtr model, const std::vector<std::string>& selectors) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<int> ids, impl_->Add({std::move(model)}, selectors, false));
  return ids[0];
}

Result<int> Fleet::AddModel(const std::string& spec) {
  size_t at = spec.rfind('@');
  std::string path = at == std::string::npos ? spec : spec.substr(0, at);
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromFile(path));
  if (at == std::string::npos) return AddModel(model);
  return AddModel(model, {spec.substr(at + 1)});
}

Result<std::vector<int>> Fleet::AddCoCompiled(std::vector<ModelPtr> models,
                                              const std::vector<std::string>& selectors) {
  if (models.size() < 2) return InvalidArgumentError("co-compiling needs at least two models");
  for (const ModelPtr& m : models) {
    if (m && m->is_edgetpu_compiled()) {
      return InvalidArgumentError(fmt::format(
          "{} is already compiled for the Edge TPU; co-compile the uncompiled models, or add "
          "files edgetpu_compiler co-compiled with AddModel (they share a caching token)",
          m->name()));
    }
  }
  return impl_->Add(std::move(models), selectors, true);
}

void Fleet::Impl::ExtendPlacementLocked(int id, int d) {
  ModelEntry& entry = models[id];
  std::vector<int> ids = entry.group.empty() ? std::vector<int>{id} : entry.group;
  std::vector<ModelPtr> group_models;
  for (int i : ids) {
    group_models.push_back(models[i].model);
    models[i].devices.push_back(d);
  }
  workers[d]->AddModels(ids, group_models, entry.token, !entry.group.empty());
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
      const ModelEntry& entry = models[request->model];
      if (!entry.unusable.ok()) return entry.unusable;
      token = entry.token;
      for (int d : entry.devices) {
        if (workers[d]->healthy()) candidates.push_back(d);
      }
      if (candidates.empty()) {  // failover: any healthy device can load the model
        for (size_t d = 0; d < workers.size(); ++d) {
          if (workers[d]->healthy()) candidates.push_back(static_cast<int>(d));
        }
      }
      if (candidates.empty()) {
        std::vector<std::string> why;
        for (const auto& worker : workers) {
          why.push_back(fmt::format("{} ({})", worker->name(), worker->down_reason()));
        }
        return UnavailableError(
            fmt::format("no device can serve model {}: every device is down: {}",
                        entry.model->name(), fmt::join(why, "; ")));
      }
    }
    OrderByExpectedStart(candidates, token);
    bool only_down = true;
    for (int d : candidates) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!workers[d]->CanRun(request->model)) ExtendPlacementLocked(request->model, d);
      }
      last = workers[d]->Enqueue(request);
      if (last.ok()) return last;
      only_down = only_down && last.code() == StatusCode::kUnavailable;
    }
    if (!only_down) return last;  // queues full
  }
  return last;
}

void Fleet::Impl::OrderByExpectedStart(std::vector<int>& candidates, uint64_t token) const {
  std::vector<fleet::DispatchCandidate> loads;
  for (int d : candidates) {
    Worker::Load l = workers[d]->load();
    loads.push_back({l.depth, token != 0 && l.resident_token == token, l.service_seconds});
  }
  std::vector<int> ordered;
  for (size_t i : fleet::DispatchOrder(loads, options.max_batch)) ordered.push_back(candidates[i]);
  candidates = std::move(ordered);
}

void Fleet::Impl::DispatchOrAnswer(RequestPtr request) {
  Status dispatched = Dispatch(request);
  if (dispatched.ok()) return;
  OnAnswer(*request, {});
  Answer(request, dispatched);
}

void Fleet::Impl::OnFailure(std::vector<RequestPtr> orphans) {
  for (RequestPtr& request : orphans) DispatchOrAnswer(std::move(request));
}

void Fleet::Impl::OnAnswer(const fleet::Request& request, const fleet::Outcome& outcome) {
  std::lock_guard<std::mutex> lock(mutex);
  ModelEntry& entry = models[request.model];
  ++entry.requests;
  if (!outcome.ok) ++entry.errors;
  if (outcome.reloaded) {
    ++entry.reloads;
    entry.reloaded_bytes += outcome.reloaded_bytes;
  }
  entry.latency.Record(std::chrono::duration<double>(Clock::now() - request.submitted).count());
}

namespace {

// A request for `model`, counted as submitted; null (and `future` answered) for an unknown id.
RequestPtr NewRequest(int model, std::optional<Clock::time_point> deadline,
                      std::vector<ModelEntry>& models, std::mutex& mutex,
                      std::future<Result<InferenceResult>>& future) {
  auto request = std::make_unique<fleet::Request>();
  request->model = model;
  request->deadline = deadline;
  future = request->promise.get_future();
  std::lock_guard<std::mutex> lock(mutex);
  if (model < 0 || static_cast<size_t>(model) >= models.size()) {
    Answer(request, UnknownModelError(model, models.size()));
    return nullptr;
  }
  ++models[model].submitted;
  return request;
}

}  // namespace

std::future<Result<InferenceResult>> Fleet::Submit(int model, TensorList inputs,
                                                   std::optional<Clock::time_point> deadline) {
  std::future<Result<InferenceResult>> future;
  RequestPtr request = NewRequest(model, deadline, impl_->models, impl_->mutex, future);
  if (!request) return future;
  request->inputs = std::move(inputs);
  impl_->DispatchOrAnswer(std::move(request));
  return future;
}

std::future<Result<InferenceResult>> Fleet::Submit(int model, Preparation prepare,
                                                   std::optional<Clock::time_point> deadline) {
  std::future<Result<InferenceResult>> future;
  RequestPtr request = NewRequest(model, deadline, impl_->models, impl_->mutex, future);
  if (!request) return future;
  ModelPtr target;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    target = impl_->models[model].model;
  }
  auto held = std::make_shared<RequestPtr>(std::move(request));
  Impl* impl = impl_.get();
  impl_->preparation->Post([impl, held, target, prepare = std::move(prepare)] {
    RequestPtr request = std::move(*held);
    Result<TensorList> inputs = prepare(*target);
    if (!inputs.ok()) {
      impl->OnAnswer(*request, {});
      return Answer(request, inputs.status());
    }
    request->inputs = std::move(inputs).value();
    impl->DispatchOrAnswer(std::move(request));
  });
  return future;
}

std::future<Result<InferenceResult>> Fleet::SubmitImage(int model, std::string image_path,
                                                        std::optional<Clock::time_point> deadline) {
  return Submit(
      model,
      [path = std::move(image_path)](const Model& target) -> Result<TensorList> {
        TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint8_t> tensor, ImageFileTensor(path, target));
        return TensorList{std::move(tensor)};
      },
      deadline);
}

Result<InferenceResult> Fleet::Run(int model, TensorList inputs) {
  std::future<Result<InferenceResult>> answer = Submit(model, std::move(inputs));
  // As the worker does: poll briefly before sleeping, so a quick answer is not delayed by the
  // tens of microseconds it takes to wake a thread whose core went idle.
  Clock::time_point until = Clock::now() + std::chrono::microseconds(50);
  while (answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         Clock::now() < until) {
    std::this_thread::yield();
  }
  return answer.get();
}

std::vector<std::string> Fleet::device_names() const {
  std::vector<std::string> names;
  for (const DeviceInfo& d : impl_->infos) names.push_back(StableDeviceString(d));
  return names;
}

Result<std::vector<std::string>> Fleet::placement(int model) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (model < 0 || static_cast<size_t>(model) >= impl_->models.size()) {
    return UnknownModelError(model, impl_->models.size());
  }
  std::vector<std::string> names;
  for (int d : impl_->models[model].devices) names.push_back(StableDeviceString(impl_->infos[d]));
  return names;
}

FleetMetrics Fleet::Metrics() const {
  FleetMetrics metrics;
  bool virtual_time = !impl_->options.real_time;
  for (size_t d = 0; d < impl_->workers.size(); ++d) {
    metrics.devices.push_back(impl_->workers[d]->metrics());
    virtual_time = virtual_time && impl_->infos[d].type == DeviceType::kSim;
  }
  // In virtual time every device's timeline starts at 0 and advances only while it works.
  for (const DeviceMetrics& d : metrics.devices) {
    metrics.elapsed_seconds = std::max(metrics.elapsed_seconds, d.busy_seconds);
  }
  if (!virtual_time) {
    metrics.elapsed_seconds = std::chrono::duration<double>(Clock::now() - impl_->started).count();
  }
  for (DeviceMetrics& d : metrics.devices) {
    d.busy_fraction = metrics.elapsed_seconds > 0 ? d.busy_seconds / metrics.elapsed_seconds : 0;
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (const ModelEntry& m : impl_->models) {
    ModelMetrics mm;
    mm.model = m.model->name();
    for (int d : m.devices) mm.devices.push_back(StableDeviceString(impl_->infos[d]));
    mm.requests = m.requests;
    mm.errors = m.errors;
    mm.reloads = m.reloads;
    mm.reloaded_bytes = m.reloaded_bytes;
    mm.queue_depth = m.submitted - m.requests;
    mm.p50_ms = m.latency.Quantile(0.50) * 1e3;
    mm.p95_ms = m.latency.Quantile(0.95) * 1e3;
    mm.p99_ms = m.latency.Quantile(0.99) * 1e3;
    metrics.models.push_back(std::move(mm));
  }
  return metrics;
}

}  // namespace tpufleet
