// The wait loop of the message transports that sit on a kernel object (datagram sockets, message queues).
#pragma once

#include <cerrno>

#include "harness/cancel.hpp"
#include "harness/spin.hpp"

namespace bench {

// Calls `call` (a system call returning -1 and errno on failure) until it does something other than wait:
// EINTR (the watchdog's poke) checks for an abort, EAGAIN (a non-blocking descriptor in spin mode) polls again
// through a spinner. Returns the first result >= 0, or -1 with errno set for any other error.
template <class Call>
auto retry_call(Call call) {
  spinner spin;
  for (;;) {
    auto r = call();
    if (r >= 0) return r;
    if (errno == EINTR) {
      check_abort();
    } else if (errno == EAGAIN) {
      spin.once();
    } else {
      return r;
    }
  }
}

}  // namespace bench
