// The zoo's MoveNet decodes its heads in the graph as its description says: run on the CPU
// backend, its output equals a direct implementation of that decoding over the same run's heads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "cpu/interpreter.h"
#include "model/zoo/zoo.h"
#include "tpufleet/model_editor.h"

namespace tpufleet::cpu {
namespace {

constexpr int kKeypoints = 17;

// Index of the largest of `count` values, the first of equal ones (as ARG_MAX).
template <typename Score>
int ArgMax(int count, Score score) {
  int best = 0;
  for (int i = 1; i < count; ++i) {
    if (score(i) > score(best)) best = i;
  }
  return best;
}

TEST(MoveNetDecodingTest, OutputIsTheDecodingOfItsHeads) {
  zoo::ZooOptions options;
  options.precision = zoo::Precision::kFloat32;
  options.resolution = 128;
  Result<std::vector<uint8_t>> bytes = zoo::BuildZooModel("movenet_lightning", options);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ModelPtr model = Model::FromBuffer(bytes.value(), "movenet").value();

  // The heads are the first four reshapes: the centre heatmap [1, cells], the regression
  // [G, G, 34], the keypoint heatmaps [G, G, 17] and their offsets [G, G, 17, 2].
  std::vector<int> outputs;
  for (const OperatorInfo& op : model->operators()) {
    if (op.name == "RESHAPE" && outputs.size() < 4) outputs.push_back(op.outputs[0]);
  }
  ASSERT_EQ(outputs.size(), 4u);
  outputs.push_back(model->output_indices()[0]);
  ModelEditor editor(*model);
  ASSERT_TRUE(editor.SetOutputs(outputs).ok());
  ModelPtr exposed = editor.Finish("movenet with its heads").value();
  std::unique_ptr<Interpreter> run = Interpreter::Create(exposed).value();
  Tensor& input = run->input(0);
  uint32_t state = 7;
  for (size_t e = 0; e < input.element_count(); ++e) {
    state = state * 1664525u + 1013904223u;
    input.as<float>()[e] = static_cast<float>(state >> 24);  // pixels in [0, 255]
  }
  ASSERT_TRUE(run->Invoke().ok());

  const int grid = 128 / 4, cells = grid * grid;
  const float* centre = run->output(0).as<float>();
  const float* regression = run->output(1).as<float>();
  const float* heatmaps = run->output(2).as<float>();
  const float* offsets = run->output(3).as<float>();
  const float* pose = run->output(4).as<float>();
  ASSERT_EQ(run->output(4).element_count(), static_cast<size_t>(kKeypoints * 3));

  const float middle = (grid - 1) / 2.0f;
  const int c = ArgMax(cells, [&](int i) {
    return centre[i] * (1 / (1 + std::hypot(i / grid - middle, i % grid - middle)));
  });
  const int cy = c / grid, cx = c % grid;
  for (int k = 0; k < kKeypoints; ++k) {
    SCOPED_TRACE(k);
    const float ry = cy + regression[c * 2 * kKeypoints + 2 * k];
    const float rx = cx + regression[c * 2 * kKeypoints + 2 * k + 1];
    const int at = ArgMax(cells, [&](int i) {
      float dy = i / grid - ry, dx = i % grid - rx;
      return heatmaps[i * kKeypoints + k] / (std::sqrt(dy * dy + dx * dx) + 1.8f);
    });
    const float* offset = offsets + (at * kKeypoints + k) * 2;
    EXPECT_NEAR(pose[k * 3], (at / grid + offset[0]) / grid, 1e-6);
    EXPECT_NEAR(pose[k * 3 + 1], (at % grid + offset[1]) / grid, 1e-6);
    EXPECT_FLOAT_EQ(pose[k * 3 + 2], heatmaps[at * kKeypoints + k]);
  }
}

}  // namespace
}  // namespace tpufleet::cpu
