#include "transports/shm_ring.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "base/spin.hpp"
#include "transports/life_line.hpp"
#include "transports/ring_loop.hpp"

namespace bench {
namespace {

// How long a sleeping side sleeps at most before it looks again for an abort request and for its peer's death.
constexpr int liveness_period_ms = 20;
// How long the adaptive wait spins before it sleeps: about one futex wake-up across cores on the project's VMs
// (docs/MEASURED.md). Spinning as long as blocking would cost keeps any wait within twice its
// optimum (the classic spin-then-block argument), and a responsive peer (well under a microsecond) is always
// caught while spinning.
constexpr std::uint64_t adaptive_spin_ns = 20'000;
// Polls between two liveness checks of a spinning side (a check is one poll() system call, under a microsecond).
constexpr std::uint64_t spin_polls_per_check = 8192;

std::string size_text(std::size_t bytes) { return std::to_string(bytes) + " bytes"; }

// --- futex --------------------------------------------------------------------------------------------------
// Not FUTEX_PRIVATE: the two sides map the segment at different addresses (two mappings in one process, or two
// processes). A shared futex is keyed by the file page and offset of the word, so it finds the waiter through
// either mapping; a private one would be keyed by address and would never wake the other mapping's sleeper.
std::uint32_t* futex_word(std::atomic<std::uint32_t>& a) noexcept { return reinterpret_cast<std::uint32_t*>(&a); }

// Sleeps while the word still holds `expected`, for at most liveness_period_ms. Returns on a wake-up, a
// changed value, the timeout, or a signal (EINTR: the watchdog's poke); the caller re-checks everything.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  timespec timeout{0, liveness_period_ms * 1'000'000L};
  if (::syscall(SYS_futex, futex_word(word), FUTEX_WAIT, expected, &timeout, nullptr, 0) != 0) {
    int err = errno;
    if (err != EAGAIN && err != ETIMEDOUT && err != EINTR) throw_errno("wait on the shared ring's futex", err);
  }
}

void futex_wake(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, futex_word(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// --- copying with wrap-around ---------------------------------------------------------------------------------
void copy_into_ring(std::byte* data, std::uint32_t capacity, std::uint32_t index,
                    std::span<const std::byte> src) noexcept {
  std::size_t off = index & (capacity - 1);
  std::size_t first = std::min<std::size_t>(src.size(), capacity - off);
  std::memcpy(data + off, src.data(), first);
  if (first < src.size()) std::memcpy(data, src.data() + first, src.size() - first);
}

void copy_from_ring(const std::byte* data, std::uint32_t capacity, std::uint32_t index,
                    std::span<std::byte> dst) noexcept {
  std::size_t off = index & (capacity - 1);
  std::size_t first = std::min<std::size_t>(dst.size(), capacity - off);
  std::memcpy(dst.data(), data + off, first);
  if (first < dst.size()) std::memcpy(dst.data() + first, data, dst.size() - first);
}

// The first 8 bytes of a record (magic and length of the message's own header): its ready word. Records start
// on a cache line, so the word is 8-aligned and never wraps.
std::atomic_ref<std::uint64_t> ready_word(std::byte* data, std::uint32_t capacity, std::uint32_t index) noexcept {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(data + (index & (capacity - 1))));
}
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free && header_bytes >= sizeof(std::uint64_t));

// The header's length field: bytes 4..7, the high half of the word on a little-endian machine.
static_assert(std::endian::native == std::endian::little, "the ready word is read as magic | length << 32");
std::uint32_t length_of(std::uint64_t word) noexcept { return static_cast<std::uint32_t>(word >> 32); }

// --- the two halves of one ring ---------------------------------------------------------------------------
// Each keeps its own index privately (it is the only writer of it) and a cached copy of the other side's, so
// that the shared line of the other index is read only when the cached value says "full" or "not indexed".
class ring_producer {
 public:
  ring_producer(ring_control& ctl, std::byte* data, std::uint32_t capacity) noexcept
      : ctl_(ctl),
        data_(data),
        capacity_(capacity),
        head_(ctl.head.load(std::memory_order_relaxed)),
        tail_seen_(ctl.tail.load(std::memory_order_relaxed)),
        cleared_(head_ + cache_line_bytes) {}  // make_ring_channel zeroes the first record's ready word

  // Copies msg (at least a header: send() checks) into the ring and publishes it; false if there is no room
  // for it now.
  [[nodiscard]] bool try_push(std::span<const std::byte> msg) {
    auto need = static_cast<std::uint32_t>(ring_record_bytes(msg.size()));
    if (!has_room(tail_seen_, need)) {
      // acquire: the consumer's reads of the records it released happen before we overwrite them.
      tail_seen_ = ctl_.tail.load(std::memory_order_acquire);
      if (head_ - tail_seen_ > capacity_)
        throw protocol_error("shared ring corrupt: consumer index ahead of the producer's");
      if (!has_room(tail_seen_, need)) return false;
    }
    // The next record's ready word must read 0 before this record is published (its line is free: has_room
    // keeps one line of slack), so the consumer can never take stale bytes of an earlier lap there for a header.
    // Usually clear_ahead() zeroed it after an earlier publish; only a record that reaches past the cleared
    // lines (a long one, or a ring too full to clear ahead) pays for the clear here, before its publish.
    const std::uint32_t next = head_ + need;
    if (!cleared(next)) {
      ready_word(data_, capacity_, next).store(0, std::memory_order_relaxed);  // ordered by the release below
      cleared_ = next + cache_line_bytes;
    }
    copy_into_ring(data_, capacity_, head_ + 8, msg.subspan(8));
    std::uint64_t word;
    std::memcpy(&word, msg.data(), sizeof word);
    // release: the rest of the record, and the cleared word after it, are visible before its ready word.
    ready_word(data_, capacity_, head_).store(word, std::memory_order_release);
    head_ = next;
    // release: the same for the index, which a sleeping consumer waits on (and which it checks the records
    // longer than one line against).
    ctl_.head.store(head_, std::memory_order_release);
    clear_ahead();
    return true;
  }
  // Room for a record of `need` bytes and the ready word of the one after it.
  bool has_room(std::uint32_t tail, std::uint32_t need) const noexcept {
    return capacity_ - (head_ - tail) >= need + cache_line_bytes;
  }

 private:
  // Whether the line at `index` (at or after head_) is below cleared_, i.e. its ready word was zeroed in this lap.
  bool cleared(std::uint32_t index) const noexcept { return cleared_ - index - 1 < capacity_; }

  // Zeroes the ready words of the free lines just past head_, up to clear_lead_bytes ahead of it, AFTER the
  // publish: the store that takes a line from the consumer (which read it a lap ago) then overlaps the wait for
  // the reply, instead of sitting in the store buffer in front of the next ready word. A small message thus
  // moves only its own line on the critical path. Only lines the consumer has released (per the cached tail)
  // are touched; the shared tail is not read for this. Invariant: every line start in [head_, cleared_) reads 0.
  void clear_ahead() noexcept {
    while (cleared_ - head_ < clear_lead_bytes && cleared_ + cache_line_bytes - tail_seen_ <= capacity_) {
      ready_word(data_, capacity_, cleared_).store(0, std::memory_order_relaxed);  // ordered by the next publish
      cleared_ += cache_line_bytes;
    }
  }
  // 4 lines: far enough ahead that the line being cleared is not the one the consumer polls next.
  static constexpr std::uint32_t clear_lead_bytes = 4 * cache_line_bytes;

  ring_control& ctl_;
  std::byte* data_;
  std::uint32_t capacity_;
  std::uint32_t head_;
  std::uint32_t tail_seen_;
  std::uint32_t cleared_;  // the ready words of the line starts in [head_, cleared_) are 0
};

class ring_consumer {
 public:
  ring_consumer(ring_control& ctl, std::byte* data, std::uint32_t capacity) noexcept
      : ctl_(ctl),
        data_(data),
        capacity_(capacity),
        tail_(ctl.tail.load(std::memory_order_relaxed)),
        head_seen_(ctl.head.load(std::memory_order_relaxed)) {}

  // True if try_pop would find a message. A record of one line is published by its ready word alone, so a
  // ping-pong of small messages moves one cache line per message, as the floor's handoff does; a longer one
  // waits until the producer index covers it as well (the index is stored right after the ready word).
  [[nodiscard]] bool ready() {
    // acquire: pairs with the producer's release store of the word.
    std::uint64_t word = ready_word(data_, capacity_, tail_).load(std::memory_order_acquire);
    if (word == 0) return false;
    if (length_of(word) <= cache_line_bytes) return true;
    return head_seen_ != tail_ || load_head() != tail_;
  }

  // Checks the producer index against the ring: at most the capacity ahead, whole records, and if it says a
  // record is published, that record's ready word is set. Throws protocol_error if not. (Called while waiting:
  // a consumer that polls only ready words would otherwise wait forever on a corrupt ring.)
  void check_index() {
    std::uint32_t head = load_head();  // first the index, then the word it vouches for
    if (head != tail_ && ready_word(data_, capacity_, tail_).load(std::memory_order_acquire) == 0) {
      throw protocol_error(
          "shared ring corrupt: the producer index says a message is published but its header is empty");
    }
  }

  // Copies the next message into buf, releases its record and returns its length; 0 if there is none yet.
  // The header is checked before anything is copied: a wrong magic, a length outside [32, capacity - 64], a
  // length that runs past the bytes published, or one larger than buf throws protocol_error. So a corrupt
  // header is reported and never followed off the end of the ring or of buf.
  [[nodiscard]] std::size_t try_pop(std::span<std::byte> buf) {
    std::size_t len = next_length();
    if (len == 0) return 0;
    if (len > buf.size()) {
      throw protocol_error("message of " + size_text(len) + " does not fit the " + size_text(buf.size()) +
                           " receive buffer");
    }
    copy_from_ring(data_, capacity_, tail_, buf.first(len));
    release(len);
    return len;
  }

  // The next message where it lies in the ring, checked as try_pop checks it; empty if there is none yet. A
  // record that wraps past the end of the ring is copied into `scratch` and the span points there. The record
  // stays the consumer's (the producer cannot reuse its room) until release(span.size()).
  [[nodiscard]] std::span<const std::byte> try_peek(std::vector<std::byte>& scratch) {
    std::size_t len = next_length();
    if (len == 0) return {};
    std::size_t off = tail_ & (capacity_ - 1);
    if (off + len <= capacity_) return {data_ + off, len};
    scratch.resize(len);
    copy_from_ring(data_, capacity_, tail_, scratch);
    return scratch;
  }

  // Gives the record of the message of `len` bytes at the consumer index back to the producer.
  void release(std::size_t len) {
    tail_ += static_cast<std::uint32_t>(ring_record_bytes(len));
    // release: our reads of the record are complete before the producer may reuse its bytes.
    ctl_.tail.store(tail_, std::memory_order_release);
  }

 private:
  // The length of the next message, its header checked (see try_pop); 0 if there is none yet.
  std::size_t next_length() {
    std::uint64_t word = ready_word(data_, capacity_, tail_).load(std::memory_order_acquire);
    if (word == 0) return 0;
    // The header never wraps (a record starts on a line, and a line holds it whole): one fixed-size copy.
    static_assert(header_bytes <= cache_line_bytes);
    std::array<std::byte, header_bytes> header;
    std::memcpy(header.data(), &word, sizeof word);
    std::memcpy(header.data() + 8, data_ + (tail_ & (capacity_ - 1)) + 8, header_bytes - 8);
    std::size_t len = 0;
    try {
      len = frame_length(header, capacity_ - cache_line_bytes);
    } catch (const protocol_error& e) {
      throw protocol_error(std::string("shared ring: ") + e.what());
    }
    auto need = static_cast<std::uint32_t>(ring_record_bytes(len));
    // One line: its ready word published all of it. Longer: the producer index must cover it.
    if (need > cache_line_bytes && head_seen_ - tail_ < need) {
      if (load_head() == tail_) return 0;  // the word is out, the index not yet: in a moment
      if (head_seen_ - tail_ < need) {
        throw protocol_error("shared ring: bad message header: length " + std::to_string(len) + " but only " +
                             size_text(head_seen_ - tail_) + " published");
      }
    }
    return len;
  }

  // Loads the producer index (acquire: pairs with its release store, so every record it covers is visible)
  // and checks that it is at most the capacity ahead and on a record boundary.
  std::uint32_t load_head() {
    head_seen_ = ctl_.head.load(std::memory_order_acquire);
    std::uint32_t published = head_seen_ - tail_;
    if (published > capacity_ || published % cache_line_bytes != 0) {
      throw protocol_error("shared ring corrupt: producer index " + std::to_string(head_seen_) +
                           " against consumer index " + std::to_string(tail_) + " in a " + size_text(capacity_) +
                           " ring");
    }
    return head_seen_;
  }

  ring_control& ctl_;
  std::byte* data_;
  std::uint32_t capacity_;
  std::uint32_t tail_;
  std::uint32_t head_seen_;
};

// --- liveness of the other side ---------------------------------------------------------------------------------
enum class peer_status { alive, closed, gone };

// Watches the read end of the peer's life line (see side_state). Keeps no state: send() and recv() may both use
// it from two threads at once.
class peer_watch {
 public:
  peer_watch(const side_state& peer, int life_line) noexcept : peer_(peer), life_line_(life_line) {}

  peer_status check() const {
    if (!hung_up(life_line_)) return peer_status::alive;
    // No process holds the peer's side any more. seq_cst: pairs with the goodbye store before the close.
    return peer_.goodbye.load(std::memory_order_seq_cst) == peer_.pid.load(std::memory_order_seq_cst)
               ? peer_status::closed
               : peer_status::gone;
  }
  std::int32_t pid() const noexcept { return peer_.pid.load(std::memory_order_relaxed); }
  int fd() const noexcept { return life_line_; }

 private:
  const side_state& peer_;
  int life_line_;
};

// --- waiting ---------------------------------------------------------------------------------------------------
// Both waits poll ready(); look() is called every so often (every spin_polls_per_check polls, or after every
// bounded sleep): it checks the peer's liveness (and, for a consumer, the ring's consistency) and returns the
// peer's status. A wait returns alive as soon as ready(), or the peer's status once it is not alive and the
// ring still has nothing (what the peer published before it went is delivered first).

// Busy-polls ready().
template <class Ready, class Look>
peer_status spin_wait(Ready ready, Look look) {
  spinner spin;  // pause per poll; abort check and sched_yield every 1024 polls (oversubscribed machines)
  while (!ready()) {
    spin.once();
    if (spin.polls() % spin_polls_per_check == 0) {
      peer_status s = look();
      if (s != peer_status::alive) return ready() ? peer_status::alive : s;
    }
  }
  return peer_status::alive;
}

// Spins for spin_ns, then sleeps on `word` (a futex: the index the other side stores last when it makes this
// side ready) with `sleeping` raised. The lost-wakeup protocol is a Dekker pair through two seq_cst fences:
//   waiter:  sleeping = 1; fence; v = word; if (!ready()) futex_wait(word, v)
//   waker:   word = new (release); fence; if (sleeping) futex_wake(word)
// Either the waker's load sees sleeping == 1 and wakes, or the waiter's load of the word sees the new value,
// and then ready() (which reads what the word's store publishes, after it) is true. If the word changes between
// the waiter's load and its futex_wait, the kernel's own compare (sleep only while *word == v) returns at once.
// The waker pays a fence per message and a system call only when someone sleeps. Every sleep is bounded
// (liveness_period_ms) for the abort and liveness checks.
template <class Ready, class Look>
peer_status adaptive_wait(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& sleeping, Ready ready,
                          Look look, std::uint64_t spin_ns) {
  if (spin_ns > 0) {
    const std::uint64_t spin_end = now_ns() + spin_ns;
    spinner spin;
    for (;;) {
      if (ready()) return peer_status::alive;
      spin.once();
      if (spin.polls() % 64 == 0 && now_ns() > spin_end) break;  // the clock read costs ~25 ns: not every poll
    }
  }
  struct lower_flag {
    std::atomic<std::uint32_t>& flag;
    // relaxed: a stale 1 only costs the waker one needless futex_wake.
    ~lower_flag() { flag.store(0, std::memory_order_relaxed); }
  } guard{sleeping};
  for (;;) {
    sleeping.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the waiter's half of the Dekker pair
    std::uint32_t v = word.load(std::memory_order_acquire);
    if (ready()) return peer_status::alive;
    futex_wait(word, v);
    if (ready()) return peer_status::alive;
    check_abort();
    peer_status s = look();
    if (s != peer_status::alive) return ready() ? peer_status::alive : s;
  }
}

// --- the endpoint ------------------------------------------------------------------------------------------------
class ring_endpoint final : public endpoint {
 public:
  // side 0 is the client (sends on ring 0), side 1 the server (sends on ring 1). recv_efd/send_efd: the
  // eventfds of the receive and send directions, only for the eventfd waits. life_line: the write end of this
  // side's life line; peer_line: the read end of the peer's.
  ring_endpoint(mapped_region map, int side, ring_wait wait, std::size_t max_message, unique_fd recv_efd,
                unique_fd send_efd, unique_fd life_line, unique_fd peer_line)
      : map_(std::move(map)),
        wait_(wait),
        max_message_(max_message),
        seg_(*std::launder(reinterpret_cast<segment_header*>(map_.data()))),
        self_(seg_.sides[side]),
        out_ctl_(seg_.rings[side]),
        in_ctl_(seg_.rings[1 - side]),
        out_(out_ctl_, map_.data() + ring_data_offset_of(side, seg_.capacity), seg_.capacity),
        in_(in_ctl_, map_.data() + ring_data_offset_of(1 - side, seg_.capacity), seg_.capacity),
        recv_efd_(std::move(recv_efd)),
        send_efd_(std::move(send_efd)),
        life_line_(std::move(life_line)),
        peer_line_(std::move(peer_line)),
        watch_(seg_.sides[1 - side], peer_line_.get()) {}

  ~ring_endpoint() override {
    // Before the life line closes (the members go after this body): the peer, seeing it hang up, must see
    // this too. Whether it was the side's last holder is the kernel's business, not ours.
    self_.goodbye.store(::getpid(), std::memory_order_seq_cst);
    futex_wake(out_ctl_.head);  // a peer asleep waiting for data or for room looks at the life line now
    futex_wake(in_ctl_.tail);   // (an eventfd sleeper polls the life line too)
  }

  void send(std::span<const std::byte> msg) override {
    std::size_t need = check_sendable(msg);
    while (!out_.try_push(msg)) {
      auto room = [&] {
        return out_.has_room(out_ctl_.tail.load(std::memory_order_acquire), static_cast<std::uint32_t>(need));
      };
      auto look = [&] { return watch_.check(); };
      peer_status s = wait_ == ring_wait::spin || wait_ == ring_wait::eventfd_spin
                          ? spin_wait(room, look)
                          // A full ring is waited out on the futex for the eventfd variants too: the
                          // eventfd signals data, which is what pollable_fd() promises; "block" spins not at all.
                          : adaptive_wait(out_ctl_.tail, out_ctl_.producer_sleeping, room, look,
                                          wait_ == ring_wait::adaptive ? adaptive_spin_ns : 0);
      if (s == peer_status::closed)
        throw peer_gone_error("the peer closed the shared ring while we waited for room in it");
      if (s == peer_status::gone) throw peer_gone_error(gone_text("room in the ring"));
    }
    notify_consumer();
  }

  std::size_t recv(std::span<std::byte> buf) override {
    std::size_t n = receive([&] { return in_.try_pop(buf); });
    if (n) notify_producer();
    return n;
  }

  // The shared rings hold each message in memory both ends map: the receiver can read it where it lies, as the
  // floor's cross-core streaming consumer does, instead of copying it out first.
  bool receives_in_place() const noexcept override { return true; }
  std::span<const std::byte> recv_in_place() override {
    if (held_) throw std::logic_error("shared ring: recv_in_place before release_in_place");
    std::span<const std::byte> msg = receive([&] { return in_.try_peek(scratch_); });
    held_ = msg.size();
    return msg;
  }
  bool spin_receiver() const noexcept override { return wait_ == ring_wait::spin || wait_ == ring_wait::eventfd_spin; }
  std::optional<std::size_t> poll_recv(std::span<std::byte> buf) override {
    claim();
    if (!spin_receiver()) return std::nullopt;
    auto take = [&]() -> std::size_t {
      if (!recv_efd_) return in_.try_pop(buf);  // a spinning ring wakes no one: no notify
      if (!try_take_token()) return 0;
      std::size_t n = in_.try_pop(buf);
      if (n == 0) throw protocol_error("shared ring: an eventfd token arrived for a message the ring does not hold");
      return n;
    };
    if (std::size_t n = take()) return n;
    if (++polls_ % spin_polls_per_check == 0) {
      check_abort();
      if (!recv_efd_) in_.check_index();
      peer_status s = watch_.check();
      if (s != peer_status::alive) {
        if (std::size_t n = take()) return n;  // what it published before it went comes first
        return peer_ended(s);
      }
    }
    return std::nullopt;
  }

  void release_in_place() override {
    if (!held_) return;
    in_.release(std::exchange(held_, 0));
    notify_producer();  // its room is free now, not before
  }

  int pollable_fd() const noexcept override { return recv_efd_ ? recv_efd_.get() : -1; }

  // Event loops (eventfd waits only: the spinning and futex rings have nothing to poll): whole messages through
  // try_recv/try_send, notified by the descriptors of ring_loop_fds (messages or the peer's end; a retry timer
  // when the ring was full).
  native_io native() override {
    if (!recv_efd_) return {};
    if (!loop_) loop_ = std::make_unique<ring_loop_fds>(recv_efd_.get(), peer_line_.get());
    return {native_io::kind::message, loop_->readable_fd(), loop_->room_fd(), false};
  }

  std::optional<std::size_t> try_recv(std::span<std::byte> buf) override {
    claim();
    if (!recv_efd_) return std::nullopt;
    if (!try_take_token()) {
      // Nothing now. Before the loop sleeps, the peer's life line: the wake-up its end sent may have passed
      // while the loop had no wait queued (one poll(), as the blocking recv() makes per message too).
      peer_status s = watch_.check();
      if (s == peer_status::alive) return std::nullopt;
      if (!try_take_token()) return peer_ended(s);  // else: a last message published before the peer went
    }
    std::size_t n = in_.try_pop(buf);
    if (n == 0) throw protocol_error("shared ring: an eventfd token arrived for a message the ring does not hold");
    notify_producer();
    return n;
  }

  bool try_send(std::span<const std::byte> msg) override {
    check_sendable(msg);
    if (loop_) loop_->disarm_room_timer();
    if (!out_.try_push(msg)) {
      peer_status s = watch_.check();
      if (s == peer_status::closed)
        throw peer_gone_error("the peer closed the shared ring while we waited for room in it");
      if (s == peer_status::gone) throw peer_gone_error(gone_text("room in the ring"));
      if (loop_) loop_->arm_room_timer();
      return false;
    }
    notify_consumer();
    return true;
  }

 private:
  static std::size_t taken(std::size_t n) noexcept { return n; }
  static std::size_t taken(std::span<const std::byte> m) noexcept { return m.size(); }

  // Waits for the next message and takes it with take() (a copy or a view: try_pop or try_peek); returns what
  // take() returned, or an empty one when the peer closed between messages (throws when it died).
  template <class Take>
  auto receive(Take take) -> decltype(take()) {
    claim();
    if (recv_efd_) {
      peer_status s = take_token();
      if (s != peer_status::alive) {
        peer_ended(s);  // throws unless the peer closed between messages
        return {};
      }
      auto got = take();
      if (taken(got) == 0)
        throw protocol_error("shared ring: an eventfd token arrived for a message the ring does not hold");
      return got;
    }
    for (;;) {
      if (auto got = take(); taken(got)) return got;
      auto ready = [&] { return in_.ready(); };
      auto look = [&] {
        in_.check_index();
        return watch_.check();
      };
      peer_status s = wait_ == ring_wait::spin
                          ? spin_wait(ready, look)
                          : adaptive_wait(in_ctl_.head, in_ctl_.consumer_sleeping, ready, look, adaptive_spin_ns);
      if (s != peer_status::alive) {
        peer_ended(s);
        return {};
      }
    }
  }

  // The checks every send makes before it touches the ring; returns the bytes the record takes.
  std::size_t check_sendable(std::span<const std::byte> msg) {
    claim();
    if (msg.size() < header_bytes) throw protocol_error("message shorter than its 32-byte header");
    if (read_header(msg).magic == 0) throw protocol_error("message without a frame header (magic 0)");  // ready word
    if (max_message_ && msg.size() > max_message_) {
      throw protocol_error("message of " + size_text(msg.size()) + " exceeds the " + size_text(max_message_) +
                           " this transport carries");
    }
    std::size_t need = ring_record_bytes(msg.size());
    if (need + cache_line_bytes > seg_.capacity) {
      throw protocol_error("message of " + size_text(msg.size()) + " does not fit the " + size_text(seg_.capacity) +
                           " shared ring (at most " + size_text(seg_.capacity - cache_line_bytes) + ")");
    }
    return need;
  }

  // One token from the (non-blocking) receive eventfd, if there is one.
  bool try_take_token() {
    std::uint64_t value;
    for (;;) {
      if (::read(recv_efd_.get(), &value, sizeof value) == sizeof value) return true;
      if (errno == EAGAIN) return false;
      if (errno != EINTR) throw_errno("read the shared ring's eventfd");
    }
  }

  // The first send() or recv() in a process records its pid as this side's user (see side_state::pid).
  void claim() noexcept {
    if (claimed_.load(std::memory_order_relaxed)) return;
    self_.pid.store(::getpid(), std::memory_order_seq_cst);
    claimed_.store(true, std::memory_order_relaxed);
  }

  void notify_consumer() {
    switch (wait_) {
      case ring_wait::spin: return;
      case ring_wait::adaptive:
        std::atomic_thread_fence(std::memory_order_seq_cst);  // the waker's half of the Dekker pair
        if (in_use(out_ctl_.consumer_sleeping)) futex_wake(out_ctl_.head);
        return;
      case ring_wait::eventfd_block:
      case ring_wait::eventfd_spin: write_token(); return;
    }
  }

  void notify_producer() {
    if (wait_ != ring_wait::adaptive && wait_ != ring_wait::eventfd_block) return;  // the others spin when full
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the waker's half of the Dekker pair
    if (in_use(in_ctl_.producer_sleeping)) futex_wake(in_ctl_.tail);
  }

  static bool in_use(const std::atomic<std::uint32_t>& flag) noexcept {
    return flag.load(std::memory_order_relaxed) != 0;  // ordered by the fence before it
  }

  // One eventfd token per message, written after the message is published. The eventfd is in semaphore mode,
  // so its counter is the number of unread messages and pollable_fd() polls readable exactly when recv() has
  // a message to return.
  void write_token() {
    const std::uint64_t one = 1;
    while (::write(send_efd_.get(), &one, sizeof one) != sizeof one) {
      if (errno != EINTR) throw_errno("signal the peer's eventfd");
      check_abort();
    }
  }

  // Takes one token from the receive eventfd: sleeping in poll() on it and on the peer's life line (block), or
  // polling read() (spin).
  peer_status take_token() {
    spinner spin;
    for (;;) {
      std::uint64_t value;
      if (::read(recv_efd_.get(), &value, sizeof value) == sizeof value) return peer_status::alive;
      if (errno != EAGAIN && errno != EINTR) throw_errno("read the shared ring's eventfd");
      bool look = false;
      if (wait_ == ring_wait::eventfd_spin) {
        spin.once();
        look = spin.polls() % spin_polls_per_check == 0;
      } else {
        pollfd p[2] = {{recv_efd_.get(), POLLIN, 0}, {watch_.fd(), POLLIN, 0}};
        int r = ::poll(p, 2, liveness_period_ms);
        if (r < 0 && errno != EINTR) throw_errno("poll the shared ring's eventfd");
        look = r <= 0 || p[1].revents != 0;  // timeout, signal, or the life line hung up
      }
      if (look) {
        check_abort();
        peer_status s = watch_.check();
        // A last message published before the peer went: its token is there to take.
        if (s != peer_status::alive)
          return ::read(recv_efd_.get(), &value, sizeof value) == sizeof value ? peer_status::alive : s;
      }
    }
  }

  std::string gone_text(const char* waited_for) const {
    return "the peer process " + std::to_string(watch_.pid()) +
           " ended without closing the shared ring (killed?) while we waited for " + waited_for;
  }
  std::size_t peer_ended(peer_status s) const {
    if (s == peer_status::closed) return 0;  // closed between messages
    throw peer_gone_error(gone_text("a message"));
  }

  mapped_region map_;
  ring_wait wait_;
  std::size_t max_message_;  // 0: whatever fits the ring
  segment_header& seg_;
  side_state& self_;
  ring_control& out_ctl_;
  ring_control& in_ctl_;
  ring_producer out_;
  ring_consumer in_;
  unique_fd recv_efd_;
  unique_fd send_efd_;
  unique_fd life_line_;  // never written: it exists to be closed (by us, or by the kernel when we die)
  unique_fd peer_line_;
  peer_watch watch_;
  std::atomic<bool> claimed_{false};     // atomic: send() and recv() may run in two threads
  std::size_t held_ = 0;                 // bytes of the message recv_in_place() handed out, until released
  std::uint64_t polls_ = 0;              // poll_recv() calls, for its liveness checks
  std::vector<std::byte> scratch_;       // a message that wraps past the ring's end, for recv_in_place()
  std::unique_ptr<ring_loop_fds> loop_;  // made by native(), for an event loop
};

unique_fd make_eventfd() {
  unique_fd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE));
  if (!fd) throw_errno("create an eventfd for the shared ring");
  return fd;
}

unique_fd dup_fd(int fd) {
  unique_fd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy) throw_errno("duplicate the shared ring's eventfd");
  return copy;
}

}  // namespace

const char* to_string(ring_wait w) noexcept {
  switch (w) {
    case ring_wait::spin: return "spin";
    case ring_wait::adaptive: return "adaptive";
    case ring_wait::eventfd_block: return "block";
    case ring_wait::eventfd_spin: return "spin";
  }
  return "?";
}

std::size_t ring_capacity_for(std::size_t largest_msg) {
  std::size_t record = ring_record_bytes(std::max(largest_msg, header_bytes));
  if (2 * record + cache_line_bytes > max_ring_capacity) {
    throw std::runtime_error("message of " + size_text(largest_msg) + " does not fit the largest shared ring (" +
                             size_text(max_ring_capacity) + ", which must hold two)");
  }
  return std::max(default_ring_capacity, std::bit_ceil(2 * record + cache_line_bytes));
}

mapped_region::mapped_region(int fd, std::size_t bytes, std::string_view what) : bytes_(bytes) {
  // MAP_POPULATE: fault the pages in now, at set-up, not in the first lap of a measurement.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) throw_errno("map " + std::string(what) + " (" + size_text(bytes) + ")");
  addr_ = p;
}

mapped_region::mapped_region(mapped_region&& o) noexcept
    : addr_(std::exchange(o.addr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

mapped_region& mapped_region::operator=(mapped_region&& o) noexcept {
  if (this != &o) {
    if (addr_) ::munmap(addr_, bytes_);
    addr_ = std::exchange(o.addr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

mapped_region::~mapped_region() {
  if (addr_) ::munmap(addr_, bytes_);
}

channel make_ring_channel(int fd, std::size_t capacity, ring_wait wait, std::string_view what,
                          std::size_t max_message) {
  if (!std::has_single_bit(capacity) || capacity < min_ring_capacity || capacity > max_ring_capacity) {
    throw std::invalid_argument("shared ring capacity " + std::to_string(capacity) +
                                " is not a power of two in [128, 2^30]");
  }
  std::size_t bytes = ring_segment_bytes(capacity);
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0)
    throw_errno("size " + std::string(what) + " to " + size_text(bytes));

  mapped_region client_map(fd, bytes, what);
  auto* seg = new (client_map.data()) segment_header{};  // the file is fresh: all zero until here
  seg->magic = segment_magic;
  seg->capacity = static_cast<std::uint32_t>(capacity);
  for (side_state& s : seg->sides) s.pid.store(::getpid(), std::memory_order_relaxed);  // until claimed
  for (side_state& s : seg->sides) s.goodbye.store(0, std::memory_order_relaxed);
  for (int ring = 0; ring < 2; ++ring) {  // the first record's ready word: "nothing yet" (a fresh file is all 0)
    std::memset(client_map.data() + ring_data_offset_of(ring, capacity), 0, sizeof(std::uint64_t));
  }
  mapped_region server_map(fd, bytes, what);
  if (std::launder(reinterpret_cast<segment_header*>(server_map.data()))->magic != segment_magic) {
    throw std::runtime_error("cannot share " + std::string(what) + ": a second mapping does not see the first");
  }

  unique_fd to_server_efd, to_client_efd;  // signal messages on ring 0 and on ring 1
  unique_fd to_server_dup, to_client_dup;
  if (wait == ring_wait::eventfd_block || wait == ring_wait::eventfd_spin) {
    to_server_efd = make_eventfd();
    to_client_efd = make_eventfd();
    to_server_dup = dup_fd(to_server_efd.get());
    to_client_dup = dup_fd(to_client_efd.get());
  }
  life_lines lines = life_lines::make();
  channel ch;
  ch.client = std::make_unique<ring_endpoint>(std::move(client_map), 0, wait, max_message, std::move(to_client_efd),
                                              std::move(to_server_dup), std::move(lines.client.write_end),
                                              std::move(lines.server.read_end));
  ch.server = std::make_unique<ring_endpoint>(std::move(server_map), 1, wait, max_message, std::move(to_server_efd),
                                              std::move(to_client_dup), std::move(lines.server.write_end),
                                              std::move(lines.client.read_end));
  return ch;
}

}  // namespace bench
