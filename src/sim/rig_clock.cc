#include "sim/rig_clock.h"

#include <algorithm>

namespace tpufleet::sim {

class RigClock::LaneClock : public SimClock {
 public:
  LaneClock(std::shared_ptr<State> state, size_t lane) : state_(std::move(state)), lane_(lane) {}

  double Now() const override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->lanes[lane_].time;
  }
  bool Wait(double seconds, const std::atomic<bool>& interrupt) override {
    if (interrupt.load()) return false;
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->lanes[lane_].time += seconds;
    return true;
  }
  bool Transfer(SimBus* bus, double seconds, const std::atomic<bool>& interrupt) override {
    if (interrupt.load()) return false;
    std::lock_guard<std::mutex> lock(state_->mutex);
    Lane& lane = state_->lanes[lane_];
    if (lane.transfer != nullptr) lane.transfer->End();  // a device's transfers never overlap
    lane.transfer = nullptr;
    if (bus != nullptr && !state_->released) {
      bus->Begin();
      lane.transfer = bus;
    }
    lane.time += seconds;
    return true;
  }

 private:
  std::shared_ptr<State> state_;
  size_t lane_;
};

std::shared_ptr<SimClock> RigClock::AddLane() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->lanes.emplace_back();
  return std::make_shared<LaneClock>(state_, state_->lanes.size() - 1);
}

size_t RigClock::lanes() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->lanes.size();
}

double RigClock::LaneTime(size_t lane) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->lanes.at(lane).time;
}

void RigClock::StartAt(size_t lane, double time) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  Lane& l = state_->lanes.at(lane);
  l.time = std::max(l.time, time);
}

void RigClock::EndTransfer(size_t lane) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  Lane& l = state_->lanes.at(lane);
  if (l.transfer != nullptr) l.transfer->End();
  l.transfer = nullptr;
}

void RigClock::Release() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->released = true;
  for (Lane& l : state_->lanes) {
    if (l.transfer != nullptr) l.transfer->End();
    l.transfer = nullptr;
  }
}

}  // namespace tpufleet::sim
