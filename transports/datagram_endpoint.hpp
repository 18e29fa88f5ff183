// An endpoint over a connected datagram or sequenced-packet socket (udp, unix-dgram, unix-seqpacket): one
// message is one datagram, so there is no framing to do, but a datagram larger than the receive buffer would
// be cut short by the kernel. recv() asks for the real length (MSG_TRUNC) and refuses a truncated datagram
// with protocol_error instead of returning a partial message.
//
// A peer that goes away: a seqpacket socket says so itself, a datagram socket has no connection to break. So
// every endpoint also holds a life line (life_line.hpp): a blocking socket gets a receive and send timeout of
// life_line_period_ms, after which the wait looks at the peer's line (the hot path is the plain blocking call
// a user makes); a spinning one looks every so often. A peer gone reads as end of stream (recv returns 0,
// after whatever it sent), and a send to it throws peer_gone_error.
#pragma once

#include <string>
#include <string_view>

#include "base/fd.hpp"
#include "transports/life_line.hpp"
#include "transports/retry.hpp"
#include "transports/transport.hpp"

namespace bench {

class datagram_endpoint final : public endpoint {
 public:
  // In spin mode the socket is switched to non-blocking and polled. max_datagram: the largest message
  // send() accepts, and limit_note where that number comes from; `kind` names the transport in error messages.
  // life_line: the write end of this side's life line; peer_line: the read end of the peer's.
  datagram_endpoint(unique_fd sock, wait_mode wait, std::size_t max_datagram, std::string_view limit_note,
                    std::string_view kind, unique_fd life_line, unique_fd peer_line);

  void send(std::span<const std::byte> msg) override;
  std::size_t recv(std::span<std::byte> buf) override;
  int pollable_fd() const noexcept override { return sock_.get(); }
  native_io native() override { return {native_io::kind::datagram, sock_.get(), sock_.get()}; }
  // --wait spin: the socket is polled anyway, so the open loop may poll it between sends.
  bool spin_receiver() const noexcept override { return wait_ == wait_mode::spin; }
  std::optional<std::size_t> poll_recv(std::span<std::byte> buf) override;

 private:
  // What recv() and poll_recv() make of recv(2)'s result n (>= 0, or -1 with errno) for a datagram in buf.
  std::size_t received(ssize_t n, std::span<std::byte> buf);

  unique_fd sock_;
  wait_mode wait_;
  unique_fd life_line_;  // the write end of ours, never written
  unique_fd peer_line_;  // the read end of the peer's
  std::size_t max_datagram_;
  std::string limit_note_;
  std::string kind_;
  peer_wait poll_wait_;  // poll_recv's empty polls: each a system call, so a yield every 16
};

// Checks a received message of n bytes (a datagram, or a message-queue message): its header must say n.
void check_whole_message(std::span<const std::byte> msg, std::string_view kind);

}  // namespace bench
