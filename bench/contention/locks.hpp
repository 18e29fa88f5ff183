// The locks the contention suite compares, each a small class with lock(), [[nodiscard]] try_lock() and
// unlock() (BasicLockable/Lockable, so std::lock_guard and std::unique_lock work with all of them).
//
// Layout: every lock is alignas(64) so that it never shares a cache line with the data it protects or with
// another lock (std::hardware_destructive_interference_size is 64 with g++ 12 on x86-64).
//
// Spinning waits poll for a stopped run (watchdog, Ctrl-C) every 2^14 attempts and then throw aborted_error
// from lock(): an oversubscribed spinlock in a class demo ends as a failed case instead of a hang. A lock that
// threw is left in an unspecified state (a ticket lock keeps the abandoned ticket); the case that used it is
// over by then. Blocking locks (mutex, adaptive, shared-mutex) need no such check: their holders always run.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>

#include "base/cancel.hpp"
#include "base/spin.hpp"

namespace bench::locks {

namespace detail {
// Called on every failed attempt of a spinning wait.
inline void spin_poll(std::uint32_t& attempts) {
  if ((++attempts & 0x3fffu) == 0) check_abort();
}
}  // namespace detail

// std::mutex as it is (glibc: a futex word, a short CAS fast path, sleep in the kernel when contended).
class alignas(64) std_mutex {
 public:
  void lock() { m_.lock(); }
  [[nodiscard]] bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }

 private:
  std::mutex m_;
};

// Test-and-set: every attempt is an atomic exchange, so every waiter keeps pulling the line into its own
// cache in exclusive state, including while the holder is trying to release it. No pause: this is the naive
// spinlock the lecture starts from.
class alignas(64) tas_lock {
 public:
  void lock() {
    std::uint32_t attempts = 0;
    // acquire: the critical section cannot move above the exchange that won the lock.
    while (locked_.exchange(true, std::memory_order_acquire)) detail::spin_poll(attempts);
  }
  [[nodiscard]] bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  // release: everything written in the critical section is visible to the next winner of the exchange.
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// Test-and-test-and-set with a pause: waiters spin on a plain load (the line stays shared in every waiter's
// cache, no traffic until the holder writes it), pause between polls (frees the core's resources for a
// hyper-thread sibling and slows the poll rate), and only try the exchange when the lock looked free.
class alignas(64) ttas_lock {
 public:
  void lock() {
    std::uint32_t attempts = 0;
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      // relaxed: only a hint that it is worth trying again; the exchange above does the synchronising.
      while (locked_.load(std::memory_order_relaxed)) {
        cpu_relax();
        detail::spin_poll(attempts);
      }
    }
  }
  [[nodiscard]] bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// Ticket lock (fair, FIFO): a thread takes the next ticket and waits until `serving` reaches it, so the lock
// goes to waiters strictly in arrival order. The price of fairness: the next in line must be running to take
// its turn; if the scheduler has pre-empted it (more threads than cores), everyone behind it waits too.
//
// Layout: `next` (written by every arriving thread) and `serving` (written only by the holder, polled by
// every waiter) on separate lines, so that arrivals do not invalidate the line the waiters are polling.
class ticket_lock {
 public:
  using ticket = std::uint32_t;  // wraps around harmlessly: only equality is ever tested

  void lock() { wait_turn(take_ticket()); }
  [[nodiscard]] bool try_lock() noexcept {
    // Succeeds only if nobody holds or waits: then next == serving and we take that ticket.
    ticket s = serving_.load(std::memory_order_acquire);
    ticket expected = s;
    return next_.compare_exchange_strong(expected, s + 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    // Only the holder writes `serving`, so a plain load + store suffices (no read-modify-write); release
    // publishes the critical section to the next ticket holder.
    serving_.store(serving_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // The two halves of lock(), public for the FIFO test: tickets are served in the order they were taken.
  // relaxed: the ticket number orders the waiters; the acquire on `serving` synchronises with the unlock.
  [[nodiscard]] ticket take_ticket() noexcept { return next_.fetch_add(1, std::memory_order_relaxed); }
  void wait_turn(ticket t) {
    std::uint32_t attempts = 0;
    while (serving_.load(std::memory_order_acquire) != t) {
      cpu_relax();
      detail::spin_poll(attempts);
    }
  }

 private:
  alignas(64) std::atomic<ticket> next_{0};
  alignas(64) std::atomic<ticket> serving_{0};
};
static_assert(sizeof(ticket_lock) == 128, "next and serving must be on separate cache lines");

// Spin, then sleep: a futex-based mutex in the three-state form of Drepper's "Futexes Are Tricky" (0 free,
// 1 locked, 2 locked and maybe waiters), preceded by a bounded spin in the manner of glibc's
// PTHREAD_MUTEX_ADAPTIVE_NP (whose default spin count is 100). A short critical section on another core
// usually ends within the spin, sparing both the sleep and the wake-up system call.
class alignas(64) adaptive_lock {
 public:
  static constexpr int spin_limit = 100;

  void lock() {
    for (int i = 0; i < spin_limit; ++i) {
      std::uint32_t expected = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      cpu_relax();
    }
    // Slow path: mark the lock contended (2) and sleep while it stays taken. Whoever gets it this way keeps
    // the state at 2, so its unlock wakes the next sleeper (one spurious wake-up at worst).
    std::uint32_t c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      futex_wait(2);
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }
  [[nodiscard]] bool try_lock() noexcept {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    // release: publish the critical section. Only a state of 2 can have sleepers to wake.
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake_one();
  }

 private:
  void futex_wait(std::uint32_t expected) noexcept {
    // Returns at once (EAGAIN) if the word is no longer `expected`; EINTR and spurious wake-ups simply loop.
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
  }
  void futex_wake_one() noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }

  std::atomic<std::uint32_t> state_{0};
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                    std::atomic<std::uint32_t>::is_always_lock_free,
                "the futex syscall needs the atomic to be a plain 32-bit word");
};

// std::shared_mutex (glibc: pthread_rwlock, which prefers readers by default). The suite runs it as a
// read-mostly and as a write-heavy mix.
class alignas(64) shared_mutex {
 public:
  void lock() { m_.lock(); }
  [[nodiscard]] bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }
  void lock_shared() { m_.lock_shared(); }
  [[nodiscard]] bool try_lock_shared() { return m_.try_lock_shared(); }
  void unlock_shared() { m_.unlock_shared(); }

 private:
  std::shared_mutex m_;
};

}  // namespace bench::locks
