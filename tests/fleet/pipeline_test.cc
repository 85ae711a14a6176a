// PipelineRunner: segments on their own devices pass tensors by name, in push order; bounded
// queues block, Shutdown drains, the first segment error stops the pipeline and is reported,
// and segments that do not connect are refused with a message naming the tensor.
#include "tpufleet/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "fleet/fleet_test_util.h"
#include "model/builder.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using testing::Eventually;
using ::testing::HasSubstr;

// An 8-bit segment (scale 1, zero point 0, so the Edge TPU takes it): out = in + in (ADD) for
// each (in, out) name pair, tensors of `shape`.
ModelPtr Doubling(const std::vector<std::pair<std::string, std::string>>& in_out,
                  std::vector<int32_t> shape = {1, 4}) {
  ModelBuilder b;
  std::vector<int> inputs, outputs;
  for (const auto& [in, out] : in_out) {
    inputs.push_back(b.AddTensor(in, DataType::kUInt8, shape, {{1.0f}, {0}, 0}));
    outputs.push_back(b.AddTensor(out, DataType::kUInt8, shape, {{1.0f}, {0}, 0}));
    tfl::BuiltinOptionsUnion options;
    options.Set(tfl::AddOptionsT{});
    b.AddOperator(tfl::BuiltinOperator::ADD, {inputs.back(), inputs.back()}, {outputs.back()},
                  std::move(options));
  }
  b.SetInputs(inputs);
  b.SetOutputs(outputs);
  return Model::FromBuffer(b.Finish(), in_out.front().first + "_segment").value();
}

std::unique_ptr<Interpreter> On(ModelPtr model, const std::string& device,
                                const DeviceOptions& options = {}) {
  Result<std::unique_ptr<Interpreter>> made = MakeInterpreter(std::move(model), device, options);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

// x -> [sim:0] -> y -> [cpu] -> z: z = 4x.
std::unique_ptr<PipelineRunner> TwoSegments(const PipelineOptions& options = {},
                                            const DeviceOptions& devices = {},
                                            const std::string& second_device = "cpu") {
  std::vector<std::unique_ptr<Interpreter>> segments;
  segments.push_back(On(Doubling({{"x", "y"}}), "sim:0", devices));
  segments.push_back(On(Doubling({{"y", "z"}}), second_device, devices));
  Result<std::unique_ptr<PipelineRunner>> runner =
      PipelineRunner::Create(std::move(segments), options);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  return runner.ok() ? std::move(runner).value() : nullptr;
}

TensorList Request(int value) {
  uint8_t v = static_cast<uint8_t>(value);
  return {
      {v, static_cast<uint8_t>(v + 1), static_cast<uint8_t>(v + 2), static_cast<uint8_t>(v + 3)}};
}

TEST(PipelineTest, SegmentsComputeTheWholeModelInPushOrder) {
  std::unique_ptr<PipelineRunner> runner = TwoSegments();
  ASSERT_NE(runner, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(runner->Push(Request(i)).ok());
  for (int i = 0; i < 10; ++i) {
    Result<std::optional<TensorList>> out = runner->Pop();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE(out->has_value());
    ASSERT_EQ((*out)->size(), 1u);
    EXPECT_THAT((**out)[0], ElementsAre(4 * i, 4 * i + 4, 4 * i + 8, 4 * i + 12));
  }
  EXPECT_TRUE(runner->Shutdown().ok());
  Result<std::optional<TensorList>> end = runner->Pop();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  PipelineStats stats = runner->stats();
  ASSERT_EQ(stats.segments.size(), 2u);
  EXPECT_EQ(stats.segments[0].device, "sim:0");
  EXPECT_EQ(stats.segments[1].device, "cpu");
  EXPECT_EQ(stats.segments[0].invocations, 10u);
  EXPECT_EQ(stats.segments[1].invocations, 10u);
  EXPECT_GT(stats.segments[0].device_seconds, 0);  // modeled time of the simulated device
}

TEST(PipelineTest, AfterShutdownPushesAreRefused) {
  std::unique_ptr<PipelineRunner> runner = TwoSegments();
  ASSERT_NE(runner, nullptr);
  ASSERT_TRUE(runner->Push({}).ok());  // an empty request shuts down, as in libcoral
  Status again = runner->Push(Request(1));
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("Pipeline was turned off before."));
  EXPECT_EQ(runner->Shutdown().code(), StatusCode::kFailedPrecondition);
}

// A two-segment pipeline with input and output queues of one, full: 2n + 1 = 5 requests fit
// without a consumer (one in each queue, one held by each segment), and a sixth push waits in
// `pusher`, its status to come in `sixth`.
struct FullPipeline {
  ~FullPipeline() {  // releases the pusher if a test stopped before it did
    if (runner) runner->Stop();
    if (pusher.joinable()) pusher.join();
  }

  std::unique_ptr<PipelineRunner> runner;
  std::thread pusher;
  Status sixth = InternalError("not pushed yet");
};

// Null (with a test failure) when the pipeline cannot be made or the sixth push does not wait.
std::unique_ptr<FullPipeline> FillAndBlockAPush() {
  auto full = std::make_unique<FullPipeline>();
  full->runner = TwoSegments({1, 1});
  if (!full->runner) return nullptr;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(full->runner->Push(Request(i)).ok());
  FullPipeline* raw = full.get();
  full->pusher = std::thread([raw] { raw->sixth = raw->runner->Push(Request(5)); });
  bool waits = Eventually([raw] { return raw->runner->stats().blocked_pushes == 1; });
  EXPECT_TRUE(waits) << "the sixth push did not wait";
  if (!waits) full->pusher.join();
  return waits ? std::move(full) : nullptr;
}

TEST(PipelineTest, BoundedQueuesBlockThePusher) {
  std::unique_ptr<FullPipeline> full = FillAndBlockAPush();
  ASSERT_NE(full, nullptr);
  PipelineRunner& runner = *full->runner;
  EXPECT_THAT(runner.stats().queue_sizes, ElementsAre(1, 1, 1));
  Result<std::optional<TensorList>> first = runner.Pop();
  full->pusher.join();  // returns only because the Pop made room
  EXPECT_TRUE(full->sixth.ok()) << full->sixth.ToString();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((**first)[0][0], 0);
  for (int i = 1; i < 6; ++i) {
    Result<std::optional<TensorList>> out = runner.Pop();
    ASSERT_TRUE(out.ok() && out->has_value());
    EXPECT_EQ((**out)[0][0], 4 * i);
  }
  EXPECT_TRUE(runner.Shutdown().ok());
}

// Stop releases a blocked pusher and a blocked consumer, dropping what is queued.
TEST(PipelineTest, StopReleasesBlockedCallsWithoutDraining) {
  std::unique_ptr<FullPipeline> full = FillAndBlockAPush();
  ASSERT_NE(full, nullptr);
  full->runner->Stop();
  full->pusher.join();  // returns only because Stop released it
  EXPECT_EQ(full->sixth.code(), StatusCode::kFailedPrecondition) << full->sixth.ToString();
  Result<std::optional<TensorList>> dropped = full->runner->Pop();
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_FALSE(dropped->has_value());
  EXPECT_EQ(full->runner->Push(Request(6)).code(), StatusCode::kFailedPrecondition);

  std::unique_ptr<PipelineRunner> empty = TwoSegments();
  ASSERT_NE(empty, nullptr);
  std::optional<Result<std::optional<TensorList>>> popped;
  std::thread consumer([&] { popped = empty->Pop(); });
  empty->Stop();
  consumer.join();  // returns only because Stop released it
  ASSERT_TRUE(popped.has_value() && popped->ok());
  EXPECT_FALSE(popped->value().has_value());
}

TEST(PipelineTest, OneInterpreterCannotBeTwoSegments) {
  std::shared_ptr<Interpreter> shared = On(Doubling({{"x", "x2"}}), "cpu");
  ASSERT_NE(shared, nullptr);
  Result<std::unique_ptr<PipelineRunner>> runner =
      PipelineRunner::Create(std::vector<std::shared_ptr<Interpreter>>{shared, shared});
  EXPECT_EQ(runner.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(runner.status().message(),
              HasSubstr("pipeline segments 0 and 1 are one interpreter"));
}

TEST(PipelineTest, ShutdownDrainsEveryQueuedRequest) {
  std::unique_ptr<PipelineRunner> runner = TwoSegments();
  ASSERT_NE(runner, nullptr);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(runner->Push(Request(i)).ok());
  ASSERT_TRUE(runner->Shutdown().ok());  // returns once all 20 passed both segments
  PipelineStats stats = runner->stats();
  EXPECT_EQ(stats.segments[0].invocations, 20u);
  EXPECT_EQ(stats.segments[1].invocations, 20u);
  for (int i = 0; i < 20; ++i) {
    Result<std::optional<TensorList>> out = runner->Pop();
    ASSERT_TRUE(out.ok() && out->has_value());
    EXPECT_EQ((**out)[0][3], 4 * i + 12);
  }
  Result<std::optional<TensorList>> end = runner->Pop();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

// sim:1 fails its third invocation: segment 1 stops the pipeline, and every call says so.
TEST(PipelineTest, TheFirstSegmentErrorStopsThePipelineAndIsReported) {
  DeviceOptions devices;
  devices.sim_topology_json = R"({"devices": [{}, {"faults": {"transient_error_every": 3}}]})";
  std::unique_ptr<PipelineRunner> runner = TwoSegments({}, devices, "sim:1");
  ASSERT_NE(runner, nullptr);
  for (int i = 0; i < 10; ++i) {
    if (!runner->Push(Request(i)).ok()) break;  // refused once segment 1 failed
  }
  int answered = 0;
  Status error;
  while (error.ok()) {
    Result<std::optional<TensorList>> out = runner->Pop();
    if (!out.ok()) {
      error = out.status();
      break;
    }
    ASSERT_TRUE(out->has_value()) << "the pipeline ended without reporting the failure";
    EXPECT_EQ((**out)[0][0], 4 * answered);
    ++answered;
  }
  EXPECT_LE(answered, 2);
  EXPECT_EQ(error.code(), StatusCode::kAborted);
  EXPECT_THAT(error.message(), HasSubstr("Segment 1 runner error: sim:1"));
  EXPECT_THAT(error.message(), HasSubstr("transient transfer error"));
  EXPECT_EQ(runner->Push(Request(0)).message(), error.message());
  EXPECT_EQ(runner->Pop().status().message(), error.message());
  EXPECT_EQ(runner->Shutdown().message(), error.message());
  EXPECT_EQ(runner->stats().segments[1].invocations, 2u);
}

TEST(PipelineTest, ABadPushIsRefusedAndThePipelineRunsOn) {
  std::unique_ptr<PipelineRunner> runner = TwoSegments();
  ASSERT_NE(runner, nullptr);
  Status wrong_size = runner->Push({{1, 2, 3}});
  EXPECT_EQ(wrong_size.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_size.message(),
              HasSubstr("pipeline input 0 'x' is uint8 [1,4] (4 bytes), so it takes 4 "
                        "bytes, not 3"));
  Status wrong_count = runner->Push({{1, 2, 3, 4}, {1, 2, 3, 4}});
  EXPECT_THAT(wrong_count.message(), HasSubstr("takes 1 input(s)"));
  ASSERT_TRUE(runner->Push(Request(1)).ok());
  Result<std::optional<TensorList>> out = runner->Pop();
  ASSERT_TRUE(out.ok() && out->has_value());
  EXPECT_EQ((**out)[0][0], 4);
}

Status CreateStatus(std::vector<ModelPtr> models) {
  std::vector<std::unique_ptr<Interpreter>> segments;
  for (ModelPtr& m : models) segments.push_back(On(std::move(m), "cpu"));
  return PipelineRunner::Create(std::move(segments)).status();
}

TEST(PipelineTest, SegmentsThatDoNotConnectAreRefused) {
  EXPECT_THAT(
      PipelineRunner::Create(std::vector<std::unique_ptr<Interpreter>>{}).status().message(),
      HasSubstr("at least one segment"));
  // Out of order: segment 0 reads y, which nobody gives it... and segment 1 reads x.
  Status order = CreateStatus({Doubling({{"y", "z"}}), Doubling({{"x", "y"}})});
  EXPECT_EQ(order.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(order.message(), HasSubstr("segment 1 (x_segment on cpu) cannot get its input 0 "
                                         "'x': it is neither an input of segment 0 nor an output "
                                         "of an earlier segment, which are 'y', 'z'"));
  Status size = CreateStatus({Doubling({{"x", "y"}}), Doubling({{"y", "z"}}, {1, 8})});
  EXPECT_THAT(size.message(), HasSubstr("segment 1 (y_segment on cpu) input 'y' is uint8 [1,8] "
                                        "(8 bytes), but segment 0 gives it as uint8 [1,4] (4 "
                                        "bytes)"));
  Status unused = CreateStatus({Doubling({{"x", "y"}, {"w", "v"}}), Doubling({{"y", "z"}})});
  EXPECT_THAT(unused.message(), HasSubstr("segment 0 (x_segment on cpu) output 'v' is an input of "
                                          "no later segment"));
  // A later segment may read a pipeline input directly.
  EXPECT_TRUE(CreateStatus({Doubling({{"x", "y"}, {"w", "v"}}), Doubling({{"y", "z"}, {"v", "u"}}),
                            Doubling({{"x", "t"}, {"z", "s"}, {"u", "r"}})})
                  .ok());
}

TEST(PipelineTest, OpenNeedsOneDevicePerSegment) {
  Status status = PipelineRunner::Open({"a.tflite", "b.tflite"}, {"sim:0"}).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("a pipeline of 2 segments needs one device for each, "
                                          "but 1 were given (sim:0)"));
  EXPECT_THAT(PipelineRunner::Open({"/nonexistent.tflite"}, {"cpu"}).status().message(),
              HasSubstr("pipeline segment 0 on cpu: /nonexistent.tflite"));
}

}  // namespace
}  // namespace tpufleet
