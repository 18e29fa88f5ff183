#include "harness/model_async.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (g++ 12, C++20).
#include <utility>

#include <fmt/format.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <optional>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "harness/event_loop.hpp"

namespace bench {
namespace {
namespace asio = boost::asio;
using asio::awaitable;
using asio::posix::stream_descriptor;

// The loop reads what the current frame still needs (its header, then the rest of it), exactly like the
// blocking servers' stream_endpoint: the models then differ in how they wait, not in how much they read at once.
struct connection {
  loop_pair& pair;
  std::optional<stream_descriptor> in, out;  // out is empty when one socket carries both directions
  stream_descriptor& writer() { return out ? *out : *in; }
};

[[noreturn]] void throw_io(const boost::system::error_code& ec, std::string_view what) {
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    throw peer_gone_error("the peer closed the connection");
  throw_errno(what, ec.value());
}

// Reads exactly data.size() bytes; false on a clean end of stream before the first byte.
awaitable<bool> read_exact(stream_descriptor& d, std::span<std::byte> data) {
  boost::system::error_code ec;
  std::size_t n = co_await asio::async_read(d, asio::buffer(data.data(), data.size()),
                                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec == asio::error::eof) {
    if (n == 0) co_return false;
    throw peer_gone_error("the peer closed the connection in the middle of a message");
  }
  if (ec) throw_io(ec, "read from the peer");
  co_return true;
}

awaitable<void> write_all(stream_descriptor& d, std::span<const std::byte> data) {
  boost::system::error_code ec;
  co_await asio::async_write(d, asio::buffer(data.data(), data.size()), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) throw_io(ec, "write to the peer");
}

// One whole datagram: a single write (asio::async_write would cut it into 64 KiB writes, i.e. 64 KiB datagrams).
awaitable<void> write_datagram(stream_descriptor& d, std::span<const std::byte> data) {
  boost::system::error_code ec;
  std::size_t n = co_await d.async_write_some(asio::buffer(data.data(), data.size()),
                                              asio::redirect_error(asio::use_awaitable, ec));
  if (ec) throw_io(ec, "send a datagram");
  if (n != data.size()) throw std::runtime_error(fmt::format("a datagram of {} bytes went out as {}", data.size(), n));
}

// One message in, its answer (if any) out; true after the last one.
awaitable<bool> answer(connection& c, std::span<const std::byte> msg) {
  std::span<const std::byte> reply;
  bool last = c.pair.session.on_message(msg, [&](std::span<const std::byte> r) { reply = r; });
  if (!reply.empty()) {
    if (c.pair.io.type == endpoint::native_io::kind::datagram)
      co_await write_datagram(c.writer(), reply);
    else
      co_await write_all(c.writer(), reply);
  }
  co_return last;
}

awaitable<void> serve_stream(connection& c) {
  std::span<std::byte> buf(c.pair.buf);
  for (;;) {
    if (!co_await read_exact(*c.in, buf.first(header_bytes))) throw peer_gone_error(c.pair.session.closed_message());
    std::size_t len = frame_length(buf, buf.size());
    if (!co_await read_exact(*c.in, buf.subspan(header_bytes, len - header_bytes)))
      throw peer_gone_error("the peer closed the connection in the middle of a message");
    if (co_await answer(c, buf.first(len))) co_return;
  }
}

// A datagram socket: every read is one whole message, every write one whole message.
awaitable<void> serve_datagrams(connection& c) {
  std::span<std::byte> buf(c.pair.buf);
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await c.in->async_read_some(asio::buffer(buf.data(), buf.size()),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof || (!ec && n == 0)) throw peer_gone_error(c.pair.session.closed_message());
    if (ec) throw_io(ec, "receive from the peer");
    std::size_t len = frame_length(buf.first(n), buf.size());
    if (len != n) throw protocol_error(fmt::format("a datagram of {} bytes whose header says {}", n, len));
    if (co_await answer(c, buf.first(n))) co_return;
  }
}

// Message endpoints (ZeroMQ, POSIX message queues): whole messages through try_recv/try_send; ZeroMQ's
// descriptors only notify, edge-triggered.
// Asio's epoll registration is edge-triggered too, and an edge that arrives while no wait is queued is not
// remembered for async_wait. This is safe because the loop is one thread: each wait is queued in the same
// handler, right after a call that returned "would block" (which re-arms ZeroMQ's notification), and no
// epoll_wait can run in between.
awaitable<void> serve_messages(connection& c) {
  std::span<std::byte> buf(c.pair.buf);
  int budget = 0;
  for (;;) {
    std::optional<std::size_t> n;
    while (!(n = c.pair.ep->try_recv(buf))) {
      boost::system::error_code ec;
      co_await c.in->async_wait(stream_descriptor::wait_read, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) throw_io(ec, "wait for a message");
      budget = 0;
    }
    if (*n == 0) throw peer_gone_error(c.pair.session.closed_message());
    std::span<const std::byte> reply;
    bool last = c.pair.session.on_message(buf.first(*n), [&](std::span<const std::byte> r) { reply = r; });
    auto send_wait = c.pair.io.send_polls_out ? stream_descriptor::wait_write : stream_descriptor::wait_read;
    while (!reply.empty() && !c.pair.ep->try_send(reply)) {
      boost::system::error_code ec;
      co_await c.writer().async_wait(send_wait, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) throw_io(ec, "wait to send");
    }
    if (last) co_return;
    // Messages already queued are taken without waiting; every 64 the other connections get their turn.
    if (++budget == 64) {
      budget = 0;
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
  }
}

class async_host final : public event_loop_host {
 public:
  ~async_host() override { stop_and_join(); }
  void interrupt() noexcept override {
    request_abort();
    std::lock_guard lock(mu_);
    if (ctx_) ctx_->stop();  // thread-safe: wakes the reactor (its eventfd) and makes run() return
  }

 private:
  void run_loop() override {
    asio::io_context ctx(1);  // one thread: Asio may skip its internal locking
    {
      std::lock_guard lock(mu_);
      ctx_ = &ctx;
    }
    struct unpublish {
      async_host& h;
      ~unpublish() {
        std::lock_guard lock(h.mu_);
        h.ctx_ = nullptr;
      }
    } unpublish_on_exit{*this};
    std::vector<std::unique_ptr<connection>> conns;
    // The descriptors belong to the endpoints: Asio must give them back, not close them.
    struct release_all {
      std::vector<std::unique_ptr<connection>>& cs;
      ~release_all() {
        for (auto& c : cs) {
          if (c->in) c->in->release();
          if (c->out) c->out->release();
        }
      }
    } release_on_exit{conns};

    for (auto& p : pairs_) {
      p->io = p->ep->native();
      if (p->io.type == endpoint::native_io::kind::none)
        throw std::runtime_error("the transport offers no descriptor for an event loop");
      auto& c = *conns.emplace_back(new connection{*p, {}, {}});
      c.in.emplace(ctx, p->io.read_fd);
      if (p->io.write_fd != p->io.read_fd) c.out.emplace(ctx, p->io.write_fd);
    }
    for (auto& c : conns) {
      auto body = [&c]() -> awaitable<void> {
        switch (c->pair.io.type) {
          case endpoint::native_io::kind::datagram: return serve_datagrams(*c);
          case endpoint::native_io::kind::message: return serve_messages(*c);
          default: return serve_stream(*c);
        }
      };
      asio::co_spawn(
          ctx,
          [this, &c, body]() -> awaitable<void> {
            try {
              co_await body();
              finish_pair(c->pair);
            } catch (const std::exception& e) {
              fail_pair(c->pair, e.what(), dynamic_cast<const aborted_error*>(&e) != nullptr);
            }
          },
          asio::detached);
    }
    for (auto& p : pairs_) p->session.ready();
    if (abort_requested()) return;
    ctx.run();  // returns when every coroutine has ended, or at stop()
  }

  std::mutex mu_;
  asio::io_context* ctx_ = nullptr;
};

}  // namespace

std::unique_ptr<server_host> make_async_host() { return std::make_unique<async_host>(); }

}  // namespace bench
