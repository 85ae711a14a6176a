// `tpufleet split` and `tpufleet run --pipeline`, run as a user runs them: a model split in two
// and pipelined over two simulated Edge TPUs answers as the whole model on the CPU; the real
// compiled segment set beside a full model it was not compiled from is timed, and told apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/tpufleet_command.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::SharedDir;
using testing::SharedModel;
using testing::TempPath;
using testing::Tpufleet;

const char kSsd[] = "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29";

TEST(PipelineCliTest, ASplitModelPipelinedAnswersAsTheWholeModel) {
  std::string model = SharedModel(std::string(kSsd) + ".tflite");
  TPUFLEET_REQUIRE_FILE(model);
  std::string dir = TempPath("split");
  std::filesystem::remove_all(dir);
  CommandResult split = Tpufleet("split " + model + " --segments 2 -o " + dir + " --json");
  ASSERT_EQ(split.exit_code, 0) << split.output;
  nlohmann::json segments = nlohmann::json::parse(split.output)["segments"];
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0]["operators"][0], 0);
  EXPECT_EQ(segments[0]["operators"][1], segments[1]["operators"][0]);
  EXPECT_EQ(segments[1]["operators"][1], 64);
  EXPECT_TRUE(segments[0]["fits_on_chip"]);
  EXPECT_TRUE(segments[1]["fits_on_chip"]);
  // Balanced by parameters: neither holds more than 60% of them.
  double first = segments[0]["parameter_bytes"], second = segments[1]["parameter_bytes"];
  EXPECT_LT(std::max(first, second), 0.6 * (first + second));

  std::string image = " -i " + (SharedDir() / "images" / "cat.bmp").string();
  CommandResult pipelined = Tpufleet("run " + segments[0]["file"].get<std::string>() + " " +
                                     segments[1]["file"].get<std::string>() +
                                     " --pipeline --devices sim:0,sim:1 --count 3 --json" + image);
  ASSERT_EQ(pipelined.exit_code, 0) << pipelined.output;
  CommandResult whole = Tpufleet("run " + model + " --devices cpu --json" + image);
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  nlohmann::json report = nlohmann::json::parse(pipelined.output);
  EXPECT_EQ(report["pipeline"]["requests"], 3);
  EXPECT_EQ(report["pipeline"]["segments"][1]["device"], "sim:1");
  EXPECT_GT(report["pipeline"]["throughput_per_second"], 0);
  ASSERT_EQ(report["results"].size(), 1u);
  EXPECT_EQ(report["results"][0]["outputs"],
            nlohmann::json::parse(whole.output)["results"][0]["outputs"]);
  std::filesystem::remove_all(dir);
}

TEST(PipelineCliTest, TheRealSegmentSetIsTimedAndItsFullModelToldApart) {
  std::string first =
      SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_segment_0_of_2_edgetpu.tflite");
  std::string second =
      SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_segment_1_of_2_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(first);
  TPUFLEET_REQUIRE_FILE(second);
  CommandResult run = Tpufleet("run " + first + " " + second + " --pipeline -i " +
                               (SharedDir() / "images" / "cat.bmp").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("is uint8 [1,19,19,384] (scale 0.023528477, zero point 0) "
                                    "there but uint8 [1,19,19,512]"));
  EXPECT_THAT(run.output, HasSubstr("warning: running for timing only"));
  EXPECT_THAT(run.output,
              HasSubstr("segment 1  " + second.substr(second.rfind('/') + 1) + "  on sim:1"));
}

TEST(PipelineCliTest, BadSegmentSetsGetAClearMessage) {
  std::string compiled = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  std::string full = SharedModel(std::string(kSsd) + ".tflite");
  TPUFLEET_REQUIRE_FILE(compiled);
  TPUFLEET_REQUIRE_FILE(full);
  CommandResult split = Tpufleet("split " + compiled + " -o " + TempPath("x"));
  EXPECT_EQ(split.exit_code, 2);
  EXPECT_THAT(split.output, HasSubstr("a model compiled for the Edge TPU cannot be cut"));
  std::string image = " -i " + (SharedDir() / "images" / "cat.bmp").string();
  CommandResult devices =
      Tpufleet("run " + full + " " + full + " --pipeline --devices sim:0" + image);
  EXPECT_EQ(devices.exit_code, 2);
  EXPECT_THAT(devices.output, HasSubstr("a pipeline of 2 segments needs one device for each"));
  CommandResult unconnected = Tpufleet("run " + full + " " + full + " --pipeline" + image);
  EXPECT_EQ(unconnected.exit_code, 2);
  EXPECT_THAT(unconnected.output,
              HasSubstr("output 'TFLite_Detection_PostProcess' is an input of no later segment"));
}

// A model whose parameters overflow one device's memory gains from a pipeline; a small one does
// not, since every segment pays the per-invocation overhead and the transfers between them.
TEST(PipelineCliTest, SimulateSaysWhenToPipeline) {
  CommandResult large = Tpufleet("simulate --zoo inception_v4 --segments 4 --json");
  ASSERT_EQ(large.exit_code, 0) << large.output;
  nlohmann::json report = nlohmann::json::parse(large.output)[0];
  EXPECT_GT(report["whole"]["streamed_bytes"], 0);
  ASSERT_EQ(report["segments"].size(), 4u);
  ASSERT_EQ(report["deployments"].size(), 3u);
  EXPECT_EQ(report["best"], "4-segment pipeline");
  EXPECT_GT(report["deployments"][2]["requests_per_second"],
            report["deployments"][1]["requests_per_second"]);
  EXPECT_LT(report["deployments"][2]["latency_ms"], report["deployments"][0]["latency_ms"]);

  std::string small = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(small);
  CommandResult text = Tpufleet("simulate " + small + " --segments 2");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("best: 2 replicas: 0.00B of parameters stream on one device"));
}

// The planner compares pipelining by itself for a model that overflows one device (N: the
// number of devices), and for every model with --segments.
TEST(PipelineCliTest, PlanSaysWhichModelsToPipeline) {
  CommandResult plan =
      Tpufleet("plan --model zoo:inception_v4:30 --model zoo:mobilenet_v1:100 --json");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  nlohmann::json pipelining = nlohmann::json::parse(plan.output)["pipelining"];
  ASSERT_EQ(pipelining.size(), 1u) << pipelining.dump();
  EXPECT_EQ(pipelining[0]["model"], "zoo:inception_v4");
  EXPECT_GT(pipelining[0]["whole"]["streamed_bytes"], 0);
  EXPECT_EQ(pipelining[0]["segments"].size(), 2u);
  EXPECT_EQ(pipelining[0]["best"], "2-segment pipeline");

  CommandResult every =
      Tpufleet("plan --model zoo:inception_v4:30 --model zoo:mobilenet_v1:100 --segments 2");
  ASSERT_EQ(every.exit_code, 0) << every.output;
  EXPECT_THAT(every.output, HasSubstr("Pipelining, on sim:0's hardware:"));
  EXPECT_THAT(every.output, HasSubstr("cut it with: tpufleet split zoo:inception_v4 --segments 2"));
  EXPECT_THAT(every.output,
              HasSubstr("best: 2 replicas: 0.00B of parameters stream on one device"));
  EXPECT_THAT(every.output,
              ::testing::Not(HasSubstr("cut it with: tpufleet split zoo:mobilenet_v1")));

  CommandResult small = Tpufleet("plan --model zoo:mobilenet_v1:100 --json");
  ASSERT_EQ(small.exit_code, 0) << small.output;
  EXPECT_FALSE(nlohmann::json::parse(small.output).contains("pipelining"));

  std::string compiled = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(compiled);
  CommandResult refused = Tpufleet("plan --model " + compiled + " --segments 2");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("cannot be cut; cut its uncompiled twin"));
}

}  // namespace
}  // namespace tpufleet
