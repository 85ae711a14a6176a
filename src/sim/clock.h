// Time as simulated devices live it. Both clocks report the same modeled durations: the real-time
// clock makes the caller wait them out (so host-side concurrency is real); the virtual clock
// only adds them up (instant, for planning and fast tests).
#pragma once

#include <atomic>
#include <memory>

namespace tpufleet::sim {

class SimClock {
 public:
  virtual ~SimClock() = default;
  // Seconds since the clock started.
  virtual double Now() const = 0;
  // Lets `seconds` of device time pass. Returns false when `interrupt` became true first.
  virtual bool Wait(double seconds, const std::atomic<bool>& interrupt) = 0;
};

// Wall-clock time; Wait sleeps (in slices, to notice interrupts). Thread-safe.
std::shared_ptr<SimClock> MakeRealTimeClock();
// Starts at 0 and advances by each Wait, instantly. One per device timeline; not shared between
// threads (each simulated device owns its own).
std::shared_ptr<SimClock> MakeVirtualClock();

}  // namespace tpufleet::sim
