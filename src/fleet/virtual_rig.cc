#include "fleet/virtual_rig.h"

#include <algorithm>
#include <atomic>
#include <thread>

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

VirtualRig::VirtualRig(std::shared_ptr<sim::RigClock> clock, Dispatcher dispatch, bool spin_wait)
    : clock_(std::move(clock)),
      dispatch_(std::move(dispatch)),
      spin_wait_(spin_wait),
      id_(++rigs_made),
      lane_wake_(clock_->lanes()),
      lanes_(clock_->lanes()),
      has_work_(clock_->lanes(), false),
      gone_(clock_->lanes(), 0) {}

VirtualRig::~VirtualRig() { Close(); }

void VirtualRig::Stamp(Request& request, std::optional<double> at) {
  double thread_time = submitter_rig == id_ ? submitter_time : 0;
  std::lock_guard<std::mutex> lock(mutex_);
  request.arrival = std::max(at.value_or(thread_time), now_);
  request.sequence = next_sequence_++;
}

bool VirtualRig::Arrive(RequestPtr& request, bool admitted) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_) return false;
  sim::ArrivalKey key = KeyOf(*request);
  // Handed back (admitted), it arrives again at the rig's present; so does a request stamped
  // with an instant the rig has passed since.
  key.time = admitted ? now_ : std::max(key.time, now_);
  arrivals_.emplace(key, Held{std::move(request), admitted});
  WakeLocked(/*and_a_stepper=*/true);
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
  if (!request.ticket) return;
  std::lock_guard<std::mutex> lock(mutex_);
  request.ticket->finish = finish;
  // A stepper wakes the waiter once its answer is due; with none, the waiter looks itself.
  if (!stepping_) {
    request.ticket->look = true;
    request.ticket->wake.notify_one();
  }
}

double VirtualRig::Now() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return now_;
}

bool VirtualRig::DueLocked(const RigTicket& ticket) const {
  return ticket.finish >= 0 && !(HasEventLocked() && NextTimeLocked() <= ticket.finish);
}

void VirtualRig::Await(RigTicket& ticket) {
  std::unique_lock<std::mutex> lock(mutex_);
  waiting_.insert(&ticket);
  while (!free_ && !DueLocked(ticket)) {
    ticket.look = false;
    if (!stepping_ && CanStepLocked()) {
      stepping_ = true;
      StepWhileLocked(lock, [&] { return !DueLocked(ticket); });
      continue;
    }
    SpinLocked(lock, [&] { return ticket.look.load(); });
    if (!ticket.look) ticket.wake.wait(lock);
  }
  waiting_.erase(waiting_.find(&ticket));
  if (ticket.finish >= 0) {
    submitter_time = submitter_rig == id_ ? std::max(submitter_time, ticket.finish) : ticket.finish;
    submitter_rig = id_;
  }
}

template <typename GoOn>
void VirtualRig::StepWhileLocked(std::unique_lock<std::mutex>& lock, GoOn go_on) {
  while (!free_ && go_on() && CanStepLocked()) {
    StepLocked(lock);
    WakeLocked(/*and_a_stepper=*/false);
    if (turn_ != Turn::kNone) return;  // the role went with the turn
  }
  stepping_ = false;
  if (closing_) stepper_free_.notify_one();
  WakeLocked(/*and_a_stepper=*/true);
}

void VirtualRig::WakeLocked(bool and_a_stepper) {
  if (waiting_.empty()) return;
  const bool has_event = HasEventLocked();
  const double next = has_event ? NextTimeLocked() : 0;
  bool stepper = !and_a_stepper || stepping_ || free_ || !has_event;
  for (RigTicket* t : waiting_) {
    bool due = t->finish >= 0 && !(has_event && next <= t->finish);
    if (!due && stepper) continue;
    stepper = stepper || !due;  // one that needs the step takes the stepper's role
    if (t->look) continue;      // woken already
    t->look = true;
    t->wake.notify_one();
  }
}

template <typename Ready>
void VirtualRig::SpinLocked(std::unique_lock<std::mutex>& lock, Ready ready) {
  if (!spin_wait_) return;
  // Waking a sleeping thread costs tens of microseconds when its core has gone idle; a hand-off
  // within the spin is taken at once. Yielding keeps the spin polite on busy cores.
  lock.unlock();
  Clock::time_point until = Clock::now() + std::chrono::microseconds(50);
  while (!ready() && Clock::now() < until) std::this_thread::yield();
  lock.lock();
}

bool VirtualRig::AwaitTurn(size_t lane) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto mine = [&] { return free_ || (turn_ == Turn::kGranted && turn_lane_ == lane); };
  if (!mine()) SpinLocked(lock, mine);
  lane_wake_[lane].wait(lock, mine);
  if (free_) return false;
  turn_ = Turn::kTaken;
  return true;
}

void VirtualRig::FinishTurnLocked(size_t lane, bool more_work) {
  turn_ = Turn::kNone;
  lanes_[lane] = {true, clock_->LaneTime(lane)};
  has_work_[lane] = more_work;
}

void VirtualRig::EndTurn(size_t lane, bool more_work) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (turn_ != Turn::kTaken || turn_lane_ != lane) return;
  FinishTurnLocked(lane, more_work);
  StepWhileLocked(lock, [] { return true; });  // the role is this thread's now
}

void VirtualRig::WorkGone(size_t lane) {
  std::unique_lock<std::mutex> lock(mutex_);
  has_work_[lane] = false;
  ++gone_[lane];
  if (turn_ != Turn::kGranted || turn_lane_ != lane) return;
  FinishTurnLocked(lane, false);  // granted, never to be taken
  StepWhileLocked(lock, [] { return true; });
}

void VirtualRig::Close() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (free_) return;
    closing_ = true;  // from now on whoever has the stepper's role steps while anything is left
    while (true) {
      stepper_free_.wait(lock, [&] { return !stepping_; });
      if (!HasEventLocked()) break;
      stepping_ = true;
      StepWhileLocked(lock, [] { return true; });
    }
    free_ = true;
    for (RigTicket* t : waiting_) {
      t->look = true;
      t->wake.notify_one();
    }
    for (std::condition_variable& lane : lane_wake_) lane.notify_one();
  }
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

void VirtualRig::StepLocked(std::unique_lock<std::mutex>& lock) {
  if (!starting_.empty()) {
    size_t lane = starting_.front();
    starting_.erase(starting_.begin());
    if (!has_work_[lane]) return;
    clock_->StartAt(lane, now_);
    turn_lane_ = lane;
    turn_ = Turn::kGranted;
    lane_wake_[lane].notify_one();
    return;
  }
  std::optional<double> arrival;
  if (!arrivals_.empty()) arrival = arrivals_.begin()->first.time;
  sim::NextEvent next = sim::ChooseNextEvent(arrival, lanes_);
  if (next.kind == sim::NextEvent::kArrival) {
    auto first = arrivals_.begin();
    now_ = std::max(now_, first->first.time);
    Held held = std::move(first->second);
    arrivals_.erase(first);
    std::vector<unsigned> gone = gone_;
    lock.unlock();
    int lane = dispatch_(std::move(held.request), held.admitted);
    lock.lock();
    // A lane whose queue was handed back meanwhile has handed this request back too.
    if (lane < 0 || gone_[lane] != gone[lane]) return;
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

}  // namespace tpufleet::fleet
