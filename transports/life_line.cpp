#include "transports/life_line.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "base/error.hpp"

namespace bench {

life_line make_life_line() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("create a life-line pipe");
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

bool hung_up(int read_end) noexcept {
  pollfd p{read_end, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

}  // namespace bench
