// The fleet's lifecycle and submission paths; placement, dispatch and metrics live beside it.
#include "tpufleet/fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/image.h"
#include "devices/selector.h"
#include "fleet/fleet_impl.h"

namespace tpufleet {

using fleet::Clock;
using fleet::RequestPtr;
using fleet::Worker;

namespace {

// The devices a fleet opens: those `named`, or else every Edge TPU among `available`.
Result<std::vector<std::string>> DevicesToOpen(const std::vector<std::string>& named,
                                               const std::vector<DeviceInfo>& available) {
  if (!named.empty()) return named;
  std::vector<std::string> edgetpus;
  for (const DeviceInfo& d : available) {
    if (IsEdgeTpu(d)) edgetpus.push_back(StableDeviceString(d));
  }
  if (edgetpus.empty()) {
    return NotFoundError(
        "no Edge TPU on this machine ('tpufleet devices' says what was looked at); name the "
        "devices to use in FleetOptions::devices, e.g. {\"sim:0\", \"sim:1\"} for simulated "
        "Edge TPUs or {\"cpu\"}");
  }
  return edgetpus;
}

// A fleet runs on one virtual-time rig when time is virtual and every device is simulated.
bool RunsOnVirtualRig(const FleetOptions& options, const fleet::DeviceFactory& factory,
                      const std::vector<std::string>& devices) {
  if (options.real_time) return false;
  return std::all_of(devices.begin(), devices.end(), [&](const std::string& text) {
    Result<const DeviceInfo*> info = factory.Resolve(text);
    return info.ok() && info.value()->type == DeviceType::kSim;
  });
}

fleet::WorkerOptions WorkerOptionsFrom(const FleetOptions& options) {
  fleet::WorkerOptions worker;
  worker.queue_capacity = options.queue_capacity;
  worker.max_batch = options.max_batch;
  worker.invocation_timeout_seconds = options.invocation_timeout_seconds;
  worker.max_deadline_misses = options.max_deadline_misses;
  worker.max_retries = options.max_retries;
  worker.max_failures_served_elsewhere = options.max_failures_served_elsewhere;
  worker.probe_interval = options.probe_interval;
  worker.spin_wait = options.spin_wait;
  return worker;
}

}  // namespace

Status UnknownModelError(int model, size_t models) {
  return InvalidArgumentError(fmt::format(
      "unknown model id {}; the fleet has {} models (ids from AddModel)", model, models));
}

Status RemovedModelError(int model) {
  return NotFoundError(fmt::format("model {} was removed from the fleet (RemoveModel)", model));
}

Result<std::unique_ptr<Fleet>> Fleet::Create(const FleetOptions& options) {
  if (options.max_retries < 0) {
    return InvalidArgumentError(
        fmt::format("max_retries is {}; it must be 0 (no retry) or more", options.max_retries));
  }
  auto impl = std::make_unique<Impl>();
  TPUFLEET_ASSIGN_OR_RETURN(impl->factory, fleet::DeviceFactory::Create(options));
  impl->options = options;
  Impl* raw = impl.get();
  fleet::DeviceFactory* factory = impl->factory.get();
  fleet::WorkerOptions worker_options = WorkerOptionsFrom(options);
  int threads = options.preparation_threads > 0
                    ? options.preparation_threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  raw->preparation = std::make_unique<ThreadPool>(threads);
  std::unique_ptr<Fleet> fleet(new Fleet(std::move(impl)));  // stops the threads on any error
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<std::string> devices,
                            DevicesToOpen(options.devices, factory->available()));
  if (RunsOnVirtualRig(options, *factory, devices)) factory->UseRigClock();
  std::vector<std::unique_ptr<backends::Device>> opened;
  for (const std::string& text : devices) {
    TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<backends::Device> device, factory->Open(text));
    const std::string& name = device->info().name;
    if (std::any_of(raw->infos.begin(), raw->infos.end(),
                    [&](const DeviceInfo& d) { return d.name == name; })) {
      return InvalidArgumentError(
          fmt::format("device {} is listed twice", StableDeviceString(device->info())));
    }
    raw->infos.push_back(device->info());
    opened.push_back(std::move(device));
  }
  if (opened.empty()) return InvalidArgumentError("a fleet needs at least one device");
  if (factory->rig_clock()) {  // lane i is the i-th device opened
    raw->rig = std::make_shared<fleet::VirtualRig>(
        factory->rig_clock(),
        [raw](RequestPtr request, bool admitted) {
          return raw->DispatchOrAnswer(std::move(request), admitted);
        },
        options.spin_wait);
  }
  for (size_t d = 0; d < opened.size(); ++d) {
    raw->workers.push_back(std::make_unique<Worker>(
        std::move(opened[d]), worker_options,
        [raw](std::vector<RequestPtr> requests) { raw->OnRedispatch(std::move(requests)); },
        [raw](const fleet::Request& r, const fleet::Outcome& o) { raw->OnAnswer(r, o); },
        raw->rig.get(), d));
  }
  // Once the workers are all there (this thread reads the list), and before any model, so
  // before any worker can hand a request back.
  raw->redispatcher = std::thread([raw] { raw->RedispatchLoop(); });
  if (options.invocation_timeout_seconds > 0) {
    raw->watchdog = std::thread([raw] { raw->WatchTimeouts(); });
  }
  return fleet;
}

Fleet::Fleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Fleet::~Fleet() {
  impl_->preparation->Drain();  // prepared requests are dispatched like any other
  // Modeled time runs to the end: every arrival is served on the rig's clock.
  if (impl_->rig) impl_->rig->Close();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->closing = true;
  }
  // Join every worker before destroying any: a failing worker may still look at the others. A
  // worker stuck in a device call is interrupted by the watchdog, which runs until the end.
  for (auto& worker : impl_->workers) worker->Stop();
  {
    std::lock_guard<std::mutex> lock(impl_->redispatch_mutex);
    impl_->redispatch_stop = true;
  }
  impl_->redispatch_wake.notify_all();
  if (impl_->redispatcher.joinable()) impl_->redispatcher.join();
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

Result<int> Fleet::AddModel(ModelPtr model, const std::vector<std::string>& selectors) {
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<int> ids, impl_->Add({std::move(model)}, selectors, false));
  return ids[0];
}

Result<int> Fleet::AddModel(const std::string& spec) {
  TPUFLEET_ASSIGN_OR_RETURN(ModelSpec parsed, ParseModelSpec(spec));
  TPUFLEET_ASSIGN_OR_RETURN(ModelPtr model, Model::FromFile(parsed.model));
  if (parsed.device.empty()) return AddModel(model);
  return AddModel(model, {parsed.device});
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

namespace {

RequestPtr NewRequest(int model, std::optional<Clock::time_point> deadline) {
  auto request = std::make_unique<fleet::Request>();
  request->model = model;
  request->deadline = deadline;
  return request;
}

}  // namespace

bool Fleet::Impl::Accept(fleet::Request& request) {
  std::unique_lock<std::mutex> lock(mutex);
  int model = request.model;
  Status refusal;
  if (model < 0 || static_cast<size_t>(model) >= models.size()) {
    refusal = UnknownModelError(model, models.size());
  } else if (models[model]->removed) {
    const Status& unusable = models[model]->unusable;
    refusal = unusable.ok() ? RemovedModelError(model) : unusable;
  } else {
    request.stats = models[model]->stats.get();
    request.stats->CountSubmitted();
    return true;
  }
  lock.unlock();  // a completion may take as long as it likes
  request.Answer(std::move(refusal));
  return false;
}

std::future<Result<InferenceResult>> Fleet::Impl::Admit(RequestPtr request,
                                                        std::future<Result<InferenceResult>> answer,
                                                        std::optional<double> at) {
  if (!rig) {
    DispatchOrAnswer(std::move(request), /*admitted=*/false);
    return answer;
  }
  auto ticket = std::make_shared<fleet::RigTicket>();
  request->ticket = ticket;
  rig->Stamp(*request, at);
  if (!rig->Arrive(request, /*admitted=*/false)) {  // the rig runs freely only from ~Fleet
    DispatchOrAnswer(std::move(request), /*admitted=*/false);
  }
  return rig->Deferred(std::move(answer), std::move(ticket));
}

std::future<Result<InferenceResult>> Fleet::Submit(int model, TensorList inputs,
                                                   std::optional<Clock::time_point> deadline) {
  RequestPtr request = NewRequest(model, deadline);
  std::future<Result<InferenceResult>> future = request->promise.get_future();
  if (!impl_->Accept(*request)) return future;
  request->inputs = std::move(inputs);
  return impl_->Admit(std::move(request), std::move(future), std::nullopt);
}

void Fleet::Submit(int model, TensorList inputs, std::optional<Clock::time_point> deadline,
                   Completion done) {
  if (impl_->rig) return done(Submit(model, std::move(inputs), deadline).get());
  RequestPtr request = NewRequest(model, deadline);
  request->completion = std::move(done);
  if (!impl_->Accept(*request)) return;
  request->inputs = std::move(inputs);
  impl_->DispatchOrAnswer(std::move(request), /*admitted=*/false);
}

std::future<Result<InferenceResult>> Fleet::SubmitAt(double modeled_seconds, int model,
                                                     TensorList inputs) {
  std::future<Result<InferenceResult>> future;
  if (!impl_->rig || !std::isfinite(modeled_seconds) || modeled_seconds < 0) {
    std::promise<Result<InferenceResult>> refused;
    future = refused.get_future();
    refused.set_value(impl_->rig
                          ? InvalidArgumentError(fmt::format(
                                "modeled arrival time {} must be a finite number of seconds >= 0",
                                modeled_seconds))
                          : FailedPreconditionError(
                                "SubmitAt needs a fleet in virtual time: simulated devices only, "
                                "real_time off; use Submit"));
    return future;
  }
  RequestPtr request = NewRequest(model, std::nullopt);
  future = request->promise.get_future();
  if (!impl_->Accept(*request)) return future;
  request->inputs = std::move(inputs);
  return impl_->Admit(std::move(request), std::move(future), modeled_seconds);
}

std::future<Result<InferenceResult>> Fleet::Submit(int model, Preparation prepare,
                                                   std::optional<Clock::time_point> deadline) {
  RequestPtr request = NewRequest(model, deadline);
  std::future<Result<InferenceResult>> future = request->promise.get_future();
  if (!impl_->Accept(*request)) return future;
  ModelPtr target;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    target = impl_->models[model]->model;
  }
  std::shared_ptr<fleet::RigTicket> ticket;
  if (impl_->rig) {  // it arrives once prepared
    ticket = std::make_shared<fleet::RigTicket>();
    request->ticket = ticket;
    impl_->rig->Stamp(*request, std::nullopt);
  }
  auto held = std::make_shared<RequestPtr>(std::move(request));
  Impl* impl = impl_.get();
  impl_->preparation->Post([impl, held, target, prepare = std::move(prepare)] {
    RequestPtr request = std::move(*held);
    Result<TensorList> inputs = prepare(*target);
    if (!inputs.ok()) {
      impl->OnAnswer(*request, {});
      return request->Answer(inputs.status());
    }
    request->inputs = std::move(inputs).value();
    if (!impl->rig || !impl->rig->Arrive(request, /*admitted=*/false)) {
      impl->DispatchOrAnswer(std::move(request), /*admitted=*/false);
    }
  });
  return ticket ? impl_->rig->Deferred(std::move(future), std::move(ticket)) : std::move(future);
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
  if (impl_->options.spin_wait && !impl_->rig) {
    // As the workers do: poll briefly before sleeping, so a quick answer is not delayed by the
    // tens of microseconds it takes to wake a thread whose core went idle.
    Clock::time_point until = Clock::now() + std::chrono::microseconds(50);
    while (answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
           Clock::now() < until) {
      std::this_thread::yield();
    }
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
  if (impl_->models[model]->removed) return RemovedModelError(model);
  std::vector<std::string> names;
  for (int d : impl_->CurrentDevicesLocked(*impl_->models[model])) {
    names.push_back(StableDeviceString(impl_->infos[d]));
  }
  return names;
}

}  // namespace tpufleet
