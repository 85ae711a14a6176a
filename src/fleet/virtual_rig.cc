#include "fleet/virtual_rig.h"

#include <algorithm>
#include <atomic>

namespace tpufleet::fleet {
namespace {

// The modeled time of the thread's last awaited answer, and the rig it was on (by id: a new rig
// may take the address of one that is gone).
std::atomic<unsigned long long> rigs_made{0};
thread_local unsigned long long submitter_rig = 0;
thread_local double submitter_time = 0;

sim::ArrivalKey KeyOf(const Request& request) {
  return {request.arrival, request.model, request.sequence};
}

}  // namespace

VirtualRig::VirtualRig(std::shared_ptr<sim::RigClock> clock, Dispatcher dispatch)
    : clock_(std::move(clock)),
      dispatch_(std::move(dispatch)),
      id_(++rigs_made),
      lanes_(clock_->lanes()),
      has_work_(clock_->lanes(), false) {}

VirtualRig::~VirtualRig() { Close(); }

void VirtualRig::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void VirtualRig::Stamp(Request& request, std::optional<double> at) {
  double thread_time = submitter_rig == id_ ? submitter_time : 0;
  std::lock_guard<std::mutex> lock(mutex_);
  request.arrival = std::max(at.value_or(thread_time), now_);
  request.sequence = next_sequence_++;
}

bool VirtualRig::Arrive(RequestPtr& request, bool admitted) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_) return false;
    sim::ArrivalKey key = KeyOf(*request);
    // Handed back (admitted), it arrives again at the rig's present; so does a request stamped
    // with an instant the rig has passed since.
    key.time = admitted ? now_ : std::max(key.time, now_);
    arrivals_.emplace(key, Held{std::move(request), admitted});
  }
  changed_.notify_all();
  return true;
}

std::future<Result<InferenceResult>> VirtualRig::Deferred(
    std::future<Result<InferenceResult>> answer, std::shared_ptr<RigTicket> ticket) {
  return std::async(std::launch::deferred, [rig = shared_from_this(), ticket = std::move(ticket),
                                            answer = std::move(answer)]() mutable {
    rig->Await(*ticket);
    return answer.get();
  });
}

void VirtualRig::Answered(const Request& request, double finish) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (request.ticket) request.ticket->finish = finish;
  }
  changed_.notify_all();
}

double VirtualRig::Now() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return now_;
}

void VirtualRig::Await(RigTicket& ticket) {
  std::unique_lock<std::mutex> lock(mutex_);
  waiting_.insert(&ticket);
  changed_.notify_all();
  // Due once answered and nothing else happens at or before its modeled instant.
  changed_.wait(lock, [&] {
    return free_ ||
           (ticket.finish >= 0 && !(HasEventLocked() && NextTimeLocked() <= ticket.finish));
  });
  waiting_.erase(waiting_.find(&ticket));
  if (ticket.finish >= 0) {
    submitter_time = submitter_rig == id_ ? std::max(submitter_time, ticket.finish) : ticket.finish;
    submitter_rig = id_;
  }
}

bool VirtualRig::AwaitTurn(size_t lane) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return free_ || (turn_ == Turn::kGranted && turn_lane_ == lane); });
  if (free_) return false;
  turn_ = Turn::kTaken;
  return true;
}

void VirtualRig::EndTurn(size_t lane, bool more_work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (turn_ != Turn::kTaken || turn_lane_ != lane) return;
    turn_ = Turn::kDone;
    turn_more_ = more_work;
  }
  changed_.notify_all();
}

void VirtualRig::WorkGone(size_t lane) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    has_work_[lane] = false;
    if (turn_ == Turn::kGranted && turn_lane_ == lane) {  // granted, never to be taken
      turn_ = Turn::kDone;
      turn_more_ = false;
    }
  }
  changed_.notify_all();
}

void VirtualRig::Close() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (free_) return;
    closing_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !thread_.joinable() || !HasEventLocked(); });
    free_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  clock_->Release();
}

bool VirtualRig::HasEventLocked() const {
  return turn_ != Turn::kNone || !starting_.empty() || !arrivals_.empty() ||
         std::any_of(lanes_.begin(), lanes_.end(), [](const sim::LaneState& l) { return l.busy; });
}

double VirtualRig::NextTimeLocked() const {
  if (turn_ != Turn::kNone || !starting_.empty()) return now_;
  std::optional<double> arrival;
  if (!arrivals_.empty()) arrival = arrivals_.begin()->first.time;
  sim::NextEvent next = sim::ChooseNextEvent(arrival, lanes_);
  return next.kind == sim::NextEvent::kArrival ? *arrival : lanes_[next.lane].finish;
}

bool VirtualRig::CanStepLocked() const {
  if (free_ || turn_ != Turn::kNone || !HasEventLocked()) return false;
  if (closing_) return true;
  double next = NextTimeLocked();
  return std::any_of(waiting_.begin(), waiting_.end(),
                     [&](const RigTicket* t) { return t->finish < 0 || next <= t->finish; });
}

void VirtualRig::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return CanStepLocked() || (closing_ && !HasEventLocked()); });
    if (!CanStepLocked()) break;  // closing with nothing left
    StepLocked(lock);
    changed_.notify_all();
  }
  // Close() waits for this; the thread is joined there.
  lock.unlock();
  changed_.notify_all();
}

void VirtualRig::StepLocked(std::unique_lock<std::mutex>& lock) {
  if (!starting_.empty()) {
    size_t lane = starting_.front();
    starting_.erase(starting_.begin());
    return RunTurnLocked(lane, lock);
  }
  std::optional<double> arrival;
  if (!arrivals_.empty()) arrival = arrivals_.begin()->first.time;
  sim::NextEvent next = sim::ChooseNextEvent(arrival, lanes_);
  if (next.kind == sim::NextEvent::kArrival) {
    auto first = arrivals_.begin();
    now_ = std::max(now_, first->first.time);
    Held held = std::move(first->second);
    arrivals_.erase(first);
    lock.unlock();
    int lane = dispatch_(std::move(held.request), held.admitted);
    lock.lock();
    if (lane < 0) return;
    has_work_[lane] = true;
    bool queued = std::find(starting_.begin(), starting_.end(), lane) != starting_.end();
    if (!lanes_[lane].busy && !queued) starting_.push_back(lane);
    return;
  }
  sim::LaneState& done = lanes_[next.lane];
  now_ = std::max(now_, done.finish);
  done.busy = false;
  clock_->EndTransfer(next.lane);
  if (has_work_[next.lane]) starting_.push_back(next.lane);
}

void VirtualRig::RunTurnLocked(size_t lane, std::unique_lock<std::mutex>& lock) {
  if (!has_work_[lane]) return;
  clock_->StartAt(lane, now_);
  turn_ = Turn::kGranted;
  turn_lane_ = lane;
  changed_.notify_all();
  changed_.wait(lock, [&] { return turn_ == Turn::kDone; });
  turn_ = Turn::kNone;
  lanes_[lane] = {true, clock_->LaneTime(lane)};
  has_work_[lane] = turn_more_;
}

}  // namespace tpufleet::fleet
