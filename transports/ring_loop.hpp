// What an event loop (the async models) waits on for a shared-memory ring endpoint signalled by eventfd
// (`shm-eventfd`, `eventfd`). The endpoint's own recv() sleeps in poll() on two descriptors, its message
// eventfd and its peer's life line (life_line.hpp); an event loop takes one descriptor per direction
// (endpoint::native_io), so the two are joined in an epoll descriptor that polls readable when either is:
// a message is there, or the peer is gone. Inside it both are level-triggered, so a loop that polls it
// edge-triggered (Asio) or once per arming (io_uring POLL_ADD) sees whatever is there when it last found
// nothing to do. The cost: one more wake-up hop inside the kernel per message (the inner epoll's callback).
//
// No descriptor says "the peer made room in the ring" (a producer waits for room on a futex, and an event loop
// cannot wait on one): a send that finds the ring full arms a one-shot timer instead, and the loop retries
// when it fires. A full ring is rare for a server: it only answers (one echo per request), and its client reads
// every echo as it comes.
#pragma once

#include <cstdint>

#include "base/fd.hpp"

namespace bench {

class ring_loop_fds {
 public:
  // How long a send that found the ring full waits before it looks again: about the cost of one cross-core
  // wake-up on the project's VMs (docs/MEASURED.md), so a full ring costs at most a wake-up or two more.
  static constexpr std::uint64_t room_poll_ns = 50'000;

  // Throws "cannot ..." if the kernel refuses the epoll or timer descriptor.
  ring_loop_fds(int message_efd, int peer_life_line);

  int readable_fd() const noexcept { return epoll_.get(); }  // a message, or the peer gone
  int room_fd() const noexcept { return timer_.get(); }      // polls readable when it is time to retry a send

  void arm_room_timer();     // after a send found the ring full
  void disarm_room_timer();  // before a send: clears an expired or pending timer (no system call if none)

 private:
  unique_fd epoll_;
  unique_fd timer_;
  bool armed_ = false;
};

}  // namespace bench
