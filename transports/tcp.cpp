#include "transports/tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/error.hpp"
#include "transports/stream_endpoint.hpp"

namespace bench {
namespace {
void set_nodelay(int fd) {
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) throw_errno("set TCP_NODELAY");
}
}  // namespace

channel make_tcp_channel(const channel_options& opt) {
  unique_fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) throw_errno("create TCP socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("bind TCP socket to 127.0.0.1");
  if (::listen(listener.get(), 1) != 0) throw_errno("listen on TCP socket");
  socklen_t len = sizeof addr;
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw_errno("read TCP port");

  unique_fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!client) throw_errno("create TCP socket");
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("connect to 127.0.0.1");
  unique_fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server) throw_errno("accept TCP connection");
  set_nodelay(client.get());
  set_nodelay(server.get());

  channel ch;
  ch.client = std::make_unique<stream_endpoint>(std::move(client), opt.wait);
  ch.server = std::make_unique<stream_endpoint>(std::move(server), opt.wait);
  return ch;
}

}  // namespace bench
