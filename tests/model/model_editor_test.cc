// ModelEditor edits a copy of a model and writes a verified new one; every bad index, size or
// name is an INVALID_ARGUMENT that says what was wrong.
#include "tpufleet/model_editor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "model/builder.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;
using Op = tfl::BuiltinOperator;

std::vector<uint8_t> Int32Bytes(const std::vector<int32_t>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(int32_t));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// input [1,4] uint8 -> FULLY_CONNECTED (3 units) -> [1,3] -> CUMSUM (a code above 127).
ModelPtr SmallModel() {
  ModelBuilder b;
  int input = b.AddTensor("input", DataType::kUInt8, {1, 4}, {{0.5f}, {128}, 0});
  int weights = b.AddConstant("weights", DataType::kUInt8, {3, 4}, std::vector<uint8_t>(12, 130),
                              {{0.1f}, {128}, 0});
  int bias = b.AddConstant("bias", DataType::kInt32, {3}, std::vector<int32_t>{1, 2, 3},
                           {{0.05f}, {0}, 0});
  int fc = b.AddTensor("fc", DataType::kUInt8, {1, 3}, {{0.25f}, {128}, 0});
  tfl::BuiltinOptionsUnion options;
  options.Set(tfl::FullyConnectedOptionsT{});
  b.AddOperator(Op::FULLY_CONNECTED, {input, weights, bias}, {fc}, std::move(options));
  int axis = b.AddConstant("axis", DataType::kInt32, {}, std::vector<int32_t>{1});
  int out = b.AddTensor("out", DataType::kUInt8, {1, 3});
  b.AddOperator(Op::CUMSUM, {fc, axis}, {out});
  b.SetInputs({input});
  b.SetOutputs({out});
  return Model::FromBuffer(b.Finish(), "small").value();
}

TEST(ModelEditorTest, EditsACopyAndWritesAVerifiedModel) {
  ModelPtr original = SmallModel();
  ModelEditor editor(*original);
  EXPECT_EQ(editor.tensor_count(), 6);
  EXPECT_EQ(editor.operator_count(), 2);
  ASSERT_TRUE(editor.KeepOperators(1).ok());
  ASSERT_TRUE(editor.SetShape(1, {5, 4}).ok());
  ASSERT_TRUE(editor.SetConstantData(1, std::vector<uint8_t>(20, 7)).ok());
  ASSERT_TRUE(editor.SetShape(2, {5}).ok());
  ASSERT_TRUE(editor.SetConstantData(2, Int32Bytes({0, 0, 0, 0, 9})).ok());
  ASSERT_TRUE(editor.SetShape(3, {1, 5}).ok());
  ASSERT_TRUE(editor.SetQuantization(3, {{1.0f / 16}, {3}, 0}).ok());
  Result<int> probabilities =
      editor.AddTensor("probabilities", DataType::kUInt8, {1, 5}, {{1.0f / 256}, {0}, 0});
  ASSERT_TRUE(probabilities.ok());
  OperatorOptions softmax;
  softmax.beta = 0.5f;
  ASSERT_TRUE(editor.AddOperator("SOFTMAX", {3}, {*probabilities}, softmax).ok());
  ASSERT_TRUE(editor.SetShape(5, {1, 5}).ok());
  ASSERT_TRUE(editor.AddOperator("CUMSUM", {3, 4}, {5}).ok());
  ASSERT_TRUE(editor.SetOutputs({*probabilities}).ok());
  editor.SetDescription("edited");

  Result<ModelPtr> edited = editor.Finish("edited model");
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  const Model& model = **edited;
  EXPECT_EQ(model.name(), "edited model");
  EXPECT_EQ(model.description(), "edited");
  ASSERT_EQ(model.operators().size(), 3u);
  EXPECT_EQ(model.operators()[1].name, "SOFTMAX");
  EXPECT_EQ(model.operators()[2].name, "CUMSUM");
  EXPECT_EQ(model.operators()[2].builtin_code, 128);
  EXPECT_EQ(model.output(0).shape, (std::vector<int32_t>{1, 5}));
  EXPECT_EQ(model.tensors()[3].quantization.zero_points, (std::vector<int64_t>{3}));
  std::span<const uint8_t> bias = model.constant_data(2);
  ASSERT_EQ(bias.size(), 20u);
  EXPECT_EQ(bias[16], 9);
  // The model edited from is unchanged.
  EXPECT_EQ(original->operators().size(), 2u);
  EXPECT_EQ(original->tensors()[1].shape, (std::vector<int32_t>{3, 4}));
}

TEST(ModelEditorTest, AnEmptyEditorBuildsAModel) {
  ModelEditor editor;
  int in = editor.AddTensor("in", DataType::kFloat32, {1, 8}).value();
  int out = editor.AddTensor("out", DataType::kFloat32, {1, 8}).value();
  ASSERT_TRUE(editor.AddOperator("L2_NORMALIZATION", {in}, {out}).ok());
  ASSERT_TRUE(editor.SetInputs({in}).ok());
  ASSERT_TRUE(editor.SetOutputs({out}).ok());
  Result<ModelPtr> model = editor.Finish();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->operators()[0].name, "L2_NORMALIZATION");
}

TEST(ModelEditorTest, BadEditsSayWhatIsWrong) {
  ModelEditor editor(*SmallModel());
  auto expect_invalid = [](const Status& status, const std::string& text) {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr(text));
  };
  expect_invalid(editor.SetShape(6, {1}),
                 "tensor 6 is not a tensor of the model: it has tensors 0 to 5");
  expect_invalid(editor.SetShape(0, {1, -1}), "negative dimension");
  expect_invalid(editor.SetConstantData(1, std::vector<uint8_t>(11)),
                 "the data has 11 bytes; a uint8 tensor of 12 elements takes 12");
  expect_invalid(editor.SetQuantization(0, {{1.0f}, {}, 0}), "one zero point per scale");
  expect_invalid(editor.AddOperator("SOFTMAXX", {0}, {3}), "'SOFTMAXX' is not a TFLite builtin");
  expect_invalid(editor.AddOperator("SOFTMAX", {0}, {9}), "output 9 is not a tensor");
  expect_invalid(editor.AddOperator("SOFTMAX", {-2}, {3}), "input -2 is not a tensor");
  expect_invalid(editor.SetOperatorOptions(2, {}), "operator 2 is not in the model");
  expect_invalid(editor.KeepOperators(3), "cannot keep 3 operators of a model that has 2");
  expect_invalid(editor.SetOutputs({-1}), "graph output -1 is not a tensor");
  expect_invalid(editor.AddConstant("c", DataType::kString, {1}, {1}).status(),
                 "constants of type string cannot be written");
  // A -1 input (an omitted optional input) is accepted.
  EXPECT_TRUE(editor.AddOperator("FULLY_CONNECTED", {0, 1, -1}, {3}).ok());
}

// SmallModel with the weights' data stored after the flatbuffer, as files over 2 GB store it.
std::vector<uint8_t> WithExternalWeights() {
  ModelPtr model = SmallModel();
  tfl::ModelT unpacked;
  tfl::GetModel(model->bytes().data())->UnPackTo(&unpacked);
  const uint32_t buffer = unpacked.subgraphs[0]->tensors[1]->buffer;
  std::vector<uint8_t> data = std::move(unpacked.buffers[buffer]->data);
  unpacked.buffers[buffer]->data.clear();
  flatbuffers::FlatBufferBuilder sizing;
  unpacked.buffers[buffer]->offset = 1 << 20;  // placeholder of the final width
  unpacked.buffers[buffer]->size = data.size();
  sizing.Finish(tfl::Model::Pack(sizing, &unpacked), tfl::ModelIdentifier());
  const size_t offset = (sizing.GetSize() + 15) / 16 * 16;
  unpacked.buffers[buffer]->offset = offset;
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(tfl::Model::Pack(builder, &unpacked), tfl::ModelIdentifier());
  std::vector<uint8_t> bytes(builder.GetBufferPointer(),
                             builder.GetBufferPointer() + builder.GetSize());
  bytes.resize(offset);
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

TEST(ModelEditorTest, DataStoredAfterTheFlatbufferMovesIntoTheEditedModel) {
  Result<ModelPtr> external = Model::FromBuffer(WithExternalWeights(), "external");
  ASSERT_TRUE(external.ok()) << external.status().ToString();
  ASSERT_EQ((*external)->constant_data(1).size(), 12u);
  ModelEditor editor(**external);
  editor.SetDescription("moved");
  Result<ModelPtr> edited = editor.Finish();
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  std::span<const uint8_t> weights = (*edited)->constant_data(1);
  EXPECT_EQ(std::vector<uint8_t>(weights.begin(), weights.end()), std::vector<uint8_t>(12, 130));
}

TEST(ModelEditorTest, AnEditThatBreaksTheModelFailsVerification) {
  ModelEditor editor(*SmallModel());
  ASSERT_TRUE(editor.SetShape(2, {4}).ok());  // the bias keeps its 3 values
  Result<ModelPtr> model = editor.Finish("broken");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(model.status().message(), HasSubstr("broken"));
}

}  // namespace
}  // namespace tpufleet
