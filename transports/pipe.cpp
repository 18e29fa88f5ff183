#include "transports/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "base/error.hpp"
#include "transports/stream_endpoint.hpp"

namespace bench {
namespace {
struct pipe_pair {
  unique_fd read_end, write_end;
};
pipe_pair make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("create pipe");
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}
}  // namespace

channel make_pipe_channel(const channel_options& opt) {
  // The default pipe capacity (64 KiB on Linux) is kept: larger messages take several writes and reads,
  // which is what a user of a pipe gets.
  pipe_pair to_server = make_pipe();
  pipe_pair to_client = make_pipe();
  channel ch;
  ch.client =
      std::make_unique<stream_endpoint>(std::move(to_client.read_end), std::move(to_server.write_end), opt.wait);
  ch.server =
      std::make_unique<stream_endpoint>(std::move(to_server.read_end), std::move(to_client.write_end), opt.wait);
  return ch;
}

}  // namespace bench
