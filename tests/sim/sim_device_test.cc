// Simulated Edge TPUs: the parameter cache across model switches, real outputs, both clocks,
// shared buses, fault injection and topology files.
#include "sim/sim_device.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "backends/cpu_device.h"
#include "common/image.h"
#include "devices/selector.h"
#include "model/zoo/zoo.h"
#include "sim/topology.h"
#include "support/shared_files.h"
#include "support/zoo_models.h"

namespace tpufleet::sim {
namespace {

using backends::Program;
using backends::RunResult;
using backends::TensorBytes;
using ::testing::HasSubstr;
using tpufleet::testing::SharedModel;

using testing::Zoo;

std::vector<TensorBytes> ZeroInputs(const Model& model) {
  std::vector<TensorBytes> inputs;
  for (int i : model.input_indices()) inputs.emplace_back(model.tensors()[i].byte_size, 0);
  return inputs;
}

SimDevice MakeDevice(SimDeviceConfig config = {}, std::shared_ptr<SimBus> bus = nullptr) {
  return SimDevice(0, std::move(config), MakeVirtualClock(), std::move(bus));
}

RunResult RunOrDie(SimDevice& device, Program& program) {
  Result<RunResult> result = device.Run(program, ZeroInputs(program.model()));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(result).value() : RunResult{};
}

TEST(SimDeviceTest, SeparatelyCompiledModelsReloadAtEverySwitchCoCompiledNever) {
  SimDevice device = MakeDevice();
  std::unique_ptr<Program> a = device.Prepare(Zoo("mobilenet_v1", 0.5, 160)).value();
  std::unique_ptr<Program> b = device.Prepare(Zoo("mobilenet_v1", 0.25, 128)).value();
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(RunOrDie(device, i % 2 ? *b : *a).reloaded) << "switch " << i;
  }
  EXPECT_EQ(device.stats().reloads, 6);

  SimDevice shared = MakeDevice();
  auto together =
      shared.PrepareGroup({Zoo("mobilenet_v1", 0.5, 160), Zoo("mobilenet_v1", 0.25, 128)}).value();
  EXPECT_TRUE(RunOrDie(shared, *together[0]).reloaded);  // the first load
  for (int i = 1; i < 6; ++i)
    EXPECT_FALSE(RunOrDie(shared, *together[i % 2]).reloaded) << "switch " << i;
  EXPECT_EQ(shared.stats().reloads, 1);
}

TEST(SimDeviceTest, RealCompiledFilesFollowTheirPackagesTokens) {
  std::string a = SharedModel(
      "mobilenet_v1_0.25_128_quant_cocompiled_with_mobilenet_v1_0.5_160_quant_edgetpu.tflite");
  std::string b = SharedModel(
      "mobilenet_v1_0.5_160_quant_cocompiled_with_mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  std::string alone = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(a);
  SimDevice device = MakeDevice();
  auto pa = device.Prepare(Model::FromFile(a).value()).value();
  auto pb = device.Prepare(Model::FromFile(b).value()).value();
  auto pc = device.Prepare(Model::FromFile(alone).value()).value();
  EXPECT_TRUE(RunOrDie(device, *pa).reloaded);
  EXPECT_FALSE(RunOrDie(device, *pb).reloaded);  // co-compiled: same token
  EXPECT_TRUE(RunOrDie(device, *pc).reloaded);   // another token
  EXPECT_TRUE(RunOrDie(device, *pa).reloaded);
  EXPECT_EQ(device.resident_token(), 0xe2c366fd5d62fa6bULL);
  EXPECT_EQ(device.stats().reloaded_bytes, 566912u + 3900864u + 566912u);
}

TEST(SimDeviceTest, CompiledModelComputesRealOutputsThroughItsTwin) {
  std::string path = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  SimDevice device = MakeDevice();
  ModelPtr model = Model::FromFile(path).value();
  auto program = device.Prepare(model).value();
  Image image = ResizeBilinear(
      LoadImage((tpufleet::testing::SharedDir() / "images" / "cat.bmp").string()).value(), 224,
      224);
  Result<RunResult> result = device.Run(*program, {image.pixels});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->timing_only);
  const TensorBytes& scores = result->outputs[0];
  EXPECT_EQ(std::max_element(scores.begin(), scores.end()) - scores.begin(), 286);
}

TEST(SimDeviceTest, WithoutTheUncompiledModelOutputsAreTimingOnlyWhenAllowed) {
  std::string path = SharedModel("mobilenet_v2_1.0_224_quant_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  std::filesystem::path lonely =
      std::filesystem::temp_directory_path() / "tpufleet_sim_test" / "lonely_edgetpu.tflite";
  std::filesystem::create_directories(lonely.parent_path());
  std::filesystem::copy_file(path, lonely, std::filesystem::copy_options::overwrite_existing);
  ModelPtr model = Model::FromFile(lonely.string()).value();
  SimDevice refusing = MakeDevice();
  Result<std::unique_ptr<Program>> refused = refusing.Prepare(model);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("lonely.tflite is missing"));
  SimDeviceConfig config;
  config.allow_timing_only = true;
  SimDevice device = MakeDevice(config);
  auto program = device.Prepare(model).value();
  RunResult result = RunOrDie(device, *program);
  EXPECT_TRUE(result.timing_only);
  ASSERT_EQ(result.outputs.size(), 1u);
  EXPECT_EQ(result.outputs[0], TensorBytes(1001, 0));
  EXPECT_GT(result.device_seconds, 0);
  std::filesystem::remove_all(lonely.parent_path());
}

TEST(SimDeviceTest, UncompiledModelOutputsMatchTheCpu) {
  ModelPtr model = Zoo("mobilenet_v1", 0.25, 96);
  SimDevice device = MakeDevice();
  auto program = device.Prepare(model).value();
  std::vector<TensorBytes> inputs = {TensorBytes(96 * 96 * 3, 77)};
  RunResult sim = device.Run(*program, inputs).value();
  backends::CpuDevice cpu;
  auto cpu_program = cpu.Prepare(model).value();
  EXPECT_EQ(sim.outputs, cpu.Run(*cpu_program, inputs).value().outputs);
  EXPECT_FALSE(sim.timing_only);
}

TEST(SimDeviceTest, BothClocksReportTheSameModeledTimes) {
  ModelPtr model = Zoo("mobilenet_v1", 0.25, 64);
  SimDevice virtual_device(0, {}, MakeVirtualClock(), nullptr);
  SimDevice real_device(1, {}, MakeRealTimeClock(), nullptr);
  auto pv = virtual_device.Prepare(model).value();
  auto pr = real_device.Prepare(model).value();
  RunResult v = RunOrDie(virtual_device, *pv);
  auto start = std::chrono::steady_clock::now();
  RunResult r = RunOrDie(real_device, *pr);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_DOUBLE_EQ(v.device_seconds, r.device_seconds);
  EXPECT_GE(waited, r.device_seconds);  // the real-time clock really waits (a lower bound only)
}

TEST(SimDeviceTest, VirtualClockAdvancesByTheModeledTime) {
  auto clock = MakeVirtualClock();
  SimDevice device(0, {}, clock, nullptr);
  auto program = device.Prepare(Zoo("mobilenet_v2")).value();
  double first = RunOrDie(device, *program).device_seconds;
  double second = RunOrDie(device, *program).device_seconds;
  EXPECT_GT(first, second);  // the first includes loading the cached parameters
  EXPECT_DOUBLE_EQ(clock->Now(), first + second);
}

TEST(SimDeviceTest, ATransferOnTheSameBusHalvesTheBandwidth) {
  auto bus = std::make_shared<SimBus>();
  SimDevice alone = MakeDevice({}, std::make_shared<SimBus>());
  SimDevice crowded = MakeDevice({}, bus);
  ModelPtr model = Zoo("inception_v4");
  auto pa = alone.Prepare(model).value();
  auto pc = crowded.Prepare(model).value();
  RunOrDie(alone, *pa);  // load the cache on both
  RunOrDie(crowded, *pc);
  double quiet = RunOrDie(alone, *pa).device_seconds;
  SimBus::Transfer busy_neighbour(*bus);
  double shared = RunOrDie(crowded, *pc).device_seconds;
  // Inception v4 is bound by streaming: its transfers take twice as long, compute does not change.
  EXPECT_NEAR(shared / quiet, 2.0, 0.05);
}

TEST(FaultTest, DisconnectAfterNThenReconnect) {
  SimDeviceConfig config;
  config.faults.disconnect_after = 3;
  SimDevice device = MakeDevice(config);
  auto program = device.Prepare(Zoo("mobilenet_v1", 0.25, 64)).value();
  for (int i = 0; i < 3; ++i) RunOrDie(device, *program);
  Result<RunResult> lost = device.Run(*program, ZeroInputs(program->model()));
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(lost.status().message(), HasSubstr("sim:0: device disconnected"));
  EXPECT_FALSE(device.Run(*program, ZeroInputs(program->model())).ok());  // stays down
  device.Reconnect();
  EXPECT_TRUE(RunOrDie(device, *program).reloaded);  // the cache was lost with the power
}

TEST(FaultTest, DisconnectAtATime) {
  SimDeviceConfig config;
  config.faults.disconnect_at = 1e-9;
  SimDevice device = MakeDevice(config);
  auto program = device.Prepare(Zoo("mobilenet_v1", 0.25, 64)).value();
  RunOrDie(device, *program);  // at time 0
  EXPECT_EQ(device.Run(*program, ZeroInputs(program->model())).status().code(),
            StatusCode::kUnavailable);
}

TEST(FaultTest, HangTakesItsTimeOrEndsOnInterrupt) {
  SimDeviceConfig config;
  config.faults.hang_after = 1;
  config.faults.hang_seconds = 30;
  auto clock = MakeVirtualClock();
  SimDevice device(0, config, clock, nullptr);
  auto program = device.Prepare(Zoo("mobilenet_v1", 0.25, 64)).value();
  RunOrDie(device, *program);
  double before = clock->Now();
  Result<RunResult> hung = device.Run(*program, ZeroInputs(program->model()));
  EXPECT_EQ(hung.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_DOUBLE_EQ(clock->Now() - before, 30);

  SimDevice real(1, config, MakeRealTimeClock(), nullptr);
  auto real_program = real.Prepare(Zoo("mobilenet_v1", 0.25, 64)).value();
  RunOrDie(real, *real_program);
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    real.Interrupt();
  });
  Result<RunResult> interrupted = real.Run(*real_program, ZeroInputs(real_program->model()));
  interrupter.join();
  EXPECT_EQ(interrupted.status().code(), StatusCode::kDeadlineExceeded);  // well before 30 s
}

// The watchdog may interrupt a call at the moment it starts: the interrupt must end that call,
// not be wiped by it. On a virtual clock the hang's 30 s would pass at once if it were lost.
TEST(FaultTest, AnInterruptBeforeTheCallBeginsIsNotLost) {
  SimDeviceConfig config;
  config.faults.hang_after = 0;
  config.faults.hang_seconds = 30;
  auto clock = MakeVirtualClock();
  SimDevice device(0, config, clock, nullptr);
  auto program = device.Prepare(Zoo("mobilenet_v1", 0.25, 64)).value();
  device.Interrupt();
  Result<RunResult> interrupted = device.Run(*program, ZeroInputs(program->model()));
  EXPECT_EQ(interrupted.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_DOUBLE_EQ(clock->Now(), 0);  // ended before any of the hang passed
  // A call with nothing to wait out is not affected; one that waits is, until the owner clears it.
  EXPECT_EQ(device.Prepare(Zoo("mobilenet_v1", 0.25, 64)).status().code(), StatusCode::kOk);
  SimDeviceConfig slow_prepare;
  slow_prepare.faults.prepare_seconds = 5;
  SimDevice other(1, slow_prepare, clock, nullptr);
  other.Interrupt();
  EXPECT_EQ(other.Prepare(Zoo("mobilenet_v1", 0.25, 64)).status().code(),
            StatusCode::kDeadlineExceeded);
  other.ClearInterrupt();
  EXPECT_TRUE(other.Prepare(Zoo("mobilenet_v1", 0.25, 64)).ok());
  EXPECT_DOUBLE_EQ(clock->Now(), 5);
}

TEST(FaultTest, SlowdownAndTransientErrors) {
  SimDeviceConfig slow_config;
  slow_config.faults.slowdown = 3;
  SimDevice normal = MakeDevice(), slow = MakeDevice(slow_config);
  ModelPtr model = Zoo("mobilenet_v1", 0.25, 64);
  auto pn = normal.Prepare(model).value();
  auto ps = slow.Prepare(model).value();
  EXPECT_DOUBLE_EQ(RunOrDie(slow, *ps).device_seconds, 3 * RunOrDie(normal, *pn).device_seconds);

  SimDeviceConfig flaky_config;
  flaky_config.faults.transient_error_every = 3;
  SimDevice flaky = MakeDevice(flaky_config);
  auto pf = flaky.Prepare(model).value();
  std::vector<bool> ok;
  for (int i = 0; i < 6; ++i) ok.push_back(flaky.Run(*pf, ZeroInputs(*model)).ok());
  EXPECT_EQ(ok, (std::vector<bool>{true, true, false, true, true, false}));
}

TEST(SimDeviceTest, TimeScaleMultipliesEveryModeledTimeAndZeroTakesNone) {
  Result<std::vector<SimDeviceConfig>> rig =
      ParseTopology(R"({"devices": [{}, {"time_scale": 0.5}, {"time_scale": 0}]})");
  ASSERT_TRUE(rig.ok()) << rig.status().ToString();
  SimDevice normal = MakeDevice((*rig)[0]), fast = MakeDevice((*rig)[1]);
  SimDevice instant(2, (*rig)[2], MakeRealTimeClock(), nullptr);
  ModelPtr model = Zoo("inception_v4");  // streams parameters: every part of the time counts
  auto pn = normal.Prepare(model).value();
  auto pf = fast.Prepare(model).value();
  auto pi = instant.Prepare(model).value();
  for (int i = 0; i < 2; ++i) {  // with the reload, then without
    RunResult n = RunOrDie(normal, *pn), f = RunOrDie(fast, *pf);
    EXPECT_DOUBLE_EQ(f.device_seconds, 0.5 * n.device_seconds);
    EXPECT_EQ(f.reloaded, n.reloaded);
    // A real-time device scaled to zero answers at once, with no time modeled.
    EXPECT_EQ(RunOrDie(instant, *pi).device_seconds, 0);
  }
  EXPECT_THAT(ParseTopology(R"({"devices": [{"time_scale": -1}]})").status().message(),
              HasSubstr("devices[0].time_scale is -1; it must be a number from 0 to"));
}

TEST(TopologyTest, ParsesDevicesWithDefaultsAndFaults) {
  Result<std::vector<SimDeviceConfig>> rig = ParseTopology(R"({"devices": [
      {"link": "usb2", "clock": "std", "bus": 3},
      {"sram_bytes": 4194304, "faults": {"disconnect_after": 5, "slowdown": 1.5}},
      {}]})");
  ASSERT_TRUE(rig.ok()) << rig.status().ToString();
  ASSERT_EQ(rig->size(), 3u);
  EXPECT_EQ((*rig)[0].hardware.link, Link::kUsb2);
  EXPECT_EQ((*rig)[0].hardware.clock, Clock::kStd);
  EXPECT_EQ((*rig)[0].hardware.bus, 3);
  EXPECT_EQ((*rig)[1].hardware.sram_bytes, 4194304u);
  EXPECT_EQ((*rig)[1].faults.disconnect_after, 5);
  EXPECT_EQ((*rig)[1].hardware.bus, 2);
  EXPECT_EQ((*rig)[2].hardware.link, Link::kUsb3);
  EXPECT_EQ(DefaultTopology().size(), 2u);
  EXPECT_NE(DefaultTopology()[0].hardware.bus, DefaultTopology()[1].hardware.bus);
}

TEST(TopologyTest, BadTopologiesAreExplained) {
  EXPECT_THAT(ParseTopology("not json").status().message(), HasSubstr("{\"devices\": ["));
  EXPECT_THAT(ParseTopology(R"({"devices": [{"link": "usb4"}]})").status().message(),
              HasSubstr("unknown link 'usb4'"));
  EXPECT_THAT(ParseTopology(R"({"devices": [{"bus": "one"}]})").status().message(),
              HasSubstr("devices[0]"));
  EXPECT_THAT(ParseTopology(R"({"devices": [{"faults": {"slowdown": 0.5}}]})").status().message(),
              HasSubstr("devices[0].faults.slowdown is 0.5; it must be a number from 1 to"));
}

TEST(TopologyTest, NumbersOutOfRangeAreRefusedBeforeConversion) {
  EXPECT_THAT(ParseTopology(R"({"devices": [{"bus": 1e30}]})").status().message(),
              HasSubstr("devices[0].bus is 1e+30; it must be an integer from 0 to 65535"));
  EXPECT_THAT(ParseTopology(R"({"devices": [{"sram_bytes": -1}]})").status().message(),
              HasSubstr("devices[0].sram_bytes is -1; it must be an integer from 1024 to"));
  EXPECT_THAT(
      ParseTopology(R"({"devices": [{"sram_bytes": 18446744073709551615}]})").status().message(),
      HasSubstr("devices[0].sram_bytes is 18446744073709551615"));
  EXPECT_THAT(
      ParseTopology(R"({"devices": [{}, {"faults": {"disconnect_after": 3000000000}}]})")
          .status()
          .message(),
      HasSubstr("devices[1].faults.disconnect_after is 3000000000; it must be an integer from 0"));
  EXPECT_THAT(
      ParseTopology(R"({"devices": [{"faults": {"hang_seconds": 1e300}}]})").status().message(),
      HasSubstr("devices[0].faults.hang_seconds is 1e+300"));
  EXPECT_THAT(ParseTopology(R"({"devices": [{"link": 3}]})").status().message(),
              HasSubstr("devices[0].link must be a string"));
}

TEST(TopologyTest, SimulatedDevicesAreSelectedAsSimN) {
  std::vector<DeviceInfo> infos;
  std::vector<SimDeviceConfig> rig = DefaultTopology();
  for (size_t i = 0; i < rig.size(); ++i)
    infos.push_back(SimDevice(static_cast<int>(i), rig[i], MakeVirtualClock(), nullptr).info());
  Result<std::vector<const DeviceInfo*>> second =
      ResolveSelector(ParseSelector("sim:1").value(), infos);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)[0]->name, "sim:1");
  EXPECT_EQ((*second)[0]->bus, 2);
  EXPECT_THAT(ResolveSelector(ParseSelector("sim:2").value(), infos).status().message(),
              HasSubstr("there are 2 sim devices"));
}

TEST(SimDeviceTest, WrongInputSizeIsNamed) {
  SimDevice device = MakeDevice();
  auto program = device.Prepare(Zoo("mobilenet_v1", 0.25, 64)).value();
  Result<RunResult> result = device.Run(*program, {TensorBytes(10)});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(),
              HasSubstr("input 0 'input' has 10 bytes; uint8 [1, 64, 64, 3] needs 12288"));
}

}  // namespace
}  // namespace tpufleet::sim
