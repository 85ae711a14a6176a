// Pictures of task results over the image the model saw (an RGB Image of the result's image
// size): segmentation masks and overlays, detection boxes, pose skeletons.
#pragma once

#include "common/image.h"
#include "tpufleet/task.h"

namespace tpufleet::cli {

// The segmentation map at the image's size (nearest pixel), one grey byte per pixel holding
// its class id (clamped to 0..255): a mask that decodes back to the classes.
Image SegmentationMask(const TaskResult& result);
// `image` with every pixel tinted by its class's colour (ClassColor; background, class 0, left
// as it is).
Image SegmentationOverlay(const Image& image, const TaskResult& result);
// `image` with each object's box, or each pose's keypoints and the bones between them, drawn in
// its own colour. Keypoints scoring under 0.2 (the threshold Coral's pose examples draw with)
// are left out, with their bones.
Image DrawObjectsAndPoses(const Image& image, const TaskResult& result);

}  // namespace tpufleet::cli
