#include "harness/model_uring.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "harness/event_loop.hpp"

// Choices, and why:
// - One io_uring_enter per loop turn (io_uring_submit_and_wait): it submits every request queued while the
//   previous completions were handled and waits for the next; with several pairs busy, each call carries
//   several requests (the batching an epoll loop cannot do: it pays one read() or write() per request).
// - Completions reaped in bulk: io_uring_for_each_cqe over all that are ready, then one io_uring_cq_advance.
// - Registered files (IOSQE_FIXED_FILE): every request would otherwise look its descriptor up and take and drop
//   a reference on it, atomically, since the harness is multi-threaded; registered once, that cost is gone.
// - No registered buffers: they save pinning user pages per request, which matters for O_DIRECT storage. Pipe
//   and socket reads copy into the buffer either way, so READ_FIXED would only trade one copy routine for
//   another and tie every buffer to the ring.
// - No SQPOLL: a kernel thread polling the submission queue would take one of this machine's two cores.
// - IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them (6.1+): completion work runs when the
//   loop enters the kernel to wait, not by interrupting it mid-handler; else COOP_TASKRUN (5.19+); else none.
// - Reads ask for what the current frame still needs (header, then the rest), like the blocking servers'
//   endpoint: the models differ in how they wait, not in how much they read at once.
// - The descriptors are switched back to blocking: io_uring completes a request on an O_NONBLOCK file with
//   -EAGAIN instead of waiting for it, while on a blocking one it arms its internal poll and waits.

namespace bench {
namespace {

enum op : std::uint64_t { op_read = 1, op_write = 2, op_poll_in = 3, op_poll_out = 4, op_yield = 5 };
constexpr std::uint64_t wake_tag = ~std::uint64_t{0};
constexpr std::uint64_t tag(std::size_t pair, op o) { return (static_cast<std::uint64_t>(pair) << 3) | o; }

class ring {
 public:
  explicit ring(unsigned entries) {
    const unsigned tries[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_COOP_TASKRUN, 0};
    int rc = -EINVAL;
    for (unsigned flags : tries) {
      io_uring_params p{};
      p.flags = flags;
      rc = io_uring_queue_init_params(entries, &r_, &p);
      if (rc != -EINVAL) break;  // EINVAL: this kernel lacks a flag; try fewer
    }
    if (rc < 0) throw_errno("set up an io_uring", -rc);
  }
  ~ring() { io_uring_queue_exit(&r_); }
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;
  io_uring* get() { return &r_; }
  // A free submission slot; submits what is queued when the queue is full.
  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&r_);
    if (!s) {
      int rc = io_uring_submit(&r_);
      if (rc < 0) throw_errno("submit io_uring requests", -rc);
      s = io_uring_get_sqe(&r_);
      if (!s) throw std::runtime_error("cannot get an io_uring submission slot");
    }
    return s;
  }

 private:
  io_uring r_{};
};

// Where one pair's message stands.
struct conn_state {
  int in = -1, out = -1;  // registered-file indices
  bool datagram = false, message = false;
  std::size_t filled = 0, need = header_bytes;  // bytes of the current frame read / wanted so far
  std::span<const std::byte> reply;
  std::size_t written = 0;
  bool last = false;
  int budget = 0;  // message endpoints: messages taken in a row before yielding to the other pairs
};

class uring_host final : public event_loop_host {
 public:
  uring_host() : wake_(::eventfd(0, EFD_CLOEXEC)) {
    if (!wake_) throw_errno("create an eventfd");
  }
  ~uring_host() override { stop_and_join(); }
  void interrupt() noexcept override {
    request_abort();
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);  // completes the loop's wake read
  }

 private:
  void run_loop() override {
    std::size_t n = pairs_.size();
    ring r(static_cast<unsigned>(std::max<std::size_t>(8, 2 * n + 2)));
    r_ = &r;
    state_.assign(n, conn_state{});
    std::vector<int> files;
    for (std::size_t i = 0; i < n; ++i) {
      loop_pair& p = *pairs_[i];
      p.io = p.ep->native();
      conn_state& s = state_[i];
      using kind = endpoint::native_io::kind;
      if (p.io.type == kind::none) throw std::runtime_error("the transport offers no descriptor for an event loop");
      s.datagram = p.io.type == kind::datagram;
      s.message = p.io.type == kind::message;
      if (!s.message) {
        set_nonblocking(p.io.read_fd, false);
        set_nonblocking(p.io.write_fd, false);
      }
      s.in = static_cast<int>(files.size());
      files.push_back(p.io.read_fd);
      s.out = s.in;
      if (p.io.write_fd != p.io.read_fd) {
        s.out = static_cast<int>(files.size());
        files.push_back(p.io.write_fd);
      }
    }
    int wake_index = static_cast<int>(files.size());
    files.push_back(wake_.get());
    if (int rc = io_uring_register_files(r.get(), files.data(), static_cast<unsigned>(files.size())); rc < 0)
      throw_errno("register descriptors with io_uring", -rc);

    std::uint64_t wake_value = 0;
    io_uring_sqe* w = r.sqe();
    io_uring_prep_read(w, wake_index, &wake_value, sizeof wake_value, 0);
    w->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(w, wake_tag);

    for (auto& p : pairs_) p->session.ready();
    for (std::size_t i = 0; i < n; ++i) next_message(i);

    bool woken = false;
    while (pairs_left() > 0 && !woken && !abort_requested()) {
      int rc = io_uring_submit_and_wait(r.get(), 1);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) throw_errno("wait for io_uring completions", -rc);
      unsigned head, seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(r.get(), head, cqe) {
        ++seen;
        std::uint64_t t = io_uring_cqe_get_data64(cqe);
        if (t == wake_tag) {
          woken = true;
          continue;
        }
        std::size_t i = static_cast<std::size_t>(t >> 3);
        if (pairs_[i]->over) continue;
        try {
          complete(i, static_cast<op>(t & 7), cqe->res);
        } catch (const std::exception& e) {
          fail_pair(*pairs_[i], e.what(), dynamic_cast<const aborted_error*>(&e) != nullptr);
        }
      }
      io_uring_cq_advance(r.get(), seen);
    }
    r_ = nullptr;
  }

  void submit(std::size_t i, op o, int file, void* buf, std::size_t len) {
    io_uring_sqe* s = r_->sqe();
    switch (o) {
      case op_read: io_uring_prep_read(s, file, buf, static_cast<unsigned>(len), 0); break;
      case op_write: io_uring_prep_write(s, file, buf, static_cast<unsigned>(len), 0); break;
      case op_poll_in: io_uring_prep_poll_add(s, file, POLLIN); break;
      case op_poll_out:  // ZMQ_FD signals room to send as readable; a message queue as writable
        io_uring_prep_poll_add(s, file, pairs_[i]->io.send_polls_out ? POLLOUT : POLLIN);
        break;
      case op_yield: io_uring_prep_nop(s); break;
    }
    if (o != op_yield) s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, tag(i, o));
  }

  // Start reading the next message (or, for message endpoints, take what is there).
  void next_message(std::size_t i) {
    conn_state& s = state_[i];
    loop_pair& p = *pairs_[i];
    if (s.message) return pump(i);
    s.filled = 0;
    s.need = s.datagram ? p.buf.size() : header_bytes;
    submit(i, op_read, s.in, p.buf.data(), s.need);
  }

  void message_complete(std::size_t i, std::size_t len) {
    conn_state& s = state_[i];
    loop_pair& p = *pairs_[i];
    s.reply = {};
    s.written = 0;
    s.last = p.session.on_message(std::span<const std::byte>(p.buf.data(), len),
                                  [&s](std::span<const std::byte> r) { s.reply = r; });
    if (!s.reply.empty()) {
      submit(i, op_write, s.out, const_cast<std::byte*>(s.reply.data()), s.reply.size());
    } else if (s.last) {
      finish_pair(p);
    } else {
      next_message(i);
    }
  }

  void complete(std::size_t i, op o, int res) {
    conn_state& s = state_[i];
    loop_pair& p = *pairs_[i];
    if (o == op_poll_in || o == op_poll_out || o == op_yield) {
      if (res < 0 && res != -EINTR && res != -EAGAIN) throw_errno("wait for a message", -res);
      s.budget = 0;
      return pump(i);
    }
    if (res == -EINTR || res == -EAGAIN) {  // retry the same request
      if (o == op_read)
        submit(i, op_read, s.in, p.buf.data() + s.filled, s.need - s.filled);
      else
        submit(i, op_write, s.out, const_cast<std::byte*>(s.reply.data() + s.written), s.reply.size() - s.written);
      return;
    }
    if (res == -ECONNRESET || res == -EPIPE) throw peer_gone_error("the peer closed the connection");
    if (res < 0) throw_errno(o == op_read ? "read from the peer" : "write to the peer", -res);
    auto got = static_cast<std::size_t>(res);
    if (o == op_write) {
      s.written += got;
      if (s.written < s.reply.size()) {
        submit(i, op_write, s.out, const_cast<std::byte*>(s.reply.data() + s.written), s.reply.size() - s.written);
      } else if (s.last) {
        finish_pair(p);
      } else {
        next_message(i);
      }
      return;
    }
    if (got == 0) {
      if (s.filled == 0) throw peer_gone_error(p.session.closed_message());
      throw peer_gone_error("the peer closed the connection in the middle of a message");
    }
    std::span<const std::byte> buf(p.buf);
    if (s.datagram) {
      std::size_t len = frame_length(buf.first(got), buf.size());
      if (len != got) throw protocol_error(fmt::format("a datagram of {} bytes whose header says {}", got, len));
      return message_complete(i, got);
    }
    s.filled += got;
    if (s.filled == header_bytes && s.need == header_bytes) s.need = frame_length(buf, buf.size());
    if (s.filled < s.need) return submit(i, op_read, s.in, p.buf.data() + s.filled, s.need - s.filled);
    message_complete(i, s.need);
  }

  // Message endpoints (ZeroMQ, POSIX message queues): take and answer messages until a call would block, then wait on
  // the (edge-triggered) notification descriptor. POLL_ADD checks readiness when it is armed, so a notification that
  // came between the "would block" and the arming is not lost.
  void pump(std::size_t i) {
    conn_state& s = state_[i];
    loop_pair& p = *pairs_[i];
    for (;;) {
      if (!s.reply.empty()) {
        if (!p.ep->try_send(s.reply)) return submit(i, op_poll_out, s.out, nullptr, 0);
        s.reply = {};
      }
      if (s.last) return finish_pair(p);
      if (++s.budget > 64) {  // let the other pairs have their turn
        s.budget = 0;
        return submit(i, op_yield, -1, nullptr, 0);
      }
      std::optional<std::size_t> got = p.ep->try_recv(p.buf);
      if (!got) return submit(i, op_poll_in, s.in, nullptr, 0);
      if (*got == 0) throw peer_gone_error(p.session.closed_message());
      s.last = p.session.on_message(std::span<const std::byte>(p.buf.data(), *got),
                                    [&s](std::span<const std::byte> r) { s.reply = r; });
    }
  }

  unique_fd wake_;
  ring* r_ = nullptr;
  std::vector<conn_state> state_;
};

}  // namespace

std::unique_ptr<server_host> make_uring_host() { return std::make_unique<uring_host>(); }

std::string uring_unavailable_reason() {
  static const std::string why = [] {
    io_uring r{};
    int rc = io_uring_queue_init(4, &r, 0);
    if (rc < 0)
      return fmt::format(
          "the kernel refuses io_uring here (io_uring_queue_init: {}; a container's seccomp "
          "profile or kernel.io_uring_disabled does that)",
          std::strerror(-rc));
    io_uring_queue_exit(&r);
    return std::string();
  }();
  return why;
}

}  // namespace bench
