#include "harness/control.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"

namespace bench {
namespace {

constexpr std::uint8_t magic[4] = {'B', 'N', 'C', 'C'};

void put16(std::byte* p, std::uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}
void put32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte((v >> (24 - 8 * i)) & 0xff);
}
std::uint32_t get(std::span<const std::byte> b, std::size_t at, int n) {
  std::uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b[at + static_cast<std::size_t>(i)]);
  return v;
}

// Waits until fd polls `events` or the deadline; false at the deadline. EINTR: asks `stop`.
bool wait_fd(int fd, short events, std::uint64_t deadline, bool (*stop)()) {
  for (;;) {
    if (stop && stop()) throw aborted_error("stopped while waiting for the peer");
    std::uint64_t now = now_ns();
    int slice = now >= deadline ? 0 : static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1'000'000 + 1, 100));
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, slice);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) throw_errno("poll the control connection");
    if (now >= deadline) return false;
  }
}

std::uint64_t after_ms(int ms) { return now_ns() + static_cast<std::uint64_t>(ms) * 1'000'000; }

// Reads exactly buf.size() bytes by the deadline. false: end of stream before the first byte.
bool read_all(int fd, std::span<std::byte> buf, std::uint64_t first_deadline, int rest_ms, bool (*stop)(),
              bool& timed_out) {
  std::size_t done = 0;
  std::uint64_t deadline = first_deadline;
  while (done < buf.size()) {
    if (!wait_fd(fd, POLLIN, deadline, stop)) {
      if (done)
        throw control_error(fmt::format("the peer stalled in the middle of a control frame ({} s)", rest_ms / 1000));
      timed_out = true;
      return false;
    }
    ssize_t n = ::recv(fd, buf.data() + done, buf.size() - done, MSG_DONTWAIT);
    if (n > 0) {
      if (done == 0 && deadline == first_deadline) deadline = after_ms(rest_ms);
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) {
      if (done == 0) return false;
      throw peer_gone_error("the peer closed the control connection in the middle of a frame");
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ECONNRESET) throw peer_gone_error("the peer reset the control connection");
    throw_errno("read the control connection");
  }
  return true;
}

}  // namespace

const char* to_string(control_type t) noexcept {
  switch (t) {
    case control_type::hello: return "hello";
    case control_type::welcome: return "welcome";
    case control_type::error: return "error";
    case control_type::run_case: return "run_case";
    case control_type::listening: return "listening";
    case control_type::ready: return "ready";
    case control_type::pair_done: return "pair_done";
    case control_type::case_end: return "case_end";
    case control_type::abort: return "abort";
    case control_type::bye: return "bye";
  }
  return "unknown";
}

std::vector<std::byte> encode_frame(control_type type, const json& body) {
  std::string text = body.dump();
  if (text.size() > max_control_payload)
    throw control_error(fmt::format("a {} frame of {} bytes exceeds the control protocol's {} bytes", to_string(type),
                                    text.size(), max_control_payload));
  std::vector<std::byte> out(control_header_bytes + text.size());
  std::memcpy(out.data(), magic, 4);
  put16(out.data() + 4, static_cast<std::uint16_t>(type));
  put16(out.data() + 6, 0);
  put32(out.data() + 8, static_cast<std::uint32_t>(text.size()));
  std::memcpy(out.data() + control_header_bytes, text.data(), text.size());
  return out;
}

std::pair<control_type, std::size_t> decode_header(std::span<const std::byte> h) {
  if (h.size() < control_header_bytes) throw control_error("a control frame header is 12 bytes");
  if (std::memcmp(h.data(), magic, 4) != 0)
    throw control_error("not a bench control frame (bad magic): is this a bench serve port?");
  std::uint32_t type = get(h, 4, 2), reserved = get(h, 6, 2), length = get(h, 8, 4);
  if (reserved != 0) throw control_error(fmt::format("control frame with reserved field {} (must be 0)", reserved));
  if (type < static_cast<std::uint32_t>(control_type::hello) || type > static_cast<std::uint32_t>(control_type::bye))
    throw control_error(fmt::format("unknown control frame type {}", type));
  if (length > max_control_payload)
    throw control_error(
        fmt::format("control frame of {} bytes exceeds the limit of {} bytes", length, max_control_payload));
  return {static_cast<control_type>(type), length};
}

json decode_body(std::span<const std::byte> payload) {
  json body = json::parse(reinterpret_cast<const char*>(payload.data()),
                          reinterpret_cast<const char*>(payload.data()) + payload.size(), nullptr, false);
  if (body.is_discarded()) throw control_error("control frame payload is not valid JSON");
  if (!body.is_object()) throw control_error("control frame payload is not a JSON object");
  return body;
}

json error_body(std::string_view code, std::string_view message) { return {{"code", code}, {"message", message}}; }

void control_channel::send(control_type type, const json& body, int timeout_ms) {
  std::vector<std::byte> frame = encode_frame(type, body);
  std::uint64_t deadline = after_ms(timeout_ms);
  std::size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = ::send(sock_.get(), frame.data() + done, frame.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(sock_.get(), POLLOUT, deadline, nullptr))
        throw peer_gone_error("the peer took no control frame within " + std::to_string(timeout_ms / 1000) + " s");
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
      throw peer_gone_error("the peer closed the control connection");
    throw_errno("write the control connection");
  }
}

std::optional<control_frame> control_channel::receive(int idle_ms, int frame_ms, bool (*stop)()) {
  std::byte header[control_header_bytes];
  bool timed_out = false;
  if (!read_all(sock_.get(), header, after_ms(idle_ms), frame_ms, stop, timed_out)) {
    if (timed_out) return std::nullopt;
    throw peer_gone_error("the peer closed the control connection");
  }
  auto [type, length] = decode_header(header);
  std::vector<std::byte> payload(length);
  if (length && !read_all(sock_.get(), payload, after_ms(frame_ms), frame_ms, stop, timed_out)) {
    if (timed_out)
      throw control_error(fmt::format("the peer stalled in the middle of a control frame ({} s)", frame_ms / 1000));
    throw peer_gone_error("the peer closed the control connection in the middle of a frame");
  }
  return control_frame{type, decode_body(payload)};
}

void control_channel::close() noexcept {
  if (!sock_) return;
  ::shutdown(sock_.get(), SHUT_WR);
  sock_.reset();
}

}  // namespace bench
