#include "fleet/worker.h"

#include <fmt/format.h>

#include <algorithm>

#include "devices/selector.h"
#include "fleet/dispatch_order.h"

namespace tpufleet::fleet {
namespace {

double SecondsSince(Clock::time_point start, Clock::time_point now) {
  return std::chrono::duration<double>(now - start).count();
}

// Errors after which the device itself is in doubt: it may be gone (a probe tells), or the
// invocation failed on the device's side. Anything else is the request's own error.
bool PutsDeviceInDoubt(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kAborted ||
         s.code() == StatusCode::kDeadlineExceeded;
}

// An invocation overruns its device's own expected time when it takes more than this many times
// that, and this much longer.
constexpr double kOverrunFactor = 4;
constexpr double kOverrunSlackSeconds = 0.01;

bool Overruns(double seconds, double expected) {
  return expected > 0 && seconds > kOverrunFactor * expected &&
         seconds > expected + kOverrunSlackSeconds;
}

}  // namespace

Worker::Worker(std::unique_ptr<backends::Device> device, const WorkerOptions& options,
               RedispatchHandler redispatch, AnswerHandler on_answer, VirtualRig* rig, size_t lane)
    : name_(StableDeviceString(device->info())),
      device_(std::move(device)),
      options_(options),
      redispatch_(std::move(redispatch)),
      on_answer_(std::move(on_answer)),
      rig_(rig),
      lane_(lane),
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
                       bool group) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < ids.size(); ++i) {
    models_[ids[i]] = models[i];
    if (group) groups_[ids[i]] = ids;
  }
}

void Worker::ForgetModels(const std::vector<int>& ids) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (int id : ids) {
    models_.erase(id);
    groups_.erase(id);
    tokens_.erase(id);
    expected_seconds_.erase(id);
  }
}

bool Worker::CanRun(int id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return models_.count(id) > 0;
}

Status Worker::Enqueue(RequestPtr& request, bool admitted) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!healthy_) return UnavailableError(name_ + " is down");
    if (stopping_) return UnavailableError(name_ + " is stopping");
    if (!admitted && queue_.size() >= options_.queue_capacity) {
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

Worker::Load Worker::load(int model) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {queue_.size(), IsResident(TokenLocked(model), resident_token_), service_seconds_};
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
  m.latency_sum_seconds = latency_.sum_seconds();
  return m;
}

void Worker::CheckTimeout(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (options_.invocation_timeout_seconds <= 0 || !call_started_ || timed_out_) return;
  if (SecondsSince(*call_started_, now) > options_.invocation_timeout_seconds) {
    timed_out_ = true;
    device_->Interrupt();
  }
}

void Worker::FailedWhatAnotherServed() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!healthy_ || ++failed_elsewhere_ < options_.max_failures_served_elsewhere ||
        options_.max_failures_served_elsewhere <= 0) {
      return;
    }
    demote_reason_ =
        fmt::format("{}: {} requests in a row failed here and were then served by another device",
                    name_, failed_elsewhere_);
  }
  wake_.notify_all();
}

uint64_t Worker::TokenLocked(int model) const {
  auto token = tokens_.find(model);
  return token != tokens_.end() ? token->second : 0;
}

RequestPtr Worker::PickLocked() {
  BatchPick pick = PickNext(
      queue_,
      [&](const RequestPtr& r) { return IsResident(TokenLocked(r->model), resident_token_); },
      batch_, options_.max_batch);
  batch_ = pick.batch;
  auto it = queue_.begin() + static_cast<std::ptrdiff_t>(pick.index);
  RequestPtr r = std::move(*it);
  queue_.erase(it);
  return r;
}

void Worker::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (!demote_reason_.empty()) {
      std::string why = std::exchange(demote_reason_, {});
      lock.unlock();
      GoDown(why, nullptr);
      lock.lock();
      continue;
    }
    if (!healthy_) {
      if (stopping_) return;
      ProbeLocked(lock);
      continue;
    }
    if (options_.spin_wait && queue_.empty() && !stopping_) SpinForWork(lock);
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !demote_reason_.empty(); });
    if (!demote_reason_.empty()) continue;
    if (queue_.empty()) return;  // stopping with nothing left to do
    if (RequestPtr prepare = TakePrepareLocked()) {
      lock.unlock();
      ServePrepare(std::move(prepare));
      lock.lock();
      continue;
    }
    ServeNextLocked(lock);
  }
}

RequestPtr Worker::TakePrepareLocked() {
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [](const RequestPtr& r) { return r->prepare_only; });
  if (it == queue_.end()) return nullptr;
  RequestPtr r = std::move(*it);
  queue_.erase(it);
  queued_.store(queue_.size(), std::memory_order_release);
  return r;
}

void Worker::ServeNextLocked(std::unique_lock<std::mutex>& lock) {
  bool turn = false;
  if (rig_) {
    lock.unlock();
    turn = rig_->AwaitTurn(lane_);
    lock.lock();
  }
  if (!queue_.empty() && healthy_) {
    RequestPtr request = PickLocked();
    queued_.store(queue_.size(), std::memory_order_release);
    lock.unlock();
    Serve(std::move(request));
    lock.lock();
  }
  if (turn) {
    bool more = !queue_.empty();
    lock.unlock();
    rig_->EndTurn(lane_, more);
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

template <typename Call>
auto Worker::Guarded(Call call, bool& timed_out) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Cleared before the watchdog can see the call: an interrupt is never lost, and never
    // meant for an earlier call.
    device_->ClearInterrupt();
    call_started_ = Clock::now();
    timed_out_ = false;
  }
  auto result = call();
  std::lock_guard<std::mutex> lock(mutex_);
  call_started_.reset();
  timed_out = timed_out_;
  return result;
}

void Worker::ProbeLocked(std::unique_lock<std::mutex>& lock) {
  if (wake_.wait_until(lock, next_probe_, [&] { return stopping_; })) return;
  lock.unlock();
  bool timed_out = false;
  Status reopened = Guarded([&] { return device_->Reopen(); }, timed_out);
  lock.lock();
  if (reopened.ok()) {
    healthy_ = true;
    ++metrics_.rejoins;
    runs_since_rejoin_ = 0;
    failed_elsewhere_ = 0;
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
  std::lock_guard<std::mutex> lock(mutex_);
  for (int id : ids) tokens_[id] = programs_[id]->caching_token();
  return programs_[model].get();
}

std::string Worker::DiagnoseFailure(const Status& failure, bool timed_out) {
  if (timed_out) {
    return fmt::format("{}: no answer within the invocation timeout ({} s)", name_,
                       options_.invocation_timeout_seconds);
  }
  if (failure.code() == StatusCode::kDeadlineExceeded) return failure.message();  // it hung
  bool probe_timed_out = false;
  Status probe = Guarded([&] { return device_->Probe(); }, probe_timed_out);
  if (!probe.ok() && probe_timed_out) {
    return fmt::format("{} (and a probe after it got no answer within {} s)", failure.message(),
                       options_.invocation_timeout_seconds);
  }
  if (!probe.ok()) return failure.message();
  return {};
}

void Worker::ServePrepare(RequestPtr request) {
  if (!request->release.empty()) {  // RemoveModel's: the programs and their device memory go
    for (int id : request->release) programs_.erase(id);
    InferenceResult released;
    released.device = name_;
    return request->Answer(std::move(released));
  }
  bool timed_out = false;
  Result<backends::Program*> program =
      Guarded([&] { return ProgramFor(request->model); }, timed_out);
  if (!program.ok()) {
    const Status& failure = program.status();
    if (PutsDeviceInDoubt(failure) || timed_out) {
      std::string down = DiagnoseFailure(failure, timed_out);
      if (!down.empty()) {
        // Down before answering; AddModel takes UNAVAILABLE as "prepared later, on first use".
        GoDown(down, nullptr);
        return request->Answer(UnavailableError(down));
      }
    }
    request->Answer(failure.WithContext(name_));
    return;
  }
  InferenceResult prepared;
  prepared.device = name_;
  request->Answer(std::move(prepared));
}

void Worker::Serve(RequestPtr request) {
  if (request->prepare_only) return ServePrepare(std::move(request));
  ++request->attempts;
  Clock::time_point start = Clock::now();
  if (request->deadline && start > *request->deadline) {
    return Answer(std::move(request),
                  DeadlineExceededError(
                      fmt::format("the request's deadline passed before {} could run it", name_)),
                  {});
  }
  // Preparing (on first use, or again after a rejoin) and the invocation are two device calls,
  // each bounded by the timeout on its own: a first use never has less time to run than others.
  bool timed_out = false;
  Result<backends::Program*> program =
      Guarded([&] { return ProgramFor(request->model); }, timed_out);
  if (!program.ok()) return ServeFailure(std::move(request), program.status(), timed_out);
  Result<backends::RunResult> run =
      Guarded([&] { return device_->Run(**program, request->inputs); }, timed_out);
  // A call that answered is never taken for a hang, however close to the timeout it came.
  if (!run.ok()) return ServeFailure(std::move(request), run.status(), timed_out);
  ServeSuccess(std::move(request), std::move(run).value());
}

void Worker::ServeFailure(RequestPtr request, const Status& failure, bool timed_out) {
  if (!timed_out && !PutsDeviceInDoubt(failure)) {
    return Answer(std::move(request), failure.WithContext(name_), {});
  }
  std::string down = DiagnoseFailure(failure, timed_out);
  if (down.empty()) return RetryElsewhere(std::move(request), failure.WithContext(name_));
  if (request->attempts <= options_.max_retries) return GoDown(down, std::move(request));
  // Past its retries, a request that took devices down is not handed to another one.
  GoDown(down, nullptr);
  if (request->first_error.ok()) request->first_error = UnavailableError(down);
  Status first = request->first_error;
  Answer(std::move(request), first, {});
}

std::string Worker::JudgeInvocationTime(int model, double seconds, bool reloaded) {
  // On a virtual clock the watchdog never sees a modeled hang; the modeled time does.
  const double timeout = options_.invocation_timeout_seconds;
  if (timeout > 0 && seconds > timeout) {
    return fmt::format("{}: an invocation took {:.1f} s, over the invocation timeout ({} s)", name_,
                       seconds, timeout);
  }
  // A reload's time says nothing about the device's usual time, and the CPU's time tells the
  // host's load, not a device's health.
  if (reloaded || device_->info().type == DeviceType::kCpu) return {};
  std::lock_guard<std::mutex> lock(mutex_);
  double& expected = expected_seconds_[model];
  if (!Overruns(seconds, expected)) {
    overruns_ = 0;
    expected = UpdateServiceSeconds(expected, seconds, /*reloaded=*/false);
    return {};
  }
  if (++overruns_ < options_.max_deadline_misses || options_.max_deadline_misses <= 0) return {};
  return fmt::format(
      "{}: {} invocations in a row overran its own expected time (the last took {:.1f} ms, "
      "more than {}x the {:.1f} ms it usually takes)",
      name_, overruns_, seconds * 1e3, kOverrunFactor, expected * 1e3);
}

void Worker::ServeSuccess(RequestPtr request, backends::RunResult run) {
  Outcome outcome{true, run.reloaded, run.reloaded_bytes};
  double seconds = run.device_seconds;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    metrics_.busy_seconds += seconds;
    service_seconds_ = UpdateServiceSeconds(service_seconds_, seconds, run.reloaded);
    if (run.reloaded) {
      ++metrics_.reloads;
      metrics_.reloaded_bytes += run.reloaded_bytes;
    }
    resident_token_ = TokenLocked(request->model);
  }
  std::string down = JudgeInvocationTime(request->model, seconds, run.reloaded);
  // A client's deadline is the client's: a request answered after it gets DEADLINE_EXCEEDED,
  // and the device is judged by its own time only (a deadline may be shorter than any device
  // could do). Deadlines are wall-clock times, compared with when the answer is ready here.
  Clock::time_point finish = Clock::now();
  Result<InferenceResult> answer = InferenceResult{};
  if (request->deadline && finish > *request->deadline) {
    double late_ms = std::chrono::duration<double, std::milli>(finish - *request->deadline).count();
    answer = DeadlineExceededError(
        fmt::format("{} answered {:.1f} ms after the request's deadline", name_, late_ms));
  } else {
    RecordSuccess();
    answer->outputs = std::move(run.outputs);
    answer->device = name_;
    answer->device_seconds = seconds;
    answer->timing_only = run.timing_only;
    answer->attempts = request->attempts;
    // Those it failed before now look like devices that fail what others can do.
    for (Worker* failed : request->failed_on) {
      if (failed != this) failed->FailedWhatAnotherServed();
    }
  }
  // Down before answering: whoever gets the answer already sees the device as down.
  if (!down.empty()) GoDown(down, nullptr);
  Answer(std::move(request), std::move(answer), outcome);
}

void Worker::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mutex_);
  failed_elsewhere_ = 0;
  if (runs_since_rejoin_ >= 0 && ++runs_since_rejoin_ >= kRunsToStable) {
    runs_since_rejoin_ = -1;
    probe_interval_ = options_.probe_interval;  // stable again: back to quick probes
  }
}

void Worker::RetryElsewhere(RequestPtr request, const Status& failure) {
  if (request->first_error.ok()) request->first_error = failure;
  request->failed_on.push_back(this);
  if (request->attempts > options_.max_retries) {
    Status first = request->first_error;
    return Answer(std::move(request), first, {});
  }
  std::vector<RequestPtr> again;
  again.push_back(std::move(request));
  redispatch_(std::move(again));
}

void Worker::Answer(RequestPtr request, Result<InferenceResult> result, const Outcome& outcome) {
  Outcome reported = outcome;
  reported.ok = result.ok();
  if (rig_) {
    reported.modeled_finish = rig_->LaneTime(lane_);
    reported.latency_seconds = std::max(0.0, *reported.modeled_finish - request->arrival);
  } else {
    reported.latency_seconds = SecondsSince(request->submitted, Clock::now());
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++metrics_.requests;
    if (!reported.ok) ++metrics_.errors;
    latency_.Record(*reported.latency_seconds);
  }
  on_answer_(*request, reported);
  request->Answer(std::move(result));
}

void Worker::GoDown(const std::string& why, RequestPtr failed) {
  programs_.clear();  // whatever comes back is reopened from scratch and prepares again
  std::vector<RequestPtr> orphans;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    healthy_ = false;
    down_reason_ = why;
    ++metrics_.failures;
    tokens_.clear();
    resident_token_ = 0;  // whatever comes back has an empty cache
    overruns_ = 0;
    failed_elsewhere_ = 0;
    demote_reason_.clear();
    if (runs_since_rejoin_ >= 0) {  // failed again before it was stable: back off further
      ++metrics_.flaps;
      probe_interval_ = std::min(probe_interval_ * 2, options_.probe_interval * 64);
    } else {
      probe_interval_ = options_.probe_interval;
    }
    runs_since_rejoin_ = -1;
    next_probe_ = Clock::now() + probe_interval_;
    if (failed) orphans.push_back(std::move(failed));
    while (!queue_.empty()) {
      orphans.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_.store(0, std::memory_order_release);
  }
  redispatch_(std::move(orphans));
  if (rig_) rig_->WorkGone(lane_);
}

}  // namespace tpufleet::fleet
