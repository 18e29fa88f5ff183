// The seam for the transports that can cross machines (tcp, udp, zmq-tcp): instead of making both ends of a
// channel in one process, the server end is made by listening on an address of the server's host (a port the
// kernel picks) and the client end by connecting to it from another host. Both ends are the same endpoint
// classes as the local channels (stream_endpoint, datagram_endpoint, the ZeroMQ endpoint), so framing and
// verification are the same code.
//
// One pair's ends meet in three steps, the ports travelling over bench's control connection (harness/control.hpp):
//   1. client side: make_client(local, opt)            binds what must be bound first (udp: its socket), ports()
//   2. server side: make_server(local, peer, ports, opt) binds (port 0) and, for udp, connects to the client;
//                   take_endpoint() goes to the model (thread, process, event loop), ports() back to the client
//   3. client side: connect(server, server_ports)      the endpoint the client drives
// The server's endpoint may finish its set-up on first use, in the thread or process that uses it (tcp accepts
// there; ZeroMQ binds there, since a ZeroMQ context does not survive fork): so ports() is read only after the
// model has started, and may wait for that.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "transports/transport.hpp"

namespace bench {

// An IPv4 or IPv6 address with a port.
struct net_address {
  sockaddr_storage storage{};
  socklen_t len = 0;

  int family() const noexcept { return storage.ss_family; }
  std::uint16_t port() const noexcept;
  void set_port(std::uint16_t p) noexcept;
  std::string host() const;                             // numeric: "10.0.0.2", "::1"
  std::string to_string() const;                        // "10.0.0.2:5300", "[::1]:5300"
  bool same_host(const net_address& o) const noexcept;  // address equal, port ignored
  bool loopback() const noexcept;
  bool any() const noexcept;  // 0.0.0.0 or ::
  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

// "HOST:PORT", "HOST" (default_port), "[V6]:PORT", ":PORT" (host given by default_host). Resolves names
// (getaddrinfo, first IPv4 result preferred). Throws usage_error with the text and the reason.
net_address parse_net_address(const std::string& text, std::uint16_t default_port,
                              const std::string& default_host = "");
// The local / remote address of a connected socket.
net_address local_address(int fd);
net_address peer_address(int fd);

// Connects a TCP socket (close-on-exec) to `to` within timeout_ms, binding it first to `from` (port 0) when
// given. Throws std::runtime_error "cannot connect to ADDR: <reason>"; aborted_error when the case is stopped.
unique_fd connect_tcp(const net_address& to, int timeout_ms, const net_address* from = nullptr);
// A listening TCP socket on `at` (its port may be 0: read it back with local_address).
unique_fd listen_tcp(const net_address& at, int backlog);

class remote_server_end {
 public:
  virtual ~remote_server_end() = default;
  // The endpoint, for the model's server (once).
  virtual std::unique_ptr<endpoint> take_endpoint() = 0;
  // The ports the client must connect to; called after the model has started. May wait until `deadline_ns`
  // (now_ns() clock) for the endpoint to bind in its own thread or process.
  virtual std::vector<std::uint16_t> ports(std::uint64_t deadline_ns) = 0;
};

class remote_client_end {
 public:
  virtual ~remote_client_end() = default;
  // What the server must know before it listens (udp: the client's port); empty for most.
  virtual std::vector<std::uint16_t> ports() const = 0;
  // The client's endpoint, connected to the server's ports (once). Waits at most timeout_ms.
  virtual std::unique_ptr<endpoint> connect(const net_address& server, std::span<const std::uint16_t> server_ports,
                                            int timeout_ms) = 0;
};

struct network_seam {
  // How many ports each side reports (checked on both sides before they are used).
  std::size_t client_ports = 0;
  std::size_t server_ports = 1;
  // `local`: the address of this host that the control connection uses (its port is ignored).
  std::function<std::unique_ptr<remote_client_end>(const net_address& local, const channel_options& opt)> make_client;
  // `peer`: the client host's address, the only one the server end accepts traffic from (where it can tell).
  std::function<std::unique_ptr<remote_server_end>(const net_address& local, const net_address& peer,
                                                   std::span<const std::uint16_t> client_ports,
                                                   const channel_options& opt)>
      make_server;
};

extern const network_seam tcp_network;
extern const network_seam udp_network;
extern const network_seam zmq_tcp_network;

}  // namespace bench
