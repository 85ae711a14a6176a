#include "sim/clock.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace tpufleet::sim {
namespace {

class RealTimeClock : public SimClock {
 public:
  double Now() const override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  bool Wait(double seconds, const std::atomic<bool>& interrupt) override {
    using namespace std::chrono;
    constexpr double kSlice = 0.005;  // how quickly an interrupt is noticed
    steady_clock::time_point end =
        steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(seconds));
    while (steady_clock::now() < end) {
      if (interrupt.load()) return false;
      double left = duration<double>(end - steady_clock::now()).count();
      std::this_thread::sleep_for(duration<double>(std::min(left, kSlice)));
    }
    return !interrupt.load();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class VirtualClock : public SimClock {
 public:
  double Now() const override { return now_; }
  bool Wait(double seconds, const std::atomic<bool>& interrupt) override {
    if (interrupt.load()) return false;
    now_ += seconds;
    return true;
  }

 private:
  double now_ = 0;
};

}  // namespace

bool SimClock::Transfer(SimBus* bus, double seconds, const std::atomic<bool>& interrupt) {
  if (bus == nullptr) return Wait(seconds, interrupt);
  SimBus::Transfer in_progress(*bus);
  return Wait(seconds, interrupt);
}

std::shared_ptr<SimClock> MakeRealTimeClock() { return std::make_shared<RealTimeClock>(); }
std::shared_ptr<SimClock> MakeVirtualClock() { return std::make_shared<VirtualClock>(); }

}  // namespace tpufleet::sim
