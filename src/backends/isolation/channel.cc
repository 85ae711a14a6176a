#include "backends/isolation/channel.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace tpufleet::backends::isolation {
namespace {

// A packet is the header, then the payload. Packets above this are refused.
constexpr size_t kMaxPacket = 1 << 20;

}  // namespace

Status Send(int socket, const Header& header, std::span<const uint8_t> payload, int fd) {
  std::vector<uint8_t> packet(sizeof(Header) + payload.size());
  std::memcpy(packet.data(), &header, sizeof(Header));
  if (!payload.empty()) std::memcpy(packet.data() + sizeof(Header), payload.data(), payload.size());
  iovec io{packet.data(), packet.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  while (sendmsg(socket, &message, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return UnavailableError(fmt::format("send: {}", std::strerror(errno)));
  }
  return OkStatus();
}

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.release();
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) close(fd_);
}

Result<Message> Receive(int socket, std::chrono::milliseconds timeout) {
  pollfd ready{socket, POLLIN, 0};
  int polled;
  while ((polled = poll(&ready, 1, static_cast<int>(timeout.count()))) < 0) {
    if (errno != EINTR) return UnavailableError(fmt::format("poll: {}", std::strerror(errno)));
  }
  if (polled == 0) {
    return DeadlineExceededError(fmt::format("no message within {} ms", timeout.count()));
  }
  // One buffer per thread, reused: a run's messages are small, and clearing a fresh megabyte
  // for each would cost more than the run's own copying.
  thread_local std::vector<uint8_t> packet(kMaxPacket);
  iovec io{packet.data(), packet.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  constexpr size_t kMaxFds = 4;  // room to receive (and close) a few more than the one allowed
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))] = {};
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t n;
  while ((n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return UnavailableError(fmt::format("receive: {}", std::strerror(errno)));
  }
  // Every descriptor that came is owned here first, so none leaks whatever is wrong below.
  std::vector<OwnedFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) {
      continue;
    }
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if (n == 0) return UnavailableError("the other side closed the channel");
  if (message.msg_flags & MSG_CTRUNC) {
    return DataLossError("a message with more descriptors than a message may carry");
  }
  if (static_cast<size_t>(n) < sizeof(Header) || (message.msg_flags & MSG_TRUNC)) {
    return DataLossError(fmt::format("a malformed message of {} bytes", n));
  }
  if (fds.size() > 1) {
    return DataLossError(fmt::format("a message with {} descriptors (at most one)", fds.size()));
  }
  Message out;
  std::memcpy(&out.header, packet.data(), sizeof(Header));
  out.payload.assign(packet.begin() + sizeof(Header), packet.begin() + n);
  if (!fds.empty()) out.fd = std::move(fds[0]);
  return out;
}

std::vector<uint8_t> EncodeSizes(const std::vector<uint64_t>& sizes) {
  std::vector<uint8_t> payload(sizes.size() * sizeof(uint64_t));
  if (!sizes.empty()) std::memcpy(payload.data(), sizes.data(), payload.size());
  return payload;
}

Result<std::vector<uint64_t>> DecodeSizes(std::span<const uint8_t> payload, uint64_t offset,
                                          uint64_t limit) {
  if (payload.size() % sizeof(uint64_t) != 0) {
    return DataLossError(fmt::format("a size list of {} bytes (not whole sizes)", payload.size()));
  }
  std::vector<uint64_t> sizes(payload.size() / sizeof(uint64_t));
  if (!sizes.empty()) std::memcpy(sizes.data(), payload.data(), payload.size());
  if (offset > limit) return DataLossError("sizes start past the shared memory");
  uint64_t room = limit - offset;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] > room) {
      return DataLossError(
          fmt::format("tensor {} of {} bytes does not fit the {} bytes left", i, sizes[i], room));
    }
    room -= sizes[i];
  }
  return sizes;
}

void ToReply(const Status& status, Header& header, std::vector<uint8_t>& payload) {
  header.kind = Kind::kReply;
  header.code = static_cast<int32_t>(status.code());
  if (!status.ok()) payload.assign(status.message().begin(), status.message().end());
}

Status FromReply(const Message& reply) {
  if (reply.header.code == 0) return OkStatus();
  if (reply.header.code < 0 || reply.header.code > static_cast<int32_t>(StatusCode::kAborted)) {
    return DataLossError(fmt::format("a reply with an unknown status code {}", reply.header.code));
  }
  return Status(static_cast<StatusCode>(reply.header.code),
                std::string(reply.payload.begin(), reply.payload.end()));
}

Status CheckReply(const Message& reply) {
  if (reply.header.kind != Kind::kReply) return DataLossError("a message that is no reply");
  if (reply.fd.get() >= 0) return DataLossError("a reply with a file descriptor");
  return OkStatus();
}

Result<RunReply> DecodeRunReply(const Message& reply, std::span<const uint8_t> memory,
                                uint64_t inputs_end, size_t outputs, uint64_t max_memory) {
  RunReply run;
  run.status = FromReply(reply);
  if (run.status.code() == StatusCode::kDataLoss) return run.status;
  if (run.status.code() == StatusCode::kResourceExhausted && reply.header.count > memory.size()) {
    if (reply.header.count > max_memory) {
      return DataLossError(fmt::format("a request for {} bytes of shared memory (at most {})",
                                       reply.header.count, max_memory));
    }
    run.needed_memory = reply.header.count;
    return run;
  }
  if (!run.status.ok()) return run;
  if (!(reply.header.seconds >= 0) || !std::isfinite(reply.header.seconds)) {
    return DataLossError(fmt::format("a device time of {} s", reply.header.seconds));
  }
  run.seconds = reply.header.seconds;
  TPUFLEET_ASSIGN_OR_RETURN(std::vector<uint64_t> sizes,
                            DecodeSizes(reply.payload, inputs_end, memory.size()));
  if (sizes.size() != outputs) {
    return DataLossError(fmt::format("{} outputs for a model with {}", sizes.size(), outputs));
  }
  uint64_t offset = inputs_end;
  for (uint64_t size : sizes) {
    std::span<const uint8_t> output = memory.subspan(offset, size);
    run.outputs.emplace_back(output.begin(), output.end());
    offset += size;
  }
  return run;
}

Result<SharedMemory> SharedMemory::Create(size_t size) {
  int fd = memfd_create("tpufleet-tensors", MFD_CLOEXEC);
  if (fd < 0) return UnavailableError(fmt::format("memfd_create: {}", std::strerror(errno)));
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    close(fd);
    return ResourceExhaustedError(
        fmt::format("shared memory of {} bytes: {}", size, std::strerror(errno)));
  }
  return Map(fd, size);
}

Result<SharedMemory> SharedMemory::Map(int fd, size_t size) {
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    close(fd);
    return ResourceExhaustedError(fmt::format("mmap of {} bytes: {}", size, std::strerror(errno)));
  }
  SharedMemory memory;
  memory.data_ = static_cast<uint8_t*>(data);
  memory.size_ = size;
  memory.fd_ = fd;
  return memory;
}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
  if (this != &other) {
    this->~SharedMemory();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

SharedMemory::~SharedMemory() {
  if (data_ != nullptr) munmap(data_, size_);
  if (fd_ >= 0) close(fd_);
  data_ = nullptr;
  fd_ = -1;
}

}  // namespace tpufleet::backends::isolation
