// The zoo's in-graph decodings are what their models' descriptions say: run in float32 on the
// CPU backend, each output equals a direct implementation of the published decoding over the
// same run's raw heads (MoveNet's keypoints, YOLOv5's boxes), and EfficientDet-Lite's anchors and
// box coder are AutoML's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "cpu/interpreter.h"
#include "model/zoo/zoo.h"
#include "tpufleet/model_editor.h"

namespace tpufleet::cpu {
namespace {

ModelPtr Float32Zoo(const std::string& name, int resolution, int classes = 0) {
  zoo::ZooOptions options;
  options.precision = zoo::Precision::kFloat32;
  options.resolution = resolution;
  options.classes = classes;
  Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel(name, options);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? Model::FromBuffer(bytes.value(), name).value() : nullptr;
}

// The first tensor of `shape` (-1 when there is none).
int TensorShaped(const Model& model, const std::vector<int32_t>& shape) {
  for (const TensorInfo& t : model.tensors()) {
    if (t.shape == shape) return t.index;
  }
  return -1;
}

// Runs `model` on pseudo-random pixels in [0, `high`) with `tensors` as its outputs, then the
// model's own.
std::unique_ptr<Interpreter> RunExposing(const Model& model, std::vector<int> tensors, float high) {
  for (int t : model.output_indices()) tensors.push_back(t);
  ModelEditor editor(model);
  EXPECT_TRUE(editor.SetOutputs(tensors).ok());
  std::unique_ptr<Interpreter> run =
      Interpreter::Create(editor.Finish(model.name() + " with its heads").value()).value();
  Tensor& input = run->input(0);
  uint32_t state = 7;
  for (size_t e = 0; e < input.element_count(); ++e) {
    state = state * 1664525u + 1013904223u;
    input.as<float>()[e] = static_cast<float>(state >> 8) / (1 << 24) * high;
  }
  EXPECT_TRUE(run->Invoke().ok());
  return run;
}

float Sigmoid(float x) { return 1 / (1 + std::exp(-x)); }

// Index of the largest of `count` values, the first of equal ones (as ARG_MAX).
template <typename Score>
int ArgMax(int count, Score score) {
  int best = 0;
  for (int i = 1; i < count; ++i) {
    if (score(i) > score(best)) best = i;
  }
  return best;
}

TEST(ZooDecodingTest, MoveNetOutputIsTheDecodingOfItsHeads) {
  constexpr int kKeypoints = 17, kGrid = 128 / 4, kCells = kGrid * kGrid;
  ModelPtr model = Float32Zoo("movenet_lightning", 128);
  ASSERT_TRUE(model);
  // The heads: the centre heatmap, the regression from it, the keypoint heatmaps and offsets.
  std::vector<int> heads = {TensorShaped(*model, {1, kCells}),
                            TensorShaped(*model, {kGrid, kGrid, 2 * kKeypoints}),
                            TensorShaped(*model, {kGrid, kGrid, kKeypoints}),
                            TensorShaped(*model, {kGrid, kGrid, kKeypoints, 2})};
  for (int head : heads) ASSERT_GE(head, 0);
  std::unique_ptr<Interpreter> run = RunExposing(*model, heads, 256);
  const float* centre = run->output(0).as<float>();
  const float* regression = run->output(1).as<float>();
  const float* heatmaps = run->output(2).as<float>();
  const float* offsets = run->output(3).as<float>();
  const float* pose = run->output(4).as<float>();
  ASSERT_EQ(run->output(4).element_count(), static_cast<size_t>(kKeypoints * 3));

  const float middle = (kGrid - 1) / 2.0f;
  const int c = ArgMax(kCells, [&](int i) {
    return centre[i] * (1 / (1 + std::hypot(i / kGrid - middle, i % kGrid - middle)));
  });
  const int cy = c / kGrid, cx = c % kGrid;
  for (int k = 0; k < kKeypoints; ++k) {
    SCOPED_TRACE(k);
    const float ry = cy + regression[c * 2 * kKeypoints + 2 * k];
    const float rx = cx + regression[c * 2 * kKeypoints + 2 * k + 1];
    const int at = ArgMax(kCells, [&](int i) {
      float dy = i / kGrid - ry, dx = i % kGrid - rx;
      return heatmaps[i * kKeypoints + k] / (std::sqrt(dy * dy + dx * dx) + 1.8f);
    });
    const float* offset = offsets + (at * kKeypoints + k) * 2;
    EXPECT_NEAR(pose[k * 3], (at / kGrid + offset[0]) / kGrid, 1e-6);
    EXPECT_NEAR(pose[k * 3 + 1], (at % kGrid + offset[1]) / kGrid, 1e-6);
    EXPECT_FLOAT_EQ(pose[k * 3 + 2], heatmaps[at * kKeypoints + k]);
  }
}

// Ultralytics' TFDetect: per level, cell (rows first) and anchor, the logistic s of the raw
// values; x, y = (2 s - 0.5 + cell) x stride, w, h = (2 s)^2 x anchor, over the input size; then
// the objectness and class scores.
TEST(ZooDecodingTest, YoloV5RowsAreUltralyticsDecodingOfItsRawHeads) {
  constexpr int kResolution = 128, kClasses = 2, kValues = 5 + kClasses;
  constexpr float kAnchors[3][3][2] = {{{10, 13}, {16, 30}, {33, 23}},
                                       {{30, 61}, {62, 45}, {59, 119}},
                                       {{116, 90}, {156, 198}, {373, 326}}};
  ModelPtr model = Float32Zoo("yolov5n", kResolution, kClasses);
  ASSERT_TRUE(model);
  std::vector<int> heads;
  for (int stride : {8, 16, 32}) {
    const int g = kResolution / stride;
    heads.push_back(TensorShaped(*model, {1, g, g, 3 * kValues}));
    ASSERT_GE(heads.back(), 0) << "no raw head at stride " << stride;
  }
  std::unique_ptr<Interpreter> run = RunExposing(*model, heads, 1);
  const float* rows = run->output(3).as<float>();
  size_t row = 0;
  for (int level = 0; level < 3; ++level) {
    const int stride = 8 << level, g = kResolution / stride;
    const float* raw = run->output(level).as<float>();
    for (int cell = 0; cell < g * g; ++cell) {
      for (int a = 0; a < 3; ++a, ++row) {
        SCOPED_TRACE(::testing::Message()
                     << "level " << level << " cell " << cell << " anchor " << a);
        auto s = [&](int j) { return Sigmoid(raw[(cell * 3 + a) * kValues + j]); };
        const float* r = rows + row * kValues;
        EXPECT_NEAR(r[0], (2 * s(0) - 0.5f + cell % g) * stride / kResolution, 1e-5);
        EXPECT_NEAR(r[1], (2 * s(1) - 0.5f + cell / g) * stride / kResolution, 1e-5);
        EXPECT_NEAR(r[2], std::pow(2 * s(2), 2) * kAnchors[level][a][0] / kResolution, 1e-5);
        EXPECT_NEAR(r[3], std::pow(2 * s(3), 2) * kAnchors[level][a][1] / kResolution, 1e-5);
        for (int j = 4; j < kValues; ++j) EXPECT_NEAR(r[j], s(j), 1e-6);
        if (HasFailure()) return;
      }
    }
  }
  EXPECT_EQ(row * kValues, run->output(3).element_count());
}

// AutoML's anchors, normalized: per level (P3 to P7), cell (rows first), octave scale 2^(o/3) and
// aspect ratio r in (1, 2, 1/2): centre (cell + 0.5) / grid, height and width 3 x 2^(o/3) cells
// over and times sqrt(r). Its box coder has no scale factors: each detection is an anchor's
// encoding decoded with y, x, h and w scales of 1, scored by its best class (no background).
TEST(ZooDecodingTest, EfficientDetLiteAnchorsAndBoxCoderAreAutoMls) {
  constexpr int kResolution = 128, kClasses = 2;
  ModelPtr model = Float32Zoo("efficientdet_lite0", kResolution, kClasses);
  ASSERT_TRUE(model);
  const OperatorInfo& post = model->operators().back();
  ASSERT_EQ(post.name, "TFLite_Detection_PostProcess");
  std::span<const uint8_t> anchor_bytes = model->constant_data(post.inputs[2]);
  std::vector<float> anchors(anchor_bytes.size() / sizeof(float));
  std::memcpy(anchors.data(), anchor_bytes.data(), anchor_bytes.size());
  size_t n = 0;
  for (int grid : {16, 8, 4, 2, 1}) {
    for (int cell = 0; cell < grid * grid; ++cell) {
      for (int octave = 0; octave < 3; ++octave) {
        for (float ratio : {1.0f, 2.0f, 0.5f}) {
          ASSERT_LT(n * 4, anchors.size());
          const float size = 3 * std::pow(2.0f, octave / 3.0f) / grid;
          const float* a = &anchors[n++ * 4];
          EXPECT_NEAR(a[0], (cell / grid + 0.5f) / grid, 1e-6) << n;
          EXPECT_NEAR(a[1], (cell % grid + 0.5f) / grid, 1e-6) << n;
          EXPECT_NEAR(a[2], size / std::sqrt(ratio), 1e-6) << n;
          EXPECT_NEAR(a[3], size * std::sqrt(ratio), 1e-6) << n;
        }
      }
    }
  }
  EXPECT_EQ(n * 4, anchors.size());

  std::unique_ptr<Interpreter> run = RunExposing(*model, {post.inputs[0], post.inputs[1]}, 1);
  const float* encodings = run->output(0).as<float>();
  const float* scores = run->output(1).as<float>();
  const float* boxes = run->output(2).as<float>();
  const float* classes = run->output(3).as<float>();
  const float* kept_scores = run->output(4).as<float>();
  const int count = static_cast<int>(run->output(5).as<float>()[0]);
  ASSERT_GT(count, 0);
  for (int d = 0; d < count; ++d) {
    bool decoded = false;  // some anchor of this score and class decodes to this box
    for (size_t i = 0; i < n && !decoded; ++i) {
      const float* s = scores + i * kClasses;
      const int best = s[1] > s[0] ? 1 : 0;
      if (s[best] != kept_scores[d] || best != static_cast<int>(classes[d])) continue;
      const float* a = &anchors[i * 4];
      const float* t = encodings + i * 4;
      const float yc = t[0] * a[2] + a[0], xc = t[1] * a[3] + a[1];
      const float h = std::exp(t[2]) * a[2], w = std::exp(t[3]) * a[3];
      const float* b = boxes + d * 4;
      decoded = std::abs(b[0] - (yc - h / 2)) < 1e-5 && std::abs(b[1] - (xc - w / 2)) < 1e-5 &&
                std::abs(b[2] - (yc + h / 2)) < 1e-5 && std::abs(b[3] - (xc + w / 2)) < 1e-5;
    }
    EXPECT_TRUE(decoded) << "detection " << d << " is no anchor's box decoded with scales of 1";
  }
}

}  // namespace
}  // namespace tpufleet::cpu
