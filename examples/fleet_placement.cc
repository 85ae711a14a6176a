// A fleet places models itself: each on its own device while devices last (as Coral's old Edge
// TPU API did), then shared; images are decoded on the fleet's own threads; every request is
// answered, by another device if one fails.
//
//   fleet_placement IMAGE MODEL... [--devices DEV,DEV,...]
//
// Devices default to two simulated Edge TPUs, sim:0 and sim:1. Prints where each model went,
// its top class on the image, and what each device did.
#include <tpufleet/fleet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  tpufleet::FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  std::vector<std::string> models;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--devices") == 0 && i + 1 < argc) {
      options.devices.clear();
      std::stringstream list(argv[++i]);
      for (std::string device; std::getline(list, device, ',');) options.devices.push_back(device);
    } else {
      models.push_back(argv[i]);
    }
  }
  if (argc < 3 || models.empty()) {
    std::fprintf(stderr, "usage: %s IMAGE MODEL... [--devices DEV,DEV,...]\n", argv[0]);
    return 2;
  }
  auto fleet = tpufleet::Fleet::Create(options);
  if (!fleet.ok()) return std::fprintf(stderr, "%s\n", fleet.status().ToString().c_str()), 1;
  std::vector<std::future<tpufleet::Result<tpufleet::InferenceResult>>> answers;
  for (const std::string& path : models) {
    auto id = (*fleet)->AddModel(path);  // no device named: automatic placement
    if (!id.ok()) return std::fprintf(stderr, "%s\n", id.status().ToString().c_str()), 1;
    auto placed = (*fleet)->placement(id.value());
    std::printf("%s placed on %s\n", std::filesystem::path(path).filename().c_str(),
                placed.ok() ? placed->front().c_str() : placed.status().ToString().c_str());
    answers.push_back((*fleet)->SubmitImage(id.value(), argv[1]));
  }
  int failures = 0;
  for (size_t m = 0; m < models.size(); ++m) {
    auto answer = answers[m].get();
    std::string name = std::filesystem::path(models[m]).filename().string();
    if (!answer.ok()) {
      std::printf("%s: %s\n", name.c_str(), answer.status().ToString().c_str());
      ++failures;
      continue;
    }
    const std::vector<uint8_t>& scores = answer->outputs[0];
    auto top = std::max_element(scores.begin(), scores.end());
    std::printf("%s on %s: top class %td, %.2f ms on the device\n", name.c_str(),
                answer->device.c_str(), top - scores.begin(), 1e3 * answer->device_seconds);
  }
  for (const tpufleet::DeviceMetrics& d : (*fleet)->Metrics().devices) {
    std::printf("%s: %llu requests, %llu reloads\n", d.device.c_str(),
                static_cast<unsigned long long>(d.requests),
                static_cast<unsigned long long>(d.reloads));
  }
  return failures == 0 ? 0 : 1;
}
