// The wait loop of the message transports that sit on a kernel object (datagram sockets, message queues).
#pragma once

#include <cerrno>

#include "base/cancel.hpp"
#include "base/fd.hpp"
#include "base/spin.hpp"
#include "transports/life_line.hpp"

namespace bench {

// What a wait loop does each time the call would block: in spin mode (a non-blocking descriptor) it polls again
// through a spinner and looks at the peer's life line every 8192 polls; in block mode the call itself slept
// until its timeout (life_line_period_ms), so it looks at once. Returns false once the peer is gone.
// yield_every: as spinner's (a poll_recv that polls a system call between an open loop's sends yields every 16).
class peer_wait {
 public:
  peer_wait(wait_mode wait, int peer_line, std::uint32_t yield_every = 1024) noexcept
      : spinning_(wait == wait_mode::spin), peer_line_(peer_line), spin_(yield_every) {}
  bool operator()() {
    if (spinning_) {
      spin_.once();
      if (spin_.polls() % 8192 != 0) return true;
    }
    return !hung_up(peer_line_);
  }

 private:
  bool spinning_;
  int peer_line_;
  spinner spin_;  // pause per poll; abort check and sched_yield every yield_every polls
};

// Calls `call` (a system call returning -1 and errno on failure) until it does something other than wait:
// EINTR (the watchdog's poke) checks for an abort; EAGAIN or ETIMEDOUT (nothing yet) asks `idle`. Returns the
// first result >= 0, or -1 with errno set: EPIPE when idle said the peer is gone, else the call's error.
template <class Call>
auto retry_call(Call call, peer_wait idle) {
  for (;;) {
    auto r = call();
    if (r >= 0) return r;
    if (errno == EINTR) {
      check_abort();
    } else if (errno == EAGAIN || errno == ETIMEDOUT) {
      if (!idle()) {
        errno = EPIPE;
        return r;
      }
    } else {
      return r;
    }
  }
}

}  // namespace bench
