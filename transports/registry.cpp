// The transport table: one row per transport. `bench list transports` prints it; nothing keeps a second list.
#include <array>

#include "base/registry.hpp"
#include "transports/amqp.hpp"
#include "transports/eventfd.hpp"
#include "transports/fifo.hpp"
#include "transports/mmap_ring.hpp"
#include "transports/mq.hpp"
#include "transports/network.hpp"
#include "transports/pipe.hpp"
#include "transports/shm.hpp"
#include "transports/tcp.hpp"
#include "transports/transport.hpp"
#include "transports/udp.hpp"
#include "transports/unix_dgram.hpp"
#include "transports/unix_stream.hpp"
#include "transports/zmq.hpp"

namespace bench {
namespace {
std::string available() { return {}; }

// The shared-memory rows have a fixed wait (so spin_capable is false: they ignore --wait, and the row's
// fixed_wait is what every case records). Only the eventfd-signalled ones (shm-eventfd, eventfd) have a descriptor
// an event loop can wait on (ring_loop.hpp); the spinning and futex rings are not for the async models. mq's and the
// UNIX datagram rows' max_msg_bytes are read from /proc/sys when this table is built (see mq.hpp, unix_dgram.hpp).

// Set explicitly on every ZeroMQ socket (see zmq_high_water_mark()).
#define ZMQ_LIMITS                                                                                       \
  "high-water marks (ZMQ_SNDHWM, ZMQ_RCVHWM) 16 MiB / message size, within 16..1000 messages each way; " \
  "ZMQ_MAXMSGSIZE = the case's message size; ZMQ_LINGER 500 ms"

const std::array table = {
    transport_info{.name = "shm-spin",
                   .description = "shared-memory SPSC ring (memfd), busy-polling receiver",
                   .stream = false,
                   .pollable = false,
                   .spin_capable = false,
                   .fixed_wait = "spin",
                   .unavailable_reason = available,
                   .make = make_shm_spin_channel},
    transport_info{.name = "shm",
                   .description = "shared-memory SPSC ring (memfd), spins 20 us then sleeps on a futex",
                   .stream = false,
                   .pollable = false,
                   .spin_capable = false,
                   .fixed_wait = "adaptive",
                   .unavailable_reason = available,
                   .make = make_shm_channel},
    transport_info{.name = "shm-eventfd",
                   .description = "shared-memory SPSC ring (memfd), receiver always sleeps on an eventfd (event "
                                  "loops: one epoll set of it and the peer's life line)",
                   .stream = false,
                   .pollable = true,
                   .event_loop = true,
                   .spin_capable = false,
                   .fixed_wait = "block",
                   .unavailable_reason = available,
                   .make = make_shm_eventfd_channel},
    transport_info{.name = "mmap",
                   .description = "the shm ring in a MAP_SHARED file in the scratch directory (page cache)",
                   .stream = false,
                   .pollable = false,
                   .spin_capable = false,
                   .fixed_wait = "adaptive",
                   .unavailable_reason = available,
                   .make = make_mmap_channel},
    transport_info{.name = "eventfd",
                   .description = "wake-up only: an eventfd signal per message, the 32-byte header in shared "
                                  "memory, no payload (event loops: as shm-eventfd)",
                   .stream = false,
                   .event_loop = true,
                   .max_msg_bytes = eventfd_max_msg_bytes,
                   .unavailable_reason = available,
                   .make = make_eventfd_channel},
    transport_info{.name = "pipe",
                   .description = "two anonymous pipes, one per direction",
                   .event_loop = true,
                   .unavailable_reason = available,
                   .make = make_pipe_channel},
    transport_info{.name = "fifo",
                   .description = "two named pipes (mkfifo) in a private directory",
                   .event_loop = true,
                   .unavailable_reason = available,
                   .make = make_fifo_channel},
    transport_info{.name = "mq",
                   .description = "two POSIX message queues, sizes within /proc/sys/fs/mqueue limits",
                   .stream = false,
                   .event_loop = true,
                   .sees_peer_close = false,
                   .max_msg_bytes = mq_max_msg_bytes(),
                   .unavailable_reason = mq_unavailable_reason,
                   .make = make_mq_channel},
    transport_info{.name = "unix",
                   .description = "UNIX-domain stream socket bound to a path",
                   .event_loop = true,
                   .unavailable_reason = available,
                   .make = make_unix_channel},
    transport_info{.name = "unix-seqpacket",
                   .description = "UNIX-domain SOCK_SEQPACKET socket pair",
                   .stream = false,
                   .event_loop = true,
                   .max_msg_bytes = unix_datagram_max_msg_bytes(),
                   .unavailable_reason = available,
                   .make = make_unix_seqpacket_channel},
    transport_info{.name = "unix-dgram",
                   .description = "UNIX-domain SOCK_DGRAM socket pair",
                   .stream = false,
                   .event_loop = true,
                   .sees_peer_close = false,
                   .max_msg_bytes = unix_datagram_max_msg_bytes(),
                   .unavailable_reason = available,
                   .make = make_unix_dgram_channel},
    transport_info{.name = "udp",
                   .description = "UDP over loopback 127.0.0.1, connected sockets; losses counted",
                   .stream = false,
                   .event_loop = true,
                   .lossy = true,
                   .credit_window_bytes = udp_credit_window_bytes,
                   .sees_peer_close = false,
                   .max_msg_bytes = udp_max_msg_bytes,
                   .unavailable_reason = available,
                   .make = make_udp_channel,
                   .network = &udp_network},
    transport_info{.name = "tcp",
                   .description = "TCP over loopback 127.0.0.1 with TCP_NODELAY",
                   .event_loop = true,
                   .unavailable_reason = available,
                   .make = make_tcp_channel,
                   .network = &tcp_network},
    // ZeroMQ: messages, not a byte stream; the endpoints' descriptors are ZMQ_FD notifications (edge-triggered).
    transport_info{.name = "zmq-inproc",
                   .description = "ZeroMQ PAIR sockets over inproc:// (in memory, one process), one socket per "
                                  "direction; " ZMQ_LIMITS,
                   .stream = false,
                   .cross_process = false,
                   .event_loop = true,
                   .sees_peer_close = false,
                   .unavailable_reason = available,
                   .make = make_zmq_inproc_channel},
    transport_info{.name = "zmq-ipc",
                   .description = "ZeroMQ PAIR sockets over ipc:// (a UNIX socket path in a private directory), one "
                                  "socket per direction; " ZMQ_LIMITS,
                   .stream = false,
                   .event_loop = true,
                   .sees_peer_close = false,
                   .unavailable_reason = available,
                   .make = make_zmq_ipc_channel},
    transport_info{.name = "zmq-tcp",
                   .description = "ZeroMQ PAIR sockets over tcp://127.0.0.1 (a port the kernel picks), one socket "
                                  "per direction; " ZMQ_LIMITS,
                   .stream = false,
                   .event_loop = true,
                   .sees_peer_close = false,
                   .unavailable_reason = available,
                   .make = make_zmq_tcp_channel,
                   .network = &zmq_tcp_network},
    // REQ/REP over the same ipc:// path as zmq-ipc: beside zmq-ipc (PAIR) and unix (the raw socket under both),
    // it shows what the pattern itself costs per round trip. It cannot stream: REQ refuses a second request
    // before the reply to the first.
    transport_info{.name = "zmq-reqrep",
                   .description = "ZeroMQ REQ (client) and REP (server) sockets over ipc:// (a UNIX socket path in a "
                                  "private directory), one socket each; " ZMQ_LIMITS,
                   .stream = false,
                   .event_loop = true,
                   .ping_pong_only = "REQ/REP allows one request, then its reply, strictly in turn",
                   .sees_peer_close = false,
                   .unavailable_reason = available,
                   .make = make_zmq_reqrep_channel},
    // Through a broker: the client publishes each request to a queue, the server consumes it there and publishes
    // its reply to a second queue. No descriptor for an event loop (rabbitmq-c reads frames ahead into its own
    // buffer, so its socket's readiness says nothing), no spinning, and a peer that went away is not seen
    // through the broker (the watchdog ends such a case).
    transport_info{.name = "amqp",
                   .description = "AMQP 0-9-1 through a RabbitMQ broker (rabbitmq-c): request and reply queues, "
                                  "transient messages in transient queues, automatic acknowledgement; streams keep "
                                  "at most 4 MiB unacknowledged (credits)",
                   .stream = false,
                   .pollable = false,
                   .spin_capable = false,
                   .credit_window_bytes = amqp_credit_window_bytes,
                   .sees_peer_close = false,
                   .unavailable_reason = amqp_unavailable_reason,
                   .make = make_amqp_channel},
    transport_info{.name = "amqp-durable",
                   .description = "as amqp, with persistent messages (delivery mode 2) in durable queues: the broker "
                                  "stores them on its disk in the background, unless they were delivered first (no "
                                  "publisher confirms)",
                   .stream = false,
                   .pollable = false,
                   .spin_capable = false,
                   .credit_window_bytes = amqp_credit_window_bytes,
                   .sees_peer_close = false,
                   .unavailable_reason = amqp_unavailable_reason,
                   .make = make_amqp_durable_channel},
    transport_info{.name = "amqp-confirmed",
                   .description = "as amqp-durable, with publisher confirms: every publish waits for the broker's "
                                  "basic.ack of that message (its persisting, or its delivery and acknowledgement)",
                   .stream = false,
                   .pollable = false,
                   .spin_capable = false,
                   .credit_window_bytes = amqp_credit_window_bytes,
                   .sees_peer_close = false,
                   .unavailable_reason = amqp_unavailable_reason,
                   .make = make_amqp_confirmed_channel},
};
}  // namespace

std::span<const transport_info> transports() { return table; }

const transport_info* find_transport(std::string_view name) { return find_row(transports(), name); }

}  // namespace bench
