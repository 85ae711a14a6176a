// The parent/child channel of an isolated device: messages over a SOCK_SEQPACKET socket pair
// (one message per packet, a file descriptor may ride along), tensors in shared memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet::backends::isolation {

enum class Kind : uint32_t {
  kOpen = 1,  // child -> parent once the device is open (or why not)
  kMemory,    // parent -> child: a new shared region (its fd rides along), `count` bytes
  kPrepare,   // parent -> child: model `id`; its bytes are at the start of the shared region
  kRun,       // parent -> child: run model `id`; payload = input sizes; inputs in the region
  kReply,     // child -> parent: status; for kRun, payload = output sizes after the inputs
};

struct Header {
  Kind kind = Kind::kReply;
  int32_t code = 0;  // StatusCode of a reply
  uint64_t id = 0;
  uint64_t count = 0;
  double seconds = 0;  // device time of a run
};

// A file descriptor with one owner, closed with it.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  ~OwnedFd();
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

struct Message {
  Header header;
  std::vector<uint8_t> payload;
  OwnedFd fd;  // the descriptor that came with it, if one did
};

// Sends one message; `fd` >= 0 is passed along (SCM_RIGHTS).
Status Send(int socket, const Header& header, std::span<const uint8_t> payload = {}, int fd = -1);
// Receives one message, waiting at most `timeout` (negative: for as long as it takes). The other
// side is not trusted: UNAVAILABLE when it is gone, DEADLINE_EXCEEDED when nothing came in time,
// DATA_LOSS for a packet that is too short, truncated, or carries other than one descriptor
// (every descriptor that came with a refused packet is closed).
Result<Message> Receive(int socket,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

// Sizes as payload and back. Decoding refuses a payload that is not whole sizes, or sizes that
// together pass `limit` bytes after `offset` (checked without overflow), saying which.
std::vector<uint8_t> EncodeSizes(const std::vector<uint64_t>& sizes);
Result<std::vector<uint64_t>> DecodeSizes(std::span<const uint8_t> payload, uint64_t offset,
                                          uint64_t limit);
// A status as a reply (or kOpen message) and back. FromReply says DATA_LOSS for a status code
// that does not exist.
void ToReply(const Status& status, Header& header, std::vector<uint8_t>& payload);
Status FromReply(const Message& reply);

// The parent's reading of what a child answers; the child is not trusted. Every error is
// DATA_LOSS and says what the child sent: the parent kills a child that sends it.
//
// An answer to kPrepare or kRun must be a kReply without a descriptor.
Status CheckReply(const Message& reply);

// A child's answer to kRun: what the run did, or how much shared memory its outputs need.
struct RunReply {
  Status status;               // the run's own outcome: OK, or the device's error
  uint64_t needed_memory = 0;  // > 0: the outputs need a region this large; grow it, run again
  double seconds = 0;          // device time of a run that was OK
  std::vector<std::vector<uint8_t>> outputs;  // of a run that was OK, copied out of the memory
};
// Decodes a reply (already through CheckReply) to a kRun whose inputs fill `memory` up to
// `inputs_end`, for a model with `outputs` outputs. Refuses an unknown status code or a DATA_LOSS
// from the child, a request for more than `max_memory` bytes, a device time that is negative or
// not finite, output sizes that are not whole or pass the end of `memory`, and a number of
// outputs other than `outputs`.
Result<RunReply> DecodeRunReply(const Message& reply, std::span<const uint8_t> memory,
                                uint64_t inputs_end, size_t outputs, uint64_t max_memory);

// A region both processes map (memfd). Moves, never copies.
class SharedMemory {
 public:
  static Result<SharedMemory> Create(size_t size);
  static Result<SharedMemory> Map(int fd, size_t size);  // takes ownership of fd
  SharedMemory() = default;
  SharedMemory(SharedMemory&& other) noexcept { *this = std::move(other); }
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  ~SharedMemory();

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
};

}  // namespace tpufleet::backends::isolation
