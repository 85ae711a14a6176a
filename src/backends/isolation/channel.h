// The parent/child channel of an isolated device: messages over a SOCK_SEQPACKET socket pair
// (one message per packet, a file descriptor may ride along), tensors in shared memory.
#pragma once

#include <cstdint>
#include <span>
#include <string>
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

struct Message {
  Header header;
  std::vector<uint8_t> payload;
  int fd = -1;  // received descriptor, owned by the receiver
};

// Sends one message; `fd` >= 0 is passed along (SCM_RIGHTS).
Status Send(int socket, const Header& header, std::span<const uint8_t> payload = {}, int fd = -1);
// Receives one message; UNAVAILABLE when the other side is gone.
Result<Message> Receive(int socket);

// Sizes as payload and back.
std::vector<uint8_t> EncodeSizes(const std::vector<uint64_t>& sizes);
std::vector<uint64_t> DecodeSizes(std::span<const uint8_t> payload);
// A status as a reply (or kOpen message) and back.
void ToReply(const Status& status, Header& header, std::vector<uint8_t>& payload);
Status FromReply(const Message& reply);

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
