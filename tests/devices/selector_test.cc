#include "devices/selector.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "devices/discovery.h"
#include "devices/order.h"
#include "support/fixtures.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;

class SelectorAcceptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SelectorAcceptTest, Parses) {
  Result<Selector> selector = ParseSelector(GetParam());
  EXPECT_TRUE(selector.ok()) << selector.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(CoralAndTpufleetForms, SelectorAcceptTest,
                         ::testing::Values("", "usb", "pci", ":0", ":12", "usb:0", "usb:1", "pci:3",
                                           "usb:007", "cpu", "sim", "sim:2", "usb@2-1.3",
                                           "usb@/sys/bus/usb/devices/2-1.3", "usb@10-4",
                                           "pci@/dev/apex_0", "pci@apex_1", "#0", "usb#1",
                                           "pci#0"));

struct Rejection {
  std::string text;
  std::string reason;
};
void PrintTo(const Rejection& r, std::ostream* out) { *out << "'" << r.text << "'"; }

class SelectorRejectTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(SelectorRejectTest, RejectsWithTheReason) {
  Result<Selector> selector = ParseSelector(GetParam().text);
  ASSERT_FALSE(selector.ok()) << GetParam().text;
  EXPECT_EQ(selector.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(selector.status().message(),
              HasSubstr("invalid device string '" + GetParam().text + "'"));
  EXPECT_THAT(selector.status().message(), HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    EdgeTpuDocAndMore, SelectorRejectTest,
    ::testing::Values(
        Rejection{"USB", "lowercase: did you mean 'usb'?"},
        Rejection{"Pci:0", "lowercase: did you mean 'pci'?"},
        Rejection{"pcie", "unknown device type 'pcie'"},
        Rejection{"apex:0", "unknown device type 'apex'"},
        Rejection{"usb:", "no index after the colon; write usb:0"},
        Rejection{":", "no index after the colon"},
        Rejection{"usb:-1", "index '-1' is not a non-negative decimal integer"},
        Rejection{"usb:1a", "index '1a' is not a non-negative decimal integer"},
        Rejection{":+1", "index '+1' is not a non-negative decimal integer"},
        Rejection{"usb:1:2", "index '1:2'"}, Rejection{"usb:99999999999", "too large"},
        Rejection{"/dev/apex_0", "select by path with pci@/dev/apex_0"},
        Rejection{"/sys/bus/usb/devices/2-1", "select by path with usb@/sys/bus/usb/devices/2-1"},
        Rejection{" usb", "no spaces"}, Rejection{"usb ", "no spaces"},
        Rejection{"cpu:0", "cpu takes no index"}, Rejection{"usb@", "like usb@2-1.3"},
        Rejection{"usb@2-", "like usb@2-1.3"}, Rejection{"usb@2-1..3", "like usb@2-1.3"},
        Rejection{"usb@2-1.3.", "like usb@2-1.3"}, Rejection{"usb@apex_0", "like usb@2-1.3"},
        Rejection{"pci@/dev/apex_", "like pci@/dev/apex_0"},
        Rejection{"pci@2-1", "pci@/dev/apex_0"}, Rejection{"sim@1", "only usb@ and pci@"},
        Rejection{"@2-1", "give a type before '@'"},
        Rejection{"usb#", "no index after the '#'; write usb#0"},
        Rejection{"#x", "index 'x' is not a non-negative decimal integer"},
        Rejection{"sim#0", "simulated devices have one order"},
        Rejection{"cpu#0", "cpu takes no index"}),
    [](const ::testing::TestParamInfo<Rejection>& info) {
      return "case" + std::to_string(info.index);
    });

TEST(SelectorTest, ParsedFields) {
  Selector s = ParseSelector("usb:2").value();
  EXPECT_EQ(s.type, DeviceType::kUsb);
  EXPECT_EQ(s.index, 2);
  Selector any = ParseSelector(":1").value();
  EXPECT_FALSE(any.type.has_value());
  EXPECT_EQ(any.index, 1);
  Selector path = ParseSelector("usb@/sys/bus/usb/devices/2-3.2.1").value();
  EXPECT_EQ(path.port_or_node, "2-3.2.1");
  EXPECT_EQ(ParseSelector("pci@/dev/apex_1").value().port_or_node, "apex_1");
  EXPECT_TRUE(ParseSelector("").value().is_any());
}

std::vector<DeviceInfo> MixedDevices() {
  DiscoveryOptions options;
  options.sysfs_root = testing::SysfsFixture("mixed");
  options.query_runtime = false;
  return Ordered(DiscoverDevices(options).devices, EnumerationOrder::kStable);
}

std::string Resolve1(const std::string& text, const std::vector<DeviceInfo>& devices) {
  Result<std::vector<const DeviceInfo*>> found =
      ResolveSelector(ParseSelector(text).value(), devices);
  EXPECT_TRUE(found.ok()) << found.status().ToString();
  if (!found.ok()) return "";
  EXPECT_EQ(found->size(), 1u);
  return found->front()->name;
}

TEST(SelectorTest, ResolvesIndexesAndPathsInOrder) {
  std::vector<DeviceInfo> devices = MixedDevices();  // apex_0, 1-1, 1-2.1, 1-2.3, 2-1, 2-2
  EXPECT_EQ(Resolve1(":0", devices), "apex_0");
  EXPECT_EQ(Resolve1(":1", devices), "1-1");
  EXPECT_EQ(Resolve1("usb:0", devices), "1-1");
  EXPECT_EQ(Resolve1("usb:4", devices), "2-2");
  EXPECT_EQ(Resolve1("pci:0", devices), "apex_0");
  EXPECT_EQ(Resolve1("usb@2-1", devices), "2-1");
  EXPECT_EQ(Resolve1("usb@/sys/bus/usb/devices/1-2.3", devices), "1-2.3");
  EXPECT_EQ(Resolve1("pci@/dev/apex_0", devices), "apex_0");
}

TEST(SelectorTest, AnyPrefersPcie) {
  std::vector<DeviceInfo> devices = MixedDevices();
  std::reverse(devices.begin(), devices.end());
  Result<std::vector<const DeviceInfo*>> any = ResolveSelector(ParseSelector("").value(), devices);
  ASSERT_TRUE(any.ok());
  ASSERT_EQ(any->size(), 6u);
  EXPECT_EQ(any->front()->type, DeviceType::kPci);
  Result<std::vector<const DeviceInfo*>> usb =
      ResolveSelector(ParseSelector("usb").value(), devices);
  ASSERT_TRUE(usb.ok());
  EXPECT_EQ(usb->size(), 5u);
}

TEST(SelectorTest, OutOfRangeListsTheDevicesThatExist) {
  std::vector<DeviceInfo> devices = MixedDevices();
  Result<std::vector<const DeviceInfo*>> found =
      ResolveSelector(ParseSelector("pci:1").value(), devices);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(found.status().message(),
              HasSubstr("'pci:1': index 1 is out of range: there is 1 pci device"));
  EXPECT_THAT(found.status().message(), HasSubstr("pci:0 /dev/apex_0 (ready)"));
  EXPECT_THAT(found.status().message(), HasSubstr("usb:3 /sys/bus/usb/devices/2-1 (ready)"));
  EXPECT_THAT(found.status().message(),
              HasSubstr("usb:4 /sys/bus/usb/devices/2-2 (needs firmware)"));
}

TEST(SelectorTest, MissingPathAndEmptyListsAreExplained) {
  std::vector<DeviceInfo> devices = MixedDevices();
  Result<std::vector<const DeviceInfo*>> path =
      ResolveSelector(ParseSelector("usb@3-1").value(), devices);
  ASSERT_FALSE(path.ok());
  EXPECT_THAT(path.status().message(), HasSubstr("no usb device at 3-1"));
  Result<std::vector<const DeviceInfo*>> none = ResolveSelector(ParseSelector("").value(), {});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no Edge TPU found; devices found: none"));
  Result<std::vector<const DeviceInfo*>> sim =
      ResolveSelector(ParseSelector("sim:0").value(), devices);
  ASSERT_FALSE(sim.ok());
  EXPECT_THAT(sim.status().message(), HasSubstr("there are 0 sim devices"));
}

// Coral's `:N` indexes libedgetpu's enumeration order, `#N` the stable one; on the mixed rig
// (two sticks still in bootloader mode, which libedgetpu lists before the others) they differ.
TEST(SelectorTest, ColonIndexesCoralsOrderHashTheStableOne) {
  DiscoveryOptions options;
  options.sysfs_root = testing::SysfsFixture("mixed");
  options.query_runtime = false;
  Inventory inventory = DiscoverDevices(options);
  std::vector<DeviceInfo> coral = CoralOrdered(inventory);
  std::vector<DeviceInfo> stable = Ordered(inventory.devices, EnumerationOrder::kStable);
  ASSERT_EQ(coral.size(), 6u);
  int differing = 0;
  for (size_t n = 0; n < coral.size(); ++n) {
    EXPECT_EQ(Resolve1(fmt::format(":{}", n), coral), coral[n].name);
    EXPECT_EQ(Resolve1(fmt::format("#{}", n), coral), stable[n].name);
    differing += coral[n].name != stable[n].name;
  }
  EXPECT_GT(differing, 0);
  // usb:0 is a stick still in bootloader mode, as in libedgetpu; usb#0 the first by port.
  const DeviceInfo* usb0 = ResolveSelector(ParseSelector("usb:0").value(), coral).value()[0];
  EXPECT_EQ(usb0->state, DeviceState::kNeedsFirmware);
  EXPECT_EQ(Resolve1("usb#0", coral), "1-1");
  EXPECT_EQ(Resolve1("usb#4", coral), "2-2");
  EXPECT_EQ(Resolve1("pci#0", coral), "apex_0");
  EXPECT_THAT(ResolveSelector(ParseSelector("usb#5").value(), coral).status().message(),
              HasSubstr("index 5 is out of range: there are 5 usb devices"));
}

TEST(ModelSpecTest, TheDeviceFollowsTheFirstAtThatADeviceStringFollows) {
  auto parse = [](const std::string& text) {
    ModelSpec spec = ParseModelSpec(text).value();
    return spec.model + " | " + spec.device;
  };
  EXPECT_EQ(parse("model.tflite"), "model.tflite | ");
  EXPECT_EQ(parse("model.tflite@usb:1"), "model.tflite | usb:1");
  EXPECT_EQ(parse("model.tflite@usb@2-1.3"), "model.tflite | usb@2-1.3");
  EXPECT_EQ(parse("model.tflite@pci@/dev/apex_0"), "model.tflite | pci@/dev/apex_0");
  EXPECT_EQ(parse("model.tflite@usb@/sys/bus/usb/devices/2-1"),
            "model.tflite | usb@/sys/bus/usb/devices/2-1");
  EXPECT_EQ(parse("/home/me@host/model.tflite@sim:0"), "/home/me@host/model.tflite | sim:0");
  EXPECT_EQ(parse("/home/me@host/model.tflite"), "/home/me@host/model.tflite | ");
  EXPECT_EQ(parse("zoo:mobilenet_v2@#1"), "zoo:mobilenet_v2 | #1");
  EXPECT_EQ(parse("model@2x.tflite@cpu"), "model@2x.tflite | cpu");
  EXPECT_EQ(parse("model@2x.tflite@"), "model@2x.tflite | ");
  Result<ModelSpec> bad = ParseModelSpec("model.tflite@usb:x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("index 'x' is not a non-negative decimal"));
  EXPECT_THAT(bad.status().message(), HasSubstr("write MODEL@DEVICE"));
}

}  // namespace
}  // namespace tpufleet