// The human body as PoseNet, BodyPix and MoveNet see it: 17 keypoints in COCO's order (0 nose,
// 1 left eye, 2 right eye, 3 left ear, 4 right ear, 5 left shoulder, 6 right shoulder, 7 left
// elbow, 8 right elbow, 9 left wrist, 10 right wrist, 11 left hip, 12 right hip, 13 left knee,
// 14 right knee, 15 left ankle, 16 right ankle) joined by a tree of 16 edges.
#pragma once

#include <array>

namespace tpufleet::cpu {

constexpr int kBodyKeypoints = 17;
constexpr int kBodyEdges = 16;
// The edges (parent, child), outward from the nose, in PoseNet's order (its mid-offset
// channels are numbered by them).
constexpr std::array<std::array<int, 2>, kBodyEdges> kBodyForwardEdges = {{{0, 1},
                                                                           {1, 3},
                                                                           {0, 2},
                                                                           {2, 4},
                                                                           {0, 5},
                                                                           {5, 7},
                                                                           {7, 9},
                                                                           {5, 11},
                                                                           {11, 13},
                                                                           {13, 15},
                                                                           {0, 6},
                                                                           {6, 8},
                                                                           {8, 10},
                                                                           {6, 12},
                                                                           {12, 14},
                                                                           {14, 16}}};

}  // namespace tpufleet::cpu
