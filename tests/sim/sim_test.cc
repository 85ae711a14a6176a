// The simulator's compiler stand-in and timing model: Coral's published timings reproduced, the
// USB 2 penalty, the SRAM split and co-compiling, reloads, shared buses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/builder.h"
#include "model/zoo/zoo.h"
#include "sim/compiler.h"
#include "sim/published_timings.h"
#include "sim/timing.h"
#include "support/shared_files.h"
#include "support/zoo_models.h"

namespace tpufleet::sim {
namespace {

using ::testing::HasSubstr;
using tpufleet::testing::SharedModel;

constexpr uint64_t kSram = 8 * 1024 * 1024;

using testing::Zoo;

EdgeTpuProgram CompileOrDie(const Model& model, uint64_t sram = kSram) {
  Result<EdgeTpuProgram> program = Compile(model, sram);
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  return program.ok() ? program.value() : EdgeTpuProgram{};
}

double Milliseconds(const EdgeTpuProgram& p, Link link, bool reload = false, double share = 1.0) {
  DeviceConfig device;
  device.link = link;
  return EstimateInvocation(p, device, reload, share).total() * 1e3;
}

TEST(CalibrationTest, PublishedTimingsWithinFifteenPercent) {
  for (const PublishedTiming& row : PublishedTimings()) {
    SCOPED_TRACE(row.model + " on " + LinkName(row.link));
    double ms = Milliseconds(CompileOrDie(*Zoo(row.zoo)), row.link);
    EXPECT_NEAR(ms / row.milliseconds, 1.0, 0.15)
        << ms << " ms simulated, " << row.milliseconds << " published";
  }
}

TEST(CalibrationTest, Usb2CostsAbout4xOnSmallModelsAnd12xOnLargeOnes) {
  EdgeTpuProgram small = CompileOrDie(*Zoo("mobilenet_v1"));
  EdgeTpuProgram large = CompileOrDie(*Zoo("inception_v4"));
  double small_ratio = Milliseconds(small, Link::kUsb2) / Milliseconds(small, Link::kUsb3);
  double large_ratio = Milliseconds(large, Link::kUsb2) / Milliseconds(large, Link::kUsb3);
  EXPECT_GT(small_ratio, 3.0);  // published: 9.2 / 2.4 = 3.8
  EXPECT_LT(small_ratio, 5.0);
  EXPECT_GT(large_ratio, 10.0);  // published: 1060 / 85 = 12.5
  EXPECT_LT(large_ratio, 15.0);
}

TEST(CalibrationTest, StdClockHalvesComputeNotTransfers) {
  EdgeTpuProgram p = CompileOrDie(*Zoo("mobilenet_v1"));
  DeviceConfig max, std_clock;
  std_clock.clock = Clock::kStd;
  InvocationTime fast = EstimateInvocation(p, max, false);
  InvocationTime slow = EstimateInvocation(p, std_clock, false);
  EXPECT_DOUBLE_EQ(slow.compute, 2 * fast.compute);
  EXPECT_DOUBLE_EQ(slow.input, fast.input);
}

TEST(CompilerTest, LargeModelStreamsWhatTheSramCannotHold) {
  EdgeTpuProgram p = CompileOrDie(*Zoo("inception_v4"));
  EXPECT_EQ(p.cached_bytes, UsableSram(kSram));
  EXPECT_EQ(p.cached_bytes + p.streamed_bytes, p.parameter_bytes);
  EXPECT_GT(p.streamed_bytes, 30u << 20);
  EXPECT_EQ(p.cpu_operators, 0);
}

TEST(CompilerTest, CompiledSizesCloseToTheRealCompilersOutput) {
  // The real compiler's packages in shared/models: 566,912 and 3,900,864 cached bytes.
  for (auto [file, compiled] :
       {std::pair<std::string, uint64_t>{"mobilenet_v1_0.25_128_quant.tflite", 566912},
        {"mobilenet_v2_1.0_224_quant.tflite", 3900864}}) {
    std::string path = SharedModel(file);
    TPUFLEET_REQUIRE_FILE(path);
    EdgeTpuProgram p = CompileOrDie(*Model::FromFile(path).value());
    EXPECT_NEAR(static_cast<double>(p.parameter_bytes) / compiled, 1.0, 0.03) << file;
    EXPECT_EQ(p.streamed_bytes, 0u);
  }
}

TEST(CompilerTest, CompiledModelKeepsItsPackage) {
  std::string path = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  EdgeTpuProgram p = CompileOrDie(*Model::FromFile(path).value());
  EXPECT_TRUE(p.from_package);
  EXPECT_EQ(p.cached_bytes, 3900864u);
  EXPECT_EQ(p.caching_token, 0x36cf9cd04572c9d2ULL);
  EXPECT_EQ(p.estimated_cycles, 458040);
  DeviceConfig device;
  EXPECT_NEAR(EstimateInvocation(p, device, false).compute, 458040 / 500e6, 1e-9);
}

TEST(CompilerTest, DetectorPostProcessingStaysOnTheCpu) {
  EdgeTpuProgram p = CompileOrDie(*Zoo("ssd_mobilenet_v1"));
  EXPECT_EQ(p.cpu_operators, 1);
  EXPECT_THAT(p.first_cpu_operator, HasSubstr("TFLite_Detection_PostProcess"));
  std::vector<std::string> report = CompilerReport(p, 0);
  EXPECT_THAT(report[0], HasSubstr("On-chip memory used for caching model parameters: "));
  EXPECT_THAT(report[4], HasSubstr("Number of operations that will run on CPU: 1"));
}

TEST(CompilerTest, OperatorsMissingTheirWeightsCountNothing) {
  // A CONV_2D without a filter, a DEPTHWISE_CONV_2D whose filter is omitted (-1) and a
  // FULLY_CONNECTED whose weights are a scalar: the model verifies, the compiler must cope.
  ModelBuilder b;
  Quantization q{{0.5f}, {0}, 0};
  int in = b.AddTensor("in", DataType::kUInt8, {1, 2, 2, 1}, q);
  int a = b.AddTensor("a", DataType::kUInt8, {1, 2, 2, 1}, q);
  int c = b.AddTensor("c", DataType::kUInt8, {1, 2, 2, 1}, q);
  int scalar = b.AddConstant<uint8_t>("scalar", DataType::kUInt8, {}, {1}, q);
  int d = b.AddTensor("d", DataType::kUInt8, {1, 4}, q);
  b.AddOperator(tfl::BuiltinOperator::CONV_2D, {in}, {a});
  b.AddOperator(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, {a, -1}, {c});
  b.AddOperator(tfl::BuiltinOperator::FULLY_CONNECTED, {c, scalar}, {d});
  b.SetInputs({in});
  b.SetOutputs({d});
  Result<ModelPtr> model = Model::FromBuffer(b.Finish(), "weightless");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EdgeTpuProgram p = CompileOrDie(*model.value());
  EXPECT_EQ(p.tpu_operators, 3);
  EXPECT_EQ(p.parameter_bytes, 1u);  // the scalar's one byte, and no channels
}

TEST(CompilerTest, MacSumsOfAHostileModelSaturateInsteadOfWrapping) {
  // 5000 FULLY_CONNECTED operators of 2^52 MACs each (the most one operator counts): their sum
  // passes 2^64. The tensors have no data, so the model stays small.
  ModelBuilder b;
  Quantization q{{0.5f}, {0}, 0};
  int in = b.AddTensor("in", DataType::kUInt8, {4096, 1 << 19}, q);
  int weights = b.AddTensor("weights", DataType::kUInt8, {1 << 21, 1 << 19}, q);
  int out = b.AddTensor("out", DataType::kUInt8, {4096, 1 << 21}, q);
  for (int i = 0; i < 5000; ++i) {
    b.AddOperator(tfl::BuiltinOperator::FULLY_CONNECTED, {in, weights}, {out});
  }
  b.SetInputs({in});
  b.SetOutputs({out});
  Result<ModelPtr> model = Model::FromBuffer(b.Finish(), "huge");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model.value()->operators()[0].macs, kMaxOperatorMacs);
  EXPECT_EQ(model.value()->total_macs(), UINT64_MAX);
  EdgeTpuProgram p = CompileOrDie(*model.value());
  EXPECT_EQ(p.macs.fully_connected, UINT64_MAX);
  EXPECT_EQ(p.macs.total(), UINT64_MAX);
}

TEST(CompilerTest, FloatModelsAreRefused) {
  zoo::ZooOptions options;
  options.precision = zoo::Precision::kFloat32;
  Result<EdgeTpuProgram> p = Compile(*Zoo("mobilenet_v1", options), kSram);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("8-bit quantized models only"));
}

TEST(CompilerTest, CoCompilingSharesOneTokenAndSplitsSramInOrder) {
  zoo::ZooOptions a_options, b_options;
  a_options.width = 0.5;
  b_options.width = 0.75;
  EdgeTpuProgram a = CompileOrDie(*Zoo("mobilenet_v1", a_options));
  EdgeTpuProgram b = CompileOrDie(*Zoo("mobilenet_v1", b_options));
  EXPECT_NE(a.caching_token, b.caching_token);
  // 3 MiB of SRAM: the first model keeps all of its parameters, the second gets what is left.
  uint64_t sram = 3u << 20;
  std::vector<EdgeTpuProgram> together = CoCompile({a, b}, sram);
  EXPECT_EQ(together[0].caching_token, together[1].caching_token);
  EXPECT_EQ(together[0].cached_bytes, a.parameter_bytes);
  EXPECT_EQ(together[1].cached_bytes, UsableSram(sram) - a.parameter_bytes);
  EXPECT_EQ(together[1].streamed_bytes, b.parameter_bytes - together[1].cached_bytes);
  // Listed the other way round, the other model keeps everything.
  std::vector<EdgeTpuProgram> reversed = CoCompile({b, a}, sram);
  EXPECT_EQ(reversed[0].cached_bytes, b.parameter_bytes);
  EXPECT_LT(reversed[1].cached_bytes, a.parameter_bytes);
}

TEST(TimingTest, ReloadSendsTheCachedParametersAgain) {
  EdgeTpuProgram p = CompileOrDie(*Zoo("mobilenet_v2"));
  DeviceConfig device;
  InvocationTime steady = EstimateInvocation(p, device, false);
  InvocationTime switched = EstimateInvocation(p, device, true);
  EXPECT_EQ(steady.reload, 0);
  EXPECT_NEAR(switched.reload, p.cached_bytes / 420e6, 1e-9);
  EXPECT_NEAR(switched.total() - steady.total(), switched.reload, 1e-12);
}

TEST(TimingTest, SharingTheBusSlowsTransfersNotCompute) {
  EdgeTpuProgram p = CompileOrDie(*Zoo("inception_v4"));
  DeviceConfig device;
  InvocationTime alone = EstimateInvocation(p, device, false, 1.0);
  InvocationTime shared = EstimateInvocation(p, device, false, 0.5);
  EXPECT_DOUBLE_EQ(shared.streaming, 2 * alone.streaming);
  EXPECT_DOUBLE_EQ(shared.input, 2 * alone.input);
  EXPECT_DOUBLE_EQ(shared.compute, alone.compute);
}

TEST(TimingTest, LinkAndClockNamesParse) {
  EXPECT_EQ(ParseLink("usb2").value(), Link::kUsb2);
  EXPECT_EQ(ParseClock("std").value(), Clock::kStd);
  EXPECT_THAT(ParseLink("thunderbolt").status().message(), HasSubstr("use usb3, usb2 or pcie"));
  EXPECT_THAT(ParseClock("turbo").status().message(),
              HasSubstr("use std (250 MHz) or max (500 MHz)"));
}

}  // namespace
}  // namespace tpufleet::sim
