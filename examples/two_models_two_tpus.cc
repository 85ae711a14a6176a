// Coral's two_models_inference example, on tpufleet: two models, each on its own Edge TPU, each
// run from its own thread, so neither waits for the other and neither reloads parameters.
//
//   two_models_two_tpus MODEL_A MODEL_B IMAGE [COUNT [DEVICE_A DEVICE_B]]
//
// Devices default to simulated Edge TPUs, sim:0 and sim:1; give usb:0 usb:1 (or pci:0 ...) for
// real ones. Prints, per model, the modeled (or measured) time per inference and the top class.
#include <tpufleet/image.h>
#include <tpufleet/interpreter.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

namespace {

struct Job {
  std::string model_path, device;
  int count = 0;
  std::string report;  // what happened, printed after both threads finish
  bool ok = false;
};

// Runs `job.count` inferences of the model on the image on the job's device.
void Run(Job& job, const std::string& image_path) {
  auto interpreter = tpufleet::MakeInterpreter(job.model_path, job.device);
  if (!interpreter.ok()) {
    job.report = interpreter.status().ToString();
    return;
  }
  const tpufleet::Model& model = (*interpreter)->model();
  auto input = tpufleet::ImageFileTensor(image_path, model);
  if (!input.ok()) {
    job.report = input.status().ToString();
    return;
  }
  double device_seconds = 0;
  tpufleet::InferenceResult last;
  for (int i = 0; i < job.count; ++i) {
    auto result = (*interpreter)->Invoke({input.value()});
    if (!result.ok()) {
      job.report = result.status().ToString();
      return;
    }
    device_seconds += result->device_seconds;
    last = std::move(result).value();
  }
  const std::vector<uint8_t>& scores = last.outputs[0];
  auto top = std::max_element(scores.begin(), scores.end());
  const tpufleet::Quantization& q = model.output(0).quantization;
  double score = q.empty() ? *top : q.scales[0] * (*top - q.zero_points[0]);
  char line[256];
  std::snprintf(line, sizeof line, "%s on %s: %d inferences, %.2f ms each, top class %td (%.2f)",
                std::filesystem::path(job.model_path).filename().c_str(), last.device.c_str(),
                job.count, 1e3 * device_seconds / job.count, top - scores.begin(), score);
  job.report = line;
  job.ok = true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5 && argc != 7) {
    std::fprintf(stderr, "usage: %s MODEL_A MODEL_B IMAGE [COUNT [DEVICE_A DEVICE_B]]\n", argv[0]);
    return 2;
  }
  int count = argc > 4 ? std::max(1, std::atoi(argv[4])) : 10;
  Job a{argv[1], argc == 7 ? argv[5] : "sim:0", count};
  Job b{argv[2], argc == 7 ? argv[6] : "sim:1", count};
  std::thread first([&] { Run(a, argv[3]); });
  std::thread second([&] { Run(b, argv[3]); });
  first.join();
  second.join();
  std::printf("%s\n%s\n", a.report.c_str(), b.report.c_str());
  return a.ok && b.ok ? 0 : 1;
}
