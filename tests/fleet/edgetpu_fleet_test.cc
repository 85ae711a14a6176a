// The fleet on "real" Edge TPUs: the stand-in libedgetpu (tests/support/fake_libedgetpu.cc) and
// TFLite 2.9's C library, loaded as a user's would be, in this process or isolated in child
// processes that abort and hang on cue.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backends/edgetpu/edgetpu_device.h"
#include "backends/isolation/isolated_device.h"
#include "common/image.h"
#include "fleet/fleet_test_util.h"
#include "support/shared_files.h"
#include "tpufleet/fleet.h"
#include "tpufleet/interpreter.h"

namespace tpufleet {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::Eventually;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::SharedDir;
using testing::SharedModel;

constexpr char kFirst[] = "/sys/bus/usb/devices/2-1";
constexpr char kSecond[] = "/sys/bus/usb/devices/2-2";

// Two USB sticks from the stand-in runtime; every test sets the same libraries (the runtime is
// loaded once per process) and its own faults.
class EdgeTpuFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(compiled_)) GTEST_SKIP() << "missing " << compiled_;
    dir_ =
        std::filesystem::temp_directory_path() / fmt::format("tpufleet_edgetpu_fleet_{}", getpid());
    std::filesystem::create_directories(dir_);
    setenv("TPUFLEET_EDGETPU_LIB", TPUFLEET_FAKE_EDGETPU, 1);
    setenv("TPUFLEET_TFLITE_LIB", TPUFLEET_TFLITE_C, 1);
    setenv("TPUFLEET_DEVICE_HOST", TPUFLEET_DEVICE_HOST_BINARY, 1);
    setenv("TPUFLEET_LOCK_DIR", (dir_ / "locks").c_str(), 1);
    setenv("TPUFLEET_FAKE_EDGETPU_LOG", (dir_ / "log").c_str(), 1);
    setenv("TPUFLEET_FAKE_EDGETPU_DEVICES", fmt::format("usb:{},usb:{}", kFirst, kSecond).c_str(),
           1);
    setenv("TPUFLEET_FAKE_EDGETPU_MODELS", compiled_.c_str(), 1);
    unsetenv("TPUFLEET_FAKE_EDGETPU_FAULTS");
    model_ = Model::FromFile(compiled_).value();
    pixels_ = ImageFileTensor((SharedDir() / "images" / "cat.bmp").string(), *model_).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Log() const {
    std::ifstream in(dir_ / "log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static DeviceInfo FirstStick() {
    DeviceInfo first;
    first.type = DeviceType::kUsb;
    first.path = kFirst;
    first.name = "2-1";
    return first;
  }
  // Both sticks, each in a child process, never probed again once down.
  static FleetOptions IsolatedSticks() {
    FleetOptions options;
    options.devices = {"usb:0", "usb:1"};
    options.isolate = true;
    options.probe_interval = std::chrono::hours(1);
    return options;
  }
  static int TopClass(const InferenceResult& r) {
    return static_cast<int>(std::max_element(r.outputs[0].begin(), r.outputs[0].end()) -
                            r.outputs[0].begin());
  }

  std::string compiled_ = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  std::filesystem::path dir_;
  ModelPtr model_;
  std::vector<uint8_t> pixels_;
};

TEST_F(EdgeTpuFleetTest, TheFleetRunsEdgeTpusInProcessWithOptionsPassed) {
  FleetOptions options;
  options.devices = {"usb:0", "usb:1"};
  options.edgetpu_options = {{"Performance", "Max"}};
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  EXPECT_THAT(fleet->device_names(), ElementsAre("usb@2-1", "usb@2-2"));
  int id = fleet->AddModel(model_, {"usb@2-2"}).value();
  Result<InferenceResult> r =
      fleet->SubmitImage(id, (SharedDir() / "images" / "cat.bmp").string()).get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->device, "usb@2-2");
  EXPECT_EQ(TopClass(r.value()), 286);
  EXPECT_THAT(Log(), HasSubstr(fmt::format("create usb {} Performance=Max", kSecond)));
  FleetOptions bad = options;
  bad.edgetpu_options = {{"Performance", "max"}};
  EXPECT_THAT(Fleet::Create(bad).status().message(),
              HasSubstr("usb:0: Edge TPU option Performance=max: the value must be one of"));
}

TEST_F(EdgeTpuFleetTest, AutomaticPlacementPrefersPcieAsCoralsOldApiDid) {
  setenv("TPUFLEET_FAKE_EDGETPU_DEVICES", fmt::format("usb:{},pci:/dev/apex_0", kFirst).c_str(), 1);
  FleetOptions options;
  options.devices = {"usb:0", "pci:0"};
  options.strict = true;
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  int first = fleet->AddModel(model_).value();
  int second = fleet->AddModel(testing::Zoo("mobilenet_v1", 0.25, 128)).value();
  EXPECT_THAT(fleet->placement(first).value(), ElementsAre("pci@apex_0"));
  EXPECT_THAT(fleet->placement(second).value(), ElementsAre("usb@2-1"));
  EXPECT_THAT(fleet->AddModel(testing::Zoo("mobilenet_v1", 0.5, 128)).status().message(),
              HasSubstr("would be model number 3, but the fleet has 2 devices"));
  Result<InferenceResult> r = fleet->Run(first, {pixels_});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(TopClass(r.value()), 286);
}

TEST_F(EdgeTpuFleetTest, ByDefaultAFleetUsesTheEdgeTpusOnTheMachineAndNoSimulatedOnes) {
  auto fleet = testing::MakeFleet(FleetOptions{});
  ASSERT_TRUE(fleet);
  EXPECT_THAT(fleet->device_names(), ElementsAre("usb@2-1", "usb@2-2"));
}

TEST_F(EdgeTpuFleetTest, MakeInterpreterOnAnEdgeTpu) {
  Result<std::unique_ptr<Interpreter>> interpreter = MakeInterpreter(compiled_, "usb:1");
  ASSERT_TRUE(interpreter.ok()) << interpreter.status().ToString();
  EXPECT_EQ((*interpreter)->device().path, kSecond);
  Result<InferenceResult> r = (*interpreter)->Invoke({pixels_});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(TopClass(r.value()), 286);
  EXPECT_THAT(MakeInterpreter(compiled_, "usb:2").status().message(),
              HasSubstr("there are 2 usb devices"));
}

TEST_F(EdgeTpuFleetTest, AnyDeviceWithTwoSticksPicksOneAsLibedgetpuDoes) {
  // Coral's "" and "usb" name one device, never an error because several exist: the first in
  // libedgetpu's order while none is open, then the one open in this process.
  Result<DevicePtr> any = OpenDevice("");
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ((*any)->info().path, kFirst);
  any->reset();
  Result<DevicePtr> second = OpenDevice("usb:1");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)->info().path, kSecond);
  EXPECT_EQ(OpenDevice("").value(), *second);  // reuses the stick open in this process
  EXPECT_EQ(OpenDevice("usb").value(), *second);
  Result<std::unique_ptr<Interpreter>> interpreter = MakeInterpreter(compiled_);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status().ToString();
  EXPECT_EQ((*interpreter)->device_handle(), *second);
  // With a PCIe card as well, "" prefers it while nothing is open; "usb" still takes a stick.
  second->reset();
  interpreter->reset();
  setenv("TPUFLEET_FAKE_EDGETPU_DEVICES",
         fmt::format("usb:{},usb:{},pci:/dev/apex_0", kFirst, kSecond).c_str(), 1);
  EXPECT_EQ(OpenDevice("").value()->info().path, "/dev/apex_0");
  EXPECT_EQ(OpenDevice("usb").value()->info().path, kFirst);
  EXPECT_EQ(OpenDevice(DeviceType::kPci, "").value()->info().path, "/dev/apex_0");
}

TEST_F(EdgeTpuFleetTest, TheListingNamesWhatOnlyTheRuntimeSaw) {
  // The stand-in's sticks are not in this machine's sysfs: listed, and reported as such.
  DeviceListing listing = ListDevices();
  ASSERT_EQ(listing.devices.size(), 2u);
  EXPECT_EQ(listing.devices[0].path, kFirst);
  EXPECT_EQ(listing.devices[1].path, kSecond);
  EXPECT_THAT(listing.problems,
              Contains(fmt::format("{}: listed by libedgetpu but not found in sysfs", kSecond)));
  EXPECT_THAT(listing.problems, Not(Contains(HasSubstr("could not be loaded"))));
}

TEST_F(EdgeTpuFleetTest, ADeviceIsOpenedOncePerProcessAndShared) {
  // Twice the same stick in one process: one handle, so the lock never refuses its own process.
  Result<std::unique_ptr<Interpreter>> first = MakeInterpreter(compiled_, "usb:0");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<std::unique_ptr<Interpreter>> again = MakeInterpreter(compiled_, "usb@2-1");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*first)->device_handle(), (*again)->device_handle());
  Result<DevicePtr> by_path = OpenDevice(DeviceType::kUsb, kFirst);
  ASSERT_TRUE(by_path.ok()) << by_path.status().ToString();
  EXPECT_EQ(*by_path, (*first)->device_handle());
  EXPECT_EQ(OpenDevice(ListDevices().devices[0]).value(), *by_path);
  EXPECT_EQ(Log(), fmt::format("create usb {}\n", kFirst));  // one delegate for all of them
  // A fleet in the same process runs on the same open stick.
  FleetOptions options;
  options.devices = {"usb:0"};
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(model_).value();
  Result<InferenceResult> r = fleet->Run(id, {pixels_});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(TopClass(r.value()), 286);
  Result<InferenceResult> direct = (*again)->Invoke({pixels_});
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(direct->outputs, r->outputs);
  // Options differing from the open device's are refused rather than silently dropped.
  Status other = OpenDevice("usb:0", {.edgetpu_options = {{"Performance", "Low"}}}).status();
  EXPECT_EQ(other.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.message(), HasSubstr("open in this process already with other Edge TPU"));
  EXPECT_THAT(OpenDevice(DeviceType::kUsb, "/sys/bus/usb/devices/7-7").status().message(),
              HasSubstr("no usb device /sys/bus/usb/devices/7-7"));
}

TEST_F(EdgeTpuFleetTest, TwoCoCompiledModelsOnOneHandleFromTwoThreads) {
  std::string a = SharedModel(
      "mobilenet_v1_0.25_128_quant_cocompiled_with_mobilenet_v1_0.5_160_quant_edgetpu.tflite");
  std::string b = SharedModel(
      "mobilenet_v1_0.5_160_quant_cocompiled_with_mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(a);
  TPUFLEET_REQUIRE_FILE(b);
  setenv("TPUFLEET_FAKE_EDGETPU_MODELS", fmt::format("{},{}", a, b).c_str(), 1);
  DevicePtr device = OpenDevice("usb:1").value();
  std::unique_ptr<Interpreter> first = MakeInterpreter(a, device).value();
  std::unique_ptr<Interpreter> second = MakeInterpreter(b, device).value();
  // The answers each must give, from the CPU on the uncompiled twins.
  auto expected = [&](const Interpreter& on_tpu, const std::string& twin) {
    std::vector<uint8_t> pixels =
        ImageFileTensor((SharedDir() / "images" / "cat.bmp").string(), on_tpu.model()).value();
    return std::make_pair(
        pixels,
        MakeInterpreter(SharedModel(twin), "cpu").value()->Invoke({pixels}).value().outputs);
  };
  auto [pixels_a, want_a] = expected(*first, "mobilenet_v1_0.25_128_quant.tflite");
  auto [pixels_b, want_b] = expected(*second, "mobilenet_v1_0.5_160_quant.tflite");
  EXPECT_EQ(testing::MismatchesFromThreads(
                {{first.get(), pixels_a, want_a[0]}, {second.get(), pixels_b, want_b[0]}}, 20),
            std::vector<int>({0, 0}));
  EXPECT_EQ(Log(), fmt::format("create usb {}\n", kSecond));
}

TEST_F(EdgeTpuFleetTest, InPlaceTensorsOnAnEdgeTpuMatchTheCopyingCall) {
  std::unique_ptr<Interpreter> interpreter = MakeInterpreter(model_, "usb:0").value();
  Result<InferenceResult> copied = interpreter->Invoke({pixels_});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  std::fill(interpreter->input(0).bytes().begin(), interpreter->input(0).bytes().end(), 0);
  ASSERT_TRUE(interpreter->Invoke().ok());
  ASSERT_NE(std::vector<uint8_t>(interpreter->output(0).bytes().begin(),
                                 interpreter->output(0).bytes().end()),
            copied->outputs[0]);
  uint8_t* input = interpreter->input(0).data<uint8_t>();
  ASSERT_NE(input, nullptr);
  std::copy(pixels_.begin(), pixels_.end(), input);
  ASSERT_TRUE(interpreter->Invoke().ok());
  const uint8_t* scores = interpreter->output(0).data<uint8_t>();
  ASSERT_NE(scores, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(scores, scores + interpreter->output(0).byte_size()),
            copied->outputs[0]);
  OperatorProfile profile;
  EXPECT_EQ(interpreter->Invoke(profile).code(), StatusCode::kUnimplemented);
}

TEST_F(EdgeTpuFleetTest, ModelSpecsMayNameADeviceByPort) {
  FleetOptions options;
  options.devices = {"usb:0", "usb:1"};
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  Result<int> id = fleet->AddModel(compiled_ + "@usb@2-2");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_THAT(fleet->placement(*id).value(), ElementsAre("usb@2-2"));
  Result<int> by_stable_index = fleet->AddModel(compiled_ + "@usb#0");
  ASSERT_TRUE(by_stable_index.ok()) << by_stable_index.status().ToString();
  EXPECT_THAT(fleet->placement(*by_stable_index).value(), ElementsAre("usb@2-1"));
}

TEST_F(EdgeTpuFleetTest, AnAbortInsideTheRuntimeTakesDownOnlyItsIsolatedDevice) {
  setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", fmt::format("abort_after=3@{}", kFirst).c_str(), 1);
  FleetOptions options;
  options.devices = {"usb:0", "usb:1"};
  options.isolate = true;
  options.probe_interval = std::chrono::milliseconds(5);
  options.queue_capacity = 100;
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(model_, {"usb:0", "usb:1"}).value();
  std::vector<std::future<Result<InferenceResult>>> answers;
  for (int i = 0; i < 30; ++i) answers.push_back(fleet->Submit(id, {pixels_}));
  for (auto& a : answers) {
    Result<InferenceResult> r = a.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();  // nothing is lost
    EXPECT_EQ(TopClass(r.value()), 286);
  }
  FleetMetrics metrics = fleet->Metrics();
  EXPECT_GE(metrics.devices[0].failures, 1u);
  EXPECT_THAT(metrics.devices[0].down_reason, HasSubstr("was killed by signal 6"));
  EXPECT_EQ(metrics.devices[0].requests + metrics.devices[1].requests, 30u);  // once each
  EXPECT_EQ(metrics.models[0].requests, 30u);
  // The probe starts a new device process and the stick rejoins.
  EXPECT_TRUE(Eventually([&] { return fleet->Metrics().devices[0].rejoins >= 1; }));
}

TEST_F(EdgeTpuFleetTest, AHangInsideTheRuntimeIsKilledAndTheRequestMovesOn) {
  setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", fmt::format("hang_after=1@{}", kFirst).c_str(), 1);
  FleetOptions options;
  options.devices = {"usb:0", "usb:1"};
  options.isolate = true;
  // The hang lasts forever, so any timeout finds it; one well above a real invocation's time
  // keeps the first, normal request from timing out too in slow (sanitizer) builds.
  options.invocation_timeout_seconds = 3;
  options.probe_interval = std::chrono::hours(1);
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(model_, {"usb:0"}).value();
  ASSERT_TRUE(fleet->Run(id, {pixels_}).ok());
  Result<InferenceResult> moved = fleet->Run(id, {pixels_});  // hangs on usb:0
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->device, "usb@2-2");
  EXPECT_EQ(moved->attempts, 2);
  EXPECT_THAT(fleet->Metrics().devices[0].down_reason,
              HasSubstr("no answer within the invocation timeout"));
}

TEST_F(EdgeTpuFleetTest, AStickInThisProcessThatFailsRejoinsWithAFreshDelegate) {
  // The stick's delegate fails every invocation after its second; only a new delegate works.
  setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", fmt::format("delegate_fails_after=2@{}", kFirst).c_str(),
         1);
  FleetOptions options;
  options.devices = {"usb:0", "usb:1"};
  options.probe_interval = std::chrono::milliseconds(5);
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(model_, {"usb:0"}).value();
  // Two on usb:0, then failures there that usb:1 serves, until usb:0 is taken down.
  for (int i = 0; i < 6; ++i) {
    Result<InferenceResult> r = fleet->Run(id, {pixels_});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(TopClass(*r), 286);
  }
  EXPECT_THAT(fleet->Metrics().devices[0].down_reason,
              HasSubstr("failed here and were then served by another device"));
  ASSERT_TRUE(Eventually([&] { return fleet->Metrics().devices[0].rejoins >= 1; }));
  // Back on its own stick, through a delegate created at the rejoin: the old one still fails.
  Result<InferenceResult> back = fleet->Run(id, {pixels_});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->device, "usb@2-1");
  EXPECT_EQ(back->attempts, 1);
  EXPECT_EQ(TopClass(*back), 286);
  std::string log = Log(), created = fmt::format("create usb {}", kFirst);
  size_t creates = 0;
  for (size_t at = log.find(created); at != std::string::npos; at = log.find(created, at + 1)) {
    ++creates;
  }
  EXPECT_EQ(creates, 2u) << log;  // when the fleet opened it, and when it rejoined
}

TEST_F(EdgeTpuFleetTest, DestroyingAFleetWhileAnIsolatedChildHangsKillsTheChildAndReturns) {
  setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", fmt::format("hang_after=1@{}", kFirst).c_str(), 1);
  FleetOptions options = IsolatedSticks();
  options.devices = {"usb:0"};
  options.invocation_timeout_seconds = 3;
  std::future<Result<InferenceResult>> hung;
  {
    auto fleet = testing::MakeFleet(options);
    ASSERT_TRUE(fleet);
    int id = fleet->AddModel(model_).value();
    ASSERT_TRUE(fleet->Run(id, {pixels_}).ok());
    hung = fleet->Submit(id, {pixels_});  // inside the runtime for an hour
  }  // ~Fleet returns once the watchdog has killed the child, not an hour later
  Result<InferenceResult> answer = hung.get();
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable) << answer.status().ToString();
  // The child is gone: its lock on the stick is free for another process.
  DeviceInfo first = FirstStick();
  Result<std::unique_ptr<backends::IsolatedDevice>> again =
      backends::IsolatedDevice::Open(first, {});
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST_F(EdgeTpuFleetTest, AnIsolatedChildSendingGarbageIsKilledAndItsDeviceMarkedDown) {
  setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", fmt::format("garbage_after=1@{}", kFirst).c_str(), 1);
  auto fleet = testing::MakeFleet(IsolatedSticks());
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(model_, {"usb:0"}).value();
  ASSERT_TRUE(fleet->Run(id, {pixels_}).ok());
  Result<InferenceResult> moved = fleet->Run(id, {pixels_});  // usb:0's child answers garbage
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->device, "usb@2-2");
  EXPECT_EQ(moved->attempts, 2);
  EXPECT_EQ(TopClass(*moved), 286);
  DeviceMetrics garbled = fleet->Metrics().devices[0];
  EXPECT_FALSE(garbled.healthy);
  EXPECT_THAT(garbled.down_reason, HasSubstr("its device process sent"));
  EXPECT_THAT(garbled.down_reason, HasSubstr("and was killed"));
}

TEST_F(EdgeTpuFleetTest, TwoProcessesNeverOpenTheSameStick) {
  Result<const backends::EdgeTpuRuntime*> runtime = backends::EdgeTpuRuntime::Get();
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  DeviceInfo first = FirstStick();
  auto held = backends::EdgeTpuDevice::Open(*runtime.value(), first, {});
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  // The isolated device's child is another process: the lock keeps it out.
  Status refused = backends::IsolatedDevice::Open(first, {}).status();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(),
              HasSubstr(fmt::format("{} is in use by another tpufleet (pid {}", kFirst, getpid())));
  held->reset();
  EXPECT_TRUE(backends::IsolatedDevice::Open(first, {}).ok());
}

}  // namespace
}  // namespace tpufleet
