// Writes the edgetpu-custom-op custom options of each given model to OUT_DIR/<n>.bin, as seeds
// for edgetpu_package_fuzzer. Usage: write_package_seeds OUT_DIR MODEL...
#include <fstream>
#include <iostream>
#include <string>

#include "model/edgetpu_package.h"
#include "model/model_internal.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: write_package_seeds OUT_DIR MODEL...\n";
    return 2;
  }
  int written = 0;
  for (int i = 2; i < argc; ++i) {
    tpufleet::Result<tpufleet::ModelPtr> model = tpufleet::Model::FromFile(argv[i]);
    if (!model.ok()) continue;
    const tpufleet::tfl::SubGraph& main =
        *tpufleet::FlatbufferOf(*model.value()).subgraphs()->Get(0);
    for (const tpufleet::EdgeTpuPackage& package : model.value()->edgetpu_packages()) {
      const auto* options = main.operators()->Get(package.operator_index)->custom_options();
      if (options == nullptr) continue;
      std::ofstream out(std::string(argv[1]) + "/" + std::to_string(written++) + ".bin",
                        std::ios::binary);
      out.write(reinterpret_cast<const char*>(options->data()), options->size());
    }
  }
  std::cout << "wrote " << written << " package seeds\n";
  return 0;
}
