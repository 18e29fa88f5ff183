#include "transports/udp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/error.hpp"
#include "transports/datagram_endpoint.hpp"

namespace bench {
namespace {
struct bound_socket {
  unique_fd fd;
  sockaddr_in addr{};
};

bound_socket bind_loopback() {
  bound_socket s;
  s.fd.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.fd) throw_errno("create UDP socket");
  s.addr.sin_family = AF_INET;
  s.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&s.addr), sizeof s.addr) != 0)
    throw_errno("bind UDP socket to 127.0.0.1");
  socklen_t len = sizeof s.addr;
  if (::getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&s.addr), &len) != 0) throw_errno("read UDP port");
  return s;
}

void connect_to(const bound_socket& from, const bound_socket& to) {
  if (::connect(from.fd.get(), reinterpret_cast<const sockaddr*>(&to.addr), sizeof to.addr) != 0) {
    throw_errno("connect UDP socket to 127.0.0.1:" + std::to_string(ntohs(to.addr.sin_port)));
  }
}
}  // namespace

// Any channel_options::max_msg_bytes is accepted (the row's limit tells the planner); send() refuses a datagram
// longer than 65507 bytes with that number.
channel make_udp_channel(const channel_options& opt) {
  bound_socket client = bind_loopback();
  bound_socket server = bind_loopback();
  // Connected both ways: send() needs no address, and datagrams from any other port are filtered out.
  connect_to(client, server);
  connect_to(server, client);
  channel ch;
  constexpr std::string_view note = "the largest IPv4 UDP payload";
  life_lines lines = life_lines::make();
  ch.client = std::make_unique<datagram_endpoint>(std::move(client.fd), opt.wait, udp_max_msg_bytes, note, "udp",
                                                  std::move(lines.client.write_end), std::move(lines.server.read_end));
  ch.server = std::make_unique<datagram_endpoint>(std::move(server.fd), opt.wait, udp_max_msg_bytes, note, "udp",
                                                  std::move(lines.server.write_end), std::move(lines.client.read_end));
  return ch;
}

}  // namespace bench
