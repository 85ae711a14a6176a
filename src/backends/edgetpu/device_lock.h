// A lock per Edge TPU, shared by every tpufleet process on the machine, so two never open the
// same stick (libedgetpu would let the second one in and both would fail mid-transfer).
//
// The lock is an flock(2) on a file named after the device path in $TPUFLEET_LOCK_DIR (default
// /tmp/tpufleet-locks). The kernel drops it when the holder exits, however it exits; the file
// keeps the holder's pid for the message the next process gets.
#pragma once

#include <string>

#include "tpufleet/status.h"

namespace tpufleet::backends {

class DeviceLock {
 public:
  // Takes the lock for `device_path` without waiting; RESOURCE_EXHAUSTED (naming the holder's
  // pid and the lock file) when another process holds it, or another open in this one (which
  // the message says: a device is opened once per process and shared, see tpufleet/device.h).
  static Result<DeviceLock> Acquire(const std::string& device_path);

  DeviceLock(DeviceLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  DeviceLock& operator=(DeviceLock&&) = delete;
  DeviceLock(const DeviceLock&) = delete;
  ~DeviceLock();  // releases

  const std::string& file() const { return path_; }

 private:
  DeviceLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace tpufleet::backends
