// Errors the harness raises, and the one place that turns errno into text.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bench {

// Bad input from the user: the CLI prints the message on one line and exits with status 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A peer broke the message protocol (bad magic, impossible length, checksum mismatch).
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The case was stopped on purpose: watchdog timeout or Ctrl-C.
class aborted_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The peer went away (EOF, EPIPE, ECONNRESET) while we still expected traffic.
class peer_gone_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "cannot <what>: <strerror>", e.g. sys_error("open FIFO /tmp/x") -> "cannot open FIFO /tmp/x: No such file".
std::string errno_text(std::string_view what, int err);
[[noreturn]] void throw_errno(std::string_view what, int err = errno);

}  // namespace bench
