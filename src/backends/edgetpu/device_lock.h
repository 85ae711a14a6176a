// A lock per Edge TPU, shared by every tpufleet process of one user on the machine, so two never
// open the same stick (libedgetpu would let the second one in and both would fail mid-transfer).
//
// The lock is an flock(2) on a file named after the device path in the lock directory:
// $TPUFLEET_LOCK_DIR when set, else /run/tpufleet for root, else $XDG_RUNTIME_DIR/tpufleet
// (or /tmp/tpufleet-<uid> without it). The kernel drops the lock when the holder exits, however
// it exits; the file keeps the holder's pid for the message the next process gets.
//
// The directory and the file cannot be turned against the process (root truncating a file a
// local user chose): the directory is created with mode 0755 whatever the umask, both are opened
// without following symbolic links, and each must belong to the effective user and not be
// writable by others; anything else is refused with a message saying what was found.
#pragma once

#include <string>

#include "tpufleet/status.h"

namespace tpufleet::backends {

class DeviceLock {
 public:
  // Takes the lock for `device_path` without waiting. FAILED_PRECONDITION naming the holder's
  // pid and the lock file when another process holds it, or another open in this one (which the
  // message says: a device is opened once per process and shared, see tpufleet/device.h), or
  // saying what is wrong when the directory or file is a symlink, foreign-owned or writable by
  // others; UNAVAILABLE when they cannot be created.
  static Result<DeviceLock> Acquire(const std::string& device_path);

  // The directory Acquire uses, from the environment as described above.
  static std::string Directory();

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
