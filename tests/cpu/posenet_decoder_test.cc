// Coral's PosenetDecoderOp: a hand-made pose decoded through the body tree, refusals of bad
// options and shapes, and the real PoseNet model on posenet_test_image.bmp against Coral's
// reference output (TensorFlow Lite 2.9 has no such operator to compare with).
//
// Tolerance against the reference, measured with the project's image resize: pose count equal
// (2); pose scores within 0.0058 (test: 0.01); keypoint scores within 0.041 (test: 0.05, the
// largest on low-confidence keypoints, 0.50 vs 0.54); keypoints within 2.57 input pixels in x
// and y (test: 3), 33 of the 34 within 1 pixel (test: 32). Coral's own test allows 0.1 on pose
// scores and 0.04 of the image size (19 pixels in x) on keypoints. The differences come from the
// pixels the backbone sees (Coral's test truncates its resize where the project rounds; with a
// truncating resize the figures are 0.0031, 0.023 and 3.3 px), not from the backbone or the
// decoder: TensorFlow Lite 2.9's backbone outputs through tpufleet's decoder give the same
// figures (0.0057, 0.040, 2.57 px, 33 of 34).
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "common/image.h"
#include "model/model_internal.h"
#include "op_oracle.h"
#include "oracle/tflite_reference.h"
#include "support/shared_files.h"

namespace tpufleet::cpu::testing {
namespace {

using tpufleet::testing::SharedDir;
using tpufleet::testing::SharedModel;

constexpr int kKeypoints = 17;
// The body tree's forward edges as (parent, child) pairs, from libcoral's posenet_decoder.cc.
constexpr std::array<int, 32> kEdgePairs = {0, 1, 1, 3,  0,  2,  2,  4,  0,  5, 5,
                                            7, 7, 9, 5,  11, 11, 13, 13, 15, 0, 6,
                                            6, 8, 8, 10, 6,  12, 12, 14, 14, 16};

std::vector<uint8_t> DecoderOptions(int max_detections, float threshold, int stride, float radius) {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("max_detections", max_detections);
    b.Float("score_threshold", threshold);
    b.Int("stride", stride);
    b.Float("nms_radius", radius);
  });
  b.Finish();
  return b.GetBuffer();
}

struct DecoderRun {
  std::vector<TensorSpec> inputs, outputs;
};

DecoderRun Grids(int h, int w, int max_detections) {
  DecoderRun run;
  for (int c : {kKeypoints, 2 * kKeypoints, 64}) {
    TensorSpec t{DataType::kFloat32, {1, h, w, c}};
    t.values.assign(h * w * c, 0);
    run.inputs.push_back(t);
  }
  for (std::vector<int32_t> shape :
       std::vector<std::vector<int32_t>>{{1, max_detections, kKeypoints, 2},
                                         {1, max_detections, kKeypoints},
                                         {1, max_detections},
                                         {1}})
    run.outputs.push_back(TensorSpec{DataType::kFloat32, shape});
  return run;
}

float& At(TensorSpec& t, int y, int x, int c) {
  return t.values[(static_cast<size_t>(y) * t.shape[2] + x) * t.shape[3] + c];
}

Result<std::unique_ptr<Interpreter>> RunDecoder(const DecoderRun& run,
                                                std::vector<uint8_t> options) {
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interpreter,
                            CreateSingleOp(tfl::BuiltinOperator::CUSTOM, run.inputs, run.outputs,
                                           {}, "PosenetDecoderOp", std::move(options)));
  TPUFLEET_RETURN_IF_ERROR(InvokeWith(*interpreter, run.inputs));
  return interpreter;
}

TEST(PosenetDecoderTest, FollowsTheBodyTreeForwardAndBackward) {
  // Keypoint k peaks (logit 3, elsewhere -5) at cell (2 * (k / 5), 2 * (k % 5)) of a 7x9 grid;
  // at each keypoint's cell the mid offsets point along its edges to the neighbour's cell
  // (forward from parent to child, backward from child to parent), in pixels (stride 8).
  constexpr int kStride = 8;
  DecoderRun run = Grids(7, 9, 3);
  TensorSpec &heat = run.inputs[0], &mid = run.inputs[2];
  std::fill(heat.values.begin(), heat.values.end(), -5.0f);
  auto cell = [](int k) { return std::array<int, 2>{2 * (k / 5), 2 * (k % 5)}; };
  for (int k = 0; k < kKeypoints; ++k) At(heat, cell(k)[0], cell(k)[1], k) = 3;
  for (int e = 0; e < 16; ++e) {
    auto parent = cell(kEdgePairs[2 * e]), child = cell(kEdgePairs[2 * e + 1]);
    At(mid, parent[0], parent[1], e) = (child[0] - parent[0]) * kStride;
    At(mid, parent[0], parent[1], 16 + e) = (child[1] - parent[1]) * kStride;
    At(mid, child[0], child[1], 32 + e) = (parent[0] - child[0]) * kStride;
    At(mid, child[0], child[1], 48 + e) = (parent[1] - child[1]) * kStride;
  }
  Result<std::unique_ptr<Interpreter>> r = RunDecoder(run, DecoderOptions(3, 0.5f, kStride, 4));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Interpreter& out = *r.value();
  ASSERT_EQ(out.output(3).as<float>()[0], 1.0f) << "one pose: every other peak is its keypoint";
  float sigmoid3 = 1 / (1 + std::exp(-3.0f));
  EXPECT_NEAR(out.output(2).as<float>()[0], sigmoid3, 1e-6f);
  for (int k = 0; k < kKeypoints; ++k) {
    EXPECT_FLOAT_EQ(out.output(0).as<float>()[2 * k], cell(k)[0] * kStride) << "keypoint " << k;
    EXPECT_FLOAT_EQ(out.output(0).as<float>()[2 * k + 1], cell(k)[1] * kStride) << "keypoint " << k;
    EXPECT_NEAR(out.output(1).as<float>()[k], sigmoid3, 1e-6f);
  }
  for (int i = kKeypoints; i < 3 * kKeypoints; ++i) EXPECT_EQ(out.output(1).as<float>()[i], 0);
}

TEST(PosenetDecoderTest, NothingAboveTheThresholdGivesNoPose) {
  DecoderRun run = Grids(3, 3, 2);
  std::fill(run.inputs[0].values.begin(), run.inputs[0].values.end(), -3.0f);  // sigmoid 0.047
  Result<std::unique_ptr<Interpreter>> r = RunDecoder(run, DecoderOptions(2, 0.2f, 16, 10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value()->output(3).as<float>()[0], 0.0f);
}

TEST(PosenetDecoderTest, PrepareRefusesBadOptionsAndShapes) {
  DecoderRun run = Grids(3, 3, 2);
  auto refused = [](const DecoderRun& r, std::vector<uint8_t> options, const std::string& message) {
    Result<std::unique_ptr<Interpreter>> created =
        CreateSingleOp(tfl::BuiltinOperator::CUSTOM, r.inputs, r.outputs, {}, "PosenetDecoderOp",
                       std::move(options));
    ASSERT_FALSE(created.ok());
    EXPECT_NE(created.status().ToString().find("(PosenetDecoderOp)"), std::string::npos)
        << created.status().ToString();
    EXPECT_NE(created.status().ToString().find(message), std::string::npos)
        << created.status().ToString();
  };
  refused(run, DecoderOptions(2, 0.2f, 0, 10), "stride 0 must be positive");
  refused(run, DecoderOptions(0, 0.2f, 16, 10), "max_detections 0 must lie in [1, 10000]");
  refused(run, DecoderOptions(2, 1.5f, 16, 10), "score_threshold 1.5 must lie in [0, 1)");
  refused(run, {1, 2, 3}, "not a FlexBuffer");
  DecoderRun small = run;
  small.inputs[2].shape = {1, 2, 3, 64};
  small.inputs[2].values.resize(2 * 3 * 64);
  refused(small, DecoderOptions(2, 0.2f, 16, 10), "mid offsets float32 [1, 2, 3, 64] should be");
  DecoderRun int8 = run;
  int8.inputs[0].type = DataType::kInt8;
  int8.inputs[0].q = {{0.1f}, {0}, 0};
  refused(int8, DecoderOptions(2, 0.2f, 16, 10), "they must be uint8 or float32");
  DecoderRun bodypix = run;
  bodypix.inputs.push_back(bodypix.inputs[1]);
  refused(bodypix, DecoderOptions(2, 0.2f, 16, 10), "BodyPix");
}

struct ReferenceKeypoint {
  float score, x, y;  // x, y normalized by the input width and height
};
struct ReferencePose {
  float score;
  std::vector<ReferenceKeypoint> keypoints;
};

std::vector<ReferencePose> ReadReference(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);  // header
  std::vector<ReferencePose> poses;
  while (std::getline(file, line)) {
    std::stringstream row(line);
    std::vector<float> v;
    for (std::string field; std::getline(row, field, ',');) v.push_back(std::stof(field));
    if (v.size() != 6) continue;
    size_t pose = static_cast<size_t>(v[0]);
    if (poses.size() <= pose) poses.resize(pose + 1);
    poses[pose].score = v[1];
    poses[pose].keypoints.push_back({v[3], v[4], v[5]});
  }
  return poses;
}

// The worst differences of decoded poses from Coral's reference.
struct PoseDifferences {
  float pose_score = 0, keypoint_score = 0, pixels = 0;
  int within_one_pixel = 0;  // keypoints within 1 pixel in x and y
};

// Compares the decoder's outputs (keypoints, keypoint scores, pose scores, count) with the
// reference poses, expecting the tolerance above.
PoseDifferences CompareWithReference(const std::vector<const Tensor*>& outputs, float height,
                                     float width, const std::vector<ReferencePose>& reference) {
  PoseDifferences d;
  EXPECT_EQ(outputs[3]->as<float>()[0], static_cast<float>(reference.size()));
  for (size_t p = 0; p < reference.size(); ++p) {
    d.pose_score =
        std::max(d.pose_score, std::fabs(outputs[2]->as<float>()[p] - reference[p].score));
    for (int k = 0; k < kKeypoints; ++k) {
      const ReferenceKeypoint& ref = reference[p].keypoints[k];
      const float* yx = outputs[0]->as<float>() + (p * kKeypoints + k) * 2;
      float score = outputs[1]->as<float>()[p * kKeypoints + k];
      d.keypoint_score = std::max(d.keypoint_score, std::fabs(score - ref.score));
      float pixels = std::max(std::fabs(yx[0] - ref.y * height), std::fabs(yx[1] - ref.x * width));
      d.pixels = std::max(d.pixels, pixels);
      d.within_one_pixel += pixels <= 1.0f;
    }
  }
  std::cout << "pose scores within " << d.pose_score << ", keypoint scores within "
            << d.keypoint_score << ", keypoints within " << d.pixels << " px, "
            << d.within_one_pixel << " of " << reference.size() * kKeypoints << " within 1 px\n";
  EXPECT_LE(d.pose_score, 0.01f);
  EXPECT_LE(d.keypoint_score, 0.05f);
  EXPECT_LE(d.pixels, 3.0f);
  EXPECT_GE(d.within_one_pixel, static_cast<int>(reference.size() * kKeypoints) - 2);
  return d;
}

// The PoseNet model without its decoder, its outputs being the decoder's inputs.
std::vector<uint8_t> WithoutDecoder(const std::vector<uint8_t>& model) {
  std::unique_ptr<tfl::ModelT> m = tfl::UnPackModel(model.data());
  tfl::SubGraphT& graph = *m->subgraphs[0];
  graph.outputs = graph.operators.back()->inputs;
  graph.operators.pop_back();
  flatbuffers::FlatBufferBuilder builder;
  tfl::FinishModelBuffer(builder, tfl::Model::Pack(builder, m.get()));
  return {builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize()};
}

// The real PoseNet model, the test image as its input bytes, and Coral's reference poses.
class RealPoseNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TPUFLEET_REQUIRE_FILE(model_path_);
    TPUFLEET_REQUIRE_FILE(reference_path_);
    Result<ModelPtr> model = Model::FromFile(model_path_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = model.value();
    Result<std::vector<uint8_t>> pixels =
        ImageFileTensor((SharedDir() / "images" / "posenet_test_image.bmp").string(), *model_);
    ASSERT_TRUE(pixels.ok()) << pixels.status().ToString();
    pixels_ = pixels.value();
    reference_ = ReadReference(reference_path_);
    ASSERT_EQ(reference_.size(), 2u);
  }

  std::string model_path_ = SharedModel("posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite");
  std::string reference_path_ =
      SharedModel("posenet_mobilenet_v1_075_353_481_16_quant_decoder_reference.csv");
  ModelPtr model_;
  std::vector<uint8_t> pixels_;
  std::vector<ReferencePose> reference_;
};

TEST_F(RealPoseNetTest, DecodesTfLiteBackboneOutputsLikeCoral) {
  // TensorFlow Lite 2.9 runs the backbone; tpufleet's decoder decodes its outputs.
  std::vector<uint8_t> bytes = tpufleet::testing::ReadFileBytes(model_path_);
  Result<std::unique_ptr<tpufleet::testing::TfLiteReference>> backbone =
      tpufleet::testing::TfLiteReference::FromBuffer(WithoutDecoder(bytes));
  ASSERT_TRUE(backbone.ok()) << backbone.status().ToString();
  ASSERT_TRUE(backbone.value()->SetInput(0, pixels_).ok());
  ASSERT_TRUE(backbone.value()->Invoke().ok());

  const OperatorInfo& decoder = model_->operators().back();
  ASSERT_EQ(decoder.name, "PosenetDecoderOp");
  DecoderRun run;
  for (size_t i = 0; i < decoder.inputs.size(); ++i) {
    const TensorInfo& info = model_->tensors()[decoder.inputs[i]];
    TensorSpec spec{info.type, info.shape, info.quantization};
    std::vector<uint8_t> raw = backbone.value()->Output(i);
    ASSERT_EQ(info.type, DataType::kUInt8);
    for (uint8_t q : raw)
      spec.values.push_back(info.quantization.scales[0] *
                            (q - static_cast<float>(info.quantization.zero_points[0])));
    run.inputs.push_back(spec);
  }
  for (std::vector<int32_t> shape :
       std::vector<std::vector<int32_t>>{{1, 20, kKeypoints, 2}, {1, 20, kKeypoints}, {1, 20}, {1}})
    run.outputs.push_back(TensorSpec{DataType::kFloat32, shape});
  const tfl::Operator* op =
      FlatbufferOf(*model_).subgraphs()->Get(0)->operators()->Get(decoder.index);
  std::vector<uint8_t> options(op->custom_options()->begin(), op->custom_options()->end());
  Result<std::unique_ptr<Interpreter>> decoded = RunDecoder(run, options);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Interpreter& out = *decoded.value();
  PoseDifferences d =
      CompareWithReference({&out.output(0), &out.output(1), &out.output(2), &out.output(3)},
                           model_->input(0).shape[1], model_->input(0).shape[2], reference_);
  RecordProperty("max_keypoint_pixels", std::to_string(d.pixels));
}

TEST_F(RealPoseNetTest, MatchesCoralsReference) {
  Result<std::unique_ptr<Interpreter>> created = Interpreter::Create(model_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Interpreter& interpreter = *created.value();
  ASSERT_EQ(pixels_.size(), interpreter.input(0).byte_size());
  std::memcpy(interpreter.input(0).data, pixels_.data(), pixels_.size());
  ASSERT_TRUE(interpreter.Invoke().ok());
  PoseDifferences d =
      CompareWithReference({&interpreter.output(0), &interpreter.output(1), &interpreter.output(2),
                            &interpreter.output(3)},
                           interpreter.input(0).dim(1), interpreter.input(0).dim(2), reference_);
  RecordProperty("max_pose_score_difference", std::to_string(d.pose_score));
  RecordProperty("max_keypoint_score_difference", std::to_string(d.keypoint_score));
  RecordProperty("max_keypoint_pixels", std::to_string(d.pixels));
}

}  // namespace
}  // namespace tpufleet::cpu::testing
