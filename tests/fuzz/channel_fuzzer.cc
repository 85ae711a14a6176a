// libFuzzer target: arbitrary bytes as what the child of an isolated device sends its parent
// (backends/isolation/channel.h). Each packet goes over a real socket pair, some with
// descriptors riding along, and is read as the parent reads it: received, taken as the answer
// that says the device opened, checked as a reply, and decoded as the answer to a run. Beyond
// "no crash", the target checks that the outputs of a decoded run lie inside the shared memory,
// and that every descriptor that came with an input is closed once the input is done.
//
// Input: the shared memory's size (2 bytes, little-endian), where the run's inputs end in it
// (2 bytes), the model's number of outputs (1 byte), then packets, each: flags (1 byte; its low
// two bits are how many descriptors ride along), a length (2 bytes) and that many bytes.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "backends/isolation/channel.h"
#include "support/hostile_child.h"

namespace {

using namespace tpufleet;
using namespace tpufleet::backends::isolation;

// Reads little-endian integers off the front of the input.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  bool empty() const { return data_.empty(); }
  uint64_t Take(size_t bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < bytes && !data_.empty(); ++i) {
      value |= uint64_t{data_[0]} << (8 * i);
      data_ = data_.subspan(1);
    }
    return value;
  }
  std::span<const uint8_t> TakeBytes(size_t bytes) {
    std::span<const uint8_t> taken = data_.first(std::min(bytes, data_.size()));
    data_ = data_.subspan(taken.size());
    return taken;
  }

 private:
  std::span<const uint8_t> data_;
};

// Reads one message as the parent does with every answer it gets.
void Decode(const Message& message, std::span<const uint8_t> memory, uint64_t inputs_end,
            size_t outputs) {
  (void)FromReply(message);  // the answer that says the device opened, or why not
  if (!CheckReply(message).ok()) return;
  Result<RunReply> run = DecodeRunReply(message, memory, inputs_end, outputs, 4 * memory.size());
  if (!run.ok() || run->needed_memory > 0 || !run->status.ok()) return;
  uint64_t total = 0;
  for (const std::vector<uint8_t>& output : run->outputs) total += output.size();
  if (run->outputs.size() != outputs || inputs_end > memory.size() ||
      total > memory.size() - inputs_end) {
    std::abort();  // a decoded run whose outputs do not fit where the child may write them
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<int> channel = [] {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) std::abort();
    return std::vector<int>{pair[0], pair[1]};
  }();
  static std::vector<uint8_t> shared(1 << 16, 0xab);
  const int parent = channel[0], child = channel[1];
  static const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int lowest_free = tpufleet::testing::LowestFreeFd();

  Reader in({data, size});
  std::span<const uint8_t> memory(shared.data(), in.Take(2));
  const uint64_t inputs_end = in.Take(2);
  const size_t outputs = in.Take(1);
  while (!in.empty()) {
    const int fds = static_cast<int>(in.Take(1) & 3);
    std::span<const uint8_t> packet = in.TakeBytes(in.Take(2));
    // An empty packet without descriptors may never arrive, and would only say "closed".
    if (packet.empty() && fds == 0) continue;
    if (!tpufleet::testing::SendPacket(child, packet, null_fd, fds)) continue;
    Result<Message> message = Receive(parent, std::chrono::milliseconds(1000));
    if (message.ok()) Decode(*message, memory, inputs_end, outputs);
  }
  if (tpufleet::testing::LowestFreeFd() != lowest_free)
    std::abort();  // a descriptor that came along leaked
  return 0;
}
