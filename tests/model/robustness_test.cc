// Truncated and bit-flipped variants of every real model: each loads or fails
// with an error, and nothing crashes or reads out of bounds (the suite also
// runs under AddressSanitizer).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "support/shared_files.h"
#include "tpufleet/model.h"

namespace tpufleet {
namespace {

// Touches everything a loaded model exposes, so that a lie in verification
// shows up under ASan.
uint64_t Walk(const Model& model) {
  uint64_t sum = model.total_macs() + model.parameter_bytes();
  for (const TensorInfo& t : model.tensors()) {
    for (uint8_t b : model.constant_data(t.index)) sum += b;
  }
  for (const EdgeTpuPackage& p : model.edgetpu_packages())
    sum += p.cached_bytes() + p.streamed_bytes();
  for (const auto& [name, count] : model.op_histogram()) sum += name.size() + count;
  return sum;
}

// Loads `bytes`; returns the model, or null after checking the error names its
// source.
ModelPtr Try(std::vector<uint8_t> bytes, const std::string& label) {
  Result<ModelPtr> model = Model::FromBuffer(std::move(bytes), label);
  if (model.ok()) {
    Walk(*model.value());
    return model.value();
  }
  EXPECT_EQ(model.status().message().rfind(label + ": ", 0), 0u)
      << "error does not name the source: " << model.status().message();
  return nullptr;
}

std::vector<std::string> ModelsOrPlaceholder() {
  std::vector<std::string> models = testing::AllSharedModels();
  if (models.empty()) models.push_back(testing::SharedModel("mobilenet_v1_0.25_128_quant.tflite"));
  return models;
}

TEST(RealModelRobustness, TruncatedVariantsFailOrDescribeTheSameModel) {
  for (const std::string& path : ModelsOrPlaceholder()) {
    TPUFLEET_REQUIRE_FILE(path);
    SCOPED_TRACE(path);
    const std::vector<uint8_t> original = testing::ReadFileBytes(path);
    Result<ModelPtr> whole = Model::FromBuffer(original, "whole");
    std::vector<size_t> sizes = {0, 1, 4, 7, 8, 12, 16, 64};
    for (int i = 1; i < 48; ++i) sizes.push_back(original.size() * i / 48);
    sizes.push_back(original.size() - 1);
    for (size_t size : sizes) {
      ModelPtr cut =
          Try({original.begin(), original.begin() + size}, "truncated-" + std::to_string(size));
      // Files may end in bytes nothing refers to (padding, metadata the schema
      // does not read); a cut that keeps every referenced byte must describe
      // exactly the model the whole file does.
      if (cut && whole.ok()) {
        EXPECT_EQ(cut->op_histogram(), whole.value()->op_histogram()) << size;
        EXPECT_EQ(cut->parameter_bytes(), whole.value()->parameter_bytes()) << size;
      }
    }
  }
}

TEST(RealModelRobustness, BitFlippedVariantsLoadOrFailCleanly) {
  for (const std::string& path : ModelsOrPlaceholder()) {
    TPUFLEET_REQUIRE_FILE(path);
    SCOPED_TRACE(path);
    const std::vector<uint8_t> original = testing::ReadFileBytes(path);
    std::mt19937_64 random(0x5eed);
    constexpr size_t kHead = 4096;
    for (int trial = 0; trial < 120; ++trial) {
      std::vector<uint8_t> bytes = original;
      // Two thirds of the flips land in the first and last 4 KiB, where tables
      // and vtables live.
      size_t position;
      if (trial % 3 == 0) {
        position = random() % bytes.size();
      } else if (trial % 3 == 1) {
        position = random() % std::min(kHead, bytes.size());
      } else {
        position = bytes.size() - 1 - random() % std::min(kHead, bytes.size());
      }
      bytes[position] ^= static_cast<uint8_t>(1u << (random() % 8));
      Try(std::move(bytes), "flipped-" + std::to_string(position));
    }
  }
}

// A fuzzer's find: the int64 zero points of a quantized tensor placed 4 bytes off their alignment
// (flatbuffers' verifier checks only a vector's length field). They are read bytewise, with the
// values the file holds; the interpreter then refuses the out-of-range one (hostile_ops_test).
TEST(RobustnessTest, MisalignedZeroPointsAreReadAsTheFileHoldsThem) {
  Result<ModelPtr> model =
      Model::FromFile(std::string(TPUFLEET_FIXTURES_DIR) +
                      "/hostile/MisalignedZeroPointOutsideTheTypeIsRefused.tflite");
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_EQ((*model)->input(0).quantization.zero_points.size(), 1u);
  EXPECT_EQ((*model)->input(0).quantization.zero_points[0], -2147483647);
  EXPECT_EQ((*model)->output(0).quantization.zero_points[0], 3377751260135440);
}

}  // namespace
}  // namespace tpufleet
