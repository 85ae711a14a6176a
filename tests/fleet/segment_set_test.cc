// Compiled segment sets as pipelines on simulated Edge TPUs: each segment's outputs come from the
// part of the full uncompiled model between its inputs and outputs, matched by name, so the
// pipeline answers as the full model does on the CPU; a full model that is not the one the set
// was compiled from is refused, naming the tensor that differs.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "model/builder.h"
#include "model/edgetpu_package.h"
#include "model/submodel.h"
#include "support/shared_files.h"
#include "tpufleet/image.h"
#include "tpufleet/pipeline.h"

namespace tpufleet {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::SharedDir;
using testing::SharedModel;

const char kFullSsd[] = "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite";
const char kRealSegment0[] =
    "ssd_mobilenet_v1_coco_quant_postprocess_segment_0_of_2_edgetpu.tflite";
const char kRealSegment1[] =
    "ssd_mobilenet_v1_coco_quant_postprocess_segment_1_of_2_edgetpu.tflite";
// Where the full SSD model cuts into two, as edgetpu_compiler --num_segments 2 cut it.
const char kConv11[] = "FeatureExtractor/MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6";
const char kConv13[] = "FeatureExtractor/MobilenetV1/MobilenetV1/Conv2d_13_pointwise/Relu6";

int TensorNamed(const Model& model, const std::string& name) {
  int found = FindTensorByBaseName(model, name);
  EXPECT_GE(found, 0) << name;
  return found;
}

// A compiled stand-in for `part`: its inputs and outputs, named as the compiler names them (the
// fused operations' names after a ';'), computed by one edgetpu-custom-op holding `package`.
void WriteCompiledStandIn(const Model& part, const EdgeTpuPackage& package, const fs::path& path) {
  ModelBuilder b;
  auto copy = [&](int index) {
    const TensorInfo& t = part.tensors()[index];
    return b.AddTensor(t.name + ";fused/by/the/compiler", t.type, t.shape, t.quantization);
  };
  std::vector<int> inputs, outputs;
  for (int t : part.input_indices()) inputs.push_back(copy(t));
  for (int t : part.output_indices()) outputs.push_back(copy(t));
  b.AddCustomOperator(kEdgeTpuCustomCode, inputs, outputs, EncodeEdgeTpuPackage(package));
  b.SetInputs(inputs);
  b.SetOutputs(outputs);
  std::vector<uint8_t> bytes = b.Finish();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

class SegmentSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    full_path_ = SharedModel(kFullSsd);
    if (!fs::exists(full_path_)) GTEST_SKIP() << "missing " << full_path_;
    dir_ = fs::temp_directory_path() / fmt::format("tpufleet_segment_set_{}", getpid());
    fs::create_directories(dir_ / "segments");
    full_ = Model::FromFile(full_path_).value();
    pixels_ = ImageFileTensor((SharedDir() / "images" / "cat.bmp").string(), *full_).value();
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // The full SSD model cut in two at the compiler's cut, written as compiled segments
  // `folder`/ssd_segment_{0,1}_of_2_edgetpu.tflite.
  std::vector<std::string> WriteSegments(const fs::path& folder) {
    int input = full_->input_indices()[0];
    std::vector<int> cut = {TensorNamed(*full_, kConv11), TensorNamed(*full_, kConv13)};
    ModelPtr first = ExtractSubmodel(*full_, {input}, cut, "first").value();
    ModelPtr second = ExtractSubmodel(*full_, cut, full_->output_indices(), "second").value();
    EdgeTpuPackage package;
    package.min_runtime_version = 12;
    package.executables.push_back(
        {EdgeTpuExecutableType::kParameterCaching, "cached", "beagle", 2'000'000, 0x5e9, 0, 1});
    std::vector<std::string> paths;
    for (const ModelPtr& part : {first, second}) {
      fs::path path = folder / fmt::format("ssd_segment_{}_of_2_edgetpu.tflite", paths.size());
      WriteCompiledStandIn(*part, package, path);
      paths.push_back(path.string());
    }
    return paths;
  }

  TensorList FullModelOnTheCpu() {
    std::unique_ptr<Interpreter> cpu = MakeInterpreter(full_, "cpu").value();
    return cpu->Invoke({pixels_}).value().outputs;
  }

  TensorList Pipelined(const std::vector<std::string>& segments, const DeviceOptions& options) {
    Result<std::unique_ptr<PipelineRunner>> runner =
        PipelineRunner::Open(segments, {"sim:0", "sim:1"}, options);
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    if (!runner.ok()) return {};
    EXPECT_TRUE((*runner)->Push({pixels_}).ok());
    Result<std::optional<TensorList>> out = (*runner)->Pop();
    EXPECT_TRUE(out.ok() && out->has_value()) << out.status().ToString();
    EXPECT_TRUE((*runner)->Shutdown().ok());
    return out.ok() && out->has_value() ? **out : TensorList{};
  }

  std::string full_path_;
  fs::path dir_;
  ModelPtr full_;
  std::vector<uint8_t> pixels_;
};

TEST_F(SegmentSetTest, WithTheFullModelBesideThemTheSegmentsAnswerAsItDoes) {
  fs::create_symlink(full_path_, dir_ / "ssd.tflite");
  TensorList want = FullModelOnTheCpu();
  ASSERT_EQ(want.size(), 4u);
  EXPECT_EQ(Pipelined(WriteSegments(dir_), {}), want);
}

TEST_F(SegmentSetTest, TheFullModelIsFoundInTheParentFolderOrNamed) {
  fs::create_symlink(full_path_, dir_ / "ssd_mobilenet.tflite");  // X*.tflite
  TensorList want = FullModelOnTheCpu();
  EXPECT_EQ(Pipelined(WriteSegments(dir_ / "segments"), {}), want);
  fs::remove(dir_ / "ssd_mobilenet.tflite");
  DeviceOptions named;
  named.sim_full_models = {full_path_};
  EXPECT_EQ(Pipelined(WriteSegments(dir_ / "segments"), named), want);
}

// In a folder of this test's own, whose parent holds nothing else either: the system's temporary
// folder may hold any models.
TEST_F(SegmentSetTest, WithoutTheFullModelTheSimulatorSaysWhatItLooksFor) {
  Status status =
      PipelineRunner::Open(WriteSegments(dir_ / "segments"), {"sim:0", "sim:1"}).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("pipeline segment 0 on sim:0"));
  EXPECT_THAT(status.message(),
              HasSubstr("the full model X.tflite of a segment X_segment_K_of_N_edgetpu.tflite "
                        "beside it or in the parent folder, or one named explicitly"));
}

// The real segment set was compiled from SSD MobileNet v1 at depth 1.0 (512 channels after
// Conv2d_11), the full model beside it is the 0.75-depth one (384): the simulator refuses to
// compute the segments from it and says which tensor differs.
TEST_F(SegmentSetTest, TheRealSetAndAFullModelItWasNotCompiledFromAreToldApart) {
  std::vector<std::string> real = {SharedModel(kRealSegment0), SharedModel(kRealSegment1)};
  TPUFLEET_REQUIRE_FILE(real[0]);
  TPUFLEET_REQUIRE_FILE(real[1]);
  Status status = PipelineRunner::Open(real, {"sim:0", "sim:1"}).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr(fmt::format("{}: output 0 '{}' is uint8 [1,19,19,384] (scale", full_path_,
                                    kConv11)));
  EXPECT_THAT(status.message(), HasSubstr("but uint8 [1,19,19,512] (scale"));
  EXPECT_THAT(status.message(), HasSubstr("name the full model it was compiled from"));

  // Their tensors connect: timed only, the pipeline runs and gives the detector's four outputs.
  DeviceOptions timing;
  timing.sim_outputs = false;
  Result<std::unique_ptr<PipelineRunner>> runner =
      PipelineRunner::Open(real, {"sim:0", "sim:1"}, timing);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE((*runner)->Push({pixels_}).ok());
  Result<std::optional<TensorList>> out = (*runner)->Pop();
  ASSERT_TRUE(out.ok() && out->has_value()) << out.status().ToString();
  EXPECT_EQ((**out).size(), 4u);
  EXPECT_EQ((**out)[0].size(), 20u * 4 * sizeof(float));
  ASSERT_TRUE((*runner)->Shutdown().ok());
  PipelineStats stats = (*runner)->stats();
  EXPECT_GT(stats.segments[0].device_seconds, 0);
  EXPECT_GT(stats.segments[1].device_seconds, 0);
}

}  // namespace
}  // namespace tpufleet
