#include "transports/fifo.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "base/error.hpp"
#include "transports/stream_endpoint.hpp"

namespace bench {
namespace {
struct fifo_pair {
  unique_fd read_end, write_end;
};

fifo_pair make_fifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0) throw_errno("create FIFO " + path);
  // Opening the read end non-blocking first lets the write end open without a second thread; then the read
  // end is switched back to blocking (the endpoint chooses the wait mode).
  unique_fd r(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  int err = errno;
  if (!r) {
    ::unlink(path.c_str());
    throw_errno("open FIFO " + path + " for reading", err);
  }
  unique_fd w(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  err = errno;
  ::unlink(path.c_str());
  if (!w) throw_errno("open FIFO " + path + " for writing", err);
  set_nonblocking(r.get(), false);
  return {std::move(r), std::move(w)};
}
}  // namespace

channel make_fifo_channel(const channel_options& opt) {
  std::string base = opt.scratch_dir + "/" + opt.unique_name;
  fifo_pair to_server = make_fifo(base + ".c2s");
  fifo_pair to_client = make_fifo(base + ".s2c");
  channel ch;
  ch.client =
      std::make_unique<stream_endpoint>(std::move(to_client.read_end), std::move(to_server.write_end), opt.wait);
  ch.server =
      std::make_unique<stream_endpoint>(std::move(to_server.read_end), std::move(to_client.write_end), opt.wait);
  return ch;
}

}  // namespace bench
