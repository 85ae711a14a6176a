// `tpufleet run` shows each model's task: classes, boxes in image pixels, a segmentation's
// classes with its mask and overlay as PNG, PoseNet's keypoints in image pixels (on the CPU and
// on a simulated Edge TPU), an embedding; --task overrides the inferred task.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli/tpufleet_command.h"
#include "common/image.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::SharedModel;
using testing::TempPath;
using testing::Tpufleet;

std::string Shared(const std::string& relative) {
  return (testing::SharedDir() / relative).string();
}

// The one result of a --json run.
nlohmann::json OnlyResult(const CommandResult& run) {
  nlohmann::json report = nlohmann::json::parse(run.output);
  EXPECT_EQ(report["results"].size(), 1u);
  return report["results"][0];
}

TEST(RunTasksTest, HelpNamesTheTasksAndTheOutputFolder) {
  CommandResult help = Tpufleet("run --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("--task"));
  EXPECT_THAT(help.output, HasSubstr("classification, detection, segmentation, pose or embedding"));
  EXPECT_THAT(help.output, HasSubstr("--output"));
}

TEST(RunTasksTest, DetectionBoxesAreInImagePixels) {
  std::string model = SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite");
  TPUFLEET_REQUIRE_FILE(model);
  std::string folder = TempPath("detections");
  std::filesystem::remove_all(folder);
  CommandResult run = Tpufleet("run " + model + " -i " + Shared("images/cat.bmp") + " -l " +
                               Shared("labels/coco_labels.txt") + " --json -o " + folder);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json result = OnlyResult(run);
  EXPECT_EQ(result["task"], "detection");
  EXPECT_EQ(result["image_size"], nlohmann::json::array({512, 341}));
  ASSERT_FALSE(result["detections"].empty());
  const nlohmann::json& cat = result["detections"][0];
  EXPECT_EQ(cat["label"], "cat");
  // models/README.md's box (0.131, 0.086, 0.977, 0.703 as fractions) in pixels of 512 x 341.
  EXPECT_NEAR(cat["box"]["xmin"].get<double>(), 44, 6);
  EXPECT_NEAR(cat["box"]["xmax"].get<double>(), 360, 6);
  EXPECT_NEAR(cat["box"]["ymin"].get<double>(), 45, 6);
  EXPECT_NEAR(cat["box"]["ymax"].get<double>(), 333, 6);
  ASSERT_EQ(result["files"].size(), 1u);
  Image drawn = LoadImage(result["files"][0].get<std::string>()).value();
  EXPECT_EQ(drawn.width, 512);
  EXPECT_EQ(drawn.height, 341);
  std::filesystem::remove_all(folder);
}

TEST(RunTasksTest, SegmentationShowsClassesAndWritesTheMaskAndOverlay) {
  std::string model = SharedModel("deeplabv3_mnv2_dm05_pascal_quant.tflite");
  TPUFLEET_REQUIRE_FILE(model);
  std::string labels = Shared("labels/pascal_voc_segmentation_labels.txt");
  // For people: a table of classes, never the map's pixels printed as classes.
  CommandResult text =
      Tpufleet("run " + model + " -i " + Shared("images/bird_segmentation.bmp") + " -l " + labels);
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("513 x 513 map of classes"));
  EXPECT_THAT(text.output, HasSubstr("bird"));
  EXPECT_THAT(text.output, HasSubstr("background"));
  EXPECT_THAT(text.output, Not(HasSubstr("(class ")));

  // On an image of another size than the model's input, the PNGs have the image's size.
  std::string folder = TempPath("segmentation");
  std::filesystem::remove_all(folder);
  CommandResult run = Tpufleet("run " + model + " -i " + Shared("images/cat.bmp") + " -l " +
                               labels + " --json --output " + folder);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json result = OnlyResult(run);
  EXPECT_EQ(result["task"], "segmentation");
  EXPECT_EQ(result["segmentation"]["width"], 513);
  std::set<int> listed;
  for (const nlohmann::json& c : result["segmentation"]["classes"])
    listed.insert(c["class"].get<int>());
  EXPECT_TRUE(listed.count(8)) << result["segmentation"].dump();  // PASCAL VOC's cat
  ASSERT_EQ(result["files"].size(), 2u);
  const std::string mask_path = result["files"][0], overlay_path = result["files"][1];
  EXPECT_THAT(mask_path, HasSubstr("cat.deeplabv3_mnv2_dm05_pascal_quant.mask.png"));
  Image mask = LoadImage(mask_path, 1).value();
  Image overlay = LoadImage(overlay_path, 3).value();
  Image image = LoadImage(Shared("images/cat.bmp"), 3).value();
  EXPECT_EQ(mask.width, 512);
  EXPECT_EQ(mask.height, 341);
  EXPECT_EQ(overlay.width, 512);
  EXPECT_EQ(overlay.height, 341);
  // The mask's grey levels are exactly the classes listed, and the overlay tints the image
  // where the mask is not background.
  std::set<int> in_mask(mask.pixels.begin(), mask.pixels.end());
  EXPECT_EQ(in_mask, listed);
  size_t tinted = 0, foreground = 0;
  for (size_t p = 0; p < mask.pixels.size(); ++p) {
    if (mask.pixels[p] == 0) {
      EXPECT_EQ(overlay.pixels[p * 3], image.pixels[p * 3]) << "pixel " << p;
      continue;
    }
    ++foreground;
    tinted += overlay.pixels[p * 3] != image.pixels[p * 3] ||
              overlay.pixels[p * 3 + 1] != image.pixels[p * 3 + 1] ||
              overlay.pixels[p * 3 + 2] != image.pixels[p * 3 + 2];
  }
  EXPECT_GT(foreground, mask.pixels.size() / 10);
  EXPECT_GT(tinted, foreground * 9 / 10);
  std::filesystem::remove_all(folder);
}

TEST(RunTasksTest, PoseNetKeypointsInImagePixelsOnTheCpuAndASimulatedEdgeTpu) {
  std::string cpu = SharedModel("posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite");
  std::string compiled =
      SharedModel("posenet_mobilenet_v1_075_353_481_16_quant_decoder_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(cpu);
  TPUFLEET_REQUIRE_FILE(compiled);
  std::string folder = TempPath("poses");
  std::filesystem::remove_all(folder);
  CommandResult run = Tpufleet("run " + cpu + " " + compiled + "@sim:0 -i " +
                               Shared("images/posenet_test_image.bmp") + " --json -o " + folder);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json report = nlohmann::json::parse(run.output);
  ASSERT_EQ(report["results"].size(), 2u);
  for (const nlohmann::json& result : report["results"]) {
    EXPECT_EQ(result["task"], "pose");
    ASSERT_EQ(result["poses"].size(), 2u) << result["device"];
    // Coral's reference (the _reference.csv files): pose 0 scores 0.898, its nose at
    // (0.421266, 0.273897) and left hip at (0.430706, 0.553892) of the 640 x 480 image.
    const nlohmann::json& pose = result["poses"][0];
    EXPECT_NEAR(pose["score"].get<double>(), 0.898, 0.1);
    EXPECT_EQ(pose["keypoints"][0]["name"], "nose");
    EXPECT_NEAR(pose["keypoints"][0]["x"].get<double>(), 0.421266 * 640, 0.04 * 640);
    EXPECT_NEAR(pose["keypoints"][0]["y"].get<double>(), 0.273897 * 480, 0.04 * 480);
    EXPECT_EQ(pose["keypoints"][11]["name"], "left_hip");
    EXPECT_NEAR(pose["keypoints"][11]["x"].get<double>(), 0.430706 * 640, 0.04 * 640);
    EXPECT_NEAR(pose["keypoints"][11]["y"].get<double>(), 0.553892 * 480, 0.04 * 480);
    ASSERT_EQ(result["files"].size(), 1u);
    Image drawn = LoadImage(result["files"][0].get<std::string>()).value();
    EXPECT_EQ(drawn.width, 640);
    EXPECT_EQ(drawn.height, 480);
  }
  EXPECT_EQ(report["results"][1]["device"], "sim:0");
  std::filesystem::remove_all(folder);
}

TEST(RunTasksTest, TaskOverridesAndTheirErrors) {
  std::string classifier = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  std::string ssd = SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite");
  TPUFLEET_REQUIRE_FILE(classifier);
  TPUFLEET_REQUIRE_FILE(ssd);
  std::string cat = Shared("images/cat.bmp");
  // A classifier's scores read as an embedding: the vector and its norm.
  CommandResult embedding =
      Tpufleet("run " + classifier + " -i " + cat + " --task embedding --json");
  ASSERT_EQ(embedding.exit_code, 0) << embedding.output;
  nlohmann::json result = OnlyResult(embedding);
  EXPECT_EQ(result["task"], "embedding");
  EXPECT_EQ(result["embedding"]["dimension"], 1001);
  EXPECT_EQ(result["embedding"]["values"].size(), 1001u);
  EXPECT_GT(result["embedding"]["norm"].get<double>(), 0.5);  // softmax scores, top 0.8
  // One --task per model, in order.
  CommandResult both = Tpufleet("run " + classifier + " " + ssd + " -i " + cat +
                                " --task classification --task detection --json");
  ASSERT_EQ(both.exit_code, 0) << both.output;
  nlohmann::json report = nlohmann::json::parse(both.output);
  EXPECT_EQ(report["results"][0]["task"], "classification");
  EXPECT_EQ(report["results"][0]["top"][0]["class"], 286);
  EXPECT_EQ(report["results"][1]["task"], "detection");

  CommandResult bad = Tpufleet("run " + classifier + " -i " + cat + " --task depth");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.output, HasSubstr("--task: unknown task 'depth': the tasks are classification, "
                                    "detection, segmentation, pose, embedding"));
  CommandResult counted = Tpufleet("run " + classifier + " " + ssd + " -i " + cat +
                                   " --task pose --task pose --task pose");
  EXPECT_EQ(counted.exit_code, 2);
  EXPECT_THAT(counted.output, HasSubstr("3 --task values for 2 models"));
  CommandResult wrong = Tpufleet("run " + classifier + " -i " + cat + " --task detection");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.output, HasSubstr("detection needs four outputs"));
  EXPECT_THAT(wrong.output, HasSubstr("uint8 [1, 1001]"));
}

}  // namespace
}  // namespace tpufleet
