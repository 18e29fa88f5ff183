#include "harness/gil.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>

#include "base/clock.hpp"
#include "base/error.hpp"

namespace bench {

// ---------------------------------------------------------------------------------------------------------------
// cpu_work

namespace {
std::once_flag g_calibrate_once;
double g_ns_per_iteration = 1;
double g_ns_per_call = 0;

// Mean time of one call of `n` iterations over `calls` calls; the fastest of `trials` trials.
double fastest_call_ns(std::uint64_t n, int calls, int trials) {
  double best = std::numeric_limits<double>::infinity();
  for (int t = 0; t < trials; ++t) {
    const std::uint64_t t0 = now_ns();
    for (int c = 0; c < calls; ++c) cpu_work::run(n);
    const std::uint64_t t1 = now_ns();
    best = std::min(best, static_cast<double>(t1 - t0) / calls);
  }
  return best;
}
}  // namespace

void cpu_work::calibrate() {
  std::call_once(g_calibrate_once, [] {
    // Two sizes fix the line a + b * n: short calls (the size of a 25 ns tick) and long ones (2048 iterations,
    // about 3 us). Each trial is about 0.3 ms; 15 trials of each. The first round warms the core up.
    constexpr std::uint64_t short_n = 16, long_n = 2048;
    fastest_call_ns(long_n, 100, 2);
    const double t_short = fastest_call_ns(short_n, 10'000, 15);
    const double t_long = fastest_call_ns(long_n, 100, 15);
    const double b = (t_long - t_short) / static_cast<double>(long_n - short_n);
    g_ns_per_iteration = b > 0 ? b : 1.0;
    g_ns_per_call = std::max(0.0, t_short - g_ns_per_iteration * static_cast<double>(short_n));
  });
}

double cpu_work::ns_per_iteration() noexcept {
  calibrate();
  return g_ns_per_iteration;
}

double cpu_work::ns_per_call() noexcept {
  calibrate();
  return g_ns_per_call;
}

std::uint64_t cpu_work::iterations_for(std::uint64_t ns) {
  if (ns == 0) return 0;
  const double it = std::round((static_cast<double>(ns) - ns_per_call()) / ns_per_iteration());
  return it < 1 ? 1 : static_cast<std::uint64_t>(it);
}

// ---------------------------------------------------------------------------------------------------------------
// Policy names

namespace {
constexpr std::string_view policy_names[] = {"none", "old", "new", "priority"};

// Identifies the calling thread to the GIL, as CPython uses the PyThreadState pointer: the address of a
// thread-local byte is unique among live threads.
const void* self_token() noexcept {
  thread_local char token;
  return &token;
}

[[noreturn]] void invariant_failed(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: internal error: %s\n", file, line, what);
  std::abort();
}
#define GIL_INVARIANT(cond, what)                            \
  do {                                                       \
    if (!(cond)) invariant_failed(__FILE__, __LINE__, what); \
  } while (0)
}  // namespace

std::string_view to_string(gil_policy p) noexcept { return policy_names[static_cast<int>(p)]; }

std::optional<gil_policy> parse_gil_policy(std::string_view name) noexcept {
  constexpr std::string_view lock_prefix = "gil-";  // how `run ipc --lock` names a GIL beside "none" and "mutex"
  if (name.starts_with(lock_prefix) && name != "gil-none") name.remove_prefix(lock_prefix.size());
  for (std::size_t i = 0; i < std::size(policy_names); ++i)
    if (policy_names[i] == name) return static_cast<gil_policy>(i);
  return std::nullopt;
}

std::span<const std::string_view> gil_policy_names() noexcept { return policy_names; }

// ---------------------------------------------------------------------------------------------------------------
// gil

gil::gil(const gil_config& cfg) : cfg_(cfg) {
  GIL_INVARIANT(cfg_.check_interval > 0, "gil: check_interval must be positive");
  GIL_INVARIANT(cfg_.tick_ns > 0, "gil: tick_ns must be positive");
  tick_iterations_ = cpu_work::iterations_for(cfg_.tick_ns);
  ticker_ = static_cast<long>(cfg_.check_interval);
  // Initial value 1: the lock is free (Python 2's PyThread_allocate_lock on a semaphore platform).
  if (sem_init(&sem_, 0, 1) != 0) throw_errno("create the old GIL's semaphore");
}

gil::~gil() { sem_destroy(&sem_); }

gil_stats gil::stats() const noexcept {
  gil_stats s;
  s.switches = switches_.load(std::memory_order_relaxed);
  s.drop_requests = drop_requests_.load(std::memory_order_relaxed);
  s.forced_waits = forced_waits_.load(std::memory_order_relaxed);
  s.periodic_releases = periodic_releases_.load(std::memory_order_relaxed);
  return s;
}

bool gil::held_by_me() const noexcept {
  return cfg_.policy != gil_policy::none && holder_.load(std::memory_order_relaxed) == self_token();
}

void gil::take(bool io) {
  switch (cfg_.policy) {
    case gil_policy::none: return;
    case gil_policy::new_gil:
    case gil_policy::priority: take_new(io); return;
    case gil_policy::old_gil: break;
  }
  // Python 2: PyThread_acquire_lock(interpreter_lock, WAIT_LOCK) is sem_wait() until it succeeds. The wait is
  // cut into 50 ms slices only to notice a stopped run; a slice that expires re-tries the semaphore exactly
  // as a fresh sem_wait would, so the race it models is unchanged.
  // (sem_timedwait, on CLOCK_REALTIME, rather than sem_clockwait: ThreadSanitizer knows the former, and a
  // clock step only lengthens or shortens one slice.)
  for (;;) {
    timespec deadline{};
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 50'000'000;
    if (deadline.tv_nsec >= 1'000'000'000) {
      deadline.tv_nsec -= 1'000'000'000;
      ++deadline.tv_sec;
    }
    if (sem_timedwait(&sem_, &deadline) == 0) break;
    if (errno != EINTR && errno != ETIMEDOUT) throw_errno("wait for the old GIL's semaphore");
    check_abort();
  }
  const void* me = self_token();
  holder_.store(me, std::memory_order_relaxed);
  if (last_holder_.load(std::memory_order_relaxed) != me) {
    last_holder_.store(me, std::memory_order_relaxed);
    switches_.fetch_add(1, std::memory_order_relaxed);
  }
}

void gil::drop() {
  if (cfg_.policy == gil_policy::none) return;
  GIL_INVARIANT(holder_.load(std::memory_order_relaxed) == self_token(),
                "gil::drop() by a thread that does not hold the GIL");
  if (cfg_.policy == gil_policy::old_gil) {
    holder_.store(nullptr, std::memory_order_relaxed);
    // PyThread_release_lock: sem_post. It wakes a waiter but hands nothing over: the semaphore is simply free.
    sem_post(&sem_);
    return;
  }
  drop_new();
}

void gil::periodic_release() {
  // Python 2's ceval loop: when --_Py_Ticker < 0, reset it to the check interval, release the interpreter lock
  // and re-acquire it at once ("Other threads may run now"): no yield, no hand-off, no wait in between.
  ticker_ = static_cast<long>(cfg_.check_interval);
  periodic_releases_.fetch_add(1, std::memory_order_relaxed);
  drop();
  take(false);
}

void gil::handle_drop_request() {
  // _Py_HandlePending, "GIL drop request": give another thread a chance, then queue up for the GIL again like
  // any other waiter (this thread now waits its own switch interval before asking for it back).
  drop();
  take(false);
}

void gil::take_new(bool io) {
  // take_gil() of Python/ceval_gil.c.
  const void* me = self_token();
  const bool prio = io && cfg_.policy == gil_policy::priority;
  // CPython waits at least 1 us (`interval >= 1 ? interval : 1`, in microseconds).
  const auto interval = std::chrono::nanoseconds(std::max<std::uint64_t>(cfg_.switch_interval_ns, 1000));
  std::unique_lock lk(mutex_);
  // Priority: CPU-bound waiters do not take a free GIL while an I/O thread waits for it.
  auto must_wait = [&] { return locked_.load(std::memory_order_relaxed) || (!prio && priority_waiting_ > 0); };
  if (must_wait()) {
    bool requested = false;
    if (prio) ++priority_waiting_;
    while (must_wait()) {
      if (prio && locked_.load(std::memory_order_relaxed) && !drop_request_.load(std::memory_order_relaxed)) {
        // Priority: an I/O thread asks the holder to drop at once, not after an interval.
        drop_request_.store(true, std::memory_order_relaxed);
        drop_requests_.fetch_add(1, std::memory_order_relaxed);
        requested = true;
      }
      const std::uint64_t saved_switch_number = switch_number_;
      // COND_TIMED_WAIT(gil->cond, gil->mutex, interval): wait for a release, but at most one interval.
      const bool timed_out = cond_.wait_for(lk, interval) == std::cv_status::timeout;
      // Timed out and nobody else got the GIL meanwhile: the holder has had its interval; ask it to drop
      // (SET_GIL_DROP_REQUEST, which also sets the eval breaker: here the same flag).
      if (timed_out && locked_.load(std::memory_order_relaxed) && switch_number_ == saved_switch_number) {
        drop_request_.store(true, std::memory_order_relaxed);
        drop_requests_.fetch_add(1, std::memory_order_relaxed);
        requested = true;
      }
      if (abort_requested()) {
        // As CPython does for a thread that must exit (gh-96387): withdraw our request, or the holder could
        // wait forever in drop() for a switch that never comes.
        if (prio) --priority_waiting_;
        if (requested) drop_request_.store(false, std::memory_order_relaxed);
        throw aborted_error(interrupted() ? "interrupted" : "stopped by the watchdog");
      }
    }
    if (prio) --priority_waiting_;
  }
  // _ready: gil->switch_mutex must be held while last_holder changes, so that a holder waiting in drop() for
  // the switch cannot miss it.
  {
    std::lock_guard sl(switch_mutex_);
    locked_.store(true, std::memory_order_relaxed);
    holder_.store(me, std::memory_order_relaxed);
    if (last_holder_.load(std::memory_order_relaxed) != me) {
      last_holder_.store(me, std::memory_order_relaxed);
      ++switch_number_;
      switches_.fetch_add(1, std::memory_order_relaxed);
    }
    // FORCE_SWITCHING: tell a holder that dropped on request that someone else has it now.
    switch_cond_.notify_one();
  }
  // Whoever takes the GIL clears a pending drop request (RESET_GIL_DROP_REQUEST), still under gil->mutex.
  if (drop_request_.load(std::memory_order_relaxed)) drop_request_.store(false, std::memory_order_relaxed);
}

void gil::drop_new() {
  // drop_gil() of Python/ceval_gil.c.
  const void* me = self_token();
  last_holder_.store(me, std::memory_order_relaxed);
  holder_.store(nullptr, std::memory_order_relaxed);
  {
    std::lock_guard lk(mutex_);
    locked_.store(false, std::memory_order_relaxed);
    // COND_SIGNAL(gil->cond) wakes one waiter. With a priority waiter queued, every waiter is woken so that
    // the I/O thread is sure to be among them (the CPU-bound ones go back to sleep).
    if (priority_waiting_ > 0)
      cond_.notify_all();
    else
      cond_.notify_one();
  }
  // FORCE_SWITCHING: dropped because someone asked? Then wait until another thread has taken the GIL, so
  // that this thread cannot win it straight back (the Python 2 race, on a multi-core machine).
  if (drop_request_.load(std::memory_order_relaxed)) {
    std::unique_lock sl(switch_mutex_);
    if (last_holder_.load(std::memory_order_relaxed) == me) {
      drop_request_.store(false, std::memory_order_relaxed);  // RESET_GIL_DROP_REQUEST
      forced_waits_.fetch_add(1, std::memory_order_relaxed);
      // CPython waits once, without a predicate loop (a spurious wake-up just ends the wait early). The
      // 100 ms bound is ours: it only matters if the waiter that asked was stopped before taking the GIL.
      switch_cond_.wait_for(sl, std::chrono::milliseconds(100));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// work_lock

namespace {

constexpr std::string_view lock_names[] = {"none", "mutex", "gil-old", "gil-new", "gil-priority"};

// The same ticks as the GIL runs, without tick boundaries: equal work content under every lock.
class tick_runner {
 public:
  explicit tick_runner(std::uint64_t tick_ns) : tick_ns_(tick_ns), iters_(cpu_work::iterations_for(tick_ns)) {}
  std::uint64_t ticks_for(std::uint64_t ns) const noexcept {
    return ns == 0 ? 0 : std::max<std::uint64_t>(1, (ns + tick_ns_ / 2) / tick_ns_);
  }
  void run(std::uint64_t ns) const {
    for (std::uint64_t i = 0, n = ticks_for(ns); i < n; ++i) {
      cpu_work::run(iters_);
      if (abort_requested()) check_abort();
    }
  }

 private:
  std::uint64_t tick_ns_;
  std::uint64_t iters_;
};

class no_lock final : public work_lock {
 public:
  explicit no_lock(std::uint64_t tick_ns) : ticks_(tick_ns) {}
  std::string_view name() const noexcept override { return "none"; }
  void enter() override {}
  void leave() override {}
  void work(std::uint64_t ns) override { ticks_.run(ns); }

 private:
  tick_runner ticks_;
};

class mutex_lock final : public work_lock {
 public:
  explicit mutex_lock(std::uint64_t tick_ns) : ticks_(tick_ns) {}
  std::string_view name() const noexcept override { return "mutex"; }
  void enter() override { m_.lock(); }
  void leave() override { m_.unlock(); }
  void work(std::uint64_t ns) override { ticks_.run(ns); }

 private:
  tick_runner ticks_;
  std::mutex m_;
};

class gil_lock final : public work_lock {
 public:
  gil_lock(std::string_view name, const gil_config& cfg) : name_(name), g_(cfg) {}
  std::string_view name() const noexcept override { return name_; }
  // A server thread comes back from recv() with a message: as a Python thread leaving a blocking call.
  void enter() override { g_.take(true); }
  void leave() override {
    if (g_.held_by_me()) g_.drop();
  }
  void work(std::uint64_t ns) override {
    const std::uint64_t t = g_.config().tick_ns;
    g_.run_ticks(ns == 0 ? 0 : std::max<std::uint64_t>(1, (ns + t / 2) / t));
  }

 private:
  std::string_view name_;
  gil g_;
};

}  // namespace

std::span<const std::string_view> work_lock_names() noexcept { return lock_names; }

std::unique_ptr<work_lock> make_work_lock(std::string_view name, const gil_config& gil_cfg) {
  if (name == "none") return std::make_unique<no_lock>(gil_cfg.tick_ns);
  if (name == "mutex") return std::make_unique<mutex_lock>(gil_cfg.tick_ns);
  gil_config cfg = gil_cfg;
  const std::optional<gil_policy> policy = name.starts_with("gil-") ? parse_gil_policy(name) : std::nullopt;
  if (policy && *policy != gil_policy::none)
    cfg.policy = *policy;
  else {
    std::string valid;
    for (std::string_view n : lock_names) valid += (valid.empty() ? "" : ", ") + std::string(n);
    throw usage_error(fmt::format("unknown lock policy '{}' (valid: {})", name, valid));
  }
  for (std::string_view n : lock_names)
    if (n == name) return std::make_unique<gil_lock>(n, cfg);
  return nullptr;  // not reached
}

}  // namespace bench
