// A bus that simulated devices share (one USB root port, say): its bandwidth is split between the
// transfers in progress on it.
#pragma once

#include <atomic>

#include "sim/timing.h"

namespace tpufleet::sim {

// Counts the transfers in progress; each transfer gets 1 / (transfers in progress, itself
// included), taken when it starts (a first approximation of arbitration: a transfer does not
// speed up when its neighbour finishes). Counted on the devices' clock: in real time a transfer
// is in progress while its device waits it out; on a rig's virtual clock from its modeled start
// until the rig reaches its modeled end (sim/rig_clock.h). The planner's replay counts its
// modeled transfers with the same class. Thread-safe.
class SimBus {
 public:
  // Marks a transfer in progress for the guard's lifetime.
  class Transfer {
   public:
    explicit Transfer(SimBus& bus) : bus_(bus) { bus_.Begin(); }
    ~Transfer() { bus_.End(); }
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

   private:
    SimBus& bus_;
  };
  // The share a transfer starting now gets, counting itself.
  double ShareForNewTransfer() const { return BusShare(active_.load()); }
  void Begin() { ++active_; }
  void End() { --active_; }

 private:
  std::atomic<int> active_{0};
};

}  // namespace tpufleet::sim
