#include "transports/stream_endpoint.hpp"

#include <unistd.h>

#include <cerrno>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/message.hpp"

namespace bench {

stream_endpoint::stream_endpoint(unique_fd in, unique_fd out, wait_mode wait)
    : in_(std::move(in)), out_(std::move(out)), spin_(wait == wait_mode::spin) {
  if (wait == wait_mode::spin) {
    set_nonblocking(in_.get(), true);
    set_nonblocking(out_.get(), true);
  }
}

stream_endpoint::stream_endpoint(unique_fd sock, wait_mode wait)
    : in_(std::move(sock)), spin_(wait == wait_mode::spin) {
  if (wait == wait_mode::spin) set_nonblocking(in_.get(), true);
}

void stream_endpoint::send(std::span<const std::byte> msg) { write_all(out_fd(), msg); }

std::size_t stream_endpoint::recv(std::span<std::byte> buf) {
  if (buf.size() < header_bytes) throw protocol_error("receive buffer smaller than a message header");
  if (!read_exact(in_.get(), buf.first(header_bytes))) return 0;
  return rest_of_message(buf, header_bytes);
}

std::optional<std::size_t> stream_endpoint::poll_recv(std::span<std::byte> buf) {
  if (!spin_) return std::nullopt;
  if (buf.size() < header_bytes) throw protocol_error("receive buffer smaller than a message header");
  ssize_t n = ::read(in_.get(), buf.data(), header_bytes);  // non-blocking in spin mode
  if (n == 0) return 0;                                     // the peer closed between messages
  if (n < 0) {
    int err = errno;
    if (err == EAGAIN || err == EINTR) {
      if (err == EINTR) check_abort();
      idle_.once();
      return std::nullopt;
    }
    if (err == ECONNRESET) throw peer_gone_error("the peer closed the connection");
    throw_errno("read from the peer", err);
  }
  // A message has begun: its rest follows at once (read_exact polls the non-blocking descriptor).
  return rest_of_message(buf, static_cast<std::size_t>(n));
}

std::size_t stream_endpoint::rest_of_message(std::span<std::byte> buf, std::size_t have) {
  if (have < header_bytes && !read_exact(in_.get(), buf.subspan(have, header_bytes - have))) {
    throw peer_gone_error("the peer closed the connection in the middle of a message");
  }
  std::size_t len = frame_length(buf, buf.size());
  if (!read_exact(in_.get(), buf.subspan(header_bytes, len - header_bytes))) {
    throw peer_gone_error("the peer closed the connection in the middle of a message");
  }
  return len;
}

}  // namespace bench
