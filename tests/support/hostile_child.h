// What a hostile child of an isolated device can put on the channel, for tests and the fuzzer
// of the parent's side (backends/isolation/channel.h): any bytes as one packet, with any number
// of descriptors.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace tpufleet::testing {

// Sends `packet` on `socket` with `copies` copies of descriptor `fd` riding along (SCM_RIGHTS);
// true when the whole packet went out. Never blocks.
inline bool SendPacket(int socket, std::span<const uint8_t> packet, int fd, size_t copies) {
  iovec io{const_cast<uint8_t*>(packet.data()), packet.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  std::vector<uint8_t> control(CMSG_SPACE(copies * sizeof(int)));
  if (copies > 0) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(copies * sizeof(int));
    for (size_t i = 0; i < copies; ++i)
      std::memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
  }
  return sendmsg(socket, &message, MSG_NOSIGNAL | MSG_DONTWAIT) ==
         static_cast<ssize_t>(packet.size());
}

// The lowest free descriptor number. Descriptors are handed out lowest first, so it changes
// while a descriptor that came with a packet stays open.
inline int LowestFreeFd() {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  close(fd);
  return fd;
}

}  // namespace tpufleet::testing
