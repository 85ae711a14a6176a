// A fleet of simulated devices in virtual time runs as one discrete-event simulation on its rig's
// clock (sim/rig_clock.h), stepped as the planner's replay steps (sim/discrete_events.h).
//
// Requests arrive at modeled times. At each arrival the fleet's dispatch chooses a device from
// the workers' queues as they stand at that modeled instant. A device takes its next request
// (its worker's batch pick) when it finishes the one before: each invocation is one turn, the
// turns one at a time in modeled-time order, a turn's bus shared with the transfers in progress
// at its modeled start. So the same requests give the same metrics bit for bit, whatever the
// host's threads do; every figure is modeled, latencies included (arrival to modeled answer).
//
// Time passes only while someone waits for an answer, and while the fleet shuts down: the
// futures Submit returns in virtual time are deferred, and waiting on one steps the rig until
// its answer is due and nothing else is due at or before that instant. There is no thread of the
// rig's own: one thread at a time holds the stepper's role and steps, a waiter that needs a step,
// or the worker of the device whose turn it granted (it steps on once it ends the turn). Each
// waiter sleeps on its own ticket and is woken only when its answer is due or when a step is
// needed and nobody steps; each worker is woken only for its own turn. So a request costs two
// hand-offs between threads (to its device's worker, and its answer to the waiter), none with
// `spin_wait`. A request submitted without a modeled time arrives at the submitting thread's
// modeled time: 0, then the modeled time of the last answer the thread waited for. A request
// arriving at a modeled time the rig has passed already (submitted while another thread waits,
// or prepared on the fleet's threads while it stepped) arrives at the rig's present: that, and
// the probing of devices that went down (wall time), are where the host's timing shows.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "fleet/request.h"
#include "sim/discrete_events.h"
#include "sim/rig_clock.h"

namespace tpufleet::fleet {

class VirtualRig : public std::enable_shared_from_this<VirtualRig> {
 public:
  // Hands a request to the fleet's dispatch at its modeled arrival: returns the index of the
  // worker (the rig's lane) that queued it, or -1 when it was answered instead.
  using Dispatcher = std::function<int(RequestPtr request, bool admitted)>;

  // Lane i is worker i's device. With `spin_wait`, waiters and workers poll briefly for their
  // answer or turn before sleeping.
  VirtualRig(std::shared_ptr<sim::RigClock> clock, Dispatcher dispatch, bool spin_wait = false);
  ~VirtualRig();  // Close()

  // Submission. Stamps `request` with its modeled arrival (`at`, else the calling thread's
  // modeled time; never before the rig's present) and its place among arrivals at one instant.
  void Stamp(Request& request, std::optional<double> at);
  // The request arrives (an `admitted` one again, handed back by a worker: at the rig's
  // present). False once the rig runs freely (Close): the caller dispatches it.
  // Takes `request` only when it returns true.
  bool Arrive(RequestPtr& request, bool admitted);
  // The future a submitter gets: waiting on it steps the rig until `answer` is due.
  std::future<Result<InferenceResult>> Deferred(std::future<Result<InferenceResult>> answer,
                                                std::shared_ptr<RigTicket> ticket);
  // The request was answered at modeled time `finish`.
  void Answered(const Request& request, double finish);
  // The modeled time of the last event taken.
  double Now() const;

  // Workers. Waits for the lane's turn: true when it has it (EndTurn after serving one
  // request), false when the rig runs freely.
  bool AwaitTurn(size_t lane);
  // `more_work`: requests are still queued on the lane. The caller then steps the rig on, as
  // long as someone needs it, until it grants the next turn.
  void EndTurn(size_t lane, bool more_work);
  // The lane's queue was handed back (its device went down; after the requests went back, so
  // that they arrive again before anything else happens). Steps on like EndTurn when the lane
  // had been granted a turn it will not take.
  void WorkGone(size_t lane);
  double LaneTime(size_t lane) const { return clock_->LaneTime(lane); }

  // Steps until every arrival is served and every device idle, then lets the workers run freely
  // (no turns, transfers ended at once). Waiters return at once from then on.
  void Close();

 private:
  enum class Turn { kNone, kGranted, kTaken };
  struct Held {
    RequestPtr request;
    bool admitted = false;
  };

  // Whether an event is due and someone needs it.
  bool CanStepLocked() const;
  bool HasEventLocked() const;
  // When the next event happens; only with HasEventLocked().
  double NextTimeLocked() const;
  // Whether the ticket's answer is due: answered, and nothing else happens at or before then.
  bool DueLocked(const RigTicket& ticket) const;
  // With the stepper's role: steps while `go_on()` and a step is needed, waking each waiter
  // whose answer became due. Returns when a turn is granted (the role goes with it to the lane's
  // worker), or else gives the role up, to a waiter that needs a step if there is one.
  template <typename GoOn>
  void StepWhileLocked(std::unique_lock<std::mutex>& lock, GoOn go_on);
  void StepLocked(std::unique_lock<std::mutex>& lock);
  // The lane's turn is over (taken and served, or never to be taken).
  void FinishTurnLocked(size_t lane, bool more_work);
  // Wakes waiters whose answers are due; `and_a_stepper`: also one that needs a step, when
  // nobody steps.
  void WakeLocked(bool and_a_stepper);
  // With spin_wait: polls `ready` (the lock released) for a short while before the caller sleeps.
  template <typename Ready>
  void SpinLocked(std::unique_lock<std::mutex>& lock, Ready ready);
  void Await(RigTicket& ticket);

  std::shared_ptr<sim::RigClock> clock_;
  Dispatcher dispatch_;
  const bool spin_wait_;
  const unsigned long long id_;  // unique among the process's rigs

  mutable std::mutex mutex_;
  std::vector<std::condition_variable> lane_wake_;  // one per lane: its turn, or free
  std::condition_variable stepper_free_;            // Close waits here for the stepper's role
  double now_ = 0;
  unsigned long long next_sequence_ = 0;
  std::map<sim::ArrivalKey, Held> arrivals_;
  std::vector<sim::LaneState> lanes_;
  std::vector<bool> has_work_;
  std::vector<unsigned> gone_;    // per lane: how often its queue was handed back
  std::vector<size_t> starting_;  // lanes taking their next request now, before anything else
  std::multiset<RigTicket*> waiting_;
  bool stepping_ = false;  // a thread has the stepper's role (a granted turn's worker, meanwhile)
  // Written under the lock; read without it only by the spins.
  std::atomic<Turn> turn_{Turn::kNone};
  std::atomic<size_t> turn_lane_{0};
  std::atomic<bool> free_{false};  // closed: no turns, no stepping
  bool closing_ = false;
};

}  // namespace tpufleet::fleet
