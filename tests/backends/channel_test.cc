// The isolation channel as the parent reads it: a child's packets and answers are not trusted.
#include "backends/isolation/channel.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "support/hostile_child.h"

namespace tpufleet::backends::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kMaxMemory = 1 << 20;

Message RunAnswer(std::vector<uint64_t> sizes, double seconds = 0.25) {
  Message reply;
  reply.header.kind = Kind::kReply;
  reply.header.seconds = seconds;
  reply.payload = EncodeSizes(sizes);
  return reply;
}

Message Failure(const Status& status, uint64_t count = 0) {
  Message reply;
  ToReply(status, reply.header, reply.payload);
  reply.header.count = count;
  return reply;
}

class ChannelTest : public ::testing::Test {
 protected:
  ChannelTest() : memory_(64) {
    for (size_t i = 0; i < memory_.size(); ++i) memory_[i] = static_cast<uint8_t>(i);
  }
  std::vector<uint8_t> memory_;
};

TEST_F(ChannelTest, ARunsOutputsAreCopiedFromAfterItsInputs) {
  Result<RunReply> run = DecodeRunReply(RunAnswer({2, 3}), memory_, 10, 2, kMaxMemory);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->status.ok());
  EXPECT_EQ(run->seconds, 0.25);
  EXPECT_THAT(run->outputs, ElementsAre(ElementsAre(10, 11), ElementsAre(12, 13, 14)));
}

TEST_F(ChannelTest, OutputsPastTheSharedMemoryAreRefused) {
  Result<RunReply> run = DecodeRunReply(RunAnswer({50, 5}), memory_, 10, 2, kMaxMemory);
  EXPECT_EQ(run.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(run.status().message(),
              HasSubstr("tensor 1 of 5 bytes does not fit the 4 bytes left"));
}

TEST_F(ChannelTest, SizesThatOverflowWhenAddedAreRefused) {
  Result<RunReply> run = DecodeRunReply(RunAnswer({std::numeric_limits<uint64_t>::max(), 2}),
                                        memory_, 0, 2, kMaxMemory);
  EXPECT_EQ(run.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(run.status().message(), HasSubstr("does not fit the 64 bytes left"));
}

TEST_F(ChannelTest, APayloadOfPartSizesIsRefused) {
  Message reply = RunAnswer({1});
  reply.payload.pop_back();
  Result<RunReply> run = DecodeRunReply(reply, memory_, 0, 1, kMaxMemory);
  EXPECT_EQ(run.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(run.status().message(), HasSubstr("a size list of 7 bytes (not whole sizes)"));
}

TEST_F(ChannelTest, AnotherNumberOfOutputsThanTheModelHasIsRefused) {
  Result<RunReply> run = DecodeRunReply(RunAnswer({1, 1, 1}), memory_, 0, 2, kMaxMemory);
  EXPECT_EQ(run.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(run.status().message(), HasSubstr("3 outputs for a model with 2"));
}

TEST_F(ChannelTest, ADeviceTimeThatIsNegativeOrNotFiniteIsRefused) {
  for (double seconds : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    Result<RunReply> run = DecodeRunReply(RunAnswer({1}, seconds), memory_, 0, 1, kMaxMemory);
    EXPECT_EQ(run.status().code(), StatusCode::kDataLoss) << seconds;
    EXPECT_THAT(run.status().message(), HasSubstr("a device time of")) << seconds;
  }
}

TEST_F(ChannelTest, OutputsThatNeedMoreMemoryAskForItUpToTheLimit) {
  Result<RunReply> grow = DecodeRunReply(Failure(ResourceExhaustedError("outputs need more"), 1000),
                                         memory_, 0, 1, kMaxMemory);
  ASSERT_TRUE(grow.ok()) << grow.status().ToString();
  EXPECT_EQ(grow->needed_memory, 1000u);
  Result<RunReply> greedy =
      DecodeRunReply(Failure(ResourceExhaustedError("outputs need more"), kMaxMemory + 1), memory_,
                     0, 1, kMaxMemory);
  EXPECT_EQ(greedy.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(greedy.status().message(),
              HasSubstr("a request for 1048577 bytes of shared memory (at most 1048576)"));
}

TEST_F(ChannelTest, TheDevicesOwnErrorPassesThroughButNotAnUnknownCode) {
  Result<RunReply> failed =
      DecodeRunReply(Failure(UnavailableError("usb gone")), memory_, 0, 1, kMaxMemory);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed->status.message(), "usb gone");
  Message unknown = RunAnswer({1});
  unknown.header.code = 999;
  Result<RunReply> run = DecodeRunReply(unknown, memory_, 0, 1, kMaxMemory);
  EXPECT_EQ(run.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(run.status().message(), HasSubstr("a reply with an unknown status code 999"));
}

TEST_F(ChannelTest, AnAnswerMustBeAReplyWithoutADescriptor) {
  Message opened;
  opened.header.kind = Kind::kOpen;
  EXPECT_THAT(CheckReply(opened).message(), HasSubstr("a message that is no reply"));
  Message with_fd = RunAnswer({});
  with_fd.fd = OwnedFd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_THAT(CheckReply(with_fd).message(), HasSubstr("a reply with a file descriptor"));
  EXPECT_TRUE(CheckReply(RunAnswer({})).ok());
}

class ReceiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    parent_ = OwnedFd(pair[0]);
    child_ = OwnedFd(pair[1]);
  }
  // What Receive makes of `bytes` sent with `copies` descriptors; checks none stays open.
  Status Received(const std::vector<uint8_t>& bytes, size_t copies) {
    OwnedFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int lowest_free = testing::LowestFreeFd();
    EXPECT_TRUE(testing::SendPacket(child_.get(), bytes, null_fd.get(), copies));
    Status status = Receive(parent_.get(), std::chrono::milliseconds(1000)).status();
    EXPECT_EQ(testing::LowestFreeFd(), lowest_free);
    return status;
  }
  OwnedFd parent_, child_;
};

TEST_F(ReceiveTest, APacketWithTwoDescriptorsIsRefusedAndBothAreClosed) {
  Status refused = Received(std::vector<uint8_t>(sizeof(Header)), 2);
  EXPECT_EQ(refused.code(), StatusCode::kDataLoss);
  EXPECT_THAT(refused.message(), HasSubstr("a message with 2 descriptors (at most one)"));
}

TEST_F(ReceiveTest, APacketShorterThanAHeaderIsRefusedAndItsDescriptorClosed) {
  Status refused = Received(std::vector<uint8_t>(5), 1);
  EXPECT_EQ(refused.code(), StatusCode::kDataLoss);
  EXPECT_THAT(refused.message(), HasSubstr("a malformed message of 5 bytes"));
}

TEST_F(ReceiveTest, MoreDescriptorsThanFitAreRefusedAndNoneStaysOpen) {
  Status refused = Received(std::vector<uint8_t>(sizeof(Header)), 8);
  EXPECT_EQ(refused.code(), StatusCode::kDataLoss);
  EXPECT_THAT(refused.message(), HasSubstr("more descriptors than a message may carry"));
}

TEST_F(ReceiveTest, AWellFormedReplyKeepsItsPayload) {
  Message sent = RunAnswer({7});
  std::vector<uint8_t> bytes(sizeof(Header));
  std::memcpy(bytes.data(), &sent.header, sizeof(Header));
  bytes.insert(bytes.end(), sent.payload.begin(), sent.payload.end());
  ASSERT_TRUE(testing::SendPacket(child_.get(), bytes, -1, 0));
  Result<Message> received = Receive(parent_.get(), std::chrono::milliseconds(1000));
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->header.seconds, 0.25);
  EXPECT_EQ(received->payload, sent.payload);
  EXPECT_EQ(received->fd.get(), -1);
}

}  // namespace
}  // namespace tpufleet::backends::isolation
