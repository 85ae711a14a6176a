#include "server/device_monitor.h"

#include <map>

namespace tpufleet::server {

DeviceMonitor::DeviceMonitor(const Fleet& fleet, EventLog& log, std::chrono::milliseconds interval)
    : fleet_(fleet), log_(log), interval_(interval), thread_([this] { Watch(); }) {}

DeviceMonitor::~DeviceMonitor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DeviceMonitor::Watch() {
  std::map<std::string, uint64_t> failures, rejoins;  // as last seen, by device
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    for (const DeviceMetrics& d : fleet_.Metrics().devices) {
      if (d.failures > failures[d.device]) {
        log_.Write("device down", {{"device", d.device}, {"reason", d.down_reason}});
      }
      if (d.rejoins > rejoins[d.device]) log_.Write("device back", {{"device", d.device}});
      failures[d.device] = d.failures;
      rejoins[d.device] = d.rejoins;
    }
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace tpufleet::server
