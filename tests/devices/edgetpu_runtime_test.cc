#include "devices/edgetpu_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace tpufleet {
namespace {

using ::testing::HasSubstr;

TEST(EdgeTpuRuntimeTest, MissingLibraryIsNormalAndSaysWhatWasTried) {
  RuntimeProbe probe = ProbeEdgeTpuRuntime({"/nonexistent/libedgetpu.so.1"});
  EXPECT_FALSE(probe.loaded);
  ASSERT_EQ(probe.tried.size(), 1u);
  EXPECT_THAT(probe.tried[0], HasSubstr("/nonexistent/libedgetpu.so.1: "));
}

TEST(EdgeTpuRuntimeTest, LibraryWithoutTheApiIsSkipped) {
  RuntimeProbe probe = ProbeEdgeTpuRuntime({"libm.so.6", TPUFLEET_FAKE_EDGETPU});
  ASSERT_TRUE(probe.loaded);
  EXPECT_THAT(probe.tried[0], HasSubstr("libm.so.6 lacks edgetpu_list_devices"));
  EXPECT_EQ(probe.library, TPUFLEET_FAKE_EDGETPU);
}

TEST(EdgeTpuRuntimeTest, ListsTheStandInsDevicesInItsOrder) {
  setenv("TPUFLEET_FAKE_EDGETPU_DEVICES", "pci:/dev/apex_0,usb:/sys/bus/usb/devices/2-1.3", 1);
  RuntimeProbe probe = ProbeEdgeTpuRuntime({TPUFLEET_FAKE_EDGETPU});
  unsetenv("TPUFLEET_FAKE_EDGETPU_DEVICES");
  ASSERT_TRUE(probe.loaded);
  EXPECT_EQ(probe.version, "BuildLabel(tpufleet stand-in), RuntimeVersion(14)");
  ASSERT_EQ(probe.devices.size(), 2u);
  EXPECT_EQ(probe.devices[0].type, DeviceType::kPci);
  EXPECT_EQ(probe.devices[0].path, "/dev/apex_0");
  EXPECT_EQ(probe.devices[1].type, DeviceType::kUsb);
  EXPECT_EQ(probe.devices[1].path, "/sys/bus/usb/devices/2-1.3");
}

TEST(EdgeTpuRuntimeTest, EnvironmentVariableComesFirst) {
  setenv("TPUFLEET_EDGETPU_LIB", "/opt/custom/libedgetpu.so.1", 1);
  std::vector<std::string> candidates = DefaultRuntimeCandidates();
  unsetenv("TPUFLEET_EDGETPU_LIB");
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0], "/opt/custom/libedgetpu.so.1");
  EXPECT_EQ(candidates[1], "libedgetpu.so.1");
}

}  // namespace
}  // namespace tpufleet
