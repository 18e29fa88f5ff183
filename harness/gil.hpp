// A Global Interpreter Lock, emulated after CPython's own (Python/ceval_gil.c and, for the old policy,
// Python 2's ceval.c), plus the calibrated CPU work that "interpreter threads" run while they hold it.
//
// Vocabulary (CPython's -> ours):
//   bytecodes between two eval-breaker checks  -> one *tick*: tick_ns of calibrated busy work (cpu_work)
//   take_gil() / drop_gil()                    -> gil::take() / gil::drop()
//   the eval breaker polled at loop back edges -> gil::tick_boundary(), called after every tick
//   Py_BEGIN/END_ALLOW_THREADS around a syscall -> gil::blocking(f): drop, f(), take
//   sys.setswitchinterval / sys.setcheckinterval -> gil_config::switch_interval_ns / check_interval
//
// Policies (gil_policy):
//   none     free-threaded: take/drop/tick_boundary do nothing (what a no-GIL build or C code without the GIL
//            does); useful as the baseline every GIL is compared with.
//   old      Python 2: the GIL is a plain binary semaphore (PyThread_type_lock on Linux is a POSIX sem_t).
//            Every check_interval ticks the holder releases it and at once asks for it again, with no
//            hand-off: whoever wins the race gets it, and on a multi-core machine that is almost always the
//            thread that just released it (the waiter is still waking up). That race is Beazley's 2009 finding.
//   new      Python 3.2+ (Antoine Pitrou's GIL): a waiter sleeps `switch_interval` on a condition variable;
//            if no switch happened meanwhile it sets gil_drop_request; the holder sees it at its next tick
//            boundary, drops the GIL and (FORCE_SWITCHING) waits until another thread has taken it.
//   priority the new GIL plus the change proposed for CPython in 2010 (bpo-7946, the "convoy effect"): a thread
//            coming back from blocking I/O sets the drop request at once instead of after an interval, and
//            waiting CPU-bound threads stand back while such an I/O thread waits. Never merged into CPython;
//            here to show what it would buy an I/O thread.
//
// Using it (what the contention suite does, and what the ipc server's lock policy does per message):
//
//     bench::gil g({.policy = bench::gil_policy::new_gil});     // one per emulated interpreter (process)
//     // in each interpreter thread:
//     g.take();                          // a Python thread starts holding the GIL
//     g.run_ticks(1000);                 // CPU-bound Python code: 1000 ticks, tick boundaries in between
//     g.blocking([&] { ::recv(...); });  // blocking I/O releases and re-acquires, as CPython's socket module
//     g.drop();                          // the thread ends
//
// For the ipc server there is a smaller interface, work_lock (bottom of this file): one instance shared by the
// server threads of a process, `lock->run(work_ns)` per message.
#pragma once

#include <semaphore.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/cancel.hpp"

namespace bench {

// ---------------------------------------------------------------------------------------------------------------
// Calibrated CPU work.
//
// A dependent multiply-add chain (a 64-bit LCG step) per iteration: no memory traffic, no branches the
// predictor can miss, and the empty asm keeps the compiler from collapsing the loop into a closed form. Each
// call ends with a fence, so that a loop of short calls (ticks) cannot overlap one call's chain with the next
// one's in the out-of-order core (without it, 25 ns ticks ran three times faster than calibrated).
//
// The cost of a call, a + b * iterations, is measured once per process (calibrate(): short and long calls,
// the fastest of several trials, so that a trial that was pre-empted or ran before the core clocked up does
// not count), and durations are turned into iteration counts with it. On a loaded machine the work still
// costs the same number of instructions; it may take longer.
class cpu_work {
 public:
  // Idempotent and thread-safe; the first call takes about 10 ms.
  static void calibrate();
  static double ns_per_iteration() noexcept;  // b
  static double ns_per_call() noexcept;       // a: the fixed part of a call (loop set-up, the fence)
  // Iterations for a call that takes about `ns` on this machine (at least 1 for ns > 0; 0 for 0).
  static std::uint64_t iterations_for(std::uint64_t ns);

  static void run(std::uint64_t iterations) noexcept {
    std::uint64_t x = iterations | 1u;
    for (std::uint64_t i = 0; i < iterations; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;  // Knuth's MMIX LCG constants
      asm volatile("" : "+r"(x));
    }
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("lfence" : : "r"(x) : "memory");
#else
    asm volatile("" : : "r"(x) : "memory");
#endif
  }
};

// ---------------------------------------------------------------------------------------------------------------
// The GIL.

enum class gil_policy { none, old_gil, new_gil, priority };

std::string_view to_string(gil_policy p) noexcept;  // "none", "old", "new", "priority"
// One vocabulary for both suites: a policy's name, or the name `run ipc --lock` gives it ("gil-new" for "new").
std::optional<gil_policy> parse_gil_policy(std::string_view name) noexcept;
std::span<const std::string_view> gil_policy_names() noexcept;

struct gil_config {
  gil_policy policy = gil_policy::new_gil;
  // new/priority: how long a waiter lets the holder run before setting the drop request. CPython's default
  // (sys.getswitchinterval() == 0.005).
  std::uint64_t switch_interval_ns = 5'000'000;
  // old: ticks between two release/re-acquire points. Python 2's default sys.getcheckinterval() == 100
  // (counted in bytecodes there; see tick_ns).
  std::uint32_t check_interval = 100;
  // Length of one tick. CPython 3.11 checks its eval breaker on every loop back edge; its countdown loop
  // (`while n > 0: n -= 1`, 8 bytecodes) takes a few tens of ns an iteration (docs/MEASURED.md), so one tick is
  // about one such iteration. (Python 2 counted single bytecodes, about 8 times finer: the old policy's release
  // points are therefore somewhat sparser than Python 2's, the same order of magnitude.)
  std::uint64_t tick_ns = 25;
};

// Counters a run can report; read at any time (relaxed), exact once the threads have finished.
struct gil_stats {
  std::uint64_t switches = 0;           // the GIL went to a different thread than the last holder
  std::uint64_t drop_requests = 0;      // a waiter set gil_drop_request (new: after its interval; priority: at once)
  std::uint64_t forced_waits = 0;       // a dropping holder waited on switch_cond until someone else took it
  std::uint64_t periodic_releases = 0;  // old: release/re-acquire points reached
};

class gil {
 public:
  explicit gil(const gil_config& cfg);
  ~gil();
  gil(const gil&) = delete;
  gil& operator=(const gil&) = delete;

  const gil_config& config() const noexcept { return cfg_; }

  // take_gil(): blocks until the calling thread holds the GIL. `io` says the thread is coming back from
  // blocking I/O (only the priority policy treats it differently). Throws aborted_error if the run is being
  // stopped while it waits (the GIL is then not held).
  void take(bool io = false);
  // drop_gil(): releases it. Under new/priority, if a drop was requested, waits until another thread has
  // taken it (FORCE_SWITCHING).
  void drop();
  // The eval breaker, polled by the holder after every tick: new/priority drop and re-take when a drop was
  // requested; old counts ticks and releases/re-acquires every check_interval; none does nothing.
  void tick_boundary() {
    switch (cfg_.policy) {
      case gil_policy::none: return;
      case gil_policy::old_gil:
        if (--ticker_ <= 0) periodic_release();  // every check_interval ticks
        return;
      case gil_policy::new_gil:
      case gil_policy::priority:
        if (drop_request_.load(std::memory_order_relaxed)) handle_drop_request();
        return;
    }
  }
  // n ticks of CPU work while holding the GIL, each followed by tick_boundary(). Checks for a stopped run
  // (watchdog, Ctrl-C) after every tick and throws aborted_error still holding the GIL: callers that hold it
  // through a scope should use gil::holder so that the throw releases it.
  void run_ticks(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      cpu_work::run(tick_iterations_);
      tick_boundary();
      if (abort_requested()) check_abort();
    }
  }
  // Py_BEGIN_ALLOW_THREADS f() Py_END_ALLOW_THREADS: a blocking system call made without the GIL. If f
  // throws, the GIL is not re-taken (the exception leaves with it released; gil::holder copes with that).
  template <class F>
  decltype(auto) blocking(F&& f) {
    drop();
    struct retake {
      gil& g;
      int exceptions;
      ~retake() noexcept(false) {
        if (std::uncaught_exceptions() == exceptions) g.take(true);
      }
    } r{*this, std::uncaught_exceptions()};
    return f();
  }

  // Holds the GIL for a scope (take in the constructor, drop in the destructor, also on exceptions).
  class holder {
   public:
    explicit holder(gil& g, bool io = false) : g_(g) { g_.take(io); }
    // A blocking() whose system call threw, or whose take() was stopped, leaves the GIL released.
    ~holder() {
      if (g_.held_by_me()) g_.drop();
    }
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;

   private:
    gil& g_;
  };

  gil_stats stats() const noexcept;
  // True if the calling thread holds the GIL (always false under none). For tests and assertions.
  bool held_by_me() const noexcept;
  std::uint64_t tick_iterations() const noexcept { return tick_iterations_; }

 private:
  void periodic_release();
  void handle_drop_request();
  void take_new(bool io);
  void drop_new();

  gil_config cfg_;
  std::uint64_t tick_iterations_ = 0;

  // --- old: Python 2's interpreter_lock, a binary semaphore (initial value 1 = free), and _Py_Ticker, the
  // countdown to the next release point. The ticker is plain: only the holder touches it (Python 2 kept it
  // as a global for the same reason).
  sem_t sem_{};
  long ticker_ = 0;

  // --- new/priority: the fields of CPython's struct _gil_runtime_state.
  // `locked` and `last_holder` are read without the mutex (by drop_new's switch check and by held_by_me), so
  // they are atomics; relaxed is enough because every decision that matters re-reads them under the mutex,
  // as CPython does. `drop_request_` is gil_drop_request / eval_breaker: set by a waiter, polled by the
  // holder after every tick without any lock (relaxed: a late sighting only delays the switch by a tick).
  std::mutex mutex_;                     // gil->mutex: protects locked/switch_number transitions
  std::condition_variable cond_;         // gil->cond: "the GIL was released"
  std::mutex switch_mutex_;              // gil->switch_mutex (FORCE_SWITCHING)
  std::condition_variable switch_cond_;  // gil->switch_cond: "someone else took it"
  std::atomic<bool> locked_{false};
  std::atomic<const void*> last_holder_{nullptr};
  std::uint64_t switch_number_ = 0;                    // under mutex_
  int priority_waiting_ = 0;                           // priority: I/O threads waiting in take(), under mutex_
  alignas(64) std::atomic<bool> drop_request_{false};  // own line: polled by the holder every tick

  // Statistics, relaxed counters.
  std::atomic<std::uint64_t> switches_{0}, drop_requests_{0}, forced_waits_{0}, periodic_releases_{0};
  // Who holds it now (any policy but none), for held_by_me().
  std::atomic<const void*> holder_{nullptr};
};

// ---------------------------------------------------------------------------------------------------------------
// The ipc server's lock policy (`bench run ipc --work 10us --lock none|mutex|gil-old|gil-new|gil-priority`).
//
// One work_lock per server process, shared by all of its server threads (processes never share one: each
// forked server builds its own after the fork, as each Python process has its own GIL). Per message:
//
//     msg = recv(...);           // blocking I/O: no lock held (CPython releases the GIL here too)
//     lock->run(work_ns);        // enter(); work(work_ns); leave();
//     send(reply);               // blocking I/O again
//
//   none      no lock: the work runs in parallel on every server thread
//   mutex     a std::mutex around the work (a C extension that serialises on one lock)
//   gil-*     the emulated GIL: enter() = take(io=true), work() = ticks with tick boundaries (so a waiting
//             thread can ask for the GIL in the middle of a message's work), leave() = drop()
//
// work(ns) runs ns / tick_ns ticks (at least one for ns > 0). Throws aborted_error when the run is stopped.
class work_lock {
 public:
  virtual ~work_lock() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual void enter() = 0;
  virtual void leave() = 0;
  virtual void work(std::uint64_t ns) = 0;
  void run(std::uint64_t ns) {
    enter();
    struct guard {
      work_lock& l;
      ~guard() { l.leave(); }
    } g{*this};
    work(ns);
  }
};

std::span<const std::string_view> work_lock_names() noexcept;  // none, mutex, gil-old, gil-new, gil-priority
// Throws usage_error naming the valid ones for an unknown name. `gil_cfg.policy` is overridden by the name.
std::unique_ptr<work_lock> make_work_lock(std::string_view name, const gil_config& gil_cfg = {});

}  // namespace bench
