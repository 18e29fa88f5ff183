#include "transports/network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "transports/datagram_endpoint.hpp"
#include "transports/life_line.hpp"
#include "transports/stream_endpoint.hpp"
#include "transports/udp.hpp"

namespace bench {

// --- addresses ---------------------------------------------------------------------------------------------

std::uint16_t net_address::port() const noexcept {
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

void net_address::set_port(std::uint16_t p) noexcept {
  if (family() == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(p);
  else
    reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(p);
}

std::string net_address::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
  else
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
  return buf;
}

std::string net_address::to_string() const {
  return family() == AF_INET6 ? fmt::format("[{}]:{}", host(), port()) : fmt::format("{}:{}", host(), port());
}

bool net_address::same_host(const net_address& o) const noexcept {
  if (family() != o.family()) return false;
  if (family() == AF_INET6)
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&o.storage)->sin6_addr, sizeof(in6_addr)) == 0;
  return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
         reinterpret_cast<const sockaddr_in*>(&o.storage)->sin_addr.s_addr;
}

bool net_address::loopback() const noexcept {
  if (family() == AF_INET6) return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
  return (ntohl(reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr) >> 24) == 127;
}

bool net_address::any() const noexcept {
  if (family() == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
  return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr == htonl(INADDR_ANY);
}

net_address parse_net_address(const std::string& text, std::uint16_t default_port, const std::string& default_host) {
  std::string host = text, port;
  if (!text.empty() && text.front() == '[') {  // [v6]:port
    auto close = text.find(']');
    if (close == std::string::npos) throw usage_error(fmt::format("'{}' is not an address: no closing ']'", text));
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') throw usage_error(fmt::format("'{}' is not HOST:PORT", text));
      port = text.substr(close + 2);
    }
  } else if (auto colon = text.rfind(':'); colon != std::string::npos && text.find(':') == colon) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) host = default_host;
  if (host.empty()) throw usage_error(fmt::format("'{}' names no host (HOST:PORT)", text));
  std::uint16_t p = default_port;
  if (!port.empty()) {
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || end != port.data() + port.size() || v > 65535)
      throw usage_error(fmt::format("'{}': port '{}' is not a number from 0 to 65535", text, port));
    p = static_cast<std::uint16_t>(v);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0)
    throw usage_error(fmt::format("cannot resolve '{}': {}", host, ::gai_strerror(rc)));
  const addrinfo* pick = res;
  for (const addrinfo* a = res; a; a = a->ai_next)
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  net_address out;
  std::memcpy(&out.storage, pick->ai_addr, pick->ai_addrlen);
  out.len = pick->ai_addrlen;
  ::freeaddrinfo(res);
  out.set_port(p);
  return out;
}

namespace {
net_address socket_name(int fd, bool peer) {
  net_address a;
  a.len = sizeof a.storage;
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.len)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.len);
  if (rc != 0) throw_errno(peer ? "read a socket's peer address" : "read a socket's address");
  return a;
}

net_address with_port(net_address a, std::uint16_t port) {
  a.set_port(port);
  return a;
}

void set_nodelay(int fd) {
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) throw_errno("set TCP_NODELAY");
}

// Waits until fd polls `events`, in slices that look at the case's abort flag; false at the deadline.
bool wait_for(int fd, short events, std::uint64_t deadline_ns) {
  for (;;) {
    check_abort();
    std::uint64_t now = now_ns();
    if (now >= deadline_ns) return false;
    int slice = static_cast<int>(std::min<std::uint64_t>((deadline_ns - now) / 1'000'000 + 1, 50));
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, slice);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) throw_errno("poll a socket");
  }
}
}  // namespace

net_address local_address(int fd) { return socket_name(fd, false); }
net_address peer_address(int fd) { return socket_name(fd, true); }

unique_fd connect_tcp(const net_address& to, int timeout_ms, const net_address* from) {
  unique_fd s(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s) throw_errno("create a TCP socket");
  if (from) {
    net_address f = with_port(*from, 0);
    if (::bind(s.get(), f.sa(), f.len) != 0) throw_errno("bind a TCP socket to " + f.host());
  }
  if (::connect(s.get(), to.sa(), to.len) != 0) {
    if (errno != EINPROGRESS) throw_errno("connect to " + to.to_string());
    if (!wait_for(s.get(), POLLOUT, now_ns() + static_cast<std::uint64_t>(timeout_ms) * 1'000'000))
      throw std::runtime_error(
          fmt::format("cannot connect to {}: no answer within {} s", to.to_string(), timeout_ms / 1000.0));
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) throw_errno("connect to " + to.to_string(), err);
  }
  set_nonblocking(s.get(), false);
  return s;
}

unique_fd listen_tcp(const net_address& at, int backlog) {
  unique_fd s(::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("create a TCP socket");
  int one = 1;
  // A restarted server may reuse its port at once, while connections of the last one sit in TIME_WAIT.
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s.get(), at.sa(), at.len) != 0) throw_errno("listen on " + at.to_string());
  if (::listen(s.get(), backlog) != 0) throw_errno("listen on " + at.to_string());
  return s;
}

namespace {

// An endpoint whose set-up finishes on first use, in the thread or process that uses it (a server's accept).
// The hot path pays one more indirect call per message than a local channel's server end.
class deferred_endpoint final : public endpoint {
 public:
  explicit deferred_endpoint(std::function<std::unique_ptr<endpoint>()> make) : make_(std::move(make)) {}
  void send(std::span<const std::byte> msg) override { get().send(msg); }
  std::size_t recv(std::span<std::byte> buf) override { return get().recv(buf); }
  int pollable_fd() const noexcept override { return ready_.load(std::memory_order_acquire) ? ep_->pollable_fd() : -1; }
  native_io native() override { return get().native(); }
  std::optional<std::size_t> try_recv(std::span<std::byte> buf) override { return get().try_recv(buf); }
  bool try_send(std::span<const std::byte> msg) override { return get().try_send(msg); }

 private:
  endpoint& get() {
    if (ready_.load(std::memory_order_acquire)) return *ep_;
    std::lock_guard lock(mu_);
    if (!ep_) {
      ep_ = make_();
      ready_.store(true, std::memory_order_release);
    }
    return *ep_;
  }
  std::function<std::unique_ptr<endpoint>()> make_;
  std::mutex mu_;
  std::atomic<bool> ready_{false};
  std::unique_ptr<endpoint> ep_;
};

// How long a server end waits for its client to connect: the case's own deadline on the server ends it sooner.
constexpr std::uint64_t accept_wait_ns = 30'000'000'000ull;

// --- tcp ---------------------------------------------------------------------------------------------------

class tcp_server_end final : public remote_server_end {
 public:
  tcp_server_end(const net_address& local, const net_address& peer, wait_mode wait)
      : listener_(std::make_shared<unique_fd>(listen_tcp(with_port(local, 0), 1))),
        port_(local_address(listener_->get()).port()),
        peer_(peer),
        wait_(wait) {}
  std::unique_ptr<endpoint> take_endpoint() override {
    return std::make_unique<deferred_endpoint>([listener = listener_, peer = peer_, wait = wait_] {
      // Only the client host's connection is taken; anything else that finds the port is closed.
      std::uint64_t deadline = now_ns() + accept_wait_ns;
      for (;;) {
        if (!wait_for(listener->get(), POLLIN, deadline))
          throw std::runtime_error(
              fmt::format("no TCP connection from {} within {} s", peer.host(), accept_wait_ns / 1'000'000'000));
        unique_fd s(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!s) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          throw_errno("accept a TCP connection");
        }
        if (!peer_address(s.get()).same_host(peer)) continue;
        listener->reset();  // one connection per pair: the port closes
        set_nodelay(s.get());
        return std::unique_ptr<endpoint>(std::make_unique<stream_endpoint>(std::move(s), wait));
      }
    });
  }
  std::vector<std::uint16_t> ports(std::uint64_t) override { return {port_}; }

 private:
  std::shared_ptr<unique_fd> listener_;
  std::uint16_t port_;
  net_address peer_;
  wait_mode wait_;
};

class tcp_client_end final : public remote_client_end {
 public:
  tcp_client_end(const net_address& local, wait_mode wait) : local_(local), wait_(wait) {}
  std::vector<std::uint16_t> ports() const override { return {}; }
  std::unique_ptr<endpoint> connect(const net_address& server, std::span<const std::uint16_t> server_ports,
                                    int timeout_ms) override {
    unique_fd s = connect_tcp(with_port(server, server_ports[0]), timeout_ms, &local_);
    set_nodelay(s.get());
    return std::make_unique<stream_endpoint>(std::move(s), wait_);
  }

 private:
  net_address local_;
  wait_mode wait_;
};

// --- udp ---------------------------------------------------------------------------------------------------

unique_fd bind_udp(const net_address& local, std::uint16_t& port) {
  unique_fd s(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("create a UDP socket");
  net_address at = with_port(local, 0);
  if (::bind(s.get(), at.sa(), at.len) != 0) throw_errno("bind a UDP socket to " + at.host());
  port = local_address(s.get()).port();
  return s;
}

void connect_udp(int fd, const net_address& to) {
  if (::connect(fd, to.sa(), to.len) != 0) throw_errno("connect a UDP socket to " + to.to_string());
}

// Across hosts there is no pipe to hang up when the peer dies: each end holds both ends of its own life line
// (so the line never hangs up), and a peer that goes away is seen through the control connection instead
// (the case is stopped there), or by the kernel's ICMP port-unreachable (ECONNREFUSED) where it arrives.
std::unique_ptr<endpoint> udp_endpoint(unique_fd s, wait_mode wait) {
  life_line own = make_life_line();
  return std::make_unique<datagram_endpoint>(std::move(s), wait, udp_max_msg_bytes, "the largest IPv4 UDP payload",
                                             "udp", std::move(own.write_end), std::move(own.read_end));
}

class udp_server_end final : public remote_server_end {
 public:
  udp_server_end(const net_address& local, const net_address& peer, std::uint16_t client_port, wait_mode wait)
      : wait_(wait) {
    sock_ = bind_udp(local, port_);
    connect_udp(sock_.get(), with_port(peer, client_port));  // datagrams from anywhere else are filtered out
  }
  std::unique_ptr<endpoint> take_endpoint() override { return udp_endpoint(std::move(sock_), wait_); }
  std::vector<std::uint16_t> ports(std::uint64_t) override { return {port_}; }

 private:
  unique_fd sock_;
  std::uint16_t port_ = 0;
  wait_mode wait_;
};

class udp_client_end final : public remote_client_end {
 public:
  udp_client_end(const net_address& local, wait_mode wait) : wait_(wait) { sock_ = bind_udp(local, port_); }
  std::vector<std::uint16_t> ports() const override { return {port_}; }
  std::unique_ptr<endpoint> connect(const net_address& server, std::span<const std::uint16_t> server_ports,
                                    int) override {
    connect_udp(sock_.get(), with_port(server, server_ports[0]));
    return udp_endpoint(std::move(sock_), wait_);
  }

 private:
  unique_fd sock_;
  std::uint16_t port_ = 0;
  wait_mode wait_;
};

}  // namespace

const network_seam tcp_network{
    .client_ports = 0,
    .server_ports = 1,
    .make_client = [](const net_address& local, const channel_options& opt) -> std::unique_ptr<remote_client_end> {
      return std::make_unique<tcp_client_end>(local, opt.wait);
    },
    .make_server = [](const net_address& local, const net_address& peer, std::span<const std::uint16_t>,
                      const channel_options& opt) -> std::unique_ptr<remote_server_end> {
      return std::make_unique<tcp_server_end>(local, peer, opt.wait);
    }};

const network_seam udp_network{
    .client_ports = 1,
    .server_ports = 1,
    .make_client = [](const net_address& local, const channel_options& opt) -> std::unique_ptr<remote_client_end> {
      return std::make_unique<udp_client_end>(local, opt.wait);
    },
    .make_server = [](const net_address& local, const net_address& peer, std::span<const std::uint16_t> client_ports,
                      const channel_options& opt) -> std::unique_ptr<remote_server_end> {
      return std::make_unique<udp_server_end>(local, peer, client_ports[0], opt.wait);
    }};

}  // namespace bench
