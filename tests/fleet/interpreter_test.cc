// The Coral-familiar entry points: MakeInterpreter on simulated devices and the CPU, and what it
// says when asked for an Edge TPU.
#include "tpufleet/interpreter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "common/image.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;
using testing::SharedDir;
using testing::SharedModel;

int TopClass(const std::vector<uint8_t>& scores) {
  return static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

TEST(InterpreterTest, SameAnswerOnASimulatedEdgeTpuAndOnTheCpu) {
  std::string compiled = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  std::string uncompiled = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(compiled);
  TPUFLEET_REQUIRE_FILE(uncompiled);
  Result<std::unique_ptr<Interpreter>> sim = MakeInterpreter(compiled, "sim:1");
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  Result<std::unique_ptr<Interpreter>> cpu = MakeInterpreter(uncompiled, "cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  EXPECT_EQ((*sim)->device().name, "sim:1");
  std::vector<uint8_t> pixels =
      ImageFileTensor((SharedDir() / "images" / "cat.bmp").string(), (*sim)->model()).value();
  Result<InferenceResult> on_sim = (*sim)->Invoke({pixels});
  Result<InferenceResult> on_cpu = (*cpu)->Invoke({pixels});
  ASSERT_TRUE(on_sim.ok() && on_cpu.ok());
  EXPECT_EQ(TopClass(on_sim->outputs[0]), 286);
  EXPECT_EQ(on_sim->outputs, on_cpu->outputs);
  EXPECT_GT(on_sim->device_seconds, 0);
}

TEST(InterpreterTest, ClearErrors) {
  std::string model = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(model);
  EXPECT_THAT(MakeInterpreter(model, "sim:9").status().message(), HasSubstr("sim:9"));
  EXPECT_THAT(MakeInterpreter(model, "gpu:0").status().message(), HasSubstr("gpu:0"));
  EXPECT_THAT(MakeInterpreter("/nonexistent.tflite", "cpu").status().message(),
              HasSubstr("/nonexistent.tflite"));
  // No Edge TPU on a machine without one (ListDevices reads the real /sys).
  if (ListDevices().empty()) {
    Status none = MakeInterpreter(model, "usb:0").status();
    EXPECT_EQ(none.code(), StatusCode::kNotFound);
    EXPECT_THAT(none.message(), HasSubstr("there are 0 usb devices; devices found: sim:0"));
  }
  Result<std::unique_ptr<Interpreter>> cpu = MakeInterpreter(model, "cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_THAT((*cpu)->Invoke({{1, 2, 3}}).status().message(), HasSubstr("has 3 bytes"));
}

}  // namespace
}  // namespace tpufleet
