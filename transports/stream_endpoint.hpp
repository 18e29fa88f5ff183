// An endpoint over byte-stream descriptors (pipe, FIFO, stream sockets): messages are framed by their header,
// whatever sizes the kernel's reads and writes come in.
#pragma once

#include "harness/fd.hpp"
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

 private:
  unique_fd in_;
  unique_fd out_;  // empty when in_ is a bidirectional socket
  int out_fd() const noexcept { return out_ ? out_.get() : in_.get(); }
};

}  // namespace bench
