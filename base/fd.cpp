#include "base/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/spin.hpp"

namespace bench {

const char* to_string(wait_mode w) noexcept { return w == wait_mode::spin ? "spin" : "block"; }

void unique_fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void set_nonblocking(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno("read descriptor flags");
  flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd, F_SETFL, flags) < 0) throw_errno("set descriptor flags");
}

namespace {
// EAGAIN happens only in spin mode (non-blocking descriptors); EINTR in both, when the watchdog pokes us.
void wait_again(int err, spinner& spin) {
  if (err == EINTR) {
    check_abort();
  } else if (err == EAGAIN) {
    spin.once();
  } else if (err == EPIPE || err == ECONNRESET) {
    throw peer_gone_error("the peer closed the connection");
  }
}
}  // namespace

void write_all(int fd, std::span<const std::byte> data) {
  spinner spin(16);  // each poll is a system call
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data = data.subspan(static_cast<std::size_t>(n));
      continue;
    }
    int err = errno;
    if (n < 0 && (err == EINTR || err == EAGAIN || err == EPIPE || err == ECONNRESET)) {
      wait_again(err, spin);
      continue;
    }
    throw_errno("write to the peer", err);
  }
}

bool read_exact(int fd, std::span<std::byte> data) {
  spinner spin(16);  // each poll is a system call
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) {
      if (done == 0) return false;
      throw peer_gone_error("the peer closed the connection in the middle of a message");
    }
    int err = errno;
    if (err == EINTR || err == EAGAIN || err == ECONNRESET) {
      wait_again(err, spin);
      continue;
    }
    throw_errno("read from the peer", err);
  }
  return true;
}

}  // namespace bench
