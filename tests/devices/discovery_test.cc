#include "devices/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "support/fixtures.h"

namespace tpufleet {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SysfsFixture;

const DeviceInfo* Find(const Inventory& inventory, const std::string& name) {
  auto it = std::find_if(inventory.devices.begin(), inventory.devices.end(),
                         [&](const DeviceInfo& d) { return d.name == name; });
  return it == inventory.devices.end() ? nullptr : &*it;
}

TEST(DiscoveryTest, CoralHubExampleFindsThreeSticksWithTheirHubChains) {
  Inventory inventory = testing::DiscoverFixture("coral_hub_example");
  ASSERT_EQ(inventory.devices.size(), 3u);
  EXPECT_TRUE(inventory.problems.empty()) << inventory.problems.front();

  const DeviceInfo* inner = Find(inventory, "2-3.2.2");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->type, DeviceType::kUsb);
  EXPECT_EQ(inner->path, "/sys/bus/usb/devices/2-3.2.2");  // libedgetpu's path, whatever the root
  EXPECT_EQ(inner->state, DeviceState::kReady);
  EXPECT_EQ(inner->link_speed_mbps, 5000);
  EXPECT_EQ(inner->bus, 2);
  EXPECT_THAT(inner->ports, ElementsAre(3, 2, 2));
  ASSERT_EQ(inner->hubs.size(), 2u);
  EXPECT_EQ(inner->hubs[0].name, "2-3");
  EXPECT_EQ(inner->hubs[0].port, 3);
  EXPECT_EQ(inner->hubs[0].ports, 4);
  EXPECT_EQ(inner->hubs[1].name, "2-3.2");
  EXPECT_EQ(inner->hubs[1].port, 2);
  EXPECT_EQ(inner->hubs[1].self_powered, true);
  EXPECT_EQ(inner->root_hub_ports, 7);
  EXPECT_EQ(inner->root_hub_speed_mbps, 5000);
  EXPECT_EQ(inner->max_power_ma, 896);
  EXPECT_EQ(inner->serial, "e5f6a7b8");

  const DeviceInfo* outer = Find(inventory, "2-3.1");
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(outer->hubs.size(), 1u);

  // The tree keeps every USB device, Edge TPU or not, and skips interface folders.
  EXPECT_EQ(inventory.usb_nodes.size(), 8u);  // 2 root hubs, 2 hubs, 3 sticks, 1 receiver
  EXPECT_THAT(inventory.usb_nodes,
              Contains(::testing::Field(&UsbNode::description, "Logitech USB Receiver")));
}

TEST(DiscoveryTest, DualM2CardIsTwoPcieDevices) {
  Inventory inventory = testing::DiscoverFixture("dual_m2");
  ASSERT_EQ(inventory.devices.size(), 2u);
  const DeviceInfo* first = Find(inventory, "apex_0");
  const DeviceInfo* second = Find(inventory, "apex_1");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->path, "/dev/apex_0");
  EXPECT_EQ(first->state, DeviceState::kReady);
  EXPECT_DOUBLE_EQ(*first->temperature_c, 45.25);
  EXPECT_THAT(first->trip_points_c, ElementsAre(85.0, 90.0, 95.0));
  EXPECT_EQ(first->link_speed_mbps, 5000);
  EXPECT_EQ(first->pcie_lanes, 1);
  EXPECT_FALSE(first->owner_pid.has_value());
  EXPECT_EQ(second->state, DeviceState::kOwnedElsewhere);
  EXPECT_EQ(second->owner_pid, 4242);
}

TEST(DiscoveryTest, MixedFirmwareStatesAndLinkSpeeds) {
  Inventory inventory = testing::DiscoverFixture("mixed");
  ASSERT_EQ(inventory.devices.size(), 6u);
  EXPECT_EQ(Find(inventory, "2-1")->state, DeviceState::kReady);
  EXPECT_EQ(Find(inventory, "2-2")->state, DeviceState::kNeedsFirmware);
  EXPECT_EQ(Find(inventory, "1-2.3")->state, DeviceState::kNeedsFirmware);
  EXPECT_EQ(Find(inventory, "1-1")->link_speed_mbps, 480);
  const DeviceInfo* behind_hub = Find(inventory, "1-2.1");
  ASSERT_EQ(behind_hub->hubs.size(), 1u);
  EXPECT_EQ(behind_hub->hubs[0].self_powered, false);
  EXPECT_EQ(behind_hub->hubs[0].max_power_ma, 100);
  // Discovery order puts PCIe first.
  EXPECT_EQ(inventory.devices.front().type, DeviceType::kPci);
}

TEST(DiscoveryTest, MalformedFilesBecomeProblemsNotCrashes) {
  Inventory inventory = testing::DiscoverFixture("malformed");
  ASSERT_EQ(inventory.devices.size(), 4u);  // apex_0, apex_1, 2-1, 2-2; 2-4 has no product id
  EXPECT_EQ(Find(inventory, "2-1")->link_speed_mbps, 0);
  EXPECT_EQ(Find(inventory, "apex_0")->state, DeviceState::kMissingNode);
  EXPECT_FALSE(Find(inventory, "apex_0")->temperature_c.has_value());
  EXPECT_EQ(Find(inventory, "2-4"), nullptr);
  auto has = [&](const std::string& text) {
    return std::any_of(inventory.problems.begin(), inventory.problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("2-1/speed: 'fast' is not a link speed in Mb/s"));
  EXPECT_TRUE(has("2-2/speed: missing or unreadable"));
  EXPECT_TRUE(has("apex_0/temp: 'hot' is not a decimal number"));
  EXPECT_TRUE(has("not-a-device: ignored, not a USB device name"));
  EXPECT_TRUE(has("2-4: empty idVendor or idProduct"));
}

TEST(DiscoveryTest, EmptyAndMissingRootsGiveNoDevices) {
  EXPECT_TRUE(testing::DiscoverFixture("empty").devices.empty());
  DiscoveryOptions options;
  options.sysfs_root = "/nonexistent/root";
  options.query_runtime = false;
  Inventory inventory = DiscoverDevices(options);
  EXPECT_TRUE(inventory.devices.empty());
  EXPECT_TRUE(inventory.usb_nodes.empty());
}

TEST(DiscoveryTest, RuntimeDevicesAreMergedByPath) {
  Inventory inventory = testing::DiscoverFixture("coral_hub_example");
  RuntimeProbe probe;
  probe.loaded = true;
  probe.devices = {{DeviceType::kUsb, "/sys/bus/usb/devices/2-3.1"},
                   {DeviceType::kPci, "/dev/apex_7"}};
  MergeRuntimeDevices(probe, inventory);
  ASSERT_EQ(inventory.devices.size(), 4u);
  EXPECT_TRUE(Find(inventory, "2-3.1")->seen_by_runtime);
  EXPECT_FALSE(Find(inventory, "2-3.2.1")->seen_by_runtime);
  // A device only the runtime knows is added (PCIe first) and noted.
  EXPECT_EQ(inventory.devices.front().path, "/dev/apex_7");
  EXPECT_THAT(inventory.problems,
              Contains(HasSubstr("/dev/apex_7: listed by libedgetpu but not found in sysfs")));
}

}  // namespace
}  // namespace tpufleet
