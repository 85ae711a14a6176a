#include "backends/edgetpu/device_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tpufleet::backends {
namespace {

std::string LockDirectory() {
  const char* dir = std::getenv("TPUFLEET_LOCK_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp/tpufleet-locks";
}

// "/sys/bus/usb/devices/2-1.3" -> "sys_bus_usb_devices_2-1.3.lock"
std::string LockName(const std::string& device_path) {
  std::string name;
  for (char c : device_path) {
    if (c == '/') {
      if (!name.empty()) name += '_';
    } else {
      name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
    }
  }
  return name + ".lock";
}

}  // namespace

Result<DeviceLock> DeviceLock::Acquire(const std::string& device_path) {
  std::string dir = LockDirectory();
  if (mkdir(dir.c_str(), 01777) != 0 && errno != EEXIST) {
    return UnavailableError(
        fmt::format("cannot create the lock directory {}: {}", dir, std::strerror(errno)));
  }
  std::string path = dir + "/" + LockName(device_path);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return UnavailableError(
        fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {};
    ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
    close(fd);
    std::string pid = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    if (pid == std::to_string(getpid())) {
      return ResourceExhaustedError(fmt::format(
          "{} is already open in this process (lock {}); open it once (OpenDevice) and share "
          "the handle",
          device_path, path));
    }
    return ResourceExhaustedError(
        fmt::format("{} is in use by another tpufleet (pid {}; lock {}); one process per Edge TPU",
                    device_path, pid, path));
  }
  std::string pid = fmt::format("{}\n", getpid());
  // Without the pid the lock still holds; only the next process's message is poorer.
  [[maybe_unused]] bool recorded =
      ftruncate(fd, 0) == 0 && pwrite(fd, pid.data(), pid.size(), 0) > 0;
  return DeviceLock(fd, path);
}

DeviceLock::~DeviceLock() {
  if (fd_ >= 0) close(fd_);  // closing the descriptor releases the flock
}

}  // namespace tpufleet::backends
