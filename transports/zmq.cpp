#include "transports/zmq.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <zmq.hpp>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "base/spin.hpp"
#include "transports/network.hpp"

namespace bench {
namespace {

enum class scheme { inproc, ipc, tcp };
// pair: two PAIR sockets per endpoint, one per direction. reqrep: one REQ socket (client) and one REP socket
// (server), which carry requests and replies strictly in turn.
enum class pattern { pair, reqrep };

// How long closing a socket may wait to deliver what it still queues: a server process ends right after it has
// sent its last echo, which must still reach the client. Only a peer that is gone makes anyone wait this long.
constexpr int linger_ms = 500;

// Where the server's sockets can be reached, in memory shared across fork. The binder writes the addresses,
// then `state`; the connecter reads `state`, then the addresses.
struct rendezvous {
  enum : int { waiting = 0, published = 1, failed = 2 };
  std::atomic<int> state{waiting};
  char to_server[256] = {};
  char to_client[256] = {};
  char error[200] = {};
};
static_assert(std::atomic<int>::is_always_lock_free, "rendezvous::state is shared between processes");

class shared_rendezvous {
 public:
  shared_rendezvous() {
    void* p = ::mmap(nullptr, sizeof(rendezvous), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw_errno("map a ZeroMQ rendezvous");
    r_ = new (p) rendezvous();
  }
  ~shared_rendezvous() { ::munmap(r_, sizeof(rendezvous)); }  // each process unmaps its own view
  shared_rendezvous(const shared_rendezvous&) = delete;
  shared_rendezvous& operator=(const shared_rendezvous&) = delete;
  rendezvous& operator*() const noexcept { return *r_; }
  rendezvous* operator->() const noexcept { return r_; }

 private:
  rendezvous* r_;
};

void copy_text(char* dst, std::size_t cap, const std::string& s) {
  if (s.size() >= cap) throw std::runtime_error("ZeroMQ address too long: " + s);
  std::memcpy(dst, s.c_str(), s.size() + 1);
}

// A ZeroMQ object that belongs to the process that created it: in any other process (a forked child holding a
// copy) it is abandoned, never closed: closing would talk to I/O threads that exist only in the creator.
template <class T>
class per_process {
 public:
  per_process() = default;
  per_process(const per_process&) = delete;
  per_process& operator=(const per_process&) = delete;
  ~per_process() { reset(); }
  T* get() const noexcept { return p_ && pid_ == ::getpid() ? p_ : nullptr; }
  template <class... A>
  T& emplace(A&&... a) {
    reset();
    p_ = new T(std::forward<A>(a)...);
    pid_ = ::getpid();
    return *p_;
  }
  void reset() noexcept {
    if (p_ && pid_ == ::getpid()) delete p_;
    p_ = nullptr;
  }

 private:
  T* p_ = nullptr;
  pid_t pid_ = 0;
};

// What the two endpoints of a channel share within one process: the rendezvous and, once used, the context
// (inproc needs both ends in one context). Destroyed after both endpoints, so the context ends after the sockets.
struct zmq_link {
  scheme how;
  pattern kind = pattern::pair;
  std::string to_server, to_client;  // addresses to bind (tcp: with port *)
  int hwm;
  std::int64_t max_msg;
  std::string accept_from;  // remote server: the one host whose connections are accepted (ZMQ_TCP_ACCEPT_FILTER)
  bool ipv6 = false;        // remote: the addresses are IPv6
  // Shared, so that a remote server end can read it without keeping the link (and its context) alive.
  std::shared_ptr<shared_rendezvous> meeting = std::make_shared<shared_rendezvous>();
  std::mutex mu;
  per_process<zmq::context_t> ctx;

  zmq::context_t& context() {
    std::lock_guard lock(mu);
    if (zmq::context_t* c = ctx.get()) return *c;
    zmq::context_t& c = ctx.emplace(1);  // one I/O thread
    return c;
  }
  pid_t maker = ::getpid();  // the process that made the channel: it outlives every process that uses it
  ~zmq_link() {
    ctx.reset();  // waits for the I/O thread, which closes the ipc listeners (and unlinks their files)
    // A server process that was killed never closed its listeners: the maker removes their files. Only the
    // maker: a forked server dropping its copy of ANOTHER pair's channel must not unlink a path that pair's
    // server has just bound and its client has yet to connect to.
    if (how == scheme::ipc && maker == ::getpid()) {
      ::unlink(to_server.substr(6).c_str());
      if (kind == pattern::pair) ::unlink(to_client.substr(6).c_str());
    }
  }
};

class zmq_endpoint final : public endpoint {
 public:
  zmq_endpoint(std::shared_ptr<zmq_link> link, bool server, wait_mode wait)
      : link_(std::move(link)), server_(server), spin_(wait == wait_mode::spin) {}
  ~zmq_endpoint() override {
    in_.reset();
    out_.reset();
  }

  void send(std::span<const std::byte> msg) override {
    zmq::socket_t& s = open().out;
    spinner spin(16);
    for (;;) {
      try {
        if (s.send(zmq::const_buffer(msg.data(), msg.size()),
                   spin_ ? zmq::send_flags::dontwait : zmq::send_flags::none))
          return;
        spin.once();  // spin mode: the high-water mark is reached
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR)
          throw std::runtime_error(fmt::format("cannot send a ZeroMQ message: {}{}", e.what(), fsm_hint(e)));
        check_abort();
      }
    }
  }

  std::size_t recv(std::span<std::byte> buf) override {
    zmq::socket_t& s = open().in;
    spinner spin(16);
    for (;;) {
      try {
        if (auto r = s.recv(zmq::mutable_buffer(buf.data(), buf.size()),
                            spin_ ? zmq::recv_flags::dontwait : zmq::recv_flags::none))
          return checked(*r, buf);
        spin.once();
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR)
          throw std::runtime_error(fmt::format("cannot receive a ZeroMQ message: {}{}", e.what(), fsm_hint(e)));
        check_abort();  // the watchdog's poke: zmq_recv returns EINTR
      }
    }
  }

  native_io native() override {
    sockets s = open();
    return {native_io::kind::message, s.in.get(zmq::sockopt::fd), s.out.get(zmq::sockopt::fd)};
  }

  std::optional<std::size_t> try_recv(std::span<std::byte> buf) override {
    auto r = open().in.recv(zmq::mutable_buffer(buf.data(), buf.size()), zmq::recv_flags::dontwait);
    if (!r) return std::nullopt;
    return checked(*r, buf);
  }

  bool try_send(std::span<const std::byte> msg) override {
    return open().out.send(zmq::const_buffer(msg.data(), msg.size()), zmq::send_flags::dontwait).has_value();
  }

 private:
  struct sockets {
    zmq::socket_t& in;
    zmq::socket_t& out;
  };

  static const char* fsm_hint(const zmq::error_t& e) noexcept {
    return e.num() == EFSM ? " (REQ/REP: a request, then its reply, strictly in turn)" : "";
  }

  static std::size_t checked(zmq::recv_buffer_size r, std::span<std::byte> buf) {
    if (r.truncated())
      throw protocol_error(
          fmt::format("a {}-byte message does not fit the {}-byte buffer", r.untruncated_size, buf.size()));
    if (r.size == 0) return 0;  // not sent by bench: taken as the peer closing
    if (r.size < header_bytes) throw protocol_error(fmt::format("a {}-byte message is shorter than a header", r.size));
    std::size_t len = frame_length(buf.first(r.size), buf.size());
    if (len != r.size) throw protocol_error(fmt::format("a {}-byte message whose header says {}", r.size, len));
    return r.size;
  }

  // The sockets, created on first use in this process (for REQ/REP one socket serves as both). send() and
  // recv() may race here (open-loop client).
  sockets open() {
    if (opened_.load(std::memory_order_acquire) && in_.get()) return current();
    std::lock_guard lock(mu_);
    if (!in_.get()) {
      zmq::context_t& ctx = link_->context();
      bool pair = link_->kind == pattern::pair;
      zmq::socket_t& in = in_.emplace(ctx, pair      ? zmq::socket_type::pair
                                           : server_ ? zmq::socket_type::rep
                                                     : zmq::socket_type::req);
      zmq::socket_t& out = pair ? out_.emplace(ctx, zmq::socket_type::pair) : in;
      for (zmq::socket_t* s : {&in, &out}) {
        s->set(zmq::sockopt::linger, linger_ms);
        s->set(zmq::sockopt::sndhwm, link_->hwm);
        s->set(zmq::sockopt::rcvhwm, link_->hwm);
        s->set(zmq::sockopt::maxmsgsize, link_->max_msg);
        if (link_->ipv6) s->set(zmq::sockopt::ipv6, 1);
        // Deprecated in libzmq (ZAP is its successor) but still honoured, and all a benchmark needs.
        if (!link_->accept_from.empty())
          zmq_setsockopt(s->handle(), ZMQ_TCP_ACCEPT_FILTER, link_->accept_from.data(), link_->accept_from.size());
      }
      if (server_)
        bind(in, out);
      else
        connect(in, out);
      opened_.store(true, std::memory_order_release);
    }
    return current();
  }
  sockets current() const noexcept {
    zmq::socket_t* in = in_.get();
    zmq::socket_t* out = out_.get();
    return {*in, out ? *out : *in};
  }

  void bind(zmq::socket_t& in, zmq::socket_t& out) {
    rendezvous& r = **link_->meeting;
    try {
      in.bind(link_->to_server);
      copy_text(r.to_server, sizeof r.to_server, in.get(zmq::sockopt::last_endpoint));
      if (&out != &in) {
        out.bind(link_->to_client);
        copy_text(r.to_client, sizeof r.to_client, out.get(zmq::sockopt::last_endpoint));
      }
      r.state.store(rendezvous::published, std::memory_order_release);
    } catch (const std::exception& e) {
      std::string why = fmt::format("cannot bind ZeroMQ socket to {}: {}", link_->to_server, e.what());
      std::strncpy(r.error, why.c_str(), sizeof r.error - 1);
      r.state.store(rendezvous::failed, std::memory_order_release);
      throw std::runtime_error(why);
    }
  }

  void connect(zmq::socket_t& in, zmq::socket_t& out) {
    rendezvous& r = **link_->meeting;
    // The server binds when it first receives; until then, wait here (the watchdog's abort ends the wait).
    for (;;) {
      int st = r.state.load(std::memory_order_acquire);
      if (st == rendezvous::published) break;
      if (st == rendezvous::failed) throw std::runtime_error(std::string("the server could not bind: ") + r.error);
      check_abort();
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    out.connect(r.to_server);
    if (&out != &in) in.connect(r.to_client);
  }

  std::shared_ptr<zmq_link> link_;
  bool server_;
  bool spin_;
  std::mutex mu_;
  std::atomic<bool> opened_{false};
  per_process<zmq::socket_t> in_, out_;
};
channel make_channel(scheme how, const channel_options& opt, pattern kind = pattern::pair) {
  auto link = std::make_shared<zmq_link>();
  link->how = how;
  link->kind = kind;
  std::string base = opt.scratch_dir + "/" + opt.unique_name;
  switch (how) {
    case scheme::inproc:
      link->to_server = "inproc://" + opt.unique_name + ".c2s";
      link->to_client = "inproc://" + opt.unique_name + ".s2c";
      break;
    case scheme::ipc:
      link->to_server = "ipc://" + base + ".c2s.zmq";
      link->to_client = "ipc://" + base + ".s2c.zmq";
      // sockaddr_un's sun_path holds 107 characters and a terminating NUL
      if (base.size() + 8 > 107) throw std::runtime_error("cannot bind ZeroMQ ipc socket: path too long: " + base);
      break;
    case scheme::tcp:
      // Port 0 (`*`): the kernel picks a free one, read back through ZMQ_LAST_ENDPOINT; runs never collide.
      link->to_server = link->to_client = "tcp://127.0.0.1:*";
      break;
  }
  link->hwm = zmq_high_water_mark(opt.max_msg_bytes);
  link->max_msg = static_cast<std::int64_t>(std::max(opt.max_msg_bytes, header_bytes));
  channel ch;
  ch.client = std::make_unique<zmq_endpoint>(link, false, opt.wait);
  ch.server = std::make_unique<zmq_endpoint>(link, true, opt.wait);
  return ch;
}

}  // namespace

int zmq_high_water_mark(std::size_t largest) noexcept {
  // About 16 MiB queued each way at most (ZeroMQ's default of 1000 messages would be 1 GiB of 1 MiB messages),
  // between 16 and 1000 messages.
  std::size_t m = std::size_t{16} << 20;
  return static_cast<int>(std::clamp<std::size_t>(m / std::max<std::size_t>(largest, 1), 16, 1000));
}

// --- across machines (transports/network.hpp) ----------------------------------------------------------------
// The server end binds tcp://<its address>:* on first use, in the thread or process that uses it, and publishes
// the addresses in the link's shared rendezvous, where ports() reads them; the client end gets a rendezvous that
// is published from the start, holding the server's addresses.
namespace {

std::shared_ptr<zmq_link> remote_link(const channel_options& opt, bool ipv6) {
  auto link = std::make_shared<zmq_link>();
  link->how = scheme::tcp;
  link->ipv6 = ipv6;
  link->hwm = zmq_high_water_mark(opt.max_msg_bytes);
  link->max_msg = static_cast<std::int64_t>(std::max(opt.max_msg_bytes, header_bytes));
  return link;
}

std::string zmq_host(const net_address& a) { return a.family() == AF_INET6 ? fmt::format("[{}]", a.host()) : a.host(); }

std::uint16_t port_of(const char* endpoint) {
  std::string_view e(endpoint);
  auto colon = e.rfind(':');
  unsigned v = 0;
  if (colon == std::string_view::npos ||
      std::from_chars(e.data() + colon + 1, e.data() + e.size(), v).ec != std::errc() || v > 65535)
    throw std::runtime_error(fmt::format("ZeroMQ bound to an address without a port: {}", e));
  return static_cast<std::uint16_t>(v);
}

class zmq_server_end final : public remote_server_end {
 public:
  zmq_server_end(const net_address& local, const net_address& peer, const channel_options& opt)
      : link_(remote_link(opt, local.family() == AF_INET6)), meeting_(link_->meeting), wait_(opt.wait) {
    link_->to_server = link_->to_client = "tcp://" + zmq_host(local) + ":*";
    link_->accept_from = peer.host();
  }
  // The endpoint holds the only reference to the link: a forked server that closes it ends its context, which
  // delivers what it still queues (the last echo) before the process exits.
  std::unique_ptr<endpoint> take_endpoint() override {
    return std::make_unique<zmq_endpoint>(std::move(link_), true, wait_);
  }
  std::vector<std::uint16_t> ports(std::uint64_t deadline_ns) override {
    rendezvous& r = **meeting_;
    for (;;) {
      int st = r.state.load(std::memory_order_acquire);
      if (st == rendezvous::published) return {port_of(r.to_server), port_of(r.to_client)};
      if (st == rendezvous::failed) throw std::runtime_error(std::string("the server could not bind: ") + r.error);
      if (now_ns() > deadline_ns) throw std::runtime_error("the ZeroMQ server end did not bind within its deadline");
      check_abort();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

 private:
  std::shared_ptr<zmq_link> link_;
  std::shared_ptr<shared_rendezvous> meeting_;
  wait_mode wait_;
};

class zmq_client_end final : public remote_client_end {
 public:
  explicit zmq_client_end(const channel_options& opt) : opt_(opt) {}
  std::vector<std::uint16_t> ports() const override { return {}; }
  std::unique_ptr<endpoint> connect(const net_address& server, std::span<const std::uint16_t> ports, int) override {
    auto link = remote_link(opt_, server.family() == AF_INET6);
    rendezvous& r = **link->meeting;
    copy_text(r.to_server, sizeof r.to_server, fmt::format("tcp://{}:{}", zmq_host(server), ports[0]));
    copy_text(r.to_client, sizeof r.to_client, fmt::format("tcp://{}:{}", zmq_host(server), ports[1]));
    r.state.store(rendezvous::published, std::memory_order_release);
    return std::make_unique<zmq_endpoint>(std::move(link), false, opt_.wait);
  }

 private:
  channel_options opt_;
};

}  // namespace

const network_seam zmq_tcp_network{
    .client_ports = 0,
    .server_ports = 2,
    .make_client = [](const net_address&, const channel_options& opt) -> std::unique_ptr<remote_client_end> {
      return std::make_unique<zmq_client_end>(opt);
    },
    .make_server = [](const net_address& local, const net_address& peer, std::span<const std::uint16_t>,
                      const channel_options& opt) -> std::unique_ptr<remote_server_end> {
      return std::make_unique<zmq_server_end>(local, peer, opt);
    }};

channel make_zmq_inproc_channel(const channel_options& opt) { return make_channel(scheme::inproc, opt); }
channel make_zmq_ipc_channel(const channel_options& opt) { return make_channel(scheme::ipc, opt); }
channel make_zmq_tcp_channel(const channel_options& opt) { return make_channel(scheme::tcp, opt); }
channel make_zmq_reqrep_channel(const channel_options& opt) { return make_channel(scheme::ipc, opt, pattern::reqrep); }

}  // namespace bench
