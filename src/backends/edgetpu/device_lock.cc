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
#include <utility>

namespace tpufleet::backends {
namespace {

constexpr mode_t kDirectoryMode = 0755;
constexpr mode_t kFileMode = 0644;

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

// A file descriptor closed on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// OK when `st` (of `path`, a `kind`) has the type `type`, belongs to the effective user and is
// not writable by group or others.
Status CheckOwnership(const struct stat& st, mode_t type, const std::string& path,
                      const char* kind) {
  if ((st.st_mode & S_IFMT) != type) {
    return FailedPreconditionError(fmt::format("the lock {} {} is not a {}; refusing it", kind,
                                               path,
                                               type == S_IFDIR ? "directory" : "regular file"));
  }
  if (st.st_uid != geteuid()) {
    return FailedPreconditionError(fmt::format(
        "the lock {} {} belongs to uid {}, not to this process's uid {}; refusing it (remove it, "
        "or set TPUFLEET_LOCK_DIR to a directory of your own)",
        kind, path, st.st_uid, geteuid()));
  }
  if ((st.st_mode & 022) != 0) {
    return FailedPreconditionError(
        fmt::format("the lock {} {} is writable by others (mode {:o}); refusing it (chmod go-w)",
                    kind, path, st.st_mode & 07777));
  }
  return OkStatus();
}

// Opens (creating when missing) the lock directory: never through a symlink, always owned by the
// effective user with kDirectoryMode when created here.
Result<int> OpenDirectory(const std::string& dir) {
  bool created = mkdir(dir.c_str(), kDirectoryMode) == 0;
  if (!created && errno != EEXIST) {
    return UnavailableError(
        fmt::format("cannot create the lock directory {}: {}", dir, std::strerror(errno)));
  }
  Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    int error = errno;
    if (error == ELOOP || error == ENOTDIR) {
      return FailedPreconditionError(fmt::format(
          "the lock directory {} is a symbolic link or not a directory; refusing it", dir));
    }
    return UnavailableError(
        fmt::format("cannot open the lock directory {}: {}", dir, std::strerror(error)));
  }
  // The umask narrowed mkdir's mode: set it exactly (on the opened directory, not the name).
  if (created && fchmod(fd.get(), kDirectoryMode) != 0) {
    return UnavailableError(
        fmt::format("cannot set the mode of the lock directory {}: {}", dir, std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return UnavailableError(fmt::format("cannot stat {}: {}", dir, std::strerror(errno)));
  }
  TPUFLEET_RETURN_IF_ERROR(CheckOwnership(st, S_IFDIR, dir, "directory"));
  return fd.release();
}

}  // namespace

std::string DeviceLock::Directory() {
  const char* dir = std::getenv("TPUFLEET_LOCK_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  if (geteuid() == 0) return "/run/tpufleet";
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && *runtime == '/') return std::string(runtime) + "/tpufleet";
  return fmt::format("/tmp/tpufleet-{}", geteuid());
}

Result<DeviceLock> DeviceLock::Acquire(const std::string& device_path) {
  std::string dir = Directory();
  TPUFLEET_ASSIGN_OR_RETURN(int dir_fd, OpenDirectory(dir));
  Fd directory(dir_fd);
  std::string name = LockName(device_path);
  std::string path = dir + "/" + name;
  Fd fd(
      openat(directory.get(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (fd.get() < 0) {
    if (errno == ELOOP) {
      return FailedPreconditionError(
          fmt::format("the lock file {} is a symbolic link; refusing it", path));
    }
    return UnavailableError(
        fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return UnavailableError(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
  }
  TPUFLEET_RETURN_IF_ERROR(CheckOwnership(st, S_IFREG, path, "file"));
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {};
    ssize_t n = pread(fd.get(), holder, sizeof(holder) - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < n && std::isdigit(static_cast<unsigned char>(holder[i])); ++i)
      pid += holder[i];
    if (pid == std::to_string(getpid())) {
      return FailedPreconditionError(fmt::format(
          "{} is already open in this process (lock {}); open it once (OpenDevice) and share "
          "the handle",
          device_path, path));
    }
    return FailedPreconditionError(
        fmt::format("{} is in use by another tpufleet (pid {}; lock {}); one process per Edge TPU",
                    device_path, pid.empty() ? "unknown" : pid, path));
  }
  std::string pid = fmt::format("{}\n", getpid());
  // Without the pid the lock still holds; only the next process's message is poorer.
  [[maybe_unused]] bool recorded =
      ftruncate(fd.get(), 0) == 0 && pwrite(fd.get(), pid.data(), pid.size(), 0) > 0;
  return DeviceLock(fd.release(), path);
}

DeviceLock::~DeviceLock() {
  if (fd_ >= 0) close(fd_);  // closing the descriptor releases the flock
}

}  // namespace tpufleet::backends
