// An endpoint over byte-stream descriptors (pipe, FIFO, stream sockets): messages are framed by their header,
// whatever sizes the kernel's reads and writes come in.
#pragma once

#include "base/fd.hpp"
#include "base/spin.hpp"
#include "transports/transport.hpp"

namespace bench {

class stream_endpoint final : public endpoint {
 public:
  // Reads from `in`, writes to `out`; both may be the same socket (then pass out = -1 owned elsewhere, see
  // make_socket_endpoint). In spin mode both descriptors are switched to non-blocking.
  stream_endpoint(unique_fd in, unique_fd out, wait_mode wait);
  // A bidirectional socket: one descriptor for both directions.
  stream_endpoint(unique_fd sock, wait_mode wait);

  void send(std::span<const std::byte> msg) override;
  std::size_t recv(std::span<std::byte> buf) override;
  int pollable_fd() const noexcept override { return in_.get(); }
  native_io native() override { return {native_io::kind::byte_stream, in_.get(), out_fd()}; }
  // --wait spin: the descriptor is polled anyway, so the open loop may poll it between sends.
  bool spin_receiver() const noexcept override { return spin_; }
  std::optional<std::size_t> poll_recv(std::span<std::byte> buf) override;

 private:
  // The rest of a message whose first `have` bytes (at least one) are in buf; returns its length.
  std::size_t rest_of_message(std::span<std::byte> buf, std::size_t have);

  unique_fd in_;
  unique_fd out_;  // empty when in_ is a bidirectional socket
  bool spin_ = false;
  spinner idle_{16};  // poll_recv's empty polls are system calls: yield every 16 (see spinner)
  int out_fd() const noexcept { return out_ ? out_.get() : in_.get(); }
};

}  // namespace bench
