#include "server/admission.h"

#include <fmt/format.h>

namespace tpufleet::server {

Admission::Ticket::~Ticket() {
  if (admission_) admission_->Leave();
}

Result<Admission::Ticket> Admission::Enter(int64_t priority) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (draining_) return UnavailableError("the daemon is shutting down; send the request elsewhere");
  size_t limit = priority == 1 ? capacity_ : capacity_ - capacity_ / 4;
  if (in_flight_ >= limit) {
    return ResourceExhaustedError(
        fmt::format("the daemon holds {} requests, its limit{}; retry later", in_flight_,
                    priority == 1 ? "" : " for priority other than 1"));
  }
  ++in_flight_;
  return Ticket(this);
}

void Admission::Leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void Admission::Drain() {
  std::lock_guard<std::mutex> lock(mutex_);
  draining_ = true;
}

bool Admission::draining() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return draining_;
}

size_t Admission::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_flight_;
}

bool Admission::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return in_flight_ == 0; });
}

}  // namespace tpufleet::server
