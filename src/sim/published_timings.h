// Coral's published time per inference (ms, model execution only) that calibrate the simulator,
// with the zoo architecture that stands for each model.
#pragma once

#include <string>
#include <vector>

#include "sim/timing.h"

namespace tpufleet::sim {

struct PublishedTiming {
  std::string model;  // as Coral names it
  std::string zoo;    // `tpufleet zoo` architecture with its defaults
  Link link;          // host + USB 3 stick, Dev Board (PCIe), Raspberry Pi 3 (USB 2)
  double milliseconds;
};

inline const std::vector<PublishedTiming>& PublishedTimings() {
  static const std::vector<PublishedTiming> kRows = {
      {"MobileNet v1 1.0 224", "mobilenet_v1", Link::kUsb3, 2.4},
      {"MobileNet v1 1.0 224", "mobilenet_v1", Link::kPcie, 2.4},
      {"MobileNet v1 1.0 224", "mobilenet_v1", Link::kUsb2, 9.2},
      {"MobileNet v2 1.0 224", "mobilenet_v2", Link::kUsb3, 2.6},
      {"MobileNet v2 1.0 224", "mobilenet_v2", Link::kPcie, 2.6},
      {"MobileNet v2 1.0 224", "mobilenet_v2", Link::kUsb2, 10.8},
      {"Inception v4 299", "inception_v4", Link::kUsb3, 85},
      {"Inception v4 299", "inception_v4", Link::kPcie, 102},
      {"Inception v4 299", "inception_v4", Link::kUsb2, 1060},
      {"EfficientNet-EdgeTpu-S", "efficientnet_edgetpu_s", Link::kUsb3, 5.1},
      {"EfficientNet-EdgeTpu-S", "efficientnet_edgetpu_s", Link::kPcie, 5.5},
  };
  return kRows;
}

}  // namespace tpufleet::sim
