// The frame every message carries, so that every message proves it arrived intact and in order.
//
// Layout (32 bytes, then the payload):  magic | length | seq | stamp | flags | check
//   length  whole message in bytes, header included: this is the `msg_bytes` of every result row
//   seq     0, 1, 2, ... per sender; the receiver counts lost, duplicated and out-of-order messages from it
//   stamp   open-loop latency: the time the message was meant to be sent (so a stall is not hidden); in a
//           serializer's reply (--serializers), the server's decode and encode times (see workload.cpp)
//   check   32-bit fold of the sum of the payload's 64-bit words mixed with seq, stamp and flags
// The payload is a fixed pseudo-random pattern per case whose first word is rewritten with the sequence
// number, so the sender's cost is O(1) per message while the receiver reads every word (as a real consumer of
// the data would; the cross-core streaming floor is measured the same way).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace bench {

struct frame_header {
  std::uint32_t magic;
  std::uint32_t length;
  std::uint64_t seq;
  std::uint64_t stamp;
  std::uint32_t flags;
  std::uint32_t check;
};
static_assert(sizeof(frame_header) == 32, "the frame header is part of the wire format: 32 bytes, no padding");

inline constexpr std::uint32_t frame_magic = 0x48434e42;  // "BNCH" little-endian
inline constexpr std::size_t header_bytes = sizeof(frame_header);
inline constexpr std::size_t min_msg_bytes = header_bytes;
// Largest message the harness accepts (the length field is 32-bit; 64 MiB keeps buffers sane on laptops).
inline constexpr std::size_t max_msg_bytes = std::size_t{64} << 20;

inline constexpr std::uint32_t flag_warmup = 1u << 0;  // excluded from every figure
inline constexpr std::uint32_t flag_end = 1u << 1;     // last message of a case: the receiver stops
inline constexpr std::uint32_t flag_ack = 1u << 2;     // flow-control credit (lossy transports)

// Reads the header at the start of `bytes` and returns the message length after checking the magic and that
// the length fits in [header_bytes, capacity]. Throws protocol_error otherwise, so that a corrupt header is
// reported instead of being followed off the end of a buffer.
std::size_t frame_length(std::span<const std::byte> bytes, std::size_t capacity);

frame_header read_header(std::span<const std::byte> msg) noexcept;

// One sender's messages for one case.
class message_source {
 public:
  message_source(std::size_t msg_bytes, std::uint64_t seed);
  // Rewrites header and the first payload word for message `seq`; returns the whole message.
  std::span<const std::byte> next(std::uint64_t seq, std::uint32_t flags, std::uint64_t stamp = 0) noexcept;
  std::size_t size() const noexcept { return buf_.size(); }

 private:
  std::vector<std::byte> buf_;
  std::uint64_t rest_sum_ = 0;  // sum of every payload word except the first
};

// Frames payloads that change from message to message (a serializer's encoding of each message): copies the
// payload behind a header and seals it, the check covering every payload byte as for any other message.
class frame_writer {
 public:
  // The whole message, valid until the next call.
  std::span<const std::byte> write(std::span<const std::byte> payload, std::uint64_t seq, std::uint32_t flags,
                                   std::uint64_t stamp);

 private:
  std::vector<std::byte> buf_;
};

// Checks magic, length (== msg.size()) and checksum. False means corrupt.
bool verify_message(std::span<const std::byte> msg) noexcept;

// Tallies what one receiver saw: lost, duplicated and out-of-order from the sequence numbers.
struct sequence_tally {
  std::uint64_t expected = 0;
  std::uint64_t received = 0;
  std::uint64_t lost = 0;        // gaps in the sequence
  std::uint64_t duplicated = 0;  // a sequence number at or below one already seen (duplicate or reordered)
  std::uint64_t corrupt = 0;

  void observe(std::uint64_t seq) noexcept {
    ++received;
    if (seq == expected) {
      ++expected;
    } else if (seq > expected) {
      lost += seq - expected;
      expected = seq + 1;
    } else {
      ++duplicated;
    }
  }
};

}  // namespace bench
