// A fixed set of threads running posted tasks in order of posting.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tpufleet {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // at least one thread
  ~ThreadPool();                     // Drain()
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs `task` on one of the threads. After Drain() began, runs it on the caller's thread.
  void Post(std::function<void()> task);
  // Runs every task posted so far, then joins the threads. Idempotent.
  void Drain();

 private:
  void Loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool draining_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tpufleet
