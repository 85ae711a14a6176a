#include "tpufleet/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "model/caching_groups.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;
using testing::SharedModel;

ModelPtr LoadOrDie(const std::string& path) {
  Result<ModelPtr> model = Model::FromFile(path);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? model.value() : nullptr;
}

TEST(ModelTest, CompiledMobileNetReportsCachedBytesAndToken) {
  std::string path = SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr model = LoadOrDie(path);
  ASSERT_TRUE(model);
  ASSERT_EQ(model->edgetpu_packages().size(), 1u);
  const EdgeTpuPackage& package = model->edgetpu_packages()[0];
  EXPECT_EQ(package.cached_bytes(), 566912u);
  EXPECT_EQ(package.streamed_bytes(), 0u);
  EXPECT_EQ(package.caching_token(), 0x6d146c3f97d6648cULL);
  EXPECT_EQ(package.executables.size(), 2u);
  EXPECT_LE(package.min_runtime_version, 14);
  EXPECT_EQ(model->operators().size(), 1u);
  EXPECT_EQ(model->operators()[0].name, "edgetpu-custom-op");
  EXPECT_EQ(model->input(0).shape, (std::vector<int32_t>{1, 128, 128, 3}));
  EXPECT_EQ(model->input(0).type, DataType::kUInt8);
}

TEST(ModelTest, CoCompiledPairSharesOneTokenAndKeepsSizes) {
  std::string a = SharedModel(
      "mobilenet_v1_0.25_128_quant_cocompiled_with_"
      "mobilenet_v1_0.5_160_quant_edgetpu.tflite");
  std::string b = SharedModel(
      "mobilenet_v1_0.5_160_quant_cocompiled_with_"
      "mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(a);
  TPUFLEET_REQUIRE_FILE(b);
  std::vector<ModelPtr> models = {
      LoadOrDie(a), LoadOrDie(b),
      LoadOrDie(SharedModel("mobilenet_v1_0.25_128_quant_edgetpu.tflite"))};
  ASSERT_TRUE(models[0] && models[1] && models[2]);
  EXPECT_EQ(models[0]->edgetpu_packages()[0].cached_bytes(), 566912u);
  EXPECT_EQ(models[1]->edgetpu_packages()[0].cached_bytes(), 1473280u);

  std::vector<CachingGroup> groups = GroupByCachingToken(models);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].token, 0xe2c366fd5d62fa6bULL);
  EXPECT_EQ(groups[0].members, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(groups[1].token, 0x6d146c3f97d6648cULL);
  EXPECT_EQ(groups[1].members, (std::vector<size_t>{2}));
}

TEST(ModelTest, CpuMobileNetV2HasExpectedStructure) {
  std::string path = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr model = LoadOrDie(path);
  ASSERT_TRUE(model);
  EXPECT_FALSE(model->is_edgetpu_compiled());
  std::map<std::string, int> ops = model->op_histogram();
  EXPECT_EQ(ops["CONV_2D"], 36);
  EXPECT_EQ(ops["DEPTHWISE_CONV_2D"], 17);
  EXPECT_EQ(ops["ADD"], 10);
  // MobileNet v2 1.0/224: about 300M MACs and 3.47M parameters (1001 classes).
  EXPECT_NEAR(model->total_macs() / 1e6, 300.0, 6.0);
  EXPECT_NEAR(model->parameter_count() / 1e6, 3.49, 0.05);
  const TensorInfo& out = model->output(0);
  EXPECT_EQ(out.shape, (std::vector<int32_t>{1, 1001}));
}

TEST(ModelTest, PerChannelQuantizationIsExposed) {
  std::string path = SharedModel("tf2_mobilenet_v2_1.0_224_ptq.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr model = LoadOrDie(path);
  ASSERT_TRUE(model);
  const OperatorInfo* conv = nullptr;
  for (const OperatorInfo& op : model->operators()) {
    if (op.name == "CONV_2D") {
      conv = &op;
      break;
    }
  }
  ASSERT_NE(conv, nullptr);
  const TensorInfo& filter = model->tensors()[conv->inputs[1]];
  EXPECT_EQ(filter.type, DataType::kInt8);
  EXPECT_TRUE(filter.quantization.per_channel());
  EXPECT_EQ(filter.quantization.scales.size(), static_cast<size_t>(filter.shape[0]));
  EXPECT_EQ(filter.quantization.axis, 0);
  EXPECT_TRUE(filter.is_constant);
  EXPECT_EQ(model->constant_data(filter.index).size(), filter.byte_size);
}

TEST(ModelTest, InvalidModelIsRejectedNamingTheBadIndex) {
  std::string path = SharedModel("invalid_model_invoking_error.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  Result<ModelPtr> model = Model::FromFile(path);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(model.status().message(), HasSubstr(path));
  EXPECT_THAT(model.status().message(), HasSubstr("tensor #0"));
  EXPECT_THAT(model.status().message(), HasSubstr("buffer index 0 is out of range"));
}

TEST(ModelTest, MissingFileSaysSo) {
  Result<ModelPtr> model = Model::FromFile("/nonexistent/model.tflite");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(model.status().message(), HasSubstr("/nonexistent/model.tflite: no such file"));
}

TEST(ModelTest, DirectoryIsNotAModel) {
  Result<ModelPtr> model = Model::FromFile("/tmp");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("not a regular file"));
}

TEST(ModelTest, WrongIdentifierIsNamed) {
  std::vector<uint8_t> bytes = {0x10, 0, 0, 0, 'D', 'W', 'N', '1', 0, 0, 0, 0, 0, 0, 0, 0};
  Result<ModelPtr> model = Model::FromBuffer(bytes, "package.bin");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(),
              HasSubstr("package.bin: not a TFLite model: file identifier is "
                        "'DWN1', expected 'TFL3'"));
}

TEST(ModelTest, TinyBufferIsRejected) {
  Result<ModelPtr> model = Model::FromBuffer({1, 2, 3}, "tiny");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("3 bytes is too small"));
}

TEST(ModelTest, FromBufferMatchesFromFile) {
  std::string path = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr from_file = LoadOrDie(path);
  Result<ModelPtr> from_buffer = Model::FromBuffer(testing::ReadFileBytes(path), "copy");
  ASSERT_TRUE(from_file && from_buffer.ok());
  EXPECT_EQ(from_buffer.value()->total_macs(), from_file->total_macs());
  EXPECT_EQ(from_buffer.value()->parameter_count(), from_file->parameter_count());
  EXPECT_EQ(from_buffer.value()->op_histogram(), from_file->op_histogram());
  EXPECT_EQ(from_buffer.value()->name(), "copy");
}

}  // namespace
}  // namespace tpufleet
