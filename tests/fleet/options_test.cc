// Safe defaults of FleetOptions and DeviceOptions: devices are the machine's Edge TPUs unless
// named, zero-filled timing-only answers only when asked for, and accessors that fail as Results.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "fleet/fleet_test_util.h"
#include "support/shared_files.h"
#include "tpufleet/fleet.h"
#include "tpufleet/interpreter.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;
using testing::SharedModel;

TEST(FleetOptionsTest, WithoutEdgeTpusTheDefaultDevicesAreAnErrorThatNamesTheAlternatives) {
  setenv("TPUFLEET_EDGETPU_LIB", "/nonexistent/libedgetpu.so.1", 1);
  if (!ListDevices().devices.empty()) GTEST_SKIP() << "this machine has Edge TPUs in sysfs";
  Result<std::unique_ptr<Fleet>> fleet = Fleet::Create(FleetOptions{});
  ASSERT_FALSE(fleet.ok());
  EXPECT_EQ(fleet.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(fleet.status().message(), HasSubstr("no Edge TPU on this machine"));
  EXPECT_THAT(fleet.status().message(), HasSubstr("\"sim:0\""));
}

TEST(FleetOptionsTest, PlacementOfAnUnknownModelIsAnError) {
  FleetOptions options;
  options.devices = {"sim:0"};
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  int id = fleet->AddModel(testing::Zoo("mobilenet_v1", 0.25, 64)).value();
  EXPECT_EQ(fleet->placement(id).value(), std::vector<std::string>{"sim:0"});
  Result<std::vector<std::string>> unknown = fleet->placement(id + 1);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown model id 1"));
}

// A compiled model copied away from its uncompiled twin: the simulator can time it only.
class TimingOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string compiled = SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite");
    TPUFLEET_REQUIRE_FILE(compiled);
    dir_ = std::filesystem::temp_directory_path() /
           ("tpufleet_timing_only_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    lonely_ = (dir_ / "lonely_edgetpu.tflite").string();
    std::filesystem::copy_file(compiled, lonely_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string lonely_;
};

TEST_F(TimingOnlyTest, AFleetRefusesAModelItCouldOnlyTime) {
  FleetOptions options;
  options.devices = {"sim:0"};
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  Result<int> added = fleet->AddModel(lonely_);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(added.status().message(), HasSubstr("lonely.tflite"));  // the missing twin
  EXPECT_THAT(added.status().message(), HasSubstr("allow_timing_only"));
}

TEST_F(TimingOnlyTest, CallersWhoOptInGetZeroFilledAnswersMarkedTimingOnly) {
  for (bool by_option : {true, false}) {
    FleetOptions options;
    options.devices = {"sim:0"};
    if (by_option) {
      options.allow_timing_only = true;
    } else {
      options.sim_outputs = false;  // asking for no outputs is opting in too
    }
    auto fleet = testing::MakeFleet(options);
    ASSERT_TRUE(fleet);
    Result<int> id = fleet->AddModel(lonely_);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ModelPtr model = Model::FromFile(lonely_).value();
    Result<InferenceResult> answer = fleet->Run(id.value(), testing::Inputs(*model));
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_TRUE(answer->timing_only);
    EXPECT_GT(answer->device_seconds, 0);
    ASSERT_EQ(answer->outputs.size(), 1u);
    EXPECT_TRUE(std::all_of(answer->outputs[0].begin(), answer->outputs[0].end(),
                            [](uint8_t b) { return b == 0; }));
  }
}

TEST_F(TimingOnlyTest, MakeInterpreterTakesTheSameOption) {
  Result<std::unique_ptr<Interpreter>> refused = MakeInterpreter(lonely_, "sim:0");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  InterpreterOptions options;
  options.allow_timing_only = true;
  Result<std::unique_ptr<Interpreter>> timing = MakeInterpreter(lonely_, "sim:0", options);
  ASSERT_TRUE(timing.ok()) << timing.status().ToString();
  Result<InferenceResult> answer = (*timing)->Invoke(testing::Inputs((*timing)->model()));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_TRUE(answer->timing_only);
}

}  // namespace
}  // namespace tpufleet
