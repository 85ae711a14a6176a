// Paths to the real models, labels and images the tests use, and a clear skip
// when they are absent.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tpufleet::testing {

// The shared folder given at configure time (TPUFLEET_SHARED_DIR).
inline std::filesystem::path SharedDir() { return TPUFLEET_SHARED_DIR; }

inline std::string SharedModel(const std::string& file) {
  return (SharedDir() / "models" / file).string();
}

// Every .tflite in the shared models folder, sorted; empty when the folder is
// missing.
std::vector<std::string> AllSharedModels();

// The whole file at `path`; empty when it cannot be read.
std::vector<uint8_t> ReadFileBytes(const std::string& path);

}  // namespace tpufleet::testing

// Skips the test, naming the missing file and where it comes from, when `path`
// does not exist.
#define TPUFLEET_REQUIRE_FILE(path)                                          \
  do {                                                                       \
    if (!std::filesystem::exists(path)) {                                    \
      GTEST_SKIP() << "missing " << (path)                                   \
                   << ": the real models ship in the shared/ folder beside " \
                      "the project "                                         \
                      "checkout; configure with "                            \
                      "-DTPUFLEET_SHARED_DIR=<folder with models/>";         \
    }                                                                        \
  } while (0)
