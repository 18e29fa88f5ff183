// ZeroMQ (libzmq through cppzmq): `zmq-inproc` (threads only), `zmq-ipc`, `zmq-tcp`. Each endpoint holds two PAIR
// sockets, one per direction: a ZeroMQ socket is not thread-safe, and the open-loop client sends from one thread
// while it receives in another. `zmq-reqrep` holds one REQ or REP socket per endpoint (see below).
//
// A ZeroMQ context does not survive fork (its I/O threads stay behind in the parent), and the process model
// creates channels in the parent and forks. So nothing of ZeroMQ is created with the channel: an endpoint creates
// its context and sockets on first use, in the process that uses it, and never touches ZeroMQ state that another
// process created. The server's side binds (tcp: a port the kernel picks) and publishes its addresses in a small
// shared mapping made with the channel; the client's side waits there (abortably: a server that never binds
// ends with the watchdog) and connects.
#pragma once

#include <cstddef>

#include "transports/transport.hpp"

namespace bench {
channel make_zmq_inproc_channel(const channel_options& opt);
channel make_zmq_ipc_channel(const channel_options& opt);
channel make_zmq_tcp_channel(const channel_options& opt);
// `zmq-reqrep`: a REQ socket (client) and a REP socket (server) over ipc://, the path zmq-ipc's PAIR sockets use:
// the same UNIX socket underneath, so the two rows differ by the pattern alone. REQ/REP forces request, reply,
// request...: the closed-loop round trip only (transport_info::ping_pong_only).
channel make_zmq_reqrep_channel(const channel_options& opt);
// The high-water mark (messages, each way) for a channel whose largest message is `max_msg_bytes`.
int zmq_high_water_mark(std::size_t largest_msg_bytes) noexcept;
}  // namespace bench
