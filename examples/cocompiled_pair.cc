// Two models co-compiled for one Edge TPU share its on-chip parameter memory: alternating
// between them reloads nothing. Added separately, each switch reloads the other's parameters.
// This program runs the same alternation both ways on one device.
//
//   cocompiled_pair MODEL_A MODEL_B IMAGE [COUNT [DEVICE]]
//
// MODEL_A and MODEL_B are uncompiled .tflite files; the fleet co-compiles them for the device
// (AddCoCompiled). Files edgetpu_compiler already co-compiled (a_cocompiled_with_b_edgetpu.tflite)
// are added with AddModel each: they share a caching token and behave as the first case. DEVICE
// defaults to the simulated Edge TPU sim:0.
#include <tpufleet/fleet.h>
#include <tpufleet/image.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

bool Fail(const tpufleet::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return false;
}

// Alternates `count` requests for each model on one device; prints reloads and device time.
bool Alternate(bool co_compiled, const std::vector<tpufleet::ModelPtr>& models,
               const std::string& image, int count, const std::string& device) {
  tpufleet::FleetOptions options;
  options.devices = {device};  // simulated devices are used only when named
  auto fleet = tpufleet::Fleet::Create(options);
  if (!fleet.ok()) return Fail(fleet.status());
  std::vector<int> ids;
  if (co_compiled) {
    auto added = (*fleet)->AddCoCompiled(models, {device});
    if (!added.ok()) return Fail(added.status());
    ids = added.value();
  } else {
    for (const tpufleet::ModelPtr& model : models) {
      auto added = (*fleet)->AddModel(model, {device});
      if (!added.ok()) return Fail(added.status());
      ids.push_back(added.value());
    }
  }
  std::vector<tpufleet::TensorList> inputs;
  for (const tpufleet::ModelPtr& model : models) {
    auto input = tpufleet::ImageFileTensor(image, *model);
    if (!input.ok()) return Fail(input.status());
    inputs.push_back({input.value()});
  }
  for (int i = 0; i < count; ++i) {
    for (size_t m = 0; m < ids.size(); ++m) {
      auto result = (*fleet)->Run(ids[m], inputs[m]);
      if (!result.ok()) return Fail(result.status());
    }
  }
  tpufleet::DeviceMetrics used = (*fleet)->Metrics().devices[0];
  std::printf("%-11s on %s: %llu requests, %llu parameter reloads, %.1f ms of device time\n",
              co_compiled ? "co-compiled" : "separate", used.device.c_str(),
              static_cast<unsigned long long>(used.requests),
              static_cast<unsigned long long>(used.reloads), 1e3 * used.busy_seconds);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::fprintf(stderr, "usage: %s MODEL_A MODEL_B IMAGE [COUNT [DEVICE]]\n", argv[0]);
    return 2;
  }
  std::vector<tpufleet::ModelPtr> models;
  for (const char* path : {argv[1], argv[2]}) {
    auto model = tpufleet::Model::FromFile(path);
    if (!model.ok()) {
      Fail(model.status());
      return 1;
    }
    models.push_back(model.value());
  }
  int count = argc > 4 ? std::max(1, std::atoi(argv[4])) : 10;
  std::string device = argc > 5 ? argv[5] : "sim:0";
  bool ok = Alternate(true, models, argv[3], count, device) &&
            Alternate(false, models, argv[3], count, device);
  return ok ? 0 : 1;
}
