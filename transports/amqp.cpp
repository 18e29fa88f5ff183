#include "transports/amqp.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "transports/amqp_broker.hpp"

namespace bench {
namespace {

std::mutex url_mu;
std::string scoped_url, external_url;

std::string current_url() {
  std::lock_guard lock(url_mu);
  return scoped_url.empty() ? external_url : scoped_url;
}

constexpr amqp_channel_t chan = 1;
// A blocked receive wakes this often to see whether the case is being stopped: rabbitmq-c retries a poll()
// that a signal interrupted, so the watchdog's poke alone would not end the wait.
constexpr int recv_slice_ms = 50;
// Unused queues expire (x-expires): on a shared broker (--amqp-url) a run leaves none behind for long.
constexpr int queue_expiry_ms = 60'000;
// RPCs (declarations, closing) that take longer than this fail instead of hanging a case.
constexpr int rpc_timeout_ms = 10'000;

std::string library_text(int status) { return amqp_error_string2(status); }

std::string reply_text(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return {};
    case AMQP_RESPONSE_NONE: return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return library_text(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD || r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        // Both close methods begin with reply_code and reply_text.
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return fmt::format("the broker closed the {}: {} {}",
                           r.reply.id == AMQP_CHANNEL_CLOSE_METHOD ? "channel" : "connection", m->reply_code,
                           std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len));
      }
      return fmt::format("the broker answered with method 0x{:08x}", r.reply.id);
  }
  return "unknown reply";
}

struct amqp_link {
  std::string url;
  std::string to_server, to_client;  // queue names
  bool persistent = false;           // durable queues, persistent messages
  bool confirms = false;             // the publisher waits for the broker's confirm of every message
};

// One connection with one channel, opened in the process that uses it.
class connection {
 public:
  connection(const amqp_link& link, const std::string* consume_from) : owner_(::getpid()) {
    std::vector<char> url(link.url.begin(), link.url.end());
    url.push_back('\0');
    amqp_connection_info info{};
    if (amqp_parse_url(url.data(), &info) != AMQP_STATUS_OK)
      throw std::runtime_error("not an AMQP URL: " + amqp_url_for_display(link.url));
    conn_ = amqp_new_connection();
    timeval tv{rpc_timeout_ms / 1000, 0};
    amqp_set_handshake_timeout(conn_, &tv);
    amqp_set_rpc_timeout(conn_, &tv);
    amqp_socket_t* sock = amqp_tcp_socket_new(conn_);
    if (!sock) fail("cannot create an AMQP socket");
    if (int st = amqp_socket_open_noblock(sock, info.host, info.port, &tv); st != AMQP_STATUS_OK)
      fail(fmt::format("cannot connect to the AMQP broker at {}:{}: {}", info.host, info.port, library_text(st)));
    check(amqp_login(conn_, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password),
          "log in to the AMQP broker");
    logged_in_ = true;
    amqp_channel_open(conn_, chan);
    check(amqp_get_rpc_reply(conn_), "open an AMQP channel");
    // Both ends declare both queues before anything else, so that neither publishes to a queue not there yet
    // (the default exchange drops what it cannot route).
    amqp_table_entry_t expiry;
    expiry.key = amqp_cstring_bytes("x-expires");
    expiry.value.kind = AMQP_FIELD_KIND_I32;
    expiry.value.value.i32 = queue_expiry_ms;
    amqp_table_t args{1, &expiry};
    for (const std::string* q : {&link.to_server, &link.to_client}) {
      amqp_queue_declare(conn_, chan, amqp_cstring_bytes(q->c_str()), 0, link.persistent, 0, 0, args);
      check(amqp_get_rpc_reply(conn_), "declare the queue " + *q);
    }
    if (!consume_from && link.confirms) {
      amqp_confirm_select(conn_, chan);
      check(amqp_get_rpc_reply(conn_), "select publisher confirms");
      confirms_ = true;
    }
    if (consume_from) {
      // Automatic acknowledgement: the broker counts a message delivered once it is written to the socket, as
      // a reply queue usually works; the harness's credits bound what a stream leaves queued.
      amqp_basic_consume(conn_, chan, amqp_cstring_bytes(consume_from->c_str()), amqp_empty_bytes, 0, 1, 0,
                         amqp_empty_table);
      check(amqp_get_rpc_reply(conn_), "consume from the queue " + *consume_from);
    }
  }
  ~connection() {
    if (!conn_) return;
    // A forked copy (a process-model server holding its client's end) leaves the parent's connection alone.
    if (::getpid() != owner_) return;
    if (logged_in_ && healthy_) {
      amqp_channel_close(conn_, chan, AMQP_REPLY_SUCCESS);
      amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(conn_);
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void publish(const std::string& queue, std::span<const std::byte> msg, bool persistent) {
    ++published_;
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = persistent ? AMQP_DELIVERY_PERSISTENT : AMQP_DELIVERY_NONPERSISTENT;
    amqp_bytes_t body{msg.size(), const_cast<std::byte*>(msg.data())};
    int st = amqp_basic_publish(conn_, chan, amqp_empty_bytes, amqp_cstring_bytes(queue.c_str()), 0, 0, &props, body);
    if (st != AMQP_STATUS_OK) {
      healthy_ = false;
      throw std::runtime_error("cannot publish an AMQP message: " + library_text(st));
    }
    if (confirms_) await_confirm();
  }

  std::size_t consume(std::span<std::byte> buf) {
    for (;;) {
      amqp_maybe_release_buffers(conn_);
      amqp_envelope_t env;
      timeval slice{0, recv_slice_ms * 1000};
      amqp_rpc_reply_t r = amqp_consume_message(conn_, &env, &slice, 0);
      if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        std::size_t n = env.message.body.len;
        if (n > buf.size()) {
          amqp_destroy_envelope(&env);
          throw protocol_error(fmt::format("a {}-byte message does not fit the {}-byte buffer", n, buf.size()));
        }
        std::memcpy(buf.data(), env.message.body.bytes, n);
        amqp_destroy_envelope(&env);
        if (n == 0) return 0;
        if (n < header_bytes) throw protocol_error(fmt::format("a {}-byte message is shorter than a header", n));
        std::size_t len = frame_length(buf.first(n), buf.size());
        if (len != n) throw protocol_error(fmt::format("a {}-byte message whose header says {}", n, len));
        return n;
      }
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
        check_abort();
        continue;
      }
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        // A frame other than a delivery: the broker closing the channel or connection ends the case with its
        // reason; anything else (a basic.ack, connection.blocked) is read and passed over.
        amqp_frame_t frame;
        int st = amqp_simple_wait_frame(conn_, &frame);
        if (st != AMQP_STATUS_OK) fail_io("receive an AMQP frame", st);
        if (frame.frame_type == AMQP_FRAME_METHOD && (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                                                      frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)) {
          healthy_ = false;
          amqp_rpc_reply_t closed{};
          closed.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
          closed.reply = frame.payload.method;
          throw peer_gone_error(reply_text(closed));
        }
        continue;
      }
      healthy_ = false;
      throw std::runtime_error("cannot receive an AMQP message: " + reply_text(r));
    }
  }

 private:
  // Publisher confirms, one message at a time: the broker's basic.ack for this message (delivery tags count the
  // channel's publishes from 1; an ack may cover several). A nack, or the channel closing, fails the send.
  void await_confirm() {
    for (;;) {
      amqp_frame_t frame;
      timeval slice{0, recv_slice_ms * 1000};
      int st = amqp_simple_wait_frame_noblock(conn_, &frame, &slice);
      if (st == AMQP_STATUS_TIMEOUT) {
        check_abort();
        continue;
      }
      if (st != AMQP_STATUS_OK) fail_io("wait for a publisher confirm", st);
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      const amqp_method_number_t id = frame.payload.method.id;
      if (id == AMQP_BASIC_ACK_METHOD) {
        if (static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded)->delivery_tag >= published_) return;
      } else if (id == AMQP_BASIC_NACK_METHOD) {
        fail("the broker refused a message (basic.nack)");
      } else if (id == AMQP_CHANNEL_CLOSE_METHOD || id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_rpc_reply_t closed{};
        closed.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
        closed.reply = frame.payload.method;
        fail(reply_text(closed));
      }
    }
  }

  [[noreturn]] void fail(const std::string& what) {
    healthy_ = false;
    throw std::runtime_error(what);
  }
  [[noreturn]] void fail_io(const char* what, int st) { fail(fmt::format("cannot {}: {}", what, library_text(st))); }
  void check(const amqp_rpc_reply_t& r, const std::string& what) {
    if (r.reply_type != AMQP_RESPONSE_NORMAL) fail(fmt::format("cannot {}: {}", what, reply_text(r)));
  }

  amqp_connection_state_t conn_ = nullptr;
  pid_t owner_;
  bool logged_in_ = false;
  bool healthy_ = true;
  bool confirms_ = false;
  std::uint64_t published_ = 0;
};

class amqp_endpoint final : public endpoint {
 public:
  amqp_endpoint(std::shared_ptr<const amqp_link> link, bool server) : link_(std::move(link)), server_(server) {}

  void send(std::span<const std::byte> msg) override {
    open().pub->publish(server_ ? link_->to_client : link_->to_server, msg, link_->persistent);
  }
  std::size_t recv(std::span<std::byte> buf) override { return open().sub->consume(buf); }

 private:
  struct connections {
    std::unique_ptr<connection> pub, sub;
  };
  // Both connections open together on first use, so that a server (which receives first) has its reply path
  // ready before the first request arrives, and a client opens both before its first round trip is timed.
  // send() and recv() may race here (open-loop client); afterwards each uses only its own connection.
  connections& open() {
    if (opened_.load(std::memory_order_acquire) && pid_ == ::getpid()) return conns_;
    std::lock_guard lock(mu_);
    if (!opened_.load(std::memory_order_relaxed) || pid_ != ::getpid()) {
      if (pid_ != ::getpid()) {
        // Copies made in another process before the fork: never used here, never closed here.
        (void)conns_.pub.release();
        (void)conns_.sub.release();
      }
      conns_.pub = std::make_unique<connection>(*link_, nullptr);
      conns_.sub = std::make_unique<connection>(*link_, server_ ? &link_->to_server : &link_->to_client);
      pid_ = ::getpid();
      opened_.store(true, std::memory_order_release);
    }
    return conns_;
  }

  std::shared_ptr<const amqp_link> link_;
  bool server_;
  std::mutex mu_;
  std::atomic<bool> opened_{false};
  pid_t pid_ = -1;
  connections conns_;
};

std::string run_prefix() {
  // Queue names unique to this run on a broker that others may share (--amqp-url).
  static const std::string prefix = [] {
    std::random_device rd;
    return fmt::format("bench.{}.{:08x}", ::getpid(), rd());
  }();
  return prefix;
}

channel make_channel(const channel_options& opt, bool persistent, bool confirms) {
  std::string url = current_url();
  if (url.empty())
    throw std::runtime_error("no AMQP broker: bench run starts one for the amqp cases, or --amqp-url names one");
  auto link = std::make_shared<amqp_link>();
  link->url = std::move(url);
  // unique_name is unique within a run; the serial keeps two channels of one process apart whatever their names
  // (a queue outlives its channel until it expires, with whatever a failed case left in it).
  static std::atomic<std::uint64_t> serial{0};
  std::string base = fmt::format("{}.{}.{}", run_prefix(), serial.fetch_add(1), opt.unique_name);
  link->to_server = base + ".request";
  link->to_client = base + ".reply";
  link->persistent = persistent;
  link->confirms = confirms;
  channel ch;
  ch.client = std::make_unique<amqp_endpoint>(link, false);
  ch.server = std::make_unique<amqp_endpoint>(link, true);
  return ch;
}

}  // namespace

amqp_url_scope::amqp_url_scope(std::string url) {
  std::lock_guard lock(url_mu);
  scoped_url = std::move(url);
}
amqp_url_scope::~amqp_url_scope() {
  std::lock_guard lock(url_mu);
  scoped_url.clear();
}

void set_external_amqp_url(std::string url) {
  std::lock_guard lock(url_mu);
  external_url = std::move(url);
}
std::string external_amqp_url() {
  std::lock_guard lock(url_mu);
  return external_url;
}

std::string amqp_unavailable_reason() {
  if (!external_amqp_url().empty() || !rabbitmq_server_path().empty()) return {};
  return "rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server) and no --amqp-url names a broker";
}

bool uses_amqp_broker(const transport_info& t) { return t.name.starts_with("amqp"); }

std::string amqp_url_for_display(const std::string& url) {
  // amqp://user:password@host... -> amqp://user@host...
  std::size_t scheme = url.find("://");
  std::size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  std::size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

channel make_amqp_channel(const channel_options& opt) { return make_channel(opt, false, false); }
channel make_amqp_durable_channel(const channel_options& opt) { return make_channel(opt, true, false); }
channel make_amqp_confirmed_channel(const channel_options& opt) { return make_channel(opt, true, true); }

}  // namespace bench
