#include "devices/order.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "devices/discovery.h"
#include "support/fixtures.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;

DeviceInfo Usb(const std::string& name, int bus, std::vector<int> ports, DeviceState state) {
  DeviceInfo d;
  d.type = DeviceType::kUsb;
  d.name = name;
  d.path = "/sys/bus/usb/devices/" + name;
  d.bus = bus;
  d.ports = std::move(ports);
  d.state = state;
  return d;
}

DeviceInfo Pci(int n) {
  DeviceInfo d;
  d.type = DeviceType::kPci;
  d.name = "apex_" + std::to_string(n);
  d.path = "/dev/" + d.name;
  return d;
}

std::vector<std::string> Names(const std::vector<DeviceInfo>& devices) {
  std::vector<std::string> names;
  for (const DeviceInfo& d : devices) names.push_back(d.name);
  return names;
}

TEST(OrderTest, CoralPutsPcieFirstThenBootloaderSticksThenReadyOnes) {
  // Discovery order as readdir returns it: unsorted.
  std::vector<DeviceInfo> discovered = {Usb("2-1", 2, {1}, DeviceState::kReady), Pci(1),
                                        Usb("2-2", 2, {2}, DeviceState::kNeedsFirmware), Pci(0),
                                        Usb("1-4", 1, {4}, DeviceState::kReady)};
  EXPECT_THAT(Names(Ordered(discovered, EnumerationOrder::kCoral)),
              ElementsAre("apex_1", "apex_0", "2-2", "2-1", "1-4"));
  EXPECT_THAT(Names(Ordered(discovered, EnumerationOrder::kStable)),
              ElementsAre("apex_0", "apex_1", "1-4", "2-1", "2-2"));
}

TEST(OrderTest, CoralIndexesShiftWhenAStickLoadsFirmwareStableOnesDoNot) {
  // Two sticks: 2-1 already initialised, 2-2 still in bootloader mode.
  std::vector<DeviceInfo> before = {Usb("2-1", 2, {1}, DeviceState::kReady),
                                    Usb("2-2", 2, {2}, DeviceState::kNeedsFirmware)};
  // Another process opens 2-2: it re-enumerates as 18d1:9302 on the same port.
  std::vector<DeviceInfo> after = before;
  after[1].state = DeviceState::kReady;

  EXPECT_EQ(Ordered(before, EnumerationOrder::kCoral)[0].name, "2-2");  // Coral's usb:0 ...
  EXPECT_EQ(Ordered(after, EnumerationOrder::kCoral)[0].name, "2-1");  // ... is now the other stick
  EXPECT_EQ(Ordered(before, EnumerationOrder::kStable)[0].name, "2-1");
  EXPECT_EQ(Ordered(after, EnumerationOrder::kStable)[0].name, "2-1");
}

TEST(OrderTest, StableOrderComparesPortsNumerically) {
  std::vector<DeviceInfo> devices = {Usb("2-10", 2, {10}, DeviceState::kReady),
                                     Usb("2-9.2", 2, {9, 2}, DeviceState::kReady),
                                     Usb("2-9", 2, {9}, DeviceState::kReady), Pci(10), Pci(2)};
  EXPECT_THAT(Names(Ordered(devices, EnumerationOrder::kStable)),
              ElementsAre("apex_2", "apex_10", "2-9", "2-9.2", "2-10"));
}

TEST(OrderTest, SimulatedAndCpuDevicesComeAfterEdgeTpus) {
  DeviceInfo sim;
  sim.type = DeviceType::kSim;
  sim.name = "sim:0";
  DeviceInfo cpu;
  cpu.type = DeviceType::kCpu;
  cpu.name = "cpu";
  std::vector<DeviceInfo> devices = {cpu, sim, Usb("2-1", 2, {1}, DeviceState::kReady)};
  EXPECT_THAT(Names(Ordered(devices, EnumerationOrder::kStable)),
              ElementsAre("2-1", "sim:0", "cpu"));
  EXPECT_THAT(Names(Ordered(devices, EnumerationOrder::kCoral)),
              ElementsAre("2-1", "sim:0", "cpu"));
}

TEST(OrderTest, OrderNamesParse) {
  EXPECT_EQ(ParseEnumerationOrder("coral").value(), EnumerationOrder::kCoral);
  EXPECT_EQ(ParseEnumerationOrder("stable").value(), EnumerationOrder::kStable);
  Result<EnumerationOrder> bad = ParseEnumerationOrder("libusb");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("use 'stable'"));
}

TEST(OrderTest, MixedFixtureInCoralOrder) {
  DiscoveryOptions options;
  options.sysfs_root = testing::SysfsFixture("mixed");
  options.query_runtime = false;
  std::vector<DeviceInfo> coral =
      Ordered(DiscoverDevices(options).devices, EnumerationOrder::kCoral);
  ASSERT_EQ(coral.size(), 6u);
  EXPECT_EQ(coral[0].type, DeviceType::kPci);
  EXPECT_EQ(coral[1].state, DeviceState::kNeedsFirmware);
  EXPECT_EQ(coral[2].state, DeviceState::kNeedsFirmware);
  for (size_t i = 3; i < coral.size(); ++i) EXPECT_EQ(coral[i].state, DeviceState::kReady);
}

TEST(OrderTest, CoralOrderIsTheRuntimesListingWhenItLoaded) {
  Inventory inventory;
  inventory.devices = {Usb("2-1", 2, {1}, DeviceState::kReady),
                       Usb("2-2", 2, {2}, DeviceState::kReady), Pci(0)};
  // Without the runtime: the reconstruction from sysfs.
  EXPECT_THAT(Names(CoralOrdered(inventory)), ElementsAre("apex_0", "2-1", "2-2"));
  // With it: the order it lists devices in, which is what `:N` indexes in Coral.
  RuntimeProbe probe;
  probe.loaded = true;
  probe.devices = {{DeviceType::kPci, "/dev/apex_0"},
                   {DeviceType::kUsb, "/sys/bus/usb/devices/2-2"},
                   {DeviceType::kUsb, "/sys/bus/usb/devices/2-1"}};
  inventory.runtime = probe;
  EXPECT_THAT(Names(CoralOrdered(inventory)), ElementsAre("apex_0", "2-2", "2-1"));
  // A device the runtime does not list comes after those it does.
  probe.devices.erase(probe.devices.begin());
  inventory.runtime = probe;
  EXPECT_THAT(Names(CoralOrdered(inventory)), ElementsAre("2-2", "2-1", "apex_0"));
}

}  // namespace
}  // namespace tpufleet