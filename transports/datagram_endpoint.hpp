// An endpoint over a connected datagram or sequenced-packet socket (udp, unix-dgram, unix-seqpacket): one
// message is one datagram, so there is no framing to do, but a datagram larger than the receive buffer would
// be cut short by the kernel. recv() asks for the real length (MSG_TRUNC) and refuses a truncated datagram
// with protocol_error instead of returning a partial message.
//
// A peer that goes away: a seqpacket socket reads as end of stream (recv returns 0) and a send fails with
// EPIPE (peer_gone_error). A datagram socket has no connection to break: a receiver whose peer died waits
// until the watchdog stops the case (its SIGUSR1 interrupts the blocking call), as the kernel gives no sign.
#pragma once

#include <string>
#include <string_view>

#include "harness/fd.hpp"
#include "transports/transport.hpp"

namespace bench {

class datagram_endpoint final : public endpoint {
 public:
  // In spin mode the socket is switched to non-blocking and polled. max_datagram: the largest message
  // send() accepts, and limit_note where that number comes from; `kind` names the transport in error messages.
  datagram_endpoint(unique_fd sock, wait_mode wait, std::size_t max_datagram, std::string_view limit_note,
                    std::string_view kind);

  void send(std::span<const std::byte> msg) override;
  std::size_t recv(std::span<std::byte> buf) override;
  int pollable_fd() const noexcept override { return sock_.get(); }

 private:
  unique_fd sock_;
  std::size_t max_datagram_;
  std::string limit_note_;
  std::string kind_;
};

// Checks a received message of n bytes (a datagram, or a message-queue message): its header must say n.
void check_whole_message(std::span<const std::byte> msg, std::string_view kind);

}  // namespace bench
