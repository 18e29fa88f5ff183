// `udp`: two UDP sockets on loopback (127.0.0.1), each bound to its own port and connected to the other's.
// Lossy: when the receiver's socket buffer is full the kernel drops the datagram (the default buffers are
// kept: that is what a user of UDP gets); the harness counts losses from the sequence numbers.
#pragma once

#include "transports/transport.hpp"

namespace bench {
// 65535 - 8 (UDP header) - 20 (IPv4 header): the largest IPv4 UDP payload.
inline constexpr std::size_t udp_max_msg_bytes = 65507;
// Streams' credit window: loopback UDP's default receive buffer is 208 KiB of kernel memory, a 64-byte datagram
// taking about 1 KiB of it; 64 KiB of credit keeps the receiver's queue well inside it.
inline constexpr std::size_t udp_credit_window_bytes = 64 * 1024;
channel make_udp_channel(const channel_options& opt);
}  // namespace bench
