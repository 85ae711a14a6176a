// The per-device lock: exclusive across opens, and its directory and file cannot be swapped for
// a symlink or a directory of another user.
#include "backends/edgetpu/device_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tpufleet::backends {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kDevice[] = "/sys/bus/usb/devices/2-1";

class DeviceLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("tpufleet-lock-test-{}", getpid());
    fs::remove_all(root_);
    fs::create_directories(root_);
    chmod(root_.c_str(), 0755);
    dir_ = root_ / "locks";
    setenv("TPUFLEET_LOCK_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("TPUFLEET_LOCK_DIR");
    fs::remove_all(root_);
  }
  fs::path root_, dir_;
};

TEST_F(DeviceLockTest, SecondHolderIsRefusedWithThePid) {
  Result<DeviceLock> first = DeviceLock::Acquire(kDevice);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->file(), (dir_ / "sys_bus_usb_devices_2-1.lock").string());
  Status second = DeviceLock::Acquire(kDevice).status();
  // Held by this very process: the message says to share the open device instead. (Another
  // process holding it is named by its pid: edgetpu_fleet_test's isolated child sees that.)
  EXPECT_EQ(second.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.message(), HasSubstr("is already open in this process (lock " + first->file()));
}

TEST_F(DeviceLockTest, DirectoryModeIsFixedWhateverTheUmask) {
  mode_t old = umask(0077);
  Result<DeviceLock> lock = DeviceLock::Acquire(kDevice);
  umask(old);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(DeviceLockTest, PlantedSymlinkAsTheLockFileIsRefused) {
  fs::create_directories(dir_);
  chmod(dir_.c_str(), 0755);
  fs::path victim = root_ / "victim";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, dir_ / "sys_bus_usb_devices_2-1.lock");
  Status status = DeviceLock::Acquire(kDevice).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("is a symbolic link; refusing it"));
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "precious");  // not truncated
}

TEST_F(DeviceLockTest, SymlinkedDirectoryIsRefused) {
  fs::create_directories(root_ / "elsewhere");
  fs::create_directory_symlink(root_ / "elsewhere", dir_);
  Status status = DeviceLock::Acquire(kDevice).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("is a symbolic link or not a directory"));
  EXPECT_TRUE(fs::is_empty(root_ / "elsewhere"));
}

TEST_F(DeviceLockTest, DirectoryWritableByOthersIsRefused) {
  fs::create_directories(dir_);
  chmod(dir_.c_str(), 01777);
  Status status = DeviceLock::Acquire(kDevice).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("is writable by others (mode 1777)"));
}

TEST_F(DeviceLockTest, ForeignOwnedDirectoryIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the directory to another user";
  fs::create_directories(dir_);
  chmod(dir_.c_str(), 0755);
  ASSERT_EQ(chown(dir_.c_str(), 4242, 4242), 0);
  Status status = DeviceLock::Acquire(kDevice).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("belongs to uid 4242, not to this process's uid 0"));
}

TEST_F(DeviceLockTest, DefaultDirectoryIsTheUsersRuntimeDirectory) {
  unsetenv("TPUFLEET_LOCK_DIR");
  if (geteuid() == 0) {
    EXPECT_EQ(DeviceLock::Directory(), "/run/tpufleet");
  } else {
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    EXPECT_EQ(DeviceLock::Directory(), "/run/user/1000/tpufleet");
  }
}

}  // namespace
}  // namespace tpufleet::backends
