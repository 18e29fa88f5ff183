#include "transports/datagram_endpoint.hpp"

#include <sys/socket.h>

#include "base/error.hpp"
#include "base/message.hpp"
#include "transports/retry.hpp"

namespace bench {

datagram_endpoint::datagram_endpoint(unique_fd sock, wait_mode wait, std::size_t max_datagram,
                                     std::string_view limit_note, std::string_view kind, unique_fd life_line,
                                     unique_fd peer_line)
    : sock_(std::move(sock)),
      wait_(wait),
      life_line_(std::move(life_line)),
      peer_line_(std::move(peer_line)),
      max_datagram_(max_datagram),
      limit_note_(limit_note),
      kind_(kind),
      poll_wait_(wait, peer_line_.get(), 16) {
  if (wait == wait_mode::spin) {
    set_nonblocking(sock_.get(), true);
  } else {
    timeval period{0, life_line_period_ms * 1000};
    for (int opt : {SO_RCVTIMEO, SO_SNDTIMEO}) {
      if (::setsockopt(sock_.get(), SOL_SOCKET, opt, &period, sizeof period) != 0)
        throw_errno("set a timeout on a " + kind_ + " socket");
    }
  }
}

void datagram_endpoint::send(std::span<const std::byte> msg) {
  if (msg.size() > max_datagram_) {
    throw protocol_error("message of " + std::to_string(msg.size()) + " bytes exceeds the largest " + kind_ +
                         " datagram here (" + std::to_string(max_datagram_) + " bytes: " + limit_note_ + ")");
  }
  // MSG_NOSIGNAL: a closed peer shows up as EPIPE, whatever the process does with SIGPIPE.
  ssize_t n = retry_call([&] { return ::send(sock_.get(), msg.data(), msg.size(), MSG_NOSIGNAL); },
                         peer_wait(wait_, peer_line_.get()));
  if (n < 0) {
    int err = errno;
    // ECONNREFUSED: a UDP peer whose socket is gone (the ICMP port-unreachable of an earlier datagram).
    if (err == EPIPE || err == ECONNRESET || err == ECONNREFUSED)
      throw peer_gone_error(errno_text("send to the " + kind_ + " peer", err));
    if (err == EMSGSIZE)
      throw protocol_error(
          errno_text("send a datagram of " + std::to_string(msg.size()) + " bytes over " + kind_, err));
    throw_errno("send a datagram over " + kind_, err);
  }
  if (static_cast<std::size_t>(n) != msg.size()) {
    throw protocol_error(kind_ + " sent " + std::to_string(n) + " of a " + std::to_string(msg.size()) +
                         "-byte datagram");
  }
}

std::size_t datagram_endpoint::recv(std::span<std::byte> buf) {
  // MSG_TRUNC: the result is the datagram's real length even when buf is shorter (the rest is discarded).
  ssize_t n = retry_call([&] { return ::recv(sock_.get(), buf.data(), buf.size(), MSG_TRUNC); },
                         peer_wait(wait_, peer_line_.get()));
  return received(n, buf);
}

std::optional<std::size_t> datagram_endpoint::poll_recv(std::span<std::byte> buf) {
  if (wait_ != wait_mode::spin) return std::nullopt;
  auto once = [&] { return ::recv(sock_.get(), buf.data(), buf.size(), MSG_TRUNC); };
  ssize_t n = once();
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    if (errno == EINTR) check_abort();
    if (poll_wait_()) return std::nullopt;  // a pause; false once the peer's life line hung up
    n = once();                             // the peer is gone: what it sent before it went comes first
    if (n < 0 && errno == EAGAIN) return 0;
  }
  return received(n, buf);
}

std::size_t datagram_endpoint::received(ssize_t n, std::span<std::byte> buf) {
  if (n < 0) {
    int err = errno;
    if (err == EPIPE) return 0;  // the peer's life line hung up, and nothing more came
    if (err == ECONNRESET || err == ECONNREFUSED)
      throw peer_gone_error(errno_text("receive from the " + kind_ + " peer", err));
    throw_errno("receive a datagram over " + kind_, err);
  }
  if (n == 0) return 0;  // seqpacket: the peer closed; no bench message is ever empty
  auto len = static_cast<std::size_t>(n);
  if (len > buf.size()) {
    throw protocol_error(kind_ + " datagram of " + std::to_string(len) + " bytes truncated by the " +
                         std::to_string(buf.size()) + "-byte receive buffer");
  }
  check_whole_message(buf.first(len), kind_);
  return len;
}

void check_whole_message(std::span<const std::byte> msg, std::string_view kind) {
  std::size_t len = frame_length(msg, msg.size());  // magic, and a length no larger than what arrived
  if (len != msg.size()) {
    throw protocol_error(std::string(kind) + " message of " + std::to_string(msg.size()) + " bytes whose header says " +
                         std::to_string(len));
  }
}

}  // namespace bench
