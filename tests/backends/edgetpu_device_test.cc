// The Edge TPU driver against the stand-in libedgetpu (tests/support/fake_libedgetpu.cc) and the
// real TensorFlow Lite 2.9 C library: loading, options, inference, and every error message.
#include "backends/edgetpu/edgetpu_device.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backends/cpu_device.h"
#include "common/image.h"
#include "support/shared_files.h"

namespace tpufleet::backends {
namespace {

using ::testing::HasSubstr;
using testing::SharedDir;
using testing::SharedModel;

constexpr char kUsbPath[] = "/sys/bus/usb/devices/2-1";

// Each test gets its own device list, faults, log and lock directory.
class EdgeTpuDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tpufleet_edgetpu_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    setenv("TPUFLEET_LOCK_DIR", (dir_ / "locks").c_str(), 1);
    setenv("TPUFLEET_FAKE_EDGETPU_LOG", (dir_ / "log").c_str(), 1);
    setenv("TPUFLEET_FAKE_EDGETPU_DEVICES",
           (std::string("pci:/dev/apex_0,usb:") + kUsbPath).c_str(), 1);
    setenv("TPUFLEET_FAKE_EDGETPU_MODELS", compiled_.c_str(), 1);
    unsetenv("TPUFLEET_FAKE_EDGETPU_FAULTS");
    Result<EdgeTpuApi> edgetpu = LoadEdgeTpuApi({TPUFLEET_FAKE_EDGETPU});
    Result<TfLiteCApi> tflite = LoadTfLiteC({TPUFLEET_TFLITE_C});
    ASSERT_TRUE(edgetpu.ok()) << edgetpu.status().ToString();
    ASSERT_TRUE(tflite.ok()) << tflite.status().ToString();
    runtime_ = {std::move(tflite).value(), std::move(edgetpu).value()};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  DeviceInfo Usb() const {
    DeviceInfo info;
    info.type = DeviceType::kUsb;
    info.path = kUsbPath;
    info.name = "2-1";
    return info;
  }
  std::string Log() const {
    std::ifstream in(dir_ / "log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
  std::string compiled_ = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  EdgeTpuRuntime runtime_;
};

TEST_F(EdgeTpuDeviceTest, ClassifiesTheCatThroughTheDelegateAsTheCpuDoes) {
  TPUFLEET_REQUIRE_FILE(compiled_);
  EXPECT_EQ(runtime_.edgetpu.runtime_version, 14);
  EXPECT_EQ(runtime_.tflite.version, "2.9.0");
  Result<std::unique_ptr<EdgeTpuDevice>> device =
      EdgeTpuDevice::Open(runtime_, Usb(), {{{"Performance", "High"}, {"Usb.AlwaysDfu", "False"}}});
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EXPECT_THAT(Log(), HasSubstr(std::string("create usb ") + kUsbPath +
                               " Performance=High Usb.AlwaysDfu=False"));
  ModelPtr model = Model::FromFile(compiled_).value();
  Result<std::unique_ptr<Program>> program = (*device)->Prepare(model);
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  std::vector<uint8_t> pixels =
      ImageFileTensor((SharedDir() / "images" / "cat.bmp").string(), *model).value();
  Result<RunResult> run = (*device)->Run(**program, {pixels});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::vector<uint8_t>& scores = run->outputs[0];
  EXPECT_EQ(std::max_element(scores.begin(), scores.end()) - scores.begin(), 286);
  // The stand-in computes with the uncompiled twin: the CPU backend must agree to the byte.
  CpuDevice cpu;
  ModelPtr twin = Model::FromFile(SharedModel("mobilenet_v2_1.0_224_quant.tflite")).value();
  EXPECT_EQ(cpu.Run(*cpu.Prepare(twin).value(), {pixels})->outputs, run->outputs);
}

TEST_F(EdgeTpuDeviceTest, OpeningSaysWhichCheckFailed) {
  DeviceInfo missing = Usb();
  missing.path = "/sys/bus/usb/devices/9-9";
  EXPECT_THAT(
      EdgeTpuDevice::Open(runtime_, missing, {}).status().message(),
      HasSubstr("does not list it; it lists pci /dev/apex_0, usb /sys/bus/usb/devices/2-1"));
  DeviceInfo owned;
  owned.type = DeviceType::kPci;
  owned.path = "/dev/apex_0";
  owned.owner_pid = 4242;
  EXPECT_THAT(EdgeTpuDevice::Open(runtime_, owned, {}).status().message(),
              HasSubstr("pci /dev/apex_0 is owned by process 4242"));
  EXPECT_THAT(EdgeTpuDevice::Open(runtime_, Usb(), {{{"Performance", "Turbo"}}}).status().message(),
              HasSubstr("Performance=Turbo: the value must be one of Low, Medium, High, Max"));
  {
    auto first = EdgeTpuDevice::Open(runtime_, Usb(), {});
    ASSERT_TRUE(first.ok());
    Status second = EdgeTpuDevice::Open(runtime_, Usb(), {}).status();
    EXPECT_EQ(second.code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(second.message(), HasSubstr("is already open in this process"));
  }
  EXPECT_TRUE(EdgeTpuDevice::Open(runtime_, Usb(), {}).ok());  // released with the first
  setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", "fail_create", 1);
  EXPECT_THAT(EdgeTpuDevice::Open(runtime_, Usb(), {}).status().message(),
              HasSubstr("edgetpu_create_delegate failed for usb /sys/bus/usb/devices/2-1"));
}

TEST_F(EdgeTpuDeviceTest, PreparingAndRunningSayWhatWentWrong) {
  TPUFLEET_REQUIRE_FILE(compiled_);
  ModelPtr model = Model::FromFile(compiled_).value();
  {
    setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", "runtime_version=10", 1);
    Result<EdgeTpuApi> old = LoadEdgeTpuApi({TPUFLEET_FAKE_EDGETPU});
    EdgeTpuRuntime old_runtime{runtime_.tflite, old.value()};
    auto device = EdgeTpuDevice::Open(old_runtime, Usb(), {});
    ASSERT_TRUE(device.ok());
    EXPECT_THAT((*device)->Prepare(model).status().message(),
                HasSubstr("or newer (edgetpu_compiler"));
    EXPECT_THAT((*device)->Prepare(model).status().message(), HasSubstr("is version 10"));
  }
  unsetenv("TPUFLEET_FAKE_EDGETPU_FAULTS");
  setenv("TPUFLEET_FAKE_EDGETPU_MODELS", "", 1);  // the stand-in cannot compute this op
  auto device = EdgeTpuDevice::Open(runtime_, Usb(), {});
  ASSERT_TRUE(device.ok());
  EXPECT_THAT((*device)->Prepare(model).status().message(),
              HasSubstr("no model in TPUFLEET_FAKE_EDGETPU_MODELS has this edgetpu-custom-op"));
  setenv("TPUFLEET_FAKE_EDGETPU_MODELS", compiled_.c_str(), 1);
  setenv("TPUFLEET_FAKE_EDGETPU_FAULTS", "fail_after=0", 1);
  auto program = (*device)->Prepare(model);
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  Status failed = (*device)->Run(**program, {std::vector<uint8_t>(224 * 224 * 3)}).status();
  // The invocation failed on the device's side: the fleet probes it and retries elsewhere.
  EXPECT_EQ(failed.code(), StatusCode::kAborted);
  EXPECT_THAT(failed.message(),
              HasSubstr("invocation failed: stand-in libedgetpu: transfer failed"));
  EXPECT_THAT((*device)->Run(**program, {{1, 2}}).status().message(), HasSubstr("has 2 bytes"));
}

TEST(EdgeTpuLibrariesTest, MissingOrWrongLibrariesAreNamed) {
  Status none = LoadTfLiteC({"/nonexistent/libtensorflowlite_c.so"}).status();
  EXPECT_THAT(none.message(), HasSubstr("TensorFlow Lite C library"));
  EXPECT_THAT(none.message(), HasSubstr("/nonexistent/libtensorflowlite_c.so"));
  EXPECT_THAT(LoadTfLiteC({"libm.so.6"}).status().message(), HasSubstr("lacks TfLiteVersion"));
  EXPECT_THAT(LoadEdgeTpuApi({"libm.so.6"}).status().message(),
              HasSubstr("lacks edgetpu_list_devices"));
  EXPECT_THAT(LoadEdgeTpuApi({"/nowhere/libedgetpu.so.1"}).status().message(),
              HasSubstr("the Edge TPU runtime (libedgetpu) not found; tried: /nowhere"));
}

TEST(EdgeTpuOptionsTest, ParsedAndCheckedBeforeTheRuntimeSeesThem) {
  auto options = ParseEdgeTpuOptions("Performance=Max,Usb.MaxBulkInQueueLength=32");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->size(), 2u);
  EXPECT_THAT(ParseEdgeTpuOptions("performance=Max").status().message(),
              HasSubstr("unknown Edge TPU option 'performance'"));
  EXPECT_THAT(ParseEdgeTpuOptions("Usb.MaxBulkInQueueLength=300").status().message(),
              HasSubstr("an integer from 0 to 256"));
  EXPECT_THAT(ParseEdgeTpuOptions("Usb.AlwaysDfu").status().message(), HasSubstr("NAME=VALUE"));
  EXPECT_EQ(ParseEdgeTpuOptions("").value().size(), 0u);
  EXPECT_EQ(ParseRuntimeVersion("BuildLabel(COMPILER=6.3.0), RuntimeVersion(13)"), 13);
  EXPECT_EQ(ParseRuntimeVersion("unknown"), 0);
}

TEST(EdgeTpuOptionsTest, HostileTextIsRefusedNamingTheOptionAndWhatItTakes) {
  auto message = [](const std::string& text) {
    Result<std::vector<EdgeTpuOption>> parsed = ParseEdgeTpuOptions(text);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
    return parsed.status().message();
  };
  EXPECT_THAT(message("Speed=Max"),
              HasSubstr("unknown Edge TPU option 'Speed'; the runtime takes "
                        "Performance=Low|Medium|High|Max, Usb.AlwaysDfu=True|False, "
                        "Usb.MaxBulkInQueueLength=0..256"));
  for (const char* number : {"-1", "257", "+3", " 3", "3 ", "0x10", "99999999999999999999", ""}) {
    EXPECT_THAT(message(fmt::format("Usb.MaxBulkInQueueLength={}", number)),
                HasSubstr(fmt::format("Usb.MaxBulkInQueueLength={}: the value must be an integer "
                                      "from 0 to 256",
                                      number)));
  }
  EXPECT_THAT(message("Usb.AlwaysDfu=true"),
              HasSubstr("Usb.AlwaysDfu=true: the value must be one of True, False"));
  EXPECT_THAT(message("Performance=High,Performance=Low"),
              HasSubstr("Edge TPU option Performance is given twice (High, then Low)"));
  EXPECT_THAT(message("Performance=High,,Usb.AlwaysDfu=True"), HasSubstr("write NAME=VALUE"));
  EXPECT_THAT(message("=High"), HasSubstr("unknown Edge TPU option ''"));
  EXPECT_EQ(ParseEdgeTpuOptions("Usb.MaxBulkInQueueLength=0,Usb.AlwaysDfu=False")->size(), 2u);
  EXPECT_EQ(ParseEdgeTpuOptions("Usb.MaxBulkInQueueLength=256").value()[0].second, "256");
}

}  // namespace
}  // namespace tpufleet::backends
