#include "transports/stream_endpoint.hpp"

#include "harness/error.hpp"
#include "harness/message.hpp"

namespace bench {

stream_endpoint::stream_endpoint(unique_fd in, unique_fd out, wait_mode wait)
    : in_(std::move(in)), out_(std::move(out)) {
  if (wait == wait_mode::spin) {
    set_nonblocking(in_.get(), true);
    set_nonblocking(out_.get(), true);
  }
}

stream_endpoint::stream_endpoint(unique_fd sock, wait_mode wait) : in_(std::move(sock)) {
  if (wait == wait_mode::spin) set_nonblocking(in_.get(), true);
}

void stream_endpoint::send(std::span<const std::byte> msg) { write_all(out_fd(), msg); }

std::size_t stream_endpoint::recv(std::span<std::byte> buf) {
  if (buf.size() < header_bytes) throw protocol_error("receive buffer smaller than a message header");
  if (!read_exact(in_.get(), buf.first(header_bytes))) return 0;
  std::size_t len = frame_length(buf, buf.size());
  if (!read_exact(in_.get(), buf.subspan(header_bytes, len - header_bytes))) {
    throw peer_gone_error("the peer closed the connection in the middle of a message");
  }
  return len;
}

}  // namespace bench
