// Life lines: how an endpoint learns that its peer is gone when the kernel object between them cannot say so
// (a shared-memory ring, a datagram socket, a message queue). Each side of a channel holds the write end of a
// pipe that never carries a byte; the other side holds the read end. The kernel counts descriptors across fork
// and closes them when a process dies (SIGKILL included), so the read end hangs up exactly when no process
// holds the side any more: an endpoint destroyed in the thread model, the last copy closed after fork, or a
// crash. A parent that drops its copy of the child's endpoint after fork changes nothing, as it must not.
#pragma once

#include "base/fd.hpp"

namespace bench {

struct life_line {
  unique_fd read_end;   // for the peer: polls hung up once every copy of write_end is closed
  unique_fd write_end;  // for the side it stands for; never written
};
life_line make_life_line();

// The pair of life lines of one channel, handed out to its two endpoints.
struct life_lines {
  life_line client, server;
  static life_lines make() { return {make_life_line(), make_life_line()}; }
};

// True once the line's far side is gone (every copy of its write end closed). Does not block.
bool hung_up(int read_end) noexcept;

// How long a side that sleeps in the kernel waits before it looks at its peer's life line again (where it
// cannot sleep on the life line itself): a timeout on the blocking call, so the hot path is unchanged.
inline constexpr int life_line_period_ms = 50;

}  // namespace bench
