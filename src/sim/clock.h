// Time as simulated devices live it. Both clocks report the same modeled durations: the real-time
// clock makes the caller wait them out (so host-side concurrency is real); the virtual clock
// only adds them up (instant, for planning and fast tests). A rig of devices in virtual time
// shares one clock with a lane per device (sim/rig_clock.h).
#pragma once

#include <atomic>
#include <memory>

#include "sim/bus.h"

namespace tpufleet::sim {

class SimClock {
 public:
  virtual ~SimClock() = default;
  // Seconds since the clock started.
  virtual double Now() const = 0;
  // Lets `seconds` of device time pass. Returns false when `interrupt` became true first.
  virtual bool Wait(double seconds, const std::atomic<bool>& interrupt) = 0;
  // Lets a transfer of `seconds` on `bus` (none: null) pass, counted on the bus while it is in
  // progress. Returns false when `interrupt` became true first. By default: Wait, with the
  // transfer in progress meanwhile.
  virtual bool Transfer(SimBus* bus, double seconds, const std::atomic<bool>& interrupt);
};

// Wall-clock time; Wait sleeps (in slices, to notice interrupts). Thread-safe.
std::shared_ptr<SimClock> MakeRealTimeClock();
// Starts at 0 and advances by each Wait, instantly. One device's own timeline; not shared
// between threads.
std::shared_ptr<SimClock> MakeVirtualClock();

}  // namespace tpufleet::sim
