#include "transports/unix_stream.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "base/error.hpp"
#include "transports/stream_endpoint.hpp"

namespace bench {

channel make_unix_channel(const channel_options& opt) {
  std::string path = opt.scratch_dir + "/" + opt.unique_name + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("cannot bind UNIX socket: path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  unique_fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) throw_errno("create UNIX socket");
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("bind UNIX socket " + path);
  struct unlink_guard {
    std::string p;
    ~unlink_guard() { ::unlink(p.c_str()); }
  } guard{path};
  if (::listen(listener.get(), 1) != 0) throw_errno("listen on UNIX socket " + path);
  unique_fd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!client) throw_errno("create UNIX socket");
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("connect to UNIX socket " + path);
  unique_fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server) throw_errno("accept on UNIX socket " + path);

  channel ch;
  ch.client = std::make_unique<stream_endpoint>(std::move(client), opt.wait);
  ch.server = std::make_unique<stream_endpoint>(std::move(server), opt.wait);
  return ch;
}

}  // namespace bench
