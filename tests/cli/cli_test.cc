// The tpufleet command, run as a user runs it: exit codes, messages, and JSON that parses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/tpufleet_command.h"
#include "support/fixtures.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::SharedModel;
using testing::TempPath;
using testing::Tpufleet;

TEST(CliTest, HelpListsTheCommands) {
  CommandResult run = Tpufleet("--help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("inspect"));
  EXPECT_THAT(run.output, HasSubstr("zoo"));
}

TEST(CliTest, InspectReportsTheCompilerFigures) {
  std::string path = SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  CommandResult run = Tpufleet("inspect " + path);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("On-chip memory used for caching model parameters: 553.63KiB"));
  EXPECT_THAT(run.output,
              HasSubstr("Off-chip memory used for streaming uncached model parameters: 0.00B"));
  EXPECT_THAT(run.output, HasSubstr("0x6d146c3f97d6648c"));
  EXPECT_THAT(run.output, HasSubstr("Number of Edge TPU subgraphs: 1"));
}

TEST(CliTest, InspectJsonOfEveryRealModelParses) {
  std::vector<std::string> models = testing::AllSharedModels();
  if (models.empty()) GTEST_SKIP() << "no shared models folder at " << testing::SharedDir();
  std::string args = "inspect --json";
  for (const std::string& m : models) args += " " + m;
  CommandResult run = Tpufleet(args);
  // invalid_model_invoking_error.tflite is rejected, so the exit code is 1 and it is in "errors".
  EXPECT_EQ(run.exit_code, 1);
  nlohmann::json report = nlohmann::json::parse(run.output);
  EXPECT_EQ(report["models"].size() + report["errors"].size(), models.size());
  ASSERT_EQ(report["errors"].size(), 1u);
  EXPECT_THAT(report["errors"][0]["error"].get<std::string>(),
              HasSubstr("buffer index 0 is out of range"));

  bool found_pair = false;
  for (const auto& group : report["caching_groups"]) {
    if (group["caching_token"] == "0xe2c366fd5d62fa6b") {
      found_pair = true;
      EXPECT_TRUE(group["cocompiled"].get<bool>());
      EXPECT_EQ(group["models"].size(), 2u);
    }
  }
  EXPECT_TRUE(found_pair);
  for (const auto& model : report["models"]) {
    std::string file = std::filesystem::path(model["path"].get<std::string>()).filename();
    if (file == "mobilenet_v1_0.25_128_quant_edgetpu.tflite") {
      EXPECT_EQ(model["edgetpu_packages"][0]["cached_bytes"], 566912);
      EXPECT_EQ(model["edgetpu_packages"][0]["streamed_bytes"], 0);
      EXPECT_EQ(model["edgetpu_packages"][0]["caching_token"], "0x6d146c3f97d6648c");
    }
  }
}

TEST(CliTest, ZooWritesAModelThatInspectReads) {
  std::string path = TempPath("mobilenet.tflite");
  CommandResult zoo = Tpufleet("zoo mobilenet_v1 --width 0.25 --resolution 128 -o " + path);
  ASSERT_EQ(zoo.exit_code, 0) << zoo.output;
  EXPECT_THAT(zoo.output, HasSubstr("467,595 parameters"));
  CommandResult inspect = Tpufleet("inspect --json " + path);
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  nlohmann::json report = nlohmann::json::parse(inspect.output);
  EXPECT_EQ(report["models"][0]["parameter_count"], 467595);
  EXPECT_EQ(report["models"][0]["macs"], 13570304);
  std::filesystem::remove(path);
}

TEST(CliTest, ZooListJsonParses) {
  CommandResult run = Tpufleet("zoo --list --json");
  ASSERT_EQ(run.exit_code, 0);
  nlohmann::json list = nlohmann::json::parse(run.output);
  EXPECT_EQ(list.size(), 35u);
}

TEST(CliTest, BadInputGetsAClearMessage) {
  CommandResult missing = Tpufleet("inspect /nonexistent/model.tflite");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("/nonexistent/model.tflite: no such file"));

  CommandResult unknown = Tpufleet("zoo resnet18 -o " + TempPath("x.tflite"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("unknown zoo model 'resnet18'; choose one of"));

  CommandResult dtype = Tpufleet("zoo mobilenet_v1 --dtype int4 -o " + TempPath("x.tflite"));
  EXPECT_NE(dtype.exit_code, 0);
  EXPECT_THAT(dtype.output, HasSubstr("int4"));

  CommandResult unwritable =
      Tpufleet("zoo mobilenet_v1 --resolution 32 -o /nonexistent/dir/m.tflite");
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_THAT(unwritable.output, HasSubstr("/nonexistent/dir/m.tflite: cannot write"));
}

TEST(CliTest, RunClassifiesTheCatWithLabels) {
  std::string model = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(model);
  std::string shared = testing::SharedDir().string();
  CommandResult run = Tpufleet("run " + model + " --input " + shared + "/images/cat.bmp --labels " +
                               shared + "/labels/imagenet_labels.txt --top 3 --profile");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Egyptian cat: 0.8"));
  EXPECT_THAT(run.output, HasSubstr("(class 286)"));
  EXPECT_THAT(run.output, HasSubstr("CONV_2D (XNNPACK)"));
}

TEST(CliTest, RunJsonHasRawOutputsAndDetections) {
  std::string model = SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite");
  TPUFLEET_REQUIRE_FILE(model);
  std::string shared = testing::SharedDir().string();
  CommandResult run = Tpufleet("run " + model + " -i " + shared + "/images/cat.bmp -l " + shared +
                               "/labels/coco_labels.txt --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json report = nlohmann::json::parse(run.output);
  ASSERT_EQ(report["results"].size(), 1u);
  const nlohmann::json& result = report["results"][0];
  EXPECT_EQ(result["device"], "cpu");
  ASSERT_FALSE(result["detections"].empty());
  EXPECT_EQ(result["detections"][0]["label"], "cat");
  EXPECT_EQ(result["outputs"].size(), 4u);
  EXPECT_EQ(result["outputs"][0]["raw"].size(), 40u);  // 10 boxes of 4 (shape left open)
  EXPECT_EQ(report["metrics"]["models"][0]["requests"], 1);
}

TEST(CliTest, RunManyModelsOnManyImagesOnSimulatedDevices) {
  std::string classifier = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  std::string bird = SharedModel("mobilenet_v2_1.0_224_inat_bird_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(classifier);
  TPUFLEET_REQUIRE_FILE(bird);
  std::string images = (testing::SharedDir() / "images").string();
  CommandResult run = Tpufleet("run " + classifier + " " + bird + "@sim:1 -i " + images +
                               "/cat.bmp -i " + images + "/bird.bmp --count 5 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json report = nlohmann::json::parse(run.output);
  ASSERT_EQ(report["results"].size(), 4u);  // two models times two images
  EXPECT_EQ(report["results"][0]["device"], "sim:0");
  EXPECT_EQ(report["results"][0]["top"][0]["class"], 286);  // the cat
  EXPECT_EQ(report["results"][3]["device"], "sim:1");
  EXPECT_EQ(report["results"][3]["top"][0]["class"], 659);  // black-capped chickadee
  EXPECT_EQ(report["metrics"]["devices"][0]["requests"], 10);
  EXPECT_EQ(report["metrics"]["devices"][1]["requests"], 10);

  CommandResult prometheus =
      Tpufleet("run " + classifier + " -i " + images + "/cat.bmp --quiet --metrics prometheus");
  ASSERT_EQ(prometheus.exit_code, 0) << prometheus.output;
  EXPECT_THAT(prometheus.output, HasSubstr("tpufleet_device_requests_total{device=\"sim:0\"} 1"));
  CommandResult table =
      Tpufleet("run " + classifier + " -i " + images + "/cat.bmp --quiet --metrics table");
  EXPECT_THAT(table.output, HasSubstr("p99 ms"));
  EXPECT_THAT(Tpufleet("run " + classifier + " -i x.bmp --metrics xml").output, HasSubstr("xml"));
  CommandResult strict = Tpufleet("run " + classifier + " " + bird + " " +
                                  SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite") +
                                  " -i " + images + "/cat.bmp --strict");
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_THAT(strict.output, HasSubstr("would be model number 3"));
}

TEST(CliTest, RunRefusesClearly) {
  std::string unsupported_model = testing::UnsupportedOperatorModel();
  std::string image = (testing::SharedDir() / "images" / "cat.bmp").string();
  CommandResult unsupported = Tpufleet("run " + unsupported_model + " --input " + image);
  EXPECT_EQ(unsupported.exit_code, 1);
  EXPECT_THAT(unsupported.output, HasSubstr("operator #0 (SIN) is not supported"));
  CommandResult compiled =
      Tpufleet("run " + SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite") + " --input " +
               image + " --devices cpu");
  EXPECT_EQ(compiled.exit_code, 1);
  EXPECT_THAT(compiled.output, HasSubstr("needs an Edge TPU"));
  CommandResult not_image = Tpufleet("run " + SharedModel("mobilenet_v2_1.0_224_quant.tflite") +
                                     " --input " + unsupported_model);
  EXPECT_NE(not_image.exit_code, 0);
  EXPECT_THAT(not_image.output, HasSubstr("cannot decode image"));
}

TEST(CliTest, PlanReplayAndRunFromThePlan) {
  std::string plan_path = TempPath("plan.json"), trace_path = TempPath("trace.csv");
  CommandResult plan = Tpufleet(
      "plan --model zoo:mobilenet_v2:300 --model zoo:inception_v1:20 --model zoo:mobilenet_v1 "
      "--devices sim:0,sim:1 -o " +
      plan_path);
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_THAT(plan.output, HasSubstr("utilization"));
  EXPECT_THAT(plan.output, HasSubstr("before the busiest device saturates"));
  {
    std::ofstream trace(trace_path);
    trace << "time,model\n";
    for (int i = 0; i < 300; ++i)
      trace << i * 0.002 << "," << (i % 10 ? "zoo:mobilenet_v2" : "1") << "\n";
  }
  CommandResult replay = Tpufleet(
      "plan --model zoo:mobilenet_v2:300 --model zoo:inception_v1:20 --model zoo:mobilenet_v1 "
      "--devices sim:0,sim:1 --replay " +
      trace_path + " --json");
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  nlohmann::json report = nlohmann::json::parse(replay.output);
  ASSERT_EQ(report["replay"].size(), 3u);
  EXPECT_EQ(report["replay"][0]["placement"], "plan");
  EXPECT_EQ(report["replay"][0]["requests"], 300);
  EXPECT_EQ(report["models"][2]["rate"], 160.0);  // no rate given: the mean of the given ones

  std::string image = (testing::SharedDir() / "images" / "cat.bmp").string();
  CommandResult run = Tpufleet("run --plan " + plan_path + " -i " + image + " --json --count 3");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json ran = nlohmann::json::parse(run.output);
  EXPECT_EQ(ran["results"].size(), 3u);
  EXPECT_EQ(ran["metrics"]["models"].size(), 3u);

  EXPECT_THAT(Tpufleet("plan --model zoo:mobilenet_v2 --devices usb:0").output,
              HasSubstr("plan takes simulated devices"));
  EXPECT_THAT(Tpufleet("plan --model zoo:mobilenet_v2:-5").output, HasSubstr("> 0"));
  EXPECT_THAT(Tpufleet("plan --model zoo:mobilenet_v2 --replay /nonexistent.csv").output,
              HasSubstr("/nonexistent.csv: cannot read the trace"));
  EXPECT_THAT(Tpufleet("run --plan " + plan_path + " zoo:mobilenet_v2 -i " + image).output,
              HasSubstr("--plan gives the models"));
}

TEST(CliTest, SimulateCalibrationJsonAndErrors) {
  CommandResult run = Tpufleet("simulate --calibration --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json rows = nlohmann::json::parse(run.output);
  ASSERT_EQ(rows.size(), 11u);
  for (const auto& row : rows) EXPECT_LT(std::abs(row["error"].get<double>()), 0.15) << row.dump();
  CommandResult link = Tpufleet("simulate --zoo mobilenet_v1 --link thunderbolt");
  EXPECT_EQ(link.exit_code, 2);
  EXPECT_THAT(link.output, HasSubstr("unknown link 'thunderbolt'; use usb3, usb2 or pcie"));
  CommandResult none = Tpufleet("simulate");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.output, HasSubstr("give models, --zoo NAME, or --calibration"));
}

TEST(CliTest, SimulateReportsTheCompilerLinesAndTimeSplit) {
  CommandResult run = Tpufleet("simulate --zoo inception_v4 --link usb2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr("Off-chip memory used for streaming uncached model parameters: 33.75MiB"));
  EXPECT_THAT(run.output, HasSubstr("max(compute"));
  EXPECT_THAT(run.output, HasSubstr("reload"));
}

TEST(CliTest, BenchComparesFourStrategies) {
  CommandResult run =
      Tpufleet("bench --model zoo:mobilenet_v1 --model zoo:squeezenet_1.0 -n 50 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json rows = nlohmann::json::parse(run.output);
  ASSERT_EQ(rows.size(), 4u);
  // Alternating on one device reloads at every batch switch; a device per model never after the
  // first.
  EXPECT_EQ(rows[0]["reloads"], 10);
  EXPECT_EQ(rows[1]["reloads"], 2);
  EXPECT_GT(rows[1]["speedup"].get<double>(), 1.5);
  EXPECT_GT(rows[3]["speedup"].get<double>(), 1.5);
  CommandResult text = Tpufleet("bench --model zoo:mobilenet_v1 --model zoo:squeezenet_1.0 -n 20");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("Inference with one Edge TPU costs"));
  EXPECT_THAT(text.output, HasSubstr("Inference with two Edge TPUs costs"));
  // stderr is a pipe here, as in a log file: no progress frames redrawn with carriage returns.
  EXPECT_EQ(text.output.find('\r'), std::string::npos) << text.output;
  EXPECT_THAT(text.output, ::testing::Not(HasSubstr("[###")));
  CommandResult one = Tpufleet("bench --model zoo:mobilenet_v1");
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_THAT(one.output, HasSubstr("give exactly two models"));
}

TEST(CliTest, DevicesJsonFromAFixture) {
  std::string root = std::string(TPUFLEET_FIXTURES_DIR) + "/sysfs/coral_hub_example";
  CommandResult run = Tpufleet("devices --json --sysfs " + root);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json report = nlohmann::json::parse(run.output);
  EXPECT_EQ(report["order"], "stable");
  ASSERT_EQ(report["devices"].size(), 3u);
  // Listed in the stable order; "selector" is Coral's (libedgetpu's order), beside the stable one.
  EXPECT_EQ(report["devices"][0]["stable_selector"], "usb#0");
  EXPECT_EQ(report["devices"][0]["index"], 0);
  EXPECT_EQ(report["devices"][0]["selector"],
            "usb:" + std::to_string(report["devices"][0]["coral_index"].get<int>()));
  EXPECT_EQ(report["devices"][0]["path"], "/sys/bus/usb/devices/2-3.1");
  EXPECT_EQ(report["devices"][2]["path_selector"], "usb@2-3.2.2");
  EXPECT_EQ(report["devices"][2]["hubs"].size(), 2u);
  EXPECT_EQ(report["findings"][0]["severity"], "error");
  EXPECT_EQ(report["findings"][0]["device"], "usb@2-3.2.2");
  EXPECT_TRUE(report["runtime"].is_null());
}

TEST(CliTest, DevicesTreeAndTable) {
  std::string root = std::string(TPUFLEET_FIXTURES_DIR) + "/sysfs/mixed";
  CommandResult tree = Tpufleet("devices --tree --sysfs " + root);
  ASSERT_EQ(tree.exit_code, 0) << tree.output;
  EXPECT_THAT(tree.output,
              HasSubstr("|__ Port 2: hub 1-2, 4 ports, 480M, bus-powered (100 mA itself)"));
  EXPECT_THAT(tree.output, HasSubstr("PCIe: Edge TPU pci@/dev/apex_0"));
  CommandResult table = Tpufleet("devices --order coral --sysfs " + root);
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_THAT(table.output, HasSubstr("Order: coral"));
  EXPECT_THAT(table.output, HasSubstr(":0    pci:0   #0     pci#0   /dev/apex_0"));
  // The sticks in bootloader mode come first in libedgetpu's numbering, not in the stable one.
  EXPECT_THAT(table.output, HasSubstr("#1     usb#0   /sys/bus/usb/devices/1-1 "));
  EXPECT_THAT(table.output, ::testing::ContainsRegex(":[12]    usb:[01]   #[35]     usb#[24]   "
                                                     "/sys/bus/usb/devices/[12]-2[.3]* +needs"));
}

TEST(CliTest, DevicesListsSimulatedDevices) {
  std::string root = std::string(TPUFLEET_FIXTURES_DIR) + "/sysfs/dual_m2";
  CommandResult run = Tpufleet("devices --json --sim --sysfs " + root);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json report = nlohmann::json::parse(run.output);
  ASSERT_EQ(report["devices"].size(), 4u);
  EXPECT_EQ(report["devices"][2]["selector"], "sim:0");
  EXPECT_EQ(report["devices"][1]["stable_selector"], "pci#1");
  EXPECT_EQ(report["devices"][3]["type"], "sim");
  EXPECT_TRUE(report["devices"][3]["index"].is_null());
  CommandResult missing = Tpufleet("devices --sim /nonexistent/rig.json");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("/nonexistent/rig.json: cannot read the topology file"));
}

TEST(CliTest, TopologyErrorsNameTheFileAndTheField) {
  std::string rig = TempPath("hostile_rig.json");
  std::ofstream(rig) << R"({"devices": [{"link": "usb3"}, {"bus": 1e30}]})";
  const std::string field = rig + ": devices[1].bus is ";
  const std::string range = "; it must be an integer from 0 to 65535";
  std::string image = (testing::SharedDir() / "images" / "cat.bmp").string();
  for (const std::string& command :
       {"devices --sim " + rig,
        "run zoo:mobilenet_v1 --devices sim:0 -i " + image + " --topology " + rig,
        "plan --model zoo:mobilenet_v1 --topology " + rig,
        "bench --model zoo:mobilenet_v1 --model zoo:squeezenet_1.0 --topology " + rig}) {
    CommandResult run = Tpufleet(command);
    EXPECT_NE(run.exit_code, 0) << command << "\n" << run.output;
    EXPECT_THAT(run.output, HasSubstr(field)) << command;
    EXPECT_THAT(run.output, HasSubstr(range)) << command;
  }
}

// A device that takes no time has no capacity: the planner says so instead of dividing by 0.
TEST(CliTest, ThePlannerRefusesAZeroTimeDevice) {
  std::string rig = TempPath("zero_time_rig.json");
  std::ofstream(rig) << R"({"devices": [{"link": "usb3"}, {"time_scale": 0}]})";
  CommandResult plan = Tpufleet("plan --model zoo:mobilenet_v1 --topology " + rig);
  EXPECT_EQ(plan.exit_code, 2) << plan.output;
  EXPECT_THAT(plan.output, HasSubstr("sim:1 has time_scale 0: a device that takes no time has no "
                                     "capacity to plan by"));
}

TEST(CliTest, HostileDeviceStringsAndLabelIdsGetAMessageNotACrash) {
  CommandResult bench = Tpufleet(
      "bench --model zoo:mobilenet_v1 --model zoo:squeezenet_1.0 "
      "--devices sim:0,sim:x");
  EXPECT_EQ(bench.exit_code, 1) << bench.output;
  EXPECT_THAT(bench.output, HasSubstr("bench runs on simulated devices (sim:N); got sim:x"));
  std::string labels = TempPath("hostile_labels.txt");
  std::ofstream(labels) << "99999999999999999999 cat\n";
  std::string image = (testing::SharedDir() / "images" / "cat.bmp").string();
  CommandResult run =
      Tpufleet("run zoo:mobilenet_v1 --devices cpu -i " + image + " --labels " + labels);
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

TEST(CliTest, DevicesRejectsBadOptions) {
  CommandResult order = Tpufleet("devices --order libusb");
  EXPECT_EQ(order.exit_code, 2);
  EXPECT_THAT(order.output, HasSubstr("unknown order 'libusb'"));
  CommandResult root = Tpufleet("devices --sysfs /nonexistent/root");
  EXPECT_NE(root.exit_code, 0);
  EXPECT_THAT(root.output, HasSubstr("/nonexistent/root"));
}

}  // namespace
}  // namespace tpufleet
