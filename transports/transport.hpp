// The transport seam: a transport turns into a channel with two endpoints that send and receive whole
// messages (each starting with bench's frame header, see base/message.hpp).
//
// Adding a transport is one .hpp/.cpp pair plus one row in registry.cpp; `bench list`, the planner, the
// typed tests and the charts all read that table.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/fd.hpp"

namespace bench {

class endpoint {
 public:
  virtual ~endpoint() = default;
  // Sends one whole message (header included). Blocks or spins (per the channel's wait mode) until the
  // transport has taken all of it. Throws peer_gone_error if the peer is gone, aborted_error when stopped.
  virtual void send(std::span<const std::byte> msg) = 0;
  // Receives one whole message into buf and returns its size; 0 means the peer closed between messages.
  // A message larger than buf, or a corrupt header, throws protocol_error.
  virtual std::size_t recv(std::span<std::byte> buf) = 0;
  // A descriptor that polls readable when recv() would not block, for event loops; -1 if there is none.
  virtual int pollable_fd() const noexcept { return -1; }

  // Zero-copy receive, where the message already lies in memory both ends map (the shared rings): true if
  // recv_in_place() is available. It waits like recv() and returns the next whole message where it lies, an
  // empty span when the peer closed between messages; the bytes stay valid, and the sender cannot reuse their
  // room, until release_in_place(), which must come before the next receive. Same errors as recv().
  virtual bool receives_in_place() const noexcept { return false; }
  virtual std::span<const std::byte> recv_in_place() { return {}; }
  virtual void release_in_place() {}

  // A receiver that busy-polls anyway (shm-spin): true if poll_recv() is available. poll_recv() takes the next
  // message into buf if one is there and returns its size (0: the peer closed between messages), or nullopt
  // at once if none is; it looks at the peer's liveness every so many calls and throws as recv() does. The
  // open loop (--rate) then polls it between sends in one thread, instead of leaving the receive to a second,
  // spinning thread on the same core as the pacer.
  virtual bool spin_receiver() const noexcept { return false; }
  virtual std::optional<std::size_t> poll_recv(std::span<std::byte>) { return std::nullopt; }

  // What an event loop (the async models) needs to drive this endpoint itself, without blocking:
  //   byte_stream  read_fd/write_fd (equal for a socket): the loop frames messages by their header and copes
  //                with partial reads and writes
  //   datagram     a socket whose every read or write is one whole message
  //   message      whole messages through try_recv()/try_send(); the descriptors only notify, edge-triggered
  //                (ZeroMQ's ZMQ_FD): after a wake-up, retry until the call would block, then wait again
  // The loop may switch the descriptors to non-blocking. May throw (a lazily created socket may fail to bind).
  struct native_io {
    enum class kind { none, byte_stream, datagram, message };
    kind type = kind::none;
    int read_fd = -1;
    int write_fd = -1;
    // message only: write_fd polls writable when try_send may succeed (a POSIX message queue); false: it
    // notifies by polling readable, like read_fd (ZeroMQ's ZMQ_FD)
    bool send_polls_out = false;
  };
  virtual native_io native() { return {}; }
  // kind::message only. nullopt / false: it would block. try_recv returns 0 when the peer closed.
  virtual std::optional<std::size_t> try_recv(std::span<std::byte>) { return std::nullopt; }
  virtual bool try_send(std::span<const std::byte>) { return false; }
};
// send() and recv() of one endpoint may be called from two different threads at once (full duplex: the
// open-loop client sends from one thread and receives in another). Nothing else is thread-safe.

struct channel {
  std::unique_ptr<endpoint> client;
  std::unique_ptr<endpoint> server;
};

struct channel_options {
  std::size_t max_msg_bytes = 0;  // largest message that will cross, header included
  wait_mode wait = wait_mode::block;
  std::string scratch_dir;  // private per-run directory for FIFOs and socket files (removed at exit)
  std::string unique_name;  // unique per channel in this run: base for IPC object names
};

struct transport_info {
  std::string_view name;
  std::string_view description;
  bool stream = true;         // a byte stream (messages are framed by the header) rather than datagrams
  bool cross_process = true;  // usable by the process model (endpoints survive fork)
  bool pollable = true;       // endpoints have a pollable_fd (needed by the async models)
  bool event_loop = false;    // endpoints implement native(): the async models can drive them without blocking
  bool spin_capable = true;   // honours channel_options::wait == spin (non-blocking descriptors polled in a loop)
  // Non-empty for transports whose waiting discipline is part of what they are ("spin" for shm-spin,
  // "adaptive" for spin-then-futex, "block" for an eventfd-signalled ring): such a transport ignores
  // channel_options::wait, and every case and result row records this discipline instead of --wait.
  std::string_view fixed_wait{};
  bool lossy = false;  // may drop messages (UDP): losses are counted, never hidden
  // Non-zero: streams run with the harness's credit flow control, at most this many bytes unacknowledged
  // (workload_params::flow_window_bytes): a lossy transport would drop what overflows its receiver, a broker
  // would queue it in memory until its own flow control stopped every publisher.
  std::size_t credit_window_bytes = 0;
  // Non-empty for a transport whose pattern allows only the closed-loop round trip (ZeroMQ REQ/REP: strictly
  // one request, then its reply): why. The one-way stream and the open-loop (--rate) sender are not applicable
  // to it; the planner skips those cases with this reason, and `bench list` says so.
  std::string_view ping_pong_only{};
  // recv() returns 0 once the peer's endpoint is gone. ZeroMQ cannot tell: a PAIR socket whose peer never
  // connected, or went away, just waits (the harness's watchdog ends such a case).
  bool sees_peer_close = true;
  std::size_t max_msg_bytes = 0;  // largest message the transport can carry whole; 0 = no limit of its own
  // Empty if usable on this machine, otherwise why not (e.g. a kernel feature refused).
  std::function<std::string()> unavailable_reason;
  std::function<channel(const channel_options&)> make;
  // Non-null for a transport that can cross machines (`bench serve`, `bench run ipc --peer`): how its server
  // end listens and its client end connects (transports/network.hpp).
  const struct network_seam* network = nullptr;
};

// The registry, in the order bench lists and plots them.
std::span<const transport_info> transports();
const transport_info* find_transport(std::string_view name);

}  // namespace bench
