#include "devices/doctor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "devices/usb_tree.h"
#include "support/fixtures.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;

std::vector<Finding> About(const std::vector<Finding>& findings, const std::string& device) {
  std::vector<Finding> out;
  for (const Finding& f : findings) {
    if (f.device == device) out.push_back(f);
  }
  return out;
}

TEST(DoctorTest, OnlyTheSubHubSecondaryPortIsAnError) {
  std::vector<Finding> findings = Diagnose(testing::DiscoverFixture("coral_hub_example"));
  std::vector<Finding> bad = About(findings, "usb@2-3.2.2");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].severity, Severity::kError);
  EXPECT_THAT(bad[0].message,
              HasSubstr("secondary port of a sub-hub cannot get an Edge TPU context"));
  EXPECT_TRUE(About(findings, "usb@2-3.2.1").empty());  // port 1 of the inner hub works
  EXPECT_TRUE(About(findings, "usb@2-3.1").empty());    // a port of the outer hub works
}

TEST(DoctorTest, SticksSharingARootPortAreNamed) {
  std::vector<Finding> shared =
      About(Diagnose(testing::DiscoverFixture("coral_hub_example")), "bus 2 port 3");
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].severity, Severity::kWarning);
  EXPECT_THAT(
      shared[0].message,
      HasSubstr("3 Edge TPUs share root port 3 of bus 2 (usb@2-3.1, usb@2-3.2.1, usb@2-3.2.2)"));
}

TEST(DoctorTest, Usb2LinksHubPowerAndBootloaderSticks) {
  std::vector<Finding> findings = Diagnose(testing::DiscoverFixture("mixed"));
  for (const char* stick : {"usb@1-1", "usb@1-2.1", "usb@1-2.3"}) {
    std::vector<Finding> about = About(findings, stick);
    ASSERT_FALSE(about.empty()) << stick;
    EXPECT_THAT(about[0].message, HasSubstr("USB 2 link (480M)")) << stick;
  }
  EXPECT_TRUE(About(findings, "usb@2-1").empty());
  std::vector<Finding> hub = About(findings, "hub 1-2");
  ASSERT_EQ(hub.size(), 1u);
  EXPECT_THAT(hub[0].message,
              HasSubstr("2 Edge TPU(s) has about 400 mA for them, less than 500 mA each"));
  std::vector<Finding> bootloader = About(findings, "usb@2-2");
  ASSERT_EQ(bootloader.size(), 1u);
  EXPECT_EQ(bootloader[0].severity, Severity::kInfo);
  EXPECT_THAT(bootloader[0].message, HasSubstr("bootloader mode"));
  EXPECT_TRUE(About(findings, "pci@/dev/apex_0").empty());  // 52 C is far from 85 C
}

TEST(DoctorTest, HotAndOwnedPcieDevice) {
  std::vector<Finding> findings = Diagnose(testing::DiscoverFixture("dual_m2"));
  EXPECT_TRUE(About(findings, "pci@/dev/apex_0").empty());
  std::vector<Finding> hot = About(findings, "pci@/dev/apex_1");
  ASSERT_EQ(hot.size(), 2u);
  EXPECT_THAT(hot[0].message, HasSubstr("owned by process 4242"));
  EXPECT_THAT(hot[1].message, HasSubstr("84.1 C is within 5 C of its first trip point (85 C)"));
}

TEST(DoctorTest, MissingNodeAndUnknownSpeed) {
  std::vector<Finding> findings = Diagnose(testing::DiscoverFixture("malformed"));
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings[0].severity, Severity::kError);  // errors sort first
  EXPECT_THAT(About(findings, "pci@/dev/apex_0")[0].message,
              HasSubstr("is the apex (gasket) kernel driver loaded?"));
  EXPECT_THAT(About(findings, "usb@2-1")[0].message, HasSubstr("link speed unknown"));
}

TEST(DoctorTest, TreeDrawsTheCoralExampleWithTheErrorUnderTheBadStick) {
  Inventory inventory = testing::DiscoverFixture("coral_hub_example");
  std::string tree = DrawTopology(inventory, Diagnose(inventory));
  EXPECT_THAT(
      tree,
      HasSubstr("/:  Bus 02: root hub, 7 ports, 5000M\n"
                "    |__ Port 3: hub 2-3, 4 ports, 5000M, self-powered\n"
                "        |__ Port 1: Edge TPU usb@2-3.1, ready, 5000M\n"
                "        |__ Port 2: hub 2-3.2, 4 ports, 5000M, self-powered, inside another hub\n"
                "            |__ Port 1: Edge TPU usb@2-3.2.1, ready, 5000M\n"
                "            |__ Port 2: Edge TPU usb@2-3.2.2, ready, 5000M\n"
                "                  [error] on port 2 of hub 2-3.2"));
  EXPECT_THAT(tree, HasSubstr("|__ Port 4: 046d:c52b Logitech USB Receiver, 12M"));
  EXPECT_THAT(tree, HasSubstr("[warning] bus 2 port 3: 3 Edge TPUs share root port 3"));
}

TEST(DoctorTest, TreeListsPcieDevices) {
  Inventory inventory = testing::DiscoverFixture("dual_m2");
  std::string tree = DrawTopology(inventory, Diagnose(inventory));
  EXPECT_THAT(
      tree,
      HasSubstr(
          "PCIe: Edge TPU pci@/dev/apex_0, ready, 5.0 GT/s x1, 45.2 C (trip points 85/90/95 C)"));
  EXPECT_THAT(tree, HasSubstr("[warning] pci@/dev/apex_1: owned by process 4242"));
}

}  // namespace
}  // namespace tpufleet
