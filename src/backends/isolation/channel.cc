#include "backends/isolation/channel.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
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

Result<Message> Receive(int socket) {
  // One buffer per thread, reused: a run's messages are small, and clearing a fresh megabyte
  // for each would cost more than the run's own copying.
  thread_local std::vector<uint8_t> packet(kMaxPacket);
  iovec io{packet.data(), packet.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t n;
  while ((n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return UnavailableError(fmt::format("receive: {}", std::strerror(errno)));
  }
  if (n == 0) return UnavailableError("the other side closed the channel");
  if (static_cast<size_t>(n) < sizeof(Header) || (message.msg_flags & MSG_TRUNC)) {
    return DataLossError(fmt::format("a malformed message of {} bytes", n));
  }
  Message out;
  std::memcpy(&out.header, packet.data(), sizeof(Header));
  out.payload.assign(packet.begin() + sizeof(Header), packet.begin() + n);
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&out.fd, CMSG_DATA(c), sizeof(int));
    }
  }
  return out;
}

std::vector<uint8_t> EncodeSizes(const std::vector<uint64_t>& sizes) {
  std::vector<uint8_t> payload(sizes.size() * sizeof(uint64_t));
  if (!sizes.empty()) std::memcpy(payload.data(), sizes.data(), payload.size());
  return payload;
}

std::vector<uint64_t> DecodeSizes(std::span<const uint8_t> payload) {
  std::vector<uint64_t> sizes(payload.size() / sizeof(uint64_t));
  if (!sizes.empty()) std::memcpy(sizes.data(), payload.data(), sizes.size() * sizeof(uint64_t));
  return sizes;
}

void ToReply(const Status& status, Header& header, std::vector<uint8_t>& payload) {
  header.kind = Kind::kReply;
  header.code = static_cast<int32_t>(status.code());
  if (!status.ok()) payload.assign(status.message().begin(), status.message().end());
}

Status FromReply(const Message& reply) {
  if (reply.header.code == 0) return OkStatus();
  if (reply.header.code < 0 || reply.header.code > static_cast<int32_t>(StatusCode::kInternal)) {
    return DataLossError(fmt::format("a reply with an unknown status code {}", reply.header.code));
  }
  return Status(static_cast<StatusCode>(reply.header.code),
                std::string(reply.payload.begin(), reply.payload.end()));
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
