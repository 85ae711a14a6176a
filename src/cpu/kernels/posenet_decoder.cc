// Coral's custom PosenetDecoderOp (PoseNet's multi-pose decoder), as libcoral computes it:
// keypoint candidates are local maxima of the heatmap logits, refined by the short offsets;
// poses grow from the strongest candidates along the 16-edge body tree by the mid offsets (then
// five short-offset refinements per keypoint), are scored by their mean keypoint sigmoid,
// thinned by a per-keypoint soft NMS, and written best first.
//
// Inputs (NHWC, batch 1, uint8 or float32, one H x W grid): heatmap logits [1, H, W, 17], short
// offsets [1, H, W, 34] (dy for keypoint k in channel k, dx in 17 + k) and mid offsets
// [1, H, W, 64] (forward edge e: dy e, dx 16 + e; backward: 32 + e, 48 + e), offsets in input
// pixels. Outputs (float32, shapes set here): keypoints [1, D, 17, 2] as (y, x) in input pixels,
// keypoint scores [1, D, 17], pose scores [1, D], and the pose count [1]. Rows from the pose count
// on are zero. Options (a FlexBuffer map): max_detections D, score_threshold, stride, nms_radius.
// BodyPix's variant (a fourth input, long offsets, and a fifth output, instance masks) is refused.
#include <flatbuffers/flexbuffers.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <queue>

#include "cpu/kernels/body_tree.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"

namespace tpufleet::cpu {
namespace {

constexpr int kKeypoints = kBodyKeypoints;
constexpr int kEdges = kBodyEdges;
// The backward edge e is forward edge e reversed.
constexpr const auto& kForwardEdges = kBodyForwardEdges;
constexpr int kRefinements = 5;

struct Point {
  float y = -1, x = -1;
};

float SquaredDistance(const Point& a, const Point& b) {
  return (a.y - b.y) * (a.y - b.y) + (a.x - b.x) * (a.x - b.x);
}

// A dequantized H x W x C map, in grid units for offsets.
struct Grid {
  int height = 0, width = 0, channels = 0;
  std::vector<float> values;

  float at(int y, int x, int c) const {
    return values[(static_cast<size_t>(y) * width + x) * channels + c];
  }
  // p moved inside the grid; a NaN coordinate (from hostile float inputs) becomes 0.
  Point Clamp(Point p) const { return {Inside(p.y, height), Inside(p.x, width)}; }
  static float Inside(float v, int size) {
    return std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, static_cast<float>(size - 1));
  }
  // Channel c sampled bilinearly at p (inside the grid) from its floor and ceiling neighbours.
  float Sample(int c, Point p) const {
    int y0 = static_cast<int>(std::floor(p.y)), x0 = static_cast<int>(std::floor(p.x));
    int y1 = static_cast<int>(std::ceil(p.y)), x1 = static_cast<int>(std::ceil(p.x));
    float dy = p.y - y0, dx = p.x - x0;
    return (1 - dy) * ((1 - dx) * at(y0, x0, c) + dx * at(y0, x1, c)) +
           dy * ((1 - dx) * at(y1, x0, c) + dx * at(y1, x1, c));
  }
  // Channels (cy, cx) sampled at p, as a displacement.
  Point Displacement(int cy, int cx, Point p) const { return {Sample(cy, p), Sample(cx, p)}; }
};

struct Candidate {
  float logit;
  int keypoint;
  Point position;
  bool operator<(const Candidate& other) const { return logit < other.logit; }
};

struct Pose {
  std::array<Point, kKeypoints> keypoints;
  std::array<float, kKeypoints> scores;  // sigmoid
  float score = 0;
};

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

class PosenetDecoderKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    if (c.inputs.size() == 4 || c.outputs.size() == 5)
      return c.Unsupported("BodyPix's variant (long offsets and instance masks)");
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 3, 4));
    TPUFLEET_RETURN_IF_ERROR(ReadOptions(c));
    const std::array<int, 3> channels = {kKeypoints, 2 * kKeypoints, 4 * kEdges};
    const std::array<const char*, 3> names = {"heatmaps", "short offsets", "mid offsets"};
    const Tensor& heat = c.input(0);
    for (int i = 0; i < 3; ++i) {
      const Tensor& t = c.input(i);
      if (t.type != DataType::kUInt8 && t.type != DataType::kFloat32) {
        return c.Unsupported(
            fmt::format("{} {} (they must be uint8 or float32)", names[i], Describe(t)));
      }
      if (t.type == DataType::kUInt8) TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(t));
      if (t.rank() != 4 || t.dim(0) != 1 || t.dim(3) != channels[i] || heat.rank() != 4 ||
          t.dim(1) != heat.dim(1) || t.dim(2) != heat.dim(2) || t.dim(1) < 1 || t.dim(2) < 1) {
        return c.Invalid(fmt::format("{} {} should be [1, H, W, {}] with the heatmaps' H and W",
                                     names[i], Describe(t), channels[i]));
      }
    }
    int d = max_detections_;
    std::array<std::vector<int32_t>, 4> shapes = {
        {{1, d, kKeypoints, 2}, {1, d, kKeypoints}, {1, d}, {1}}};
    for (int i = 0; i < 4; ++i) {
      if (c.output(i).type != DataType::kFloat32)
        return c.Invalid(
            fmt::format("output {} is {}; it must be float32", i, Describe(c.output(i))));
      c.output(i).shape = shapes[i];
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    Dequantize(c.input(0), 1.0f, heat_);
    Dequantize(c.input(1), 1.0f / stride_, short_);
    Dequantize(c.input(2), 1.0f / stride_, mid_);
    std::vector<Pose> poses = DecodePoses();
    SoftNms(poses);
    Write(poses, c);
    return OkStatus();
  }

 private:
  Status ReadOptions(const OpContext& c) {
    const auto* raw = c.op->custom_options();
    if (raw == nullptr || !flexbuffers::VerifyBuffer(raw->data(), raw->size()))
      return c.Invalid("custom options are missing or not a FlexBuffer");
    flexbuffers::Reference root = flexbuffers::GetRoot(raw->data(), raw->size());
    if (!root.IsMap()) return c.Invalid("custom options are not a FlexBuffer map");
    flexbuffers::Map m = root.AsMap();
    // As libcoral reads them: a missing key reads as 0.
    max_detections_ = m["max_detections"].AsInt32();
    score_threshold_ = m["score_threshold"].AsFloat();
    stride_ = m["stride"].AsInt32();
    float radius = m["nms_radius"].AsFloat();
    if (max_detections_ < 1 || max_detections_ > 10000)
      return c.Invalid(fmt::format("max_detections {} must lie in [1, 10000]", max_detections_));
    if (stride_ < 1) return c.Invalid(fmt::format("stride {} must be positive", stride_));
    if (!(score_threshold_ >= 0 && score_threshold_ < 1))
      return c.Invalid(fmt::format("score_threshold {} must lie in [0, 1)", score_threshold_));
    if (!(radius >= 0) || !std::isfinite(radius))
      return c.Invalid(fmt::format("nms_radius {} must be a non-negative number", radius));
    squared_radius_ = (radius / stride_) * (radius / stride_);
    threshold_logit_ = -std::log(1.0f / (score_threshold_ + 1e-6f) - 1.0f);
    return OkStatus();
  }

  static void Dequantize(const Tensor& t, float factor, Grid& grid) {
    grid.height = t.dim(1);
    grid.width = t.dim(2);
    grid.channels = t.dim(3);
    grid.values.resize(t.element_count());
    if (t.type == DataType::kFloat32) {
      for (size_t i = 0; i < grid.values.size(); ++i) grid.values[i] = t.as<float>()[i] * factor;
      return;
    }
    float scale = t.scale() * factor;
    int32_t zero = t.zero_point();
    for (size_t i = 0; i < grid.values.size(); ++i)
      grid.values[i] = scale * static_cast<float>(t.as<uint8_t>()[i] - zero);
  }

  // Heatmap cells at or above the threshold that no 3x3 neighbour exceeds, strongest on top.
  std::priority_queue<Candidate> Candidates() const {
    std::priority_queue<Candidate> queue;
    for (int y = 0; y < heat_.height; ++y)
      for (int x = 0; x < heat_.width; ++x)
        for (int k = 0; k < kKeypoints; ++k) {
          float v = heat_.at(y, x, k);
          if (!(v >= threshold_logit_)) continue;  // NaN logits are no candidates
          bool is_max = true;
          for (int ny = std::max(y - 1, 0); is_max && ny <= std::min(y + 1, heat_.height - 1); ++ny)
            for (int nx = std::max(x - 1, 0); nx <= std::min(x + 1, heat_.width - 1); ++nx)
              if (heat_.at(ny, nx, k) > v) is_max = false;
          if (!is_max) continue;
          Point p = {y + short_.at(y, x, k), x + short_.at(y, x, kKeypoints + k)};
          queue.push({v, k, short_.Clamp(p)});
        }
    return queue;
  }

  // The pose grown from `root` along the body tree; keypoint scores are still logits.
  Pose Grow(const Candidate& root) const {
    Pose pose;
    pose.scores.fill(-1e5f);
    pose.keypoints[root.keypoint] = root.position;
    pose.scores[root.keypoint] = heat_.Sample(root.keypoint, root.position);
    std::array<bool, kKeypoints> done{};
    done[root.keypoint] = true;
    std::vector<int> frontier = {root.keypoint};
    while (!frontier.empty()) {
      int parent = frontier.back();
      frontier.pop_back();
      for (int e = 0; e < kEdges; ++e) {
        for (bool forward : {true, false}) {
          int from = kForwardEdges[e][forward ? 0 : 1], to = kForwardEdges[e][forward ? 1 : 0];
          if (from != parent || done[to]) continue;
          Point a = pose.keypoints[parent];
          int cy = forward ? e : 2 * kEdges + e;
          Point step = mid_.Displacement(cy, cy + kEdges, a);
          Point q = mid_.Clamp({a.y + step.y, a.x + step.x});
          for (int r = 0; r < kRefinements; ++r) {
            Point s = short_.Displacement(to, kKeypoints + to, q);
            q = short_.Clamp({q.y + s.y, q.x + s.x});
          }
          pose.keypoints[to] = q;
          pose.scores[to] = heat_.Sample(to, q);
          done[to] = true;
          frontier.push_back(to);
        }
      }
    }
    return pose;
  }

  std::vector<Pose> DecodePoses() const {
    std::priority_queue<Candidate> queue = Candidates();
    std::vector<Pose> poses;
    while (!queue.empty() && static_cast<int>(poses.size()) < max_detections_) {
      Candidate root = queue.top();
      queue.pop();
      bool near = std::any_of(poses.begin(), poses.end(), [&](const Pose& p) {
        return SquaredDistance(p.keypoints[root.keypoint], root.position) <= squared_radius_;
      });
      if (near) continue;
      Pose pose = Grow(root);
      float total = 0;
      for (float& s : pose.scores) total += (s = Sigmoid(s));
      pose.score = total / kKeypoints;
      if (pose.score >= score_threshold_) poses.push_back(pose);
    }
    return poses;
  }

  // Ranks poses by score and rescores each from the keypoints no better pose has within the
  // radius, then sorts by the new scores.
  void SoftNms(std::vector<Pose>& poses) const {
    std::stable_sort(poses.begin(), poses.end(),
                     [](const Pose& a, const Pose& b) { return a.score > b.score; });
    std::vector<float> rescored(poses.size());
    for (size_t i = 0; i < poses.size(); ++i) {
      float total = 0;
      for (int k = 0; k < kKeypoints; ++k) {
        bool suppressed = false;
        for (size_t j = 0; j < i && !suppressed; ++j)
          suppressed =
              SquaredDistance(poses[j].keypoints[k], poses[i].keypoints[k]) <= squared_radius_;
        if (!suppressed) total += poses[i].scores[k];
      }
      rescored[i] = total / kKeypoints;
    }
    for (size_t i = 0; i < poses.size(); ++i) poses[i].score = rescored[i];
    std::stable_sort(poses.begin(), poses.end(),
                     [](const Pose& a, const Pose& b) { return a.score > b.score; });
  }

  void Write(const std::vector<Pose>& poses, OpContext& c) const {
    float* keypoints = c.output(0).as<float>();
    float* keypoint_scores = c.output(1).as<float>();
    float* pose_scores = c.output(2).as<float>();
    for (int i = 0; i < 3; ++i) std::memset(c.output(i).data, 0, c.output(i).byte_size());
    int written = 0;
    for (const Pose& pose : poses) {
      if (pose.score < score_threshold_) break;
      for (int k = 0; k < kKeypoints; ++k) {
        const size_t slot = static_cast<size_t>(written) * kKeypoints + k;
        keypoints[slot * 2] = pose.keypoints[k].y * stride_;
        keypoints[slot * 2 + 1] = pose.keypoints[k].x * stride_;
        keypoint_scores[slot] = pose.scores[k];
      }
      pose_scores[written++] = pose.score;
    }
    c.output(3).as<float>()[0] = static_cast<float>(written);
  }

  int max_detections_ = 0, stride_ = 0;
  float score_threshold_ = 0, squared_radius_ = 0, threshold_logit_ = 0;
  Grid heat_, short_, mid_;
};

}  // namespace

std::unique_ptr<Kernel> MakePosenetDecoder() { return std::make_unique<PosenetDecoderKernel>(); }

}  // namespace tpufleet::cpu
