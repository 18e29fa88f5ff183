// File descriptors as move-only values, and the two I/O loops every byte-stream transport uses.
#pragma once

#include <cstddef>
#include <span>
#include <utility>

namespace bench {

// How a blocked endpoint waits for its peer. `block` sleeps in the kernel; `spin` keeps the descriptor
// non-blocking and polls it in a loop (the like-for-like counterpart of a busy-polling shared-memory reader).
enum class wait_mode { block, spin };
const char* to_string(wait_mode w) noexcept;

class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept;  // close() is never retried: on Linux the descriptor is gone either way

 private:
  int fd_ = -1;
};

void set_nonblocking(int fd, bool on);

// In spin mode the descriptor is non-blocking (set by the transport) and EAGAIN is polled.
// Writes every byte, whatever the kernel accepts per call (a 1 MiB message over a 64 KiB pipe takes many
// writes). Throws peer_gone_error on EPIPE/ECONNRESET, aborted_error when the case is stopped.
void write_all(int fd, std::span<const std::byte> data);

// Reads exactly data.size() bytes, whatever each read returns. Returns false on a clean end of stream before
// the first byte (the peer closed between messages); throws peer_gone_error on an end of stream mid-way.
bool read_exact(int fd, std::span<std::byte> data);

}  // namespace bench
