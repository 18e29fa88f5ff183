// `unix-dgram` and `unix-seqpacket`: a socketpair(AF_UNIX) of SOCK_DGRAM or SOCK_SEQPACKET. Both keep message
// boundaries; seqpacket is connection-oriented (a closed peer reads as end of stream), dgram is not.
//
// The largest datagram: the kernel refuses one longer than the sender's SO_SNDBUF minus 32 bytes, and SO_SNDBUF
// is at most 2 x /proc/sys/net/core/wmem_max for an unprivileged process (default 212992, so about 416 KiB);
// beyond that, the linear part of the datagram is allocated in one piece, which caps it near 4 MiB whatever
// the buffer (probed on Linux 6.18 x86-64: 4,263,616 bytes with wmem_max = 4 MiB). A channel raises SO_SNDBUF on
// both sockets only when channel_options::max_msg_bytes needs more than the default (so small-message cases
// keep the queueing a user gets); a message that still does not fit is refused by send() with the limit and
// the /proc/sys file.
#pragma once

#include "transports/transport.hpp"

namespace bench {
// For the registry rows: min(2 x wmem_max - 32, 4 MiB).
std::size_t unix_datagram_max_msg_bytes() noexcept;
channel make_unix_dgram_channel(const channel_options& opt);
channel make_unix_seqpacket_channel(const channel_options& opt);
}  // namespace bench
