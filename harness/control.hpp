// The control protocol between `bench run ipc --peer HOST:PORT` (the client) and `bench serve` (the server), on
// its own TCP connection beside the data connections.
//
// Frame: a 12-byte header, then a JSON object of `length` bytes (UTF-8), all integers big-endian:
//     magic "BNCC" (4) | type (2) | reserved, 0 (2) | length (4)
// A frame longer than max_control_payload, a bad magic, a non-zero reserved field, an unknown type or a payload
// that is not a JSON object is refused with control_error (the reader cannot trust the rest of the stream).
//
// Conversation (protocol 1):
//   client                              server
//   hello {protocol, host, bench}  ->
//                                  <-   welcome {protocol, host, context}   or error {code, message}, then close
//   run_case {case...}             ->
//                                  <-   listening {ports: [[...] per pair]} or error {code: refused, ...}
//   (the client connects the data endpoints; the server's model is already waiting on them)
//                                  <-   ready                                (every server end started)
//                                  <-   pair_done {pair, slot}               (as each pair's server ends)
//   abort {reason}                 ->   (optional: the client stops the case)
//                                  <-   case_end {error, slots}
//   ... more run_case ...
//   bye                            ->   (then either side closes)
// Every figure the server reports is its own: CPU time, the CPUs it ran on, message counts, and for a stream the
// times of its first and last arrival by its own clock, used only as a difference. Nothing crosses hosts as a
// time stamp: the two clocks are not synchronized, so bench reports no one-way time across hosts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "harness/results.hpp"

namespace bench {

inline constexpr int control_protocol = 2;  // 2: run_case carries lock, serializer and shape
inline constexpr std::uint16_t default_serve_port = 5300;
inline constexpr std::size_t control_header_bytes = 12;
// The largest payload either side accepts: a server's machine context is a few KiB.
inline constexpr std::size_t max_control_payload = 1 << 20;

enum class control_type : std::uint16_t {
  hello = 1,
  welcome = 2,
  error = 3,
  run_case = 4,
  listening = 5,
  ready = 6,
  pair_done = 7,
  case_end = 8,
  abort = 9,
  bye = 10,
};
const char* to_string(control_type t) noexcept;

// A frame that breaks the protocol (framing or content): the message says what, for the peer and the user.
class control_error : public protocol_error {
 public:
  using protocol_error::protocol_error;
};

struct control_frame {
  control_type type = control_type::error;
  json body = json::object();
};

std::vector<std::byte> encode_frame(control_type type, const json& body);
// Checks a 12-byte header and returns the type and payload length. Throws control_error.
std::pair<control_type, std::size_t> decode_header(std::span<const std::byte> header);
// Parses a payload (a JSON object). Throws control_error.
json decode_body(std::span<const std::byte> payload);

// A control connection: whole frames in and out over a connected socket, with deadlines.
class control_channel {
 public:
  explicit control_channel(unique_fd sock) : sock_(std::move(sock)) {}
  int fd() const noexcept { return sock_.get(); }
  // Writes one whole frame (blocking, at most timeout_ms). Throws peer_gone_error if the peer is gone.
  void send(control_type type, const json& body = json::object(), int timeout_ms = 10'000);
  // Reads one whole frame. Waits at most idle_ms for it to begin and frame_ms for the rest once it has begun
  // (a peer that stalls mid-frame). nullopt: nothing arrived within idle_ms. Throws peer_gone_error when the
  // peer closed, control_error for a bad frame, aborted_error when `stop` returns true while waiting.
  std::optional<control_frame> receive(int idle_ms, int frame_ms = 10'000, bool (*stop)() = nullptr);
  // Half-closes the sending side (the peer reads end of stream after what was sent) and closes.
  void close() noexcept;

 private:
  unique_fd sock_;
};

// The error frame's fields.
json error_body(std::string_view code, std::string_view message);

}  // namespace bench
