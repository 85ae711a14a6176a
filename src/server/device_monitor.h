// Logs each device of the fleet going down (with the fleet's reason) and coming back, watching
// the fleet's metrics on a thread of its own from construction to destruction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/event_log.h"
#include "tpufleet/fleet.h"

namespace tpufleet::server {

class DeviceMonitor {
 public:
  DeviceMonitor(const Fleet& fleet, EventLog& log,
                std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~DeviceMonitor();  // stops and joins the thread
  DeviceMonitor(const DeviceMonitor&) = delete;
  DeviceMonitor& operator=(const DeviceMonitor&) = delete;

 private:
  void Watch();

  const Fleet& fleet_;
  EventLog& log_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tpufleet::server
