#include "fleet/worker.h"

#include <fmt/format.h>

namespace tpufleet::fleet {
namespace {

// Errors that mean the device itself is gone or stuck, rather than this request being wrong.
bool IsDeviceFailure(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

Worker::Worker(int index, std::unique_ptr<backends::Device> device, size_t capacity, int max_batch,
               FailureHandler on_failure, AnswerHandler on_answer)
    : index_(index),
      name_(device->info().name),
      device_(std::move(device)),
      capacity_(capacity),
      max_batch_(std::max(1, max_batch)),
      on_failure_(std::move(on_failure)),
      on_answer_(std::move(on_answer)) {
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

void Worker::AddModel(int id, ModelPtr model, uint64_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  models_[id] = std::move(model);
  tokens_[id] = token;
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
    if (queue_.size() >= capacity_) {
      return ResourceExhaustedError(fmt::format(
          "{}: queue full ({} requests waiting); retry later or add devices", name_, capacity_));
    }
    queue_.push_back(std::move(request));
  }
  wake_.notify_one();
  return OkStatus();
}

bool Worker::healthy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return healthy_;
}

size_t Worker::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

uint64_t Worker::resident_token() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return resident_token_;
}

DeviceMetrics Worker::metrics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceMetrics m = metrics_;
  m.healthy = healthy_;
  m.queue_depth = queue_.size();
  return m;
}

RequestPtr Worker::PickLocked() {
  // Keep serving the model (or its co-compiled group) whose parameters are resident while the
  // batch bound allows; otherwise the oldest request.
  if (batch_ < max_batch_) {
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
  while (true) {
    RequestPtr request;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || (!queue_.empty() && healthy_); });
      if (queue_.empty() || !healthy_) return;  // stopping with nothing left to do
      request = PickLocked();
    }
    Serve(std::move(request));
  }
}

void Worker::Serve(RequestPtr request) {
  auto answer = [&](Result<InferenceResult> result) {
    bool ok = result.ok();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++metrics_.requests;
      if (!ok) ++metrics_.errors;
    }
    on_answer_(*request, ok);
    request->promise.set_value(std::move(result));
  };
  ++request->attempts;
  if (request->deadline && Clock::now() > *request->deadline) {
    return answer(DeadlineExceededError(
        fmt::format("the request's deadline passed before {} could run it", name_)));
  }
  if (!programs_.count(request->model)) {
    ModelPtr model;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      model = models_.at(request->model);
    }
    Result<std::unique_ptr<backends::Program>> program = device_->Prepare(model);
    if (!program.ok()) return answer(program.status().WithContext(name_));
    programs_[request->model] = std::move(program).value();
  }
  Result<backends::RunResult> run = device_->Run(*programs_[request->model], request->inputs);
  if (!run.ok() && IsDeviceFailure(run.status())) {
    std::vector<RequestPtr> orphans;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      healthy_ = false;
      ++metrics_.errors;
      orphans.push_back(std::move(request));
      while (!queue_.empty()) {
        orphans.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    on_failure_(index_, run.status(), std::move(orphans));
    return;
  }
  if (!run.ok()) return answer(run.status());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    metrics_.busy_seconds += run->device_seconds;
    if (run->reloaded) {
      ++metrics_.reloads;
      metrics_.reloaded_bytes += run->reloaded_bytes;
    }
    resident_token_ = tokens_[request->model];
    last_model_ = request->model;
  }
  InferenceResult result;
  result.outputs = std::move(run->outputs);
  result.device = name_;
  result.device_seconds = run->device_seconds;
  result.timing_only = run->timing_only;
  result.attempts = request->attempts;
  answer(std::move(result));
}

}  // namespace tpufleet::fleet
