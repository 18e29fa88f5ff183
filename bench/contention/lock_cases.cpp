// Locks and false sharing, run on Google Benchmark's own threads (Threads/ThreadRange).
//
// Google Benchmark gives every thread the same iteration count, which would make every thread's share equal
// by construction. So one benchmark iteration is one fixed-length *window* (Iterations(1), UseManualTime):
// all threads pass a start gate together, then each runs operations until the shared deadline, counting its
// own. Throughput is the sum over the window; fairness is the spread of the per-thread counts.
#include <pthread.h>
#include <sched.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/spin.hpp"
#include "bench/contention/cases.hpp"
#include "bench/contention/locks.hpp"
#include "harness/gil.hpp"

namespace bench::contention {

const std::vector<std::string>& lock_names() {
  static const std::vector<std::string> names = {"mutex",    "tas",          "ttas",   "ticket",
                                                 "adaptive", "shared-mutex", "atomic", "sharded"};
  return names;
}

namespace {

constexpr int max_threads = 256;  // validate_contention refuses --cores beyond this

// Restores the calling thread's CPU mask on scope exit: Google Benchmark's thread 0 is the main thread,
// which must not stay pinned after a case.
class affinity_guard {
 public:
  explicit affinity_guard(int cpu) {
    CPU_ZERO(&saved_);
    have_ = pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) == 0;
    pin_this_thread(cpu);
  }
  ~affinity_guard() {
    if (have_) pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
  }
  affinity_guard(const affinity_guard&) = delete;
  affinity_guard& operator=(const affinity_guard&) = delete;

 private:
  cpu_set_t saved_;
  bool have_ = false;
};

struct alignas(64) thread_result {
  std::uint64_t ops = 0;
  std::uint64_t cpu_ns = 0;
  std::uint64_t end_ns = 0;
  bool failed = false;
};

struct alignas(128) padded_counter {
  // 128, not 64: the adjacent-line prefetcher of many x86 cores fetches lines in pairs, so two counters 64
  // bytes apart can still slow each other down a little.
  std::atomic<std::uint64_t> value{0};
};

// State shared by the threads of one run (one thread count, one repetition). Thread 0 resets it after the
// run, when every thread has passed Google Benchmark's end barrier and the next run has not started yet.
template <class Lock>
struct shared_run {
  // Start gate: the last thread to arrive sets the start time; the others wait for it.
  alignas(64) std::atomic<int> arrived{0};
  alignas(64) std::atomic<std::uint64_t> start_ns{0};
  // The lock, rebuilt for every run (an aborted ticket lock is left unusable).
  std::optional<Lock> lock;
  // Data the lock protects, on its own line: a plain counter (its final value proves mutual exclusion), and
  // who held the lock last (to count hand-offs between threads).
  alignas(64) std::uint64_t counter = 0;
  int last_owner = -1;
  std::uint64_t handoffs = 0;
  std::uint64_t reads = 0;  // shared-mutex: read operations, for the check
  // Lock-free baselines.
  alignas(64) std::atomic<std::uint64_t> atomic_counter{0};
  std::vector<padded_counter> shards = std::vector<padded_counter>(max_threads);
  // False sharing: eight 8-byte counters in one line (adjacent), or one per 128 bytes (padded).
  alignas(128) std::array<std::atomic<std::uint64_t>, max_threads> adjacent{};
  std::vector<padded_counter> padded = std::vector<padded_counter>(max_threads);
  std::vector<thread_result> results = std::vector<thread_result>(max_threads);

  shared_run() { reset(); }
  void reset() {
    arrived.store(0, std::memory_order_relaxed);
    start_ns.store(0, std::memory_order_relaxed);
    lock.emplace();
    counter = 0;
    last_owner = -1;
    handoffs = 0;
    reads = 0;
    atomic_counter.store(0, std::memory_order_relaxed);
    for (auto& s : shards) s.value.store(0, std::memory_order_relaxed);
    for (auto& a : adjacent) a.store(0, std::memory_order_relaxed);
    for (auto& p : padded) p.value.store(0, std::memory_order_relaxed);
    for (auto& r : results) r = thread_result{};
  }

  // Returns the start time once all `threads` have arrived.
  std::uint64_t gate(int threads) {
    if (arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == threads) {
      std::uint64_t t = now_ns();
      start_ns.store(t, std::memory_order_release);
      return t;
    }
    spinner spin;  // yields now and then: with more threads than cores the last one must get to run
    for (;;) {
      std::uint64_t t = start_ns.load(std::memory_order_acquire);
      if (t != 0) return t;
      spin.once();
    }
  }
};

// Runs `op(i)` until the deadline, checking the clock every `check_every` operations (a clock read costs
// about 25 ns: reading it per operation would be a large part of a 100 ns operation).
template <class Op>
std::uint64_t run_window(std::uint64_t deadline, unsigned check_every, Op&& op) {
  std::uint64_t ops = 0;
  for (;;) {
    for (unsigned k = 0; k < check_every; ++k) op(ops++);
    if (now_ns() >= deadline) return ops;
    if (abort_requested()) check_abort();
  }
}

// The summary thread 0 computes after the window, stored as counters.
void set_window_counters(benchmark::State& state, const std::vector<thread_result>& results, int threads,
                         std::uint64_t start) {
  std::uint64_t total = 0, mn = UINT64_MAX, mx = 0, cpu = 0, end = start;
  for (int i = 0; i < threads; ++i) {
    const thread_result& r = results[static_cast<std::size_t>(i)];
    total += r.ops;
    mn = std::min(mn, r.ops);
    mx = std::max(mx, r.ops);
    cpu += r.cpu_ns;
    end = std::max(end, r.end_ns);
  }
  const double wall = static_cast<double>(end - start);
  const double mean = static_cast<double>(total) / threads;
  state.counters["wall_ns"] = wall;
  state.counters["cpu_ns"] = static_cast<double>(cpu);
  state.counters["ops_total"] = static_cast<double>(total);
  state.counters["ops_per_s"] = wall > 0 ? static_cast<double>(total) * 1e9 / wall : 0;
  state.counters["ops_min"] = static_cast<double>(mn);
  state.counters["ops_max"] = static_cast<double>(mx);
  // Fairness: how unevenly the window was shared. 0% = every thread did the same; 200% = one did all.
  state.counters["fairness_spread_pct"] = mean > 0 ? (static_cast<double>(mx - mn)) / mean * 100 : 0;
  state.counters["fairness_min_over_max"] = mx > 0 ? static_cast<double>(mn) / static_cast<double>(mx) : 0;
  // Google Benchmark's meaning: an iteration is one operation (of any thread), and real_time / cpu_time are
  // the window's wall time and all threads' CPU time per operation.
  state.counters["iterations"] = static_cast<double>(total);
  state.counters["real_time_ns"] = total ? wall / static_cast<double>(total) : 0;
  state.counters["cpu_time_ns"] = total ? static_cast<double>(cpu) / static_cast<double>(total) : 0;
}

// One repetition of a window case on Google Benchmark's threads: pin, pass the start gate, run `ops(ti,
// deadline)` (returns the thread's operation count), record. Thread 0 then summarises, runs `verify()` (an
// error text, or empty) and resets the shared state for the next run.
template <class Lock, class Ops, class Verify>
void window_case(benchmark::State& state, const case_desc& c, const case_env& env, shared_run<Lock>& s, Ops&& ops,
                 Verify&& verify) {
  const settings& cfg = *env.cfg;
  const int ti = state.thread_index();
  const int nt = state.threads();
  case_desc named = c;
  named.threads = nt;
  const std::string name = named.name();
  // Spinlocks with more threads than cores can take a scheduler time slice per hand-off; the bound is
  // generous, and a case that passes it is reported as failed (the spinning waits throw aborted_error).
  const std::uint64_t bound = cfg.window_ns * 4 + 3'000'000'000ull;
  if (ti == 0) {
    announce_case(env, name);
    env.watchdog->arm(bound);
  }
  affinity_guard pin(cfg.cores.cpus[static_cast<std::size_t>(ti) % cfg.cores.cpus.size()]);
  for (auto _ : state) {
    thread_result& mine = s.results[static_cast<std::size_t>(ti)];
    if (interrupted()) {
      state.SkipWithError("interrupted before this case ran");
      continue;
    }
    try {
      const std::uint64_t start = s.gate(nt);
      const std::uint64_t cpu0 = thread_cpu_ns();
      mine.ops = ops(ti, start + cfg.window_ns);
      mine.cpu_ns = thread_cpu_ns() - cpu0;
      mine.end_ns = now_ns();
      state.SetIterationTime(static_cast<double>(mine.end_ns - start) / 1e9);
    } catch (const std::exception& e) {
      mine.failed = true;
      state.SetIterationTime(1e-9);
      state.SkipWithError(abort_requested() && !interrupted()
                              ? fmt::format("timed out: {} threads did not finish a {} window within {}", nt,
                                            short_duration(cfg.window_ns), short_duration(bound))
                                    .c_str()
                              : e.what());
    }
  }
  if (ti != 0) return;
  // Thread 0, after Google Benchmark's end barrier: every thread's results are in.
  const bool timed_out = env.watchdog->disarm();
  const std::uint64_t start = s.start_ns.load(std::memory_order_relaxed);
  bool failed = timed_out || start == 0;
  std::uint64_t total = 0;
  for (int i = 0; i < nt; ++i) {
    failed = failed || s.results[static_cast<std::size_t>(i)].failed;
    total += s.results[static_cast<std::size_t>(i)].ops;
  }
  if (!failed) {
    set_window_counters(state, s.results, nt, start);
    std::string error = total == 0 ? std::string("no operation completed in the window") : verify(nt, total);
    if (!error.empty()) state.SkipWithError(error.c_str());
  }
  s.reset();
}

enum class op_kind { exclusive, shared_mix, atomic_add, sharded_add };

// The proof that the lock excluded: every increment of the plain counter survived. Sets the hand-off counters of
// the kinds that take the lock; returns the violation, or nothing.
template <class Lock>
std::string verify_increments(benchmark::State& state, shared_run<Lock>& s, op_kind kind, int nt, std::uint64_t total) {
  std::uint64_t increments = 0;
  switch (kind) {
    case op_kind::exclusive: increments = s.counter; break;
    case op_kind::shared_mix: increments = s.counter + s.reads; break;
    case op_kind::atomic_add: increments = s.atomic_counter.load(std::memory_order_relaxed); break;
    case op_kind::sharded_add:
      for (int i = 0; i < nt; ++i) increments += s.shards[static_cast<std::size_t>(i)].value.load();
      break;
  }
  if (kind == op_kind::exclusive || kind == op_kind::shared_mix) {
    state.counters["handoffs"] = static_cast<double>(s.handoffs);
    state.counters["handoffs_per_op"] =
        s.counter > 0 ? static_cast<double>(s.handoffs) / static_cast<double>(s.counter) : 0;
  }
  if (increments != total)
    return fmt::format("mutual exclusion violated: {} increments survived of {} operations", increments, total);
  return {};
}

template <class Lock>
void lock_case_body(benchmark::State& state, const case_desc& c, const case_env& env, shared_run<Lock>& s,
                    op_kind kind) {
  const settings& cfg = *env.cfg;
  const std::uint64_t cs_iters = cpu_work::iterations_for(cfg.cs_ns);
  const std::uint64_t out_iters = cpu_work::iterations_for(cfg.outside_ns);
  // shared-mutex: every 10th operation of a thread is a write (read-mostly), or every 10th a read
  // (write-heavy).
  const bool read_mostly = c.mix == "read-mostly";
  auto write_section = [&](int ti) {
    cpu_work::run(cs_iters);
    ++s.counter;
    if (s.last_owner != ti) {
      ++s.handoffs;
      s.last_owner = ti;
    }
  };
  auto ops = [&](int ti, std::uint64_t deadline) -> std::uint64_t {
    Lock& lock = *s.lock;
    switch (kind) {
      case op_kind::exclusive:
        return run_window(deadline, 8, [&](std::uint64_t) {
          lock.lock();
          write_section(ti);
          lock.unlock();
          cpu_work::run(out_iters);
        });
      case op_kind::shared_mix:
        if constexpr (requires { lock.lock_shared(); }) {
          return run_window(deadline, 8, [&](std::uint64_t i) {
            if (read_mostly ? (i % 10 == 0) : (i % 10 != 0)) {
              lock.lock();
              write_section(ti);
              lock.unlock();
            } else {
              lock.lock_shared();
              cpu_work::run(cs_iters);
              // A read of the protected data; readers may run together, so their count is atomic.
              benchmark::DoNotOptimize(s.counter);
              std::atomic_ref<std::uint64_t>(s.reads).fetch_add(1, std::memory_order_relaxed);
              lock.unlock_shared();
            }
            cpu_work::run(out_iters);
          });
        }
        return 0;
      case op_kind::atomic_add:
        // Lock-free baseline: the same work, unprotected, and one atomic increment of a shared counter.
        return run_window(deadline, 8, [&](std::uint64_t) {
          cpu_work::run(cs_iters);
          s.atomic_counter.fetch_add(1, std::memory_order_relaxed);  // relaxed: only the total matters
          cpu_work::run(out_iters);
        });
      case op_kind::sharded_add: {
        // Lock-free baseline without sharing: each thread increments its own padded counter (only the owner
        // writes it, so a load + store is enough; the total is summed after the window).
        std::atomic<std::uint64_t>& shard = s.shards[static_cast<std::size_t>(ti)].value;
        return run_window(deadline, 8, [&](std::uint64_t) {
          cpu_work::run(cs_iters);
          shard.store(shard.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
          cpu_work::run(out_iters);
        });
      }
    }
    return 0;
  };
  auto verify = [&](int nt, std::uint64_t total) { return verify_increments(state, s, kind, nt, total); };
  window_case(state, c, env, s, ops, verify);
}

void false_sharing_body(benchmark::State& state, const case_desc& c, const case_env& env,
                        shared_run<locks::std_mutex>& s) {
  auto counter_of = [&](int ti) -> std::atomic<std::uint64_t>& {
    return c.layout == "adjacent" ? s.adjacent[static_cast<std::size_t>(ti)]
                                  : s.padded[static_cast<std::size_t>(ti)].value;
  };
  auto ops = [&](int ti, std::uint64_t deadline) {
    // Each thread only ever touches its own counter, with an atomic increment (lock xadd on x86), as
    // per-thread statistics counters are kept. The increment needs the line in this core's cache, exclusive:
    // with the line shared with another thread's counter, every increment may have to fetch it back first.
    // (A plain load + store would hide most of that: the store buffer forwards the value to the next load and
    // commits many stores per visit of the line.)
    std::atomic<std::uint64_t>& mine = counter_of(ti);
    return run_window(deadline, 1024, [&](std::uint64_t) { mine.fetch_add(1, std::memory_order_relaxed); });
  };
  auto verify = [&](int nt, std::uint64_t total) -> std::string {
    std::uint64_t counted = 0;
    for (int i = 0; i < nt; ++i) counted += counter_of(i).load();
    return counted == total ? std::string()
                            : fmt::format("lost increments: {} counted of {} operations", counted, total);
  };
  window_case(state, c, env, s, ops, verify);
}

template <class Lock>
shared_run<Lock>& shared_of(const case_desc& c) {
  return *static_cast<shared_run<Lock>*>(c.shared.get());
}
}  // namespace

std::shared_ptr<void> make_shared_run(const case_desc& c) {
  if (c.experiment == "false-sharing") return std::make_shared<shared_run<locks::std_mutex>>();
  if (c.lock == "tas") return std::make_shared<shared_run<locks::tas_lock>>();
  if (c.lock == "ttas") return std::make_shared<shared_run<locks::ttas_lock>>();
  if (c.lock == "ticket") return std::make_shared<shared_run<locks::ticket_lock>>();
  if (c.lock == "adaptive") return std::make_shared<shared_run<locks::adaptive_lock>>();
  if (c.lock == "shared-mutex") return std::make_shared<shared_run<locks::shared_mutex>>();
  return std::make_shared<shared_run<locks::std_mutex>>();  // mutex; atomic and sharded leave it unused
}

void run_lock_case(benchmark::State& state, const case_desc& c, const case_env& env) {
  // The runtime choice of lock becomes a template instance here, before anything is timed.
  if (c.lock == "tas")
    lock_case_body(state, c, env, shared_of<locks::tas_lock>(c), op_kind::exclusive);
  else if (c.lock == "ttas")
    lock_case_body(state, c, env, shared_of<locks::ttas_lock>(c), op_kind::exclusive);
  else if (c.lock == "ticket")
    lock_case_body(state, c, env, shared_of<locks::ticket_lock>(c), op_kind::exclusive);
  else if (c.lock == "adaptive")
    lock_case_body(state, c, env, shared_of<locks::adaptive_lock>(c), op_kind::exclusive);
  else if (c.lock == "shared-mutex")
    lock_case_body(state, c, env, shared_of<locks::shared_mutex>(c), op_kind::shared_mix);
  else if (c.lock == "atomic")
    lock_case_body(state, c, env, shared_of<locks::std_mutex>(c), op_kind::atomic_add);
  else if (c.lock == "sharded")
    lock_case_body(state, c, env, shared_of<locks::std_mutex>(c), op_kind::sharded_add);
  else
    lock_case_body(state, c, env, shared_of<locks::std_mutex>(c), op_kind::exclusive);
}

void run_false_sharing_case(benchmark::State& state, const case_desc& c, const case_env& env) {
  false_sharing_body(state, c, env, shared_of<locks::std_mutex>(c));
}

}  // namespace bench::contention
