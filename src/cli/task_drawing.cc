#include "cli/task_drawing.h"

#include <algorithm>

#include "common/drawing.h"

namespace tpufleet::cli {
namespace {

constexpr float kOverlayAlpha = 0.5f;
constexpr float kDrawnKeypointScore = 0.2f;

// The class of image pixel (x, y), the map stretched over the image as the model saw it.
int32_t ClassAtImagePixel(const TaskResult& result, int x, int y) {
  const SegmentationMap& map = result.segmentation;
  int mx = std::min(map.width - 1, static_cast<int>(static_cast<int64_t>(x) * map.width /
                                                    std::max(1, result.image_width)));
  int my = std::min(map.height - 1, static_cast<int>(static_cast<int64_t>(y) * map.height /
                                                     std::max(1, result.image_height)));
  return map.classes[static_cast<size_t>(my) * map.width + mx];
}

// Lines about 1/200 of the image's longer side, at least 2 pixels.
int DrawingLineWidth(const Image& image) {
  return std::max(2, std::max(image.width, image.height) / 200);
}

}  // namespace

Image SegmentationMask(const TaskResult& result) {
  Image mask;
  mask.width = result.image_width;
  mask.height = result.image_height;
  mask.channels = 1;
  mask.pixels.resize(static_cast<size_t>(mask.width) * mask.height);
  if (result.segmentation.classes.empty()) return mask;
  for (int y = 0; y < mask.height; ++y) {
    for (int x = 0; x < mask.width; ++x) {
      mask.pixels[static_cast<size_t>(y) * mask.width + x] =
          static_cast<uint8_t>(std::clamp(ClassAtImagePixel(result, x, y), 0, 255));
    }
  }
  return mask;
}

Image SegmentationOverlay(const Image& image, const TaskResult& result) {
  Image overlay = image;
  if (result.segmentation.classes.empty()) return overlay;
  for (int y = 0; y < overlay.height; ++y) {
    for (int x = 0; x < overlay.width; ++x) {
      int32_t id = ClassAtImagePixel(result, x, y);
      if (id != 0) BlendPixel(overlay, x, y, ClassColor(id), kOverlayAlpha);
    }
  }
  return overlay;
}

Image DrawObjectsAndPoses(const Image& image, const TaskResult& result) {
  Image drawn = image;
  const int width = DrawingLineWidth(image);
  for (const DetectedObject& o : result.objects) {
    DrawRectangle(drawn, o.box.xmin, o.box.ymin, o.box.xmax, o.box.ymax, ClassColor(o.id + 1),
                  width);
  }
  for (size_t p = 0; p < result.poses.size(); ++p) {
    const Pose& pose = result.poses[p];
    const Rgb color = ClassColor(static_cast<int>(p) + 1);
    if (pose.box) {
      DrawRectangle(drawn, pose.box->xmin, pose.box->ymin, pose.box->xmax, pose.box->ymax, color,
                    width);
    }
    auto shown = [&](int id) {
      return id >= 0 && id < static_cast<int>(pose.keypoints.size()) &&
             pose.keypoints[id].score >= kDrawnKeypointScore;
    };
    for (const auto& [from, to] : SkeletonEdges()) {
      if (!shown(from) || !shown(to)) continue;
      const Keypoint &a = pose.keypoints[from], &b = pose.keypoints[to];
      DrawLine(drawn, a.x, a.y, b.x, b.y, color, width);
    }
    for (const Keypoint& k : pose.keypoints) {
      if (k.score >= kDrawnKeypointScore) DrawDisc(drawn, k.x, k.y, 1.5f * width, {255, 255, 255});
    }
  }
  return drawn;
}

}  // namespace tpufleet::cli
