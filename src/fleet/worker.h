// One worker thread per device: it owns the device and the programs prepared on it, runs queued
// requests one at a time, and prefers requests whose parameters are resident (same caching
// token), up to a batch bound, so a shared device does not reload at every switch.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "backends/device.h"
#include "fleet/request.h"

namespace tpufleet::fleet {

class Worker {
 public:
  // Called on the worker thread, without the worker's lock, when its device failed: the request
  // that failed and every queued one, to be served elsewhere.
  using FailureHandler =
      std::function<void(int worker, const Status& why, std::vector<RequestPtr> orphans)>;
  // Called on the worker thread after a request was answered (for metrics).
  using AnswerHandler = std::function<void(const Request& request, bool ok)>;

  Worker(int index, std::unique_ptr<backends::Device> device, size_t capacity, int max_batch,
         FailureHandler on_failure, AnswerHandler on_answer);
  ~Worker();  // Stop()
  // Answers everything queued, then joins the thread. Later Enqueue calls fail.
  void Stop();

  const std::string& name() const { return name_; }
  // Registers a model this worker may run, with its caching token (0: none).
  void AddModel(int id, ModelPtr model, uint64_t token);
  bool CanRun(int id) const;

  // Queues `request`; on failure (full queue, device down) leaves it with the caller.
  Status Enqueue(RequestPtr& request);
  bool healthy() const;
  size_t depth() const;
  uint64_t resident_token() const;
  DeviceMetrics metrics() const;

 private:
  void Loop();
  RequestPtr PickLocked();
  void Serve(RequestPtr request);

  const int index_;
  std::string name_;
  std::unique_ptr<backends::Device> device_;  // used on the worker thread only
  const size_t capacity_;
  const int max_batch_;
  FailureHandler on_failure_;
  AnswerHandler on_answer_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<RequestPtr> queue_;
  std::map<int, ModelPtr> models_;
  std::map<int, uint64_t> tokens_;
  std::map<int, std::unique_ptr<backends::Program>> programs_;  // worker thread only
  bool stopping_ = false;
  bool healthy_ = true;
  uint64_t resident_token_ = 0;
  int last_model_ = -1;
  int batch_ = 0;
  DeviceMetrics metrics_;
  std::thread thread_;
};

}  // namespace tpufleet::fleet
