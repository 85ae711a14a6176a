// One clock for a rig of simulated devices in virtual time: each device has a lane on the same
// modeled time axis, so that what one device does at a modeled instant can be weighed against
// what the others do then.
//
// A lane's time moves when its device works (Wait, Transfer) and when whoever steps the rig
// lets the device start later than its lane's time (StartAt). A bus transfer started on a lane
// stays in progress on its bus until the stepper ends it (EndTransfer, when the rig reaches the
// lane's modeled finish): devices sharing a bus see each other's transfers in modeled time, never
// in wall time. After Release, transfers end as soon as they are counted (nothing steps the rig
// any more). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "sim/clock.h"

namespace tpufleet::sim {

class RigClock {
 public:
  // A new lane's clock (the lanes are numbered from 0 in the order they are added). The clock
  // may outlive the rig clock; it keeps what it needs.
  std::shared_ptr<SimClock> AddLane();
  size_t lanes() const;
  // The lane's time: when its device is done with what it was given.
  double LaneTime(size_t lane) const;
  // The lane's device starts its next work no earlier than `time`.
  void StartAt(size_t lane, double time);
  // Ends the lane's transfer in progress on its bus, if any.
  void EndTransfer(size_t lane);
  // Ends every transfer in progress; later ones end as soon as they are counted.
  void Release();

 private:
  struct Lane {
    double time = 0;
    SimBus* transfer = nullptr;  // the bus of the transfer in progress; null: none
  };
  class LaneClock;
  struct State {
    std::mutex mutex;
    std::vector<Lane> lanes;
    bool released = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace tpufleet::sim
