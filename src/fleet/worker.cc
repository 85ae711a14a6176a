#include "fleet/worker.h"

#include <fmt/format.h>

#include "devices/selector.h"

namespace tpufleet::fleet {
namespace {

// Errors that mean the device itself is gone or stuck, rather than this request being wrong.
bool IsDeviceFailure(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

double SecondsSince(Clock::time_point start, Clock::time_point now) {
  return std::chrono::duration<double>(now - start).count();
}

}  // namespace

Worker::Worker(std::unique_ptr<backends::Device> device, const WorkerOptions& options,
               FailureHandler on_failure, AnswerHandler on_answer)
    : name_(StableDeviceString(device->info())),
      device_(std::move(device)),
      options_(options),
      on_failure_(std::move(on_failure)),
      on_answer_(std::move(on_answer)),
      probe_interval_(options.probe_interval) {
  metrics_.device = name_;
  thread_ = std::thread([this] { Loop(); });
}

Worker::~Worker() { Stop(); }

void Worker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Worker::AddModels(const std::vector<int>& ids, const std::vector<ModelPtr>& models,
                       uint64_t token, bool group) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < ids.size(); ++i) {
    models_[ids[i]] = models[i];
    tokens_[ids[i]] = token;
    if (group) groups_[ids[i]] = ids;
  }
}

bool Worker::CanRun(int id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return models_.count(id) > 0;
}

Status Worker::Enqueue(RequestPtr& request) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!healthy_) return UnavailableError(name_ + " is down");
    if (stopping_) return UnavailableError(name_ + " is stopping");
    if (queue_.size() >= options_.queue_capacity) {
      return ResourceExhaustedError(
          fmt::format("{}: queue full ({} requests waiting); retry later or add devices", name_,
                      options_.queue_capacity));
    }
    queue_.push_back(std::move(request));
    queued_.store(queue_.size(), std::memory_order_release);
  }
  wake_.notify_one();
  return OkStatus();
}

bool Worker::healthy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return healthy_;
}

std::string Worker::down_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return down_reason_;
}

Worker::Load Worker::load() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {queue_.size(), resident_token_, service_seconds_};
}

DeviceMetrics Worker::metrics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceMetrics m = metrics_;
  m.healthy = healthy_;
  m.down_reason = down_reason_;
  m.queue_depth = queue_.size();
  m.p50_ms = latency_.Quantile(0.50) * 1e3;
  m.p95_ms = latency_.Quantile(0.95) * 1e3;
  m.p99_ms = latency_.Quantile(0.99) * 1e3;
  return m;
}

void Worker::CheckTimeout(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (options_.invocation_timeout_seconds <= 0 || !running_since_ || timed_out_) return;
  if (SecondsSince(*running_since_, now) > options_.invocation_timeout_seconds) {
    timed_out_ = true;
    device_->Interrupt();
  }
}

RequestPtr Worker::PickLocked() {
  // Keep serving the model (or its co-compiled group) whose parameters are resident while the
  // batch bound allows; otherwise the oldest request.
  if (batch_ < options_.max_batch) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      int m = (*it)->model;
      bool resident = m == last_model_ || (resident_token_ != 0 && tokens_[m] == resident_token_);
      if (resident) {
        RequestPtr r = std::move(*it);
        queue_.erase(it);
        ++batch_;
        return r;
      }
    }
  }
  RequestPtr r = std::move(queue_.front());
  queue_.pop_front();
  batch_ = 1;
  return r;
}

void Worker::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (!healthy_) {
      if (stopping_) return;
      ProbeLocked(lock);
      continue;
    }
    if (queue_.empty() && !stopping_) SpinForWork(lock);
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left to do
    RequestPtr request = PickLocked();
    queued_.store(queue_.size(), std::memory_order_release);
    lock.unlock();
    Serve(std::move(request));
    lock.lock();
  }
}

void Worker::SpinForWork(std::unique_lock<std::mutex>& lock) {
  // Waking a sleeping thread costs tens of microseconds when its core has gone idle; a request
  // arriving within the spin is taken at once. Yielding keeps the spin polite on busy cores.
  lock.unlock();
  Clock::time_point until = Clock::now() + kSpin;
  while (queued_.load(std::memory_order_acquire) == 0 && Clock::now() < until) {
    std::this_thread::yield();
  }
  lock.lock();
}

void Worker::ProbeLocked(std::unique_lock<std::mutex>& lock) {
  if (wake_.wait_until(lock, next_probe_, [&] { return stopping_; })) return;
  lock.unlock();
  Status probe = device_->Probe();
  lock.lock();
  if (probe.ok()) {
    healthy_ = true;
    ++metrics_.rejoins;
    return;
  }
  probe_interval_ = std::min(probe_interval_ * 2, options_.probe_interval * 64);
  next_probe_ = Clock::now() + probe_interval_;
}

Result<backends::Program*> Worker::ProgramFor(int model) {
  if (auto it = programs_.find(model); it != programs_.end()) return it->second.get();
  std::vector<int> ids = {model};
  std::vector<ModelPtr> models;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto group = groups_.find(model); group != groups_.end()) ids = group->second;
    for (int id : ids) models.push_back(models_.at(id));
  }
  if (ids.size() == 1) {
    TPUFLEET_ASSIGN_OR_RETURN(programs_[model], device_->Prepare(models[0]));
  } else {
    TPUFLEET_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<backends::Program>> programs,
                              device_->PrepareGroup(models));
    for (size_t i = 0; i < ids.size(); ++i) programs_[ids[i]] = std::move(programs[i]);
  }
  return programs_[model].get();
}

void Worker::Serve(RequestPtr request) {
  if (request->prepare_only) {
    Result<backends::Program*> program = ProgramFor(request->model);
    InferenceResult prepared;
    prepared.device = name_;
    request->promise.set_value(program.ok() ? Result<InferenceResult>(std::move(prepared))
                                            : program.status().WithContext(name_));
    return;
  }
  ++request->attempts;
  Clock::time_point start = Clock::now();
  if (request->deadline && start > *request->deadline) {
    return Answer(std::move(request),
                  DeadlineExceededError(
                      fmt::format("the request's deadline passed before {} could run it", name_)),
                  {});
  }
  Result<backends::Program*> program = ProgramFor(request->model);
  if (!program.ok()) {
    if (IsDeviceFailure(program.status())) {
      return GoDown(program.status().message(), std::move(request));
    }
    return Answer(std::move(request), program.status().WithContext(name_), {});
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_since_ = start;
    timed_out_ = false;
  }
  Result<backends::RunResult> run = device_->Run(*program.value(), request->inputs);
  bool timed_out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_since_.reset();
    timed_out = timed_out_;
  }
  const double timeout = options_.invocation_timeout_seconds;
  if (!run.ok() && (timed_out || IsDeviceFailure(run.status()))) {
    return GoDown(timed_out ? fmt::format("{}: no answer within the invocation timeout ({} s)",
                                          name_, timeout)
                            : run.status().message(),
                  std::move(request));
  }
  if (!run.ok()) return Answer(std::move(request), run.status(), {});

  Outcome outcome{true, run->reloaded, run->reloaded_bytes};
  double seconds = run->device_seconds;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    metrics_.busy_seconds += seconds;
    if (!run->reloaded) {  // a reload is the switch's cost, not the device's speed
      service_seconds_ = service_seconds_ == 0 ? seconds : 0.8 * service_seconds_ + 0.2 * seconds;
    }
    if (run->reloaded) {
      ++metrics_.reloads;
      metrics_.reloaded_bytes += run->reloaded_bytes;
    }
    resident_token_ = tokens_[request->model];
    last_model_ = request->model;
  }
  // On a virtual clock the watchdog never sees a modeled hang; the modeled time does.
  std::string down;
  if (timeout > 0 && seconds > timeout) {
    down = fmt::format("{}: an invocation took {:.1f} s, over the invocation timeout ({} s)", name_,
                       seconds, timeout);
  }
  Clock::time_point finish = std::max(
      Clock::now(),
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
  Result<InferenceResult> answer = InferenceResult{};
  if (request->deadline && finish > *request->deadline) {
    double late_ms = std::chrono::duration<double, std::milli>(finish - *request->deadline).count();
    if (++deadline_misses_ >= options_.max_deadline_misses && options_.max_deadline_misses > 0) {
      down = fmt::format("{}: finished {} requests in a row after their deadlines", name_,
                         deadline_misses_);
    }
    answer = DeadlineExceededError(
        fmt::format("{} answered {:.1f} ms after the request's deadline", name_, late_ms));
  } else {
    deadline_misses_ = 0;
    probe_interval_ = options_.probe_interval;  // healthy again: back to quick probes
    answer->outputs = std::move(run->outputs);
    answer->device = name_;
    answer->device_seconds = seconds;
    answer->timing_only = run->timing_only;
    answer->attempts = request->attempts;
  }
  // Down before answering: whoever gets the answer already sees the device as down.
  if (!down.empty()) GoDown(down, nullptr);
  Answer(std::move(request), std::move(answer), outcome);
}

void Worker::Answer(RequestPtr request, Result<InferenceResult> result, const Outcome& outcome) {
  Outcome reported = outcome;
  reported.ok = result.ok();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++metrics_.requests;
    if (!reported.ok) ++metrics_.errors;
    latency_.Record(SecondsSince(request->submitted, Clock::now()));
  }
  on_answer_(*request, reported);
  request->promise.set_value(std::move(result));
}

void Worker::GoDown(const std::string& why, RequestPtr failed) {
  std::vector<RequestPtr> orphans;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    healthy_ = false;
    down_reason_ = why;
    ++metrics_.failures;
    resident_token_ = 0;  // whatever comes back has an empty cache
    last_model_ = -1;
    deadline_misses_ = 0;
    next_probe_ = Clock::now() + probe_interval_;
    probe_interval_ = std::min(probe_interval_ * 2, options_.probe_interval * 64);
    if (failed) orphans.push_back(std::move(failed));
    while (!queue_.empty()) {
      orphans.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_.store(0, std::memory_order_release);
  }
  on_failure_(std::move(orphans));
}

}  // namespace tpufleet::fleet
