#include "transports/mq.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "base/error.hpp"
#include "base/message.hpp"
#include "transports/datagram_endpoint.hpp"
#include "transports/life_line.hpp"
#include "transports/retry.hpp"
#include "transports/sysctl.hpp"

namespace bench {
namespace {
// On Linux a message queue descriptor is a file descriptor (mq_overview(7)): mq_close() is close(), it can be
// polled, duplicated and inherited across fork, so unique_fd owns it.
static_assert(std::is_same_v<mqd_t, int>, "Linux: mqd_t is a file descriptor");

// The deadline of a blocking queue call: life_line_period_ms from now (mq_timed* take CLOCK_REALTIME).
timespec deadline() noexcept {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_nsec += life_line_period_ms * 1'000'000L;
  if (t.tv_nsec >= 1'000'000'000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1'000'000'000L;
  }
  return t;
}

class mq_endpoint final : public endpoint {
 public:
  // life_line: the write end of this side's life line; peer_line: the read end of the peer's.
  mq_endpoint(unique_fd send_q, unique_fd recv_q, std::size_t msgsize, wait_mode wait, unique_fd life_line,
              unique_fd peer_line)
      : send_q_(std::move(send_q)),
        recv_q_(std::move(recv_q)),
        msgsize_(msgsize),
        wait_(wait),
        life_line_(std::move(life_line)),
        peer_line_(std::move(peer_line)),
        scratch_(msgsize),
        poll_wait_(wait, peer_line_.get(), 16) {}

  // Block mode uses the timed calls (a queue has no notion of a peer: the wait looks at the peer's life line
  // between timeouts); spin mode's queue is non-blocking, where both return EAGAIN at once.
  void send(std::span<const std::byte> msg) override {
    auto* data = reinterpret_cast<const char*>(msg.data());
    auto call = [&] {
      timespec t = deadline();
      return ::mq_timedsend(send_q_.get(), data, msg.size(), 0, &t);
    };
    if (retry_call(call, peer_wait(wait_, peer_line_.get())) != 0) {
      int err = errno;
      if (err == EPIPE) throw peer_gone_error("the peer of the POSIX message queue is gone");
      if (err == EMSGSIZE) {
        throw protocol_error("message of " + std::to_string(msg.size()) + " bytes exceeds the queue's message size (" +
                             std::to_string(msgsize_) + " bytes)");
      }
      throw_errno("send on a POSIX message queue", err);
    }
  }

  std::size_t recv(std::span<std::byte> buf) override {
    // mq_receive wants room for the queue's largest message; a smaller caller buffer receives through scratch_.
    bool direct = buf.size() >= msgsize_;
    auto* target = reinterpret_cast<char*>(direct ? buf.data() : scratch_.data());
    auto call = [&] {
      timespec t = deadline();
      return ::mq_timedreceive(recv_q_.get(), target, msgsize_, nullptr, &t);
    };
    ssize_t n = retry_call(call, peer_wait(wait_, peer_line_.get()));
    if (n < 0 && errno == EPIPE) return 0;  // the peer's life line hung up, and nothing more came
    if (n < 0) throw_errno("receive from a POSIX message queue");
    auto len = static_cast<std::size_t>(n);
    if (!direct) {
      if (len > buf.size()) {
        throw protocol_error("message of " + std::to_string(len) + " bytes does not fit the " +
                             std::to_string(buf.size()) + "-byte receive buffer");
      }
      std::memcpy(buf.data(), scratch_.data(), len);
    }
    check_whole_message(buf.first(len), "mq");
    return len;
  }

  int pollable_fd() const noexcept override { return recv_q_.get(); }

  // For the event loops: a queue descriptor polls readable when a message is there, writable when there is
  // room. The timed calls with a deadline already past never block (and leave the descriptors' flags alone).
  native_io native() override { return {native_io::kind::message, recv_q_.get(), send_q_.get(), true}; }
  std::optional<std::size_t> try_recv(std::span<std::byte> buf) override {
    bool direct = buf.size() >= msgsize_;
    auto* target = reinterpret_cast<char*>(direct ? buf.data() : scratch_.data());
    ssize_t n = ::mq_timedreceive(recv_q_.get(), target, msgsize_, nullptr, &past_);
    if (n < 0) {
      if (errno == ETIMEDOUT || errno == EAGAIN || errno == EINTR) return std::nullopt;
      throw_errno("receive from a POSIX message queue");
    }
    auto len = static_cast<std::size_t>(n);
    if (!direct) {
      if (len > buf.size())
        throw protocol_error("message of " + std::to_string(len) + " bytes does not fit the " +
                             std::to_string(buf.size()) + "-byte receive buffer");
      std::memcpy(buf.data(), scratch_.data(), len);
    }
    check_whole_message(buf.first(len), "mq");
    return len;
  }
  // --wait spin: the queue is polled anyway, so the open loop may poll it between sends.
  bool spin_receiver() const noexcept override { return wait_ == wait_mode::spin; }
  std::optional<std::size_t> poll_recv(std::span<std::byte> buf) override {
    if (wait_ != wait_mode::spin) return std::nullopt;
    if (std::optional<std::size_t> n = try_recv(buf)) return n;
    if (poll_wait_()) return std::nullopt;                       // a pause; false once the peer's life line hung up
    if (std::optional<std::size_t> n = try_recv(buf)) return n;  // what the peer sent before it went comes first
    return 0;
  }

  bool try_send(std::span<const std::byte> msg) override {
    if (::mq_timedsend(send_q_.get(), reinterpret_cast<const char*>(msg.data()), msg.size(), 0, &past_) == 0)
      return true;
    if (errno == ETIMEDOUT || errno == EAGAIN || errno == EINTR) return false;
    throw_errno("send on a POSIX message queue");
  }

 private:
  static constexpr timespec past_{0, 0};  // CLOCK_REALTIME's epoch: any deadline there has passed
  unique_fd send_q_;
  unique_fd recv_q_;
  std::size_t msgsize_;
  wait_mode wait_;
  unique_fd life_line_;  // never written: closed with us
  unique_fd peer_line_;
  std::vector<std::byte> scratch_;  // msgsize_ bytes, allocated up front (nothing allocates per message)
  peer_wait poll_wait_;             // poll_recv's empty polls: each a system call, so a yield every 16
};

std::string queue_name(const channel_options& opt, const char* direction) {
  // Queue names are system-wide: the pid keeps two concurrent runs apart; a name has one leading '/' only.
  std::string name = "/bench-" + std::to_string(::getpid()) + "-" + opt.unique_name + "-" + direction;
  std::replace(name.begin() + 1, name.end(), '/', '_');
  return name;
}

unique_fd create_queue(const std::string& name, long maxmsg, long msgsize, wait_mode wait) {
  mq_attr attr{};
  attr.mq_maxmsg = maxmsg;
  attr.mq_msgsize = msgsize;
  int flags = O_RDWR | O_CREAT | O_EXCL | (wait == wait_mode::spin ? O_NONBLOCK : 0);
  unique_fd q(::mq_open(name.c_str(), flags, 0600, &attr));
  int err = errno;
  if (!q) {
    std::string what = "create POSIX message queue " + name + " (mq_maxmsg " + std::to_string(maxmsg) +
                       ", mq_msgsize " + std::to_string(msgsize) + ")";
    if (err == EMFILE) what += " [EMFILE also means RLIMIT_MSGQUEUE, the bytes a user's queues may hold: ulimit -q]";
    if (err == ENOSPC) what += " [ENOSPC: /proc/sys/fs/mqueue/queues_max queues exist already]";
    throw_errno(what, err);
  }
  // At once: the descriptor keeps the queue alive, the name is not needed any more.
  ::mq_unlink(name.c_str());
  return q;
}

unique_fd dup_queue(int q) {
  unique_fd copy(::fcntl(q, F_DUPFD_CLOEXEC, 0));
  if (!copy) throw_errno("duplicate a POSIX message queue descriptor");
  return copy;
}
}  // namespace

std::size_t mq_max_msg_bytes() noexcept { return read_sysctl(mq_msgsize_max_file).value_or(0); }

std::string mq_unavailable_reason() {
  if (!read_sysctl(mq_msgsize_max_file) || !read_sysctl(mq_msg_max_file)) {
    return std::string("cannot read ") + mq_msgsize_max_file + " and " + mq_msg_max_file +
           " (no POSIX message queues in this kernel?)";
  }
  return {};
}

channel make_mq_channel(const channel_options& opt) {
  std::optional<std::size_t> msgsize_max = read_sysctl(mq_msgsize_max_file);
  std::optional<std::size_t> msg_max = read_sysctl(mq_msg_max_file);
  if (!msgsize_max || !msg_max) throw std::runtime_error(mq_unavailable_reason());
  std::size_t msgsize = opt.max_msg_bytes ? std::max(opt.max_msg_bytes, header_bytes) : *msgsize_max;
  if (msgsize > *msgsize_max) {
    throw std::runtime_error("mq: a message of " + std::to_string(msgsize) +
                             " bytes exceeds the system's largest POSIX queue message (msgsize_max = " +
                             std::to_string(*msgsize_max) + " bytes, " + mq_msgsize_max_file + ")");
  }
  auto maxmsg = static_cast<long>(*msg_max);  // the queue depth: as deep as the system allows (msg_max)
  unique_fd to_server = create_queue(queue_name(opt, "c2s"), maxmsg, static_cast<long>(msgsize), opt.wait);
  unique_fd to_client = create_queue(queue_name(opt, "s2c"), maxmsg, static_cast<long>(msgsize), opt.wait);
  unique_fd to_server_dup = dup_queue(to_server.get());
  unique_fd to_client_dup = dup_queue(to_client.get());
  life_lines lines = life_lines::make();
  channel ch;
  ch.client = std::make_unique<mq_endpoint>(std::move(to_server), std::move(to_client), msgsize, opt.wait,
                                            std::move(lines.client.write_end), std::move(lines.server.read_end));
  ch.server = std::make_unique<mq_endpoint>(std::move(to_client_dup), std::move(to_server_dup), msgsize, opt.wait,
                                            std::move(lines.server.write_end), std::move(lines.client.read_end));
  return ch;
}

}  // namespace bench
