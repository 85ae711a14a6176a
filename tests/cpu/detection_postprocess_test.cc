// TFLite_Detection_PostProcess: box decoding against anchors and both suppression modes.
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include "op_test_util.h"

namespace tpufleet::cpu::testing {
namespace {

std::vector<uint8_t> Options(bool regular, int max_detections) {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("max_detections", max_detections);
    b.Int("max_classes_per_detection", 1);
    b.Int("detections_per_class", 10);
    b.Bool("use_regular_nms", regular);
    b.Float("nms_score_threshold", 0.1f);
    b.Float("nms_iou_threshold", 0.5f);
    b.Int("num_classes", 2);
    b.Float("y_scale", 10.0f);
    b.Float("x_scale", 10.0f);
    b.Float("h_scale", 5.0f);
    b.Float("w_scale", 5.0f);
  });
  b.Finish();
  return b.GetBuffer();
}

// Three anchors: two overlapping ones at the top left, one at the bottom right.
// Zero encodings decode each box to its anchor. The class scores have a leading background
// column (SSDs) or none (EfficientDet-Lite).
std::unique_ptr<Interpreter> RunThreeAnchors(bool regular, int max_detections,
                                             bool background = true) {
  TensorSpec boxes{DataType::kFloat32, {1, 3, 4}, {}, std::vector<float>(12, 0.0f)};
  boxes.values[4 * 2 + 0] = 1.0f;  // anchor 2: ty = 1 moves the centre down by 0.1 * h
  TensorSpec scores{DataType::kFloat32,
                    {1, 3, 3},
                    {},
                    {0.0f, 0.9f, 0.2f,     // anchor 0: class 0 strong
                     0.0f, 0.8f, 0.7f,     // anchor 1: overlaps anchor 0
                     0.0f, 0.05f, 0.6f}};  // anchor 2: class 1
  if (!background) {
    scores.shape = {1, 3, 2};
    scores.values = {0.9f, 0.2f, 0.8f, 0.7f, 0.05f, 0.6f};
  }
  TensorSpec anchors{DataType::kFloat32,
                     {3, 4},
                     {},
                     {0.25f, 0.25f, 0.5f, 0.5f, 0.27f, 0.27f, 0.5f, 0.5f, 0.75f, 0.75f, 0.2f, 0.2f},
                     true};
  std::vector<TensorSpec> outputs = {{DataType::kFloat32, {}},
                                     {DataType::kFloat32, {}},
                                     {DataType::kFloat32, {}},
                                     {DataType::kFloat32, {}}};
  return RunSingleOp(tfl::BuiltinOperator::CUSTOM, {boxes, scores, anchors}, outputs, {},
                     "TFLite_Detection_PostProcess", Options(regular, max_detections));
}

TEST(DetectionPostProcessTest, FastNmsSuppressesOverlapsAcrossClasses) {
  auto r = RunThreeAnchors(false, 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->output(0).shape, (std::vector<int32_t>{1, 3, 4}));
  ASSERT_EQ(Decode(r->output(3))[0], 2.0f);
  ExpectNear(Decode(r->output(1)), {0, 1, 0},
             0);  // classes: anchor 0 (class 0), anchor 2 (class 1)
  ExpectNear(Decode(r->output(2)), {0.9f, 0.6f, 0}, 1e-6f);
  // Anchor 0 decodes to itself; anchor 2's centre moved down by 0.1 * 0.2.
  ExpectNear(Decode(r->output(0)), {0, 0, 0.5f, 0.5f, 0.67f, 0.65f, 0.87f, 0.85f, 0, 0, 0, 0},
             1e-6f);
}

TEST(DetectionPostProcessTest, ScoresWithoutABackgroundColumnReadAlike) {
  for (bool regular : {false, true}) {
    SCOPED_TRACE(regular ? "regular" : "fast");
    auto with = RunThreeAnchors(regular, 3, /*background=*/true);
    auto without = RunThreeAnchors(regular, 3, /*background=*/false);
    ASSERT_TRUE(with && without);
    for (int i = 0; i < 4; ++i) ExpectNear(Decode(without->output(i)), Decode(with->output(i)), 0);
  }
}

TEST(DetectionPostProcessTest, RegularNmsKeepsOverlapsOfOtherClasses) {
  auto r = RunThreeAnchors(true, 5);
  ASSERT_TRUE(r);
  ASSERT_EQ(Decode(r->output(3))[0], 3.0f);
  // Class 0: anchor 0 (0.9) suppresses anchor 1 (0.8). Class 1: anchor 1 (0.7) suppresses
  // anchor 0 (0.2), and anchor 2 (0.6) stays: anchor 1 is kept although it overlaps anchor 0,
  // which fast NMS would not allow.
  ExpectNear(Decode(r->output(2)), {0.9f, 0.7f, 0.6f, 0, 0}, 1e-6f);
  ExpectNear(Decode(r->output(1)), {0, 1, 1, 0, 0}, 0);
}

}  // namespace
}  // namespace tpufleet::cpu::testing
