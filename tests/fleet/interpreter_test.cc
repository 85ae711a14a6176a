// The Coral-familiar entry points: MakeInterpreter on simulated devices and the CPU, and what it
// says when asked for an Edge TPU.
#include "tpufleet/interpreter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/image.h"
#include "fleet/fleet_test_util.h"
#include "support/shared_files.h"

namespace tpufleet {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::SharedDir;
using testing::SharedModel;

int TopClass(const std::vector<uint8_t>& scores) {
  return static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

TEST(InterpreterTest, SameAnswerOnASimulatedEdgeTpuAndOnTheCpu) {
  std::string compiled = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  std::string uncompiled = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(compiled);
  TPUFLEET_REQUIRE_FILE(uncompiled);
  Result<std::unique_ptr<Interpreter>> sim = MakeInterpreter(compiled, "sim:1");
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  Result<std::unique_ptr<Interpreter>> cpu = MakeInterpreter(uncompiled, "cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  EXPECT_EQ((*sim)->device().name, "sim:1");
  std::vector<uint8_t> pixels =
      ImageFileTensor((SharedDir() / "images" / "cat.bmp").string(), (*sim)->model()).value();
  Result<InferenceResult> on_sim = (*sim)->Invoke({pixels});
  Result<InferenceResult> on_cpu = (*cpu)->Invoke({pixels});
  ASSERT_TRUE(on_sim.ok() && on_cpu.ok());
  EXPECT_EQ(TopClass(on_sim->outputs[0]), 286);
  EXPECT_EQ(on_sim->outputs, on_cpu->outputs);
  EXPECT_GT(on_sim->device_seconds, 0);
}

TEST(InterpreterTest, ClearErrors) {
  std::string model = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(model);
  EXPECT_THAT(MakeInterpreter(model, "sim:9").status().message(), HasSubstr("sim:9"));
  EXPECT_THAT(MakeInterpreter(model, "gpu:0").status().message(), HasSubstr("gpu:0"));
  EXPECT_THAT(MakeInterpreter("/nonexistent.tflite", "cpu").status().message(),
              HasSubstr("/nonexistent.tflite"));
  // No Edge TPU on a machine without one (ListDevices reads the real /sys).
  if (ListDevices().devices.empty()) {
    Status none = MakeInterpreter(model, "usb:0").status();
    EXPECT_EQ(none.code(), StatusCode::kNotFound);
    EXPECT_THAT(none.message(), HasSubstr("there are 0 usb devices; devices found: sim:0"));
  }
  Result<std::unique_ptr<Interpreter>> cpu = MakeInterpreter(model, "cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_THAT((*cpu)->Invoke({{1, 2, 3}}).status().message(), HasSubstr("has 3 bytes"));
}

std::vector<uint8_t> Bytes(std::span<const uint8_t> span) {
  return std::vector<uint8_t>(span.begin(), span.end());
}

// The in-place tensors hold what the copying call returns, to the byte, on every device kind.
TEST(InterpreterTest, AListingWithoutTheRuntimeSaysSo) {
  setenv("TPUFLEET_EDGETPU_LIB", "/nonexistent/libedgetpu.so.1", 1);
  DeviceListing listing = ListDevices();
  unsetenv("TPUFLEET_EDGETPU_LIB");
  if (std::any_of(listing.devices.begin(), listing.devices.end(),
                  [](const DeviceInfo& d) { return d.seen_by_runtime; })) {
    GTEST_SKIP() << "this machine has libedgetpu installed";
  }
  EXPECT_FALSE(listing.complete());
  EXPECT_THAT(
      listing.problems,
      Contains(AllOf(HasSubstr("libedgetpu could not be loaded"),
                     HasSubstr("/nonexistent/libedgetpu.so.1"),
                     HasSubstr("none can be opened until the Edge TPU runtime is installed"))));
}

TEST(InterpreterTest, InPlaceTensorsAreByteIdenticalToTheCopyingCall) {
  std::string compiled = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  std::string uncompiled = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(compiled);
  TPUFLEET_REQUIRE_FILE(uncompiled);
  for (auto [path, device] : {std::pair{uncompiled, "cpu"}, std::pair{compiled, "sim:0"}}) {
    SCOPED_TRACE(device);
    std::unique_ptr<Interpreter> interpreter = MakeInterpreter(path, device).value();
    std::vector<uint8_t> pixels =
        ImageFileTensor((SharedDir() / "images" / "cat.bmp").string(), interpreter->model())
            .value();
    Result<InferenceResult> copied = interpreter->Invoke({pixels});
    ASSERT_TRUE(copied.ok()) << copied.status().ToString();
    EXPECT_EQ(Bytes(interpreter->input(0).bytes()), pixels);  // the copy went in place
    std::memset(interpreter->input(0).data<uint8_t>(), 0, interpreter->input(0).byte_size());
    ASSERT_TRUE(interpreter->Invoke().ok());
    EXPECT_NE(Bytes(interpreter->output(0).bytes()), copied->outputs[0]);
    Tensor& input = interpreter->input(0);
    EXPECT_EQ(input.data<float>(), nullptr);  // not its element type
    std::copy(pixels.begin(), pixels.end(), input.data<uint8_t>());
    ASSERT_TRUE(interpreter->Invoke().ok());
    const Tensor& scores = interpreter->output(0);
    ASSERT_EQ(scores.type(), DataType::kUInt8);
    EXPECT_EQ(std::vector<uint8_t>(scores.data<uint8_t>(),
                                   scores.data<uint8_t>() + scores.element_count()),
              copied->outputs[0]);
    EXPECT_EQ(TopClass(copied->outputs[0]), 286);
    // Dequantized as TFLite's details say: scale * (q - zero_point).
    std::vector<float> real = scores.Dequantize().value();
    const Quantization& q = scores.quantization();
    ASSERT_EQ(q.scales.size(), 1u);
    EXPECT_FLOAT_EQ(real[286], q.scales[0] * (copied->outputs[0][286] - q.zero_points[0]));
  }
}

TEST(InterpreterTest, TensorsByNameFromAPathBytesOrAModel) {
  std::string path = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  std::vector<uint8_t> bytes = testing::ReadFileBytes(path);
  ModelPtr model = Model::FromFile(path).value();
  std::unique_ptr<Interpreter> from_bytes = MakeInterpreter(bytes, "cpu").value();
  std::unique_ptr<Interpreter> from_model = MakeInterpreter(model, "cpu").value();
  DevicePtr cpu = OpenDevice("cpu").value();
  std::unique_ptr<Interpreter> on_handle = MakeInterpreter(path, cpu).value();
  EXPECT_EQ(on_handle->device_handle(), cpu);
  EXPECT_EQ(from_bytes->model().bytes().size(), model->bytes().size());
  const std::string& input_name = model->input(0).name;
  Result<Tensor*> input = from_model->FindInput(input_name);
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  EXPECT_EQ(*input, &from_model->input(0));
  EXPECT_EQ((*input)->shape(), std::vector<int32_t>({1, 128, 128, 3}));
  Status missing = from_model->FindOutput("logits").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("has no output named 'logits'; its outputs are '" +
                                           model->output(0).name + "'"));
  EXPECT_EQ(from_model->FindOutput(model->output(0).name).value(), &from_model->output(0));
  EXPECT_THAT(MakeInterpreter(std::vector<uint8_t>{1, 2, 3}, "cpu").status().message(),
              HasSubstr("<memory>"));
  EXPECT_THAT(MakeInterpreter(ModelPtr(), "cpu").status().message(), HasSubstr("no model given"));
}

TEST(InterpreterTest, PerOperatorProfilesOnTheCpu) {
  std::string path = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  std::unique_ptr<Interpreter> cpu = MakeInterpreter(path, "cpu").value();
  OperatorProfile profile;
  ASSERT_TRUE(cpu->Invoke(profile).ok());
  EXPECT_EQ(profile.operators.size(), cpu->model().operators().size());
  EXPECT_EQ(profile.operators[0].op, "CONV_2D");
  EXPECT_GT(profile.total_seconds, 0);
  std::unique_ptr<Interpreter> sim = MakeInterpreter(path, "sim:0").value();
  Status unprofiled = sim->Invoke(profile);
  EXPECT_EQ(unprofiled.code(), StatusCode::kUnimplemented);
  EXPECT_THAT(unprofiled.message(), HasSubstr("per-operator profiles come from the CPU device"));
}

// Two models on one simulated device from two threads: they take turns on it, each gets its own
// answers (those the CPU gives).
TEST(InterpreterTest, TwoInterpretersOnOneHandleFromTwoThreads) {
  std::string small = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  std::string large = SharedModel("mobilenet_v1_0.5_160_quant.tflite");
  TPUFLEET_REQUIRE_FILE(small);
  TPUFLEET_REQUIRE_FILE(large);
  DevicePtr device = OpenDevice("sim:1").value();
  std::unique_ptr<Interpreter> first = MakeInterpreter(small, device).value();
  std::unique_ptr<Interpreter> second = MakeInterpreter(large, device).value();
  EXPECT_EQ(first->device_handle(), second->device_handle());
  EXPECT_NE(OpenDevice("sim:1").value(), device);  // simulated devices are new on each open
  std::string cat = (SharedDir() / "images" / "cat.bmp").string();
  std::vector<uint8_t> pixels_a = ImageFileTensor(cat, first->model()).value();
  std::vector<uint8_t> pixels_b = ImageFileTensor(cat, second->model()).value();
  TensorList want_a = MakeInterpreter(small, "cpu").value()->Invoke({pixels_a}).value().outputs;
  TensorList want_b = MakeInterpreter(large, "cpu").value()->Invoke({pixels_b}).value().outputs;
  EXPECT_EQ(testing::MismatchesFromThreads(
                {{first.get(), pixels_a, want_a[0]}, {second.get(), pixels_b, want_b[0]}}, 10),
            std::vector<int>({0, 0}));
}

// Per-channel quantization along axis 0 of a [2, 3] int8 tensor: channel 0 has scale 0.5 and
// zero point 1, channel 1 scale 0.25 and zero point -2.
TensorInfo PerChannelInfo() {
  TensorInfo info;
  info.name = "weights";
  info.type = DataType::kInt8;
  info.shape = {2, 3};
  info.quantization.scales = {0.5f, 0.25f};
  info.quantization.zero_points = {1, -2};
  info.quantization.axis = 0;
  info.element_count = 6;
  info.byte_size = 6;
  return info;
}

TEST(TensorTest, DequantizesPerChannel) {
  TensorInfo info = PerChannelInfo();
  std::vector<int8_t> q = {1, 3, -1, -2, 2, 126};
  Tensor tensor(info, {reinterpret_cast<uint8_t*>(q.data()), q.size()});
  EXPECT_EQ(tensor.Dequantize().value(),
            std::vector<float>({0.0f, 1.0f, -1.0f, 0.0f, 1.0f, 32.0f}));
  // Along axis 1 of the same bytes seen as [3, 2]: the channel alternates element by element.
  info.shape = {3, 2};
  info.quantization.axis = 1;
  EXPECT_EQ(tensor.Dequantize().value(),
            std::vector<float>({0.0f, 1.25f, -1.0f, 0.0f, 0.5f, 32.0f}));
}

TEST(TensorTest, QuantizesPerChannelRoundingAndClamping) {
  TensorInfo info = PerChannelInfo();
  std::vector<int8_t> q(6);
  Tensor tensor(info, {reinterpret_cast<uint8_t*>(q.data()), q.size()});
  std::vector<float> real = {0.0f, 1.2f, -1000.0f, 0.0f, 0.3f, 1000.0f};
  ASSERT_TRUE(tensor.Quantize(real).ok());
  EXPECT_EQ(q, std::vector<int8_t>({1, 3, -128, -2, -1, 127}));
  // Quantizing what dequantizing gave returns the same bytes.
  std::vector<int8_t> before = q;
  ASSERT_TRUE(tensor.Quantize(tensor.Dequantize().value()).ok());
  EXPECT_EQ(q, before);
  EXPECT_THAT(tensor.Quantize(std::vector<float>(5)).message(),
              HasSubstr("tensor 'weights' has 6 elements; 5 values given"));
  info.quantization = {};
  info.type = DataType::kInt8;
  EXPECT_THAT(tensor.Quantize(real).message(), HasSubstr("without quantization"));
  EXPECT_EQ(tensor.Dequantize().value()[2], -128.0f);
  info.type = DataType::kString;
  EXPECT_THAT(tensor.Dequantize().status().message(), HasSubstr("holds no numbers"));
}

}  // namespace
}  // namespace tpufleet