// `eventfd`: a kernel wake-up and nothing else. An eventfd carries only an 8-byte counter, but every bench
// message starts with a 32-byte frame header (sequence number, checksum) that proves it arrived. So the header
// rides in a shared slot (the shm ring, with records of one cache line) and the eventfd carries the signal:
// one write() per message on the sender's side, a poll() and a read() on the receiver's. Only header-only
// messages are carried (the row's max_msg_bytes is 32), so no payload is ever copied: a case measures the
// cost of the wake-up alone. (`shm-eventfd` is the same signal with a payload of any size.)
//
// Unlike the shm variants it honours --wait: `block` sleeps in poll() on the eventfd, `spin` polls a
// non-blocking read() of it, the like-for-like spinning counterpart.
#pragma once

#include "transports/transport.hpp"

namespace bench {
inline constexpr std::size_t eventfd_max_msg_bytes = 32;  // the frame header, no payload
channel make_eventfd_channel(const channel_options& opt);
}  // namespace bench
