// MoveNet SinglePose Lightning and Thunder (Google 2021): MobileNet v2 features (width 1.0 at
// 192, 1.75 at 256) with the Object Detection API's CenterNet FPN to stride 4, four CenterNet
// heads (the person centre, each keypoint's displacement from it, keypoint heatmaps and their
// sub-cell offsets), and the decoding in the graph, in float32 after DEQUANTIZE as the converter
// writes it: the centre is the arg max of its heatmap weighted towards the frame's middle; each
// keypoint the arg max of its heatmap divided by the distance to where the centre's regression
// puts it, plus its offset there. One [1, 1, 17, 3] output of (y, x, score), y and x in [0, 1].
#include <cmath>

#include "model/zoo/architectures.h"
#include "model/zoo/post_processing.h"

namespace tpufleet::zoo {
namespace {

using Op = tfl::BuiltinOperator;

constexpr int kKeypoints = 17;
constexpr int kHeadFilters = 96;
// The distance a keypoint's heatmap is divided by starts here, so a peak at the regressed
// location is not infinitely preferred.
constexpr float kDistanceOffset = 1.8f;

// The FPN of the CenterNet MobileNet v2 extractor: from the last layer down to stride 4, each
// step upsamples by 2, adds a 1x1 projection of the backbone's map of that size and applies a
// separable 3x3 convolution with ReLU.
int FeaturePyramid(Network& net, int input, double width) {
  std::vector<MobileNetV2Block> blocks = MobileNetV2Blocks(net, input, width);
  int last = MobileNetV2LastLayer(net, blocks.back().output, width);
  constexpr int kFilters[] = {64, 32, 24};
  const int skips[] = {blocks[9].output, blocks[5].output, blocks[2].output};  // strides 16, 8, 4
  int x = net.Conv(last, kFilters[0], 1, 1, Activation::kNone);
  for (int i = 0; i < 3; ++i) {
    int residual = net.Conv(skips[i], kFilters[i], 1, 1, Activation::kNone);
    int sum = net.Add(net.ResizeNearest(x, 2), residual, Activation::kNone);
    x = net.SeparableConv(sum, i + 1 < 3 ? kFilters[i + 1] : kFilters[2], Activation::kRelu);
  }
  return x;
}

int Head(Network& net, int features, int outputs) {
  int x = net.SeparableConv(features, kHeadFilters, Activation::kRelu);
  return net.Conv(x, outputs, 1, 1, Activation::kNone);
}

// The (row, column) of the flat cell index `index` on a grid `columns` wide, as int32 tensors.
std::pair<int, int> RowAndColumn(PostProcessing& post, int index, int columns) {
  int width = post.IntConstant("grid_width", {1}, {columns});
  return {post.Binary(Op::FLOOR_DIV, index, width), post.Binary(Op::FLOOR_MOD, index, width)};
}

std::vector<uint8_t> BuildMoveNet(const ZooOptions& o, const char* variant, double width) {
  Network net(o.precision, o.seed);
  PostProcessing post(net);
  int input = net.Input("serving_default_input", o.resolution, o.resolution, 3, {0.0f, 255.0f});
  int features = FeaturePyramid(net, input, width);
  const int grid = net.shape(features)[1], cells = grid * grid;
  auto probabilities = [&](int logits, std::vector<int32_t> shape) {
    return net.Reshape(post.Dequantize(net.Logistic(logits)), std::move(shape));
  };
  int centre = probabilities(Head(net, features, 1), {1, cells});
  int regression = net.Reshape(post.Dequantize(Head(net, features, 2 * kKeypoints)),
                               {grid, grid, 2 * kKeypoints});
  int heatmaps = probabilities(Head(net, features, kKeypoints), {grid, grid, kKeypoints});
  int offsets = net.Reshape(post.Dequantize(Head(net, features, 2 * kKeypoints)),
                            {grid, grid, kKeypoints, 2});

  // The person centre: its heatmap weighted by 1 / (1 + the distance to the frame's middle).
  std::vector<float> prior(cells);
  const float middle = (grid - 1) / 2.0f;
  for (int y = 0; y < grid; ++y) {
    for (int x = 0; x < grid; ++x)
      prior[y * grid + x] = 1 / (1 + std::hypot(y - middle, x - middle));
  }
  int weighted =
      post.Binary(Op::MUL, centre, post.FloatConstant("centre_prior", {1, cells}, prior));
  auto [centre_y, centre_x] = RowAndColumn(post, post.ArgMax(weighted, -1), grid);

  // Where the centre's regression puts each keypoint, in cells.
  int displacement =
      net.Reshape(post.GatherNd(regression, post.Pack({centre_y, centre_x}, -1)), {kKeypoints, 2});
  std::vector<int> dy_dx = post.Unpack(displacement, -1);
  int regressed_y = post.Binary(Op::ADD, post.Cast(centre_y, DataType::kFloat32), dy_dx[0]);
  int regressed_x = post.Binary(Op::ADD, post.Cast(centre_x, DataType::kFloat32), dy_dx[1]);

  // Each keypoint's heatmap over the distance of every cell to its regressed location.
  std::vector<float> rows(grid);
  for (int i = 0; i < grid; ++i) rows[i] = static_cast<float>(i);
  int dy = post.Binary(Op::SUB, post.FloatConstant("rows", {grid, 1, 1}, rows), regressed_y);
  int dx = post.Binary(Op::SUB, post.FloatConstant("columns", {1, grid, 1}, rows), regressed_x);
  int dy_squared = post.Binary(Op::MUL, dy, dy);  // one statement each: argument order is free
  int dx_squared = post.Binary(Op::MUL, dx, dx);
  int distance = post.Sqrt(post.Binary(Op::ADD, dy_squared, dx_squared));
  int scores =
      post.Binary(Op::DIV, heatmaps,
                  post.Binary(Op::ADD, distance,
                              post.FloatConstant("distance_offset", {1}, {kDistanceOffset})));
  int best = post.ArgMax(net.Reshape(scores, {cells, kKeypoints}), 0);
  auto [keypoint_y, keypoint_x] = RowAndColumn(post, best, grid);
  std::vector<int32_t> keypoints(kKeypoints);
  for (int k = 0; k < kKeypoints; ++k) keypoints[k] = k;
  int at = post.Pack(
      {keypoint_y, keypoint_x, post.IntConstant("keypoints", {kKeypoints}, keypoints)}, -1);

  // Location: the cell plus its offset, over the grid; score: the heatmap there.
  std::vector<int> offset = post.Unpack(post.GatherNd(offsets, at), -1);
  int size = post.FloatConstant("grid_size", {1}, {static_cast<float>(grid)});
  auto normalized = [&](int cell, int cell_offset) {
    return post.Binary(
        Op::DIV, post.Binary(Op::ADD, post.Cast(cell, DataType::kFloat32), cell_offset), size);
  };
  int pose = post.Pack({normalized(keypoint_y, offset[0]), normalized(keypoint_x, offset[1]),
                        post.GatherNd(heatmaps, at)},
                       -1);
  return net.Finish(
      {net.Reshape(pose, {1, 1, kKeypoints, 3})},
      ZooDescription(std::string("MoveNet SinglePose ") + variant, width, false, o.resolution));
}

}  // namespace

std::vector<uint8_t> BuildMoveNetLightning(const ZooOptions& o) {
  return BuildMoveNet(o, "Lightning", 1.0);
}

std::vector<uint8_t> BuildMoveNetThunder(const ZooOptions& o) {
  return BuildMoveNet(o, "Thunder", 1.75);
}

}  // namespace tpufleet::zoo
