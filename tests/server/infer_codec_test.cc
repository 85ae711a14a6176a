// KServe v2 request decoding (JSON and binary tensors), matching against a model's inputs, and
// response encoding, on a small model built here: a [1, 2, 2, 1] input reshaped to [4].
#include "server/infer_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "model/builder.h"

namespace tpufleet::server {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ModelPtr Reshaper(DataType type) {
  ModelBuilder b;
  int input = b.AddTensor("image", type, {1, 2, 2, 1}, {{0.5f}, {3}, 0});
  int shape = b.AddConstant("shape", DataType::kInt32, {1}, std::vector<int32_t>{4});
  int output = b.AddTensor("flat", type, {4}, {{0.5f}, {3}, 0});
  b.AddOperator(tfl::BuiltinOperator::RESHAPE, {input, shape}, {output});
  b.SetInputs({input});
  b.SetOutputs({output});
  Result<ModelPtr> model = Model::FromBuffer(b.Finish(), "reshaper");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.value();
}

Status ParseError(const std::string& body, std::optional<uint64_t> length = std::nullopt) {
  return ParseInferRequest(body, length).status();
}

TEST(InferCodecTest, JsonTensorsNestedOrFlatBecomeTheModelsInputBytes) {
  ModelPtr model = Reshaper(DataType::kUInt8);
  for (const char* data : {"[1, 2, 3, 255]", "[[[[1], [2]], [[3], [255]]]]"}) {
    std::string body = std::string(R"({"id": "r1", "parameters": {"timeout": 2500, "priority": 1},
        "inputs": [{"name": "image", "shape": [1, 2, 2, 1], "datatype": "UINT8", "data": )") +
                       data + "}]}";
    Result<InferRequest> request = ParseInferRequest(body, std::nullopt);
    ASSERT_TRUE(request.ok()) << request.status().ToString();
    EXPECT_EQ(request->id, "r1");
    EXPECT_EQ(request->timeout_us, 2500);
    EXPECT_EQ(request->priority, 1);
    Result<TensorList> tensors = TakeInputTensors(*request, *model);
    ASSERT_TRUE(tensors.ok()) << tensors.status().ToString();
    EXPECT_THAT((*tensors)[0], ElementsAre(1, 2, 3, 255));
  }
}

TEST(InferCodecTest, BinaryTensorsFollowTheJsonHeader) {
  ModelPtr model = Reshaper(DataType::kFloat32);
  std::string header =
      R"({"inputs": [{"name": "image", "shape": [1, 2, 2, 1], "datatype": "FP32",
          "parameters": {"binary_data_size": 16}}], "parameters": {"binary_data_output": true}})";
  float values[4] = {0.5f, -1.25f, 3.0f, 1e6f};
  std::string body = header + std::string(reinterpret_cast<const char*>(values), 16);
  Result<InferRequest> request = ParseInferRequest(body, header.size());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_TRUE(request->binary_output);
  Result<TensorList> tensors = TakeInputTensors(*request, *model);
  ASSERT_TRUE(tensors.ok()) << tensors.status().ToString();
  ASSERT_EQ((*tensors)[0].size(), 16u);
  EXPECT_EQ(std::memcmp((*tensors)[0].data(), values, 16), 0);

  // The outputs come back binary too, after a JSON header that says their sizes.
  Result<EncodedResponse> response = EncodeInferResponse(*model, "m", *request, *tensors);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_TRUE(response->header_length.has_value());
  json parsed = json::parse(response->body.substr(0, *response->header_length));
  EXPECT_EQ(parsed["model_name"], "m");
  EXPECT_EQ(parsed["outputs"][0]["name"], "flat");
  EXPECT_EQ(parsed["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(parsed["outputs"][0]["shape"], json({4}));
  EXPECT_EQ(parsed["outputs"][0]["parameters"]["binary_data_size"], 16);
  EXPECT_EQ(response->body.substr(*response->header_length),
            std::string(reinterpret_cast<const char*>(values), 16));
}

TEST(InferCodecTest, JsonOutputsUnlessBinaryIsAskedPerOutput) {
  ModelPtr model = Reshaper(DataType::kInt8);
  Result<InferRequest> request = ParseInferRequest(
      R"({"id": "x", "inputs": [{"name": "image", "shape": [1, 2, 2, 1], "datatype": "INT8",
          "data": [-128, -1, 0, 127]}]})",
      std::nullopt);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  TensorList outputs = TakeInputTensors(*request, *model).value();
  Result<EncodedResponse> response = EncodeInferResponse(*model, "m", *request, outputs);
  ASSERT_TRUE(response.ok());
  EXPECT_FALSE(response->header_length.has_value());
  json parsed = json::parse(response->body);
  EXPECT_EQ(parsed["id"], "x");
  EXPECT_EQ(parsed["outputs"][0]["data"], json({-128, -1, 0, 127}));

  request->outputs = {{"flat", true}};
  response = EncodeInferResponse(*model, "m", *request, outputs);
  ASSERT_TRUE(response.ok());
  EXPECT_TRUE(response->header_length.has_value());
  request->outputs = {{"nope", std::nullopt}};
  EXPECT_THAT(EncodeInferResponse(*model, "m", *request, outputs).status().message(),
              HasSubstr("no output 'nope'; its outputs are flat"));
}

TEST(InferCodecTest, MalformedRequestsSayWhatIsWrong) {
  const std::string input = R"("name": "image", "shape": [1, 2, 2, 1], "datatype": "UINT8")";
  EXPECT_THAT(ParseError("{not json").message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(ParseError("{}").message(), HasSubstr("needs \"inputs\""));
  EXPECT_THAT(ParseError(R"({"inputs": [{"name": "image"}]})").message(),
              HasSubstr("needs \"name\", \"datatype\" and \"shape\""));
  EXPECT_THAT(ParseError(R"({"inputs": [{)" + input + R"(, "data": [1, 2, 3]}]})").message(),
              HasSubstr("\"data\" has 3 elements, shape [1,2,2,1] needs 4"));
  EXPECT_THAT(ParseError(R"({"inputs": [{)" + input + R"(, "data": [1, 2, 3, 256]}]})").message(),
              HasSubstr("element 3 is 256, outside UINT8's range 0 to 255"));
  EXPECT_THAT(ParseError(R"({"inputs": [{)" + input + R"(, "data": [1, 2, 3, -1]}]})").message(),
              HasSubstr("outside UINT8's range"));
  EXPECT_THAT(ParseError(R"({"inputs": [{)" + input + R"(, "data": [1, 2, 3, 0.5]}]})").message(),
              HasSubstr("takes integers"));
  EXPECT_THAT(ParseError(R"({"inputs": [{"name": "i", "shape": [1], "datatype": "FLOAT",
                            "data": [1]}]})")
                  .message(),
              HasSubstr("unknown datatype 'FLOAT'; KServe v2 knows BOOL, UINT8"));
  EXPECT_THAT(ParseError(R"({"inputs": [{"name": "i", "shape": [-1], "datatype": "FP32",
                            "data": [1]}]})")
                  .message(),
              HasSubstr("shape[0] must be a non-negative integer"));
  EXPECT_THAT(ParseError(R"({"inputs": [{"name": "i", "shape": [4294967296, 4294967296],
                            "datatype": "FP32", "data": [1]}]})")
                  .message(),
              HasSubstr("more than 2^40 elements"));
  EXPECT_THAT(ParseError(R"({"parameters": {"timeout": "soon"}, "inputs": [{)" + input +
                         R"(, "data": [1, 2, 3, 4]}]})")
                  .message(),
              HasSubstr("parameter timeout (microseconds) must be a non-negative integer"));
  std::string deep = std::string(40, '[') + "1" + std::string(40, ']');
  EXPECT_THAT(ParseError(R"({"inputs": [{"name": "i", "shape": [1], "datatype": "FP32", "data": )" +
                         deep + "}]}")
                  .message(),
              HasSubstr("nested more than 32 deep"));
}

TEST(InferCodecTest, BinaryLengthsMustAddUp) {
  std::string header = R"({"inputs": [{"name": "image", "shape": [1, 2, 2, 1], "datatype": "UINT8",
                           "parameters": {"binary_data_size": 4}}]})";
  EXPECT_THAT(ParseError(header + "abc", header.size()).message(),
              HasSubstr("only 3 bytes of binary data are left"));
  EXPECT_THAT(ParseError(header + "abcde", header.size()).message(),
              HasSubstr("the body has 5 bytes after the JSON header, but the inputs' "
                        "binary_data_size add up to 4"));
  EXPECT_THAT(ParseError(header + "abcd", header.size() + 100).message(),
              HasSubstr("but the body has only"));
  EXPECT_THAT(ParseError(header).message(), HasSubstr("needs the Inference-Header-Content-Length"));
  EXPECT_TRUE(ParseInferRequest(header + "abcd", header.size()).ok());
  EXPECT_EQ(ParseHeaderLength("123").value(), 123u);
  EXPECT_FALSE(ParseHeaderLength("12a").ok());
  EXPECT_FALSE(ParseHeaderLength("").ok());
  EXPECT_FALSE(ParseHeaderLength("99999999999999999999").ok());
}

TEST(InferCodecTest, InputsMustMatchTheModel) {
  ModelPtr model = Reshaper(DataType::kUInt8);
  auto mismatch = [&](const std::string& body) {
    Result<InferRequest> request = ParseInferRequest(body, std::nullopt);
    EXPECT_TRUE(request.ok()) << request.status().ToString();
    return TakeInputTensors(*request, *model).status().message();
  };
  EXPECT_THAT(mismatch(R"({"inputs": [{"name": "img", "shape": [4], "datatype": "UINT8",
                         "data": [1, 2, 3, 4]}]})"),
              HasSubstr("no input 'img'; its inputs are image"));
  EXPECT_THAT(mismatch(R"({"inputs": [{"name": "image", "shape": [4], "datatype": "UINT8",
                         "data": [1, 2, 3, 4]}]})"),
              HasSubstr("input 'image' is UINT8 [4]; the model takes UINT8 [1, 2, 2, 1]"));
  EXPECT_THAT(mismatch(R"({"inputs": [{"name": "image", "shape": [1, 2, 2, 1], "datatype": "INT8",
                         "data": [1, 2, 3, 4]}]})"),
              HasSubstr("the model takes UINT8"));
  EXPECT_THAT(mismatch(R"({"inputs": [{"name": "image", "shape": [4], "datatype": "UINT8",
                         "data": [1, 2, 3, 4]}, {"name": "image", "shape": [4], "datatype": "UINT8",
                         "data": [1, 2, 3, 4]}]})"),
              HasSubstr("takes 1 input (image); the request has 2"));
}

}  // namespace
}  // namespace tpufleet::server
