#include "base/message.hpp"

#include <cstring>
#include <random>
#include <string>

#include "base/error.hpp"

namespace bench {
namespace {
constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ull;

std::uint64_t load_word(const std::byte* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Sum of the payload as little-endian 64-bit words; a short tail counts as a zero-padded word.
std::uint64_t payload_sum(std::span<const std::byte> p) noexcept {
  std::uint64_t s = 0;
  std::size_t i = 0;
  for (; i + 8 <= p.size(); i += 8) s += load_word(p.data() + i);
  if (i < p.size()) {
    std::uint64_t tail = 0;
    std::memcpy(&tail, p.data() + i, p.size() - i);
    s += tail;
  }
  return s;
}

// Covers the payload and every header field that the length and magic checks do not.
std::uint32_t fold(std::uint64_t sum, std::uint64_t seq, std::uint64_t stamp, std::uint32_t flags) noexcept {
  std::uint64_t x = sum + seq * golden;
  x ^= stamp * 0xC2B2AE3D27D4EB4Full + (std::uint64_t{flags} << 32 | flags) * 0x165667B19E3779F9ull;
  return static_cast<std::uint32_t>(x ^ (x >> 32));
}
// The header of a frame whose payload (already in place after it) sums to `sum` (payload_sum).
void write_header(std::span<std::byte> frame, std::uint64_t seq, std::uint32_t flags, std::uint64_t stamp,
                  std::uint64_t sum) noexcept {
  frame_header h{
      frame_magic, static_cast<std::uint32_t>(frame.size()), seq, stamp, flags, fold(sum, seq, stamp, flags)};
  std::memcpy(frame.data(), &h, sizeof h);
}

}  // namespace

frame_header read_header(std::span<const std::byte> msg) noexcept {
  frame_header h;
  std::memcpy(&h, msg.data(), sizeof h);
  return h;
}

std::size_t frame_length(std::span<const std::byte> bytes, std::size_t capacity) {
  if (bytes.size() < header_bytes) throw protocol_error("message shorter than its 32-byte header");
  frame_header h = read_header(bytes);
  if (h.magic != frame_magic) throw protocol_error("bad message header (wrong magic number)");
  if (h.length < header_bytes || h.length > capacity) {
    throw protocol_error("bad message header: length " + std::to_string(h.length) + " outside [32, " +
                         std::to_string(capacity) + "]");
  }
  return h.length;
}

message_source::message_source(std::size_t msg_bytes, std::uint64_t seed) : buf_(msg_bytes) {
  std::mt19937_64 rng(seed);
  for (std::size_t i = header_bytes; i < buf_.size(); i += 8) {
    std::uint64_t w = rng();
    std::memcpy(buf_.data() + i, &w, std::min<std::size_t>(8, buf_.size() - i));
  }
  if (buf_.size() >= header_bytes + 8) {
    rest_sum_ = payload_sum(std::span(buf_).subspan(header_bytes + 8));
  }
}

std::span<const std::byte> message_source::next(std::uint64_t seq, std::uint32_t flags, std::uint64_t stamp) noexcept {
  std::uint64_t sum = 0;
  if (buf_.size() >= header_bytes + 8) {
    std::uint64_t first = seq ^ golden;
    std::memcpy(buf_.data() + header_bytes, &first, 8);
    sum = rest_sum_ + first;
  } else {
    sum = payload_sum(std::span(buf_).subspan(header_bytes));
  }
  write_header(buf_, seq, flags, stamp, sum);
  return buf_;
}

std::span<const std::byte> frame_writer::write(std::span<const std::byte> payload, std::uint64_t seq,
                                               std::uint32_t flags, std::uint64_t stamp) {
  buf_.resize(header_bytes + payload.size());
  if (!payload.empty()) std::memcpy(buf_.data() + header_bytes, payload.data(), payload.size());
  write_header(buf_, seq, flags, stamp, payload_sum(payload));
  return buf_;
}

bool verify_message(std::span<const std::byte> msg) noexcept {
  if (msg.size() < header_bytes) return false;
  frame_header h = read_header(msg);
  if (h.magic != frame_magic || h.length != msg.size()) return false;
  return h.check == fold(payload_sum(msg.subspan(header_bytes)), h.seq, h.stamp, h.flags);
}

}  // namespace bench
