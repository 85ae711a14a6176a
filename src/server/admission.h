// Bounds the inference requests the daemon holds at once, and drains them at shutdown.
//
// A request is admitted while fewer than `capacity` are in flight; requests of priority 1 (the
// highest, as KServe's `priority` parameter counts) may take every slot, all others leave a
// quarter of them free for priority 1. Beyond that the answer is "full" (HTTP 429), never a
// wait. Once Drain is called every request is refused as "draining" (HTTP 503) while those in
// flight finish.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "tpufleet/status.h"

namespace tpufleet::server {

class Admission {
 public:
  explicit Admission(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // A slot held until the ticket is destroyed; moved, never copied.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : admission_(other.admission_) { other.admission_ = nullptr; }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

   private:
    friend class Admission;
    explicit Ticket(Admission* admission) : admission_(admission) {}
    Admission* admission_;
  };

  // A slot, or RESOURCE_EXHAUSTED when none is free for `priority`, or UNAVAILABLE while
  // draining.
  Result<Ticket> Enter(int64_t priority);
  // Refuses every request from now on.
  void Drain();
  bool draining() const;
  size_t in_flight() const;
  size_t capacity() const { return capacity_; }
  // Blocks until no request is in flight or `timeout` passed; true when none is.
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  void Leave();

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  size_t in_flight_ = 0;
  bool draining_ = false;
};

}  // namespace tpufleet::server
