// The GIL experiments. Each repetition is one Google Benchmark iteration on one benchmark thread
// (Iterations(1), UseManualTime); the interpreter threads, the echo peer and the forked processes are our own,
// started and pinned here, because Google Benchmark's threads all run the same body in lock step and cannot
// fork. Google Benchmark still provides registration, repetitions, interleaving and the reporter.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/fd.hpp"
#include "bench/contention/cases.hpp"
#include "harness/gil.hpp"
#include "harness/histogram.hpp"

namespace bench::contention {

gil_config gil_config_for(const case_desc& c, const settings& cfg) {
  gil_config g;
  g.policy = c.policy.value_or(gil_policy::none);
  g.switch_interval_ns = c.switch_interval_ns ? c.switch_interval_ns : cfg.default_switch_ns;
  g.check_interval = cfg.check_interval;
  g.tick_ns = cfg.tick_ns;
  return g;
}

namespace {

// The first error any of a case's threads met (later ones are usually consequences of it).
class first_error {
 public:
  void set(const std::string& what) {
    std::lock_guard lk(m_);
    if (what_.empty()) what_ = what;
  }
  std::string get() const {
    std::lock_guard lk(m_);
    return what_;
  }

 private:
  mutable std::mutex m_;
  std::string what_;
};

std::uint64_t rusage_cpu_ns(const rusage& ru) {
  auto ns = [](const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(tv.tv_usec) * 1000u;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

int cpu_slot(const settings& cfg, int i) { return cfg.cores.cpus[static_cast<std::size_t>(i) % cfg.cores.cpus.size()]; }

void set_gil_counters(benchmark::State& state, const gil_stats& st) {
  state.counters["switches"] = static_cast<double>(st.switches);
  state.counters["drop_requests"] = static_cast<double>(st.drop_requests);
  state.counters["forced_waits"] = static_cast<double>(st.forced_waits);
  state.counters["periodic_releases"] = static_cast<double>(st.periodic_releases);
}

// Worker i's part of `total` ticks split over k workers (the first total % k get one more).
std::uint64_t share_of(std::uint64_t total, int k, int i) {
  const auto uk = static_cast<std::uint64_t>(k), ui = static_cast<std::uint64_t>(i);
  return total / uk + (ui < total % uk ? 1 : 0);
}

void set_job_counters(benchmark::State& state, const settings& cfg, std::uint64_t wall, std::uint64_t cpu,
                      std::uint64_t ticks) {
  state.counters["wall_ns"] = static_cast<double>(wall);
  state.counters["cpu_ns"] = static_cast<double>(cpu);
  state.counters["work_ns"] = static_cast<double>(cfg.gil_work_ns);
  state.counters["ticks"] = static_cast<double>(ticks);
  state.counters["iterations"] = 1;  // gil-cpu rows: one iteration is the whole job
  state.counters["real_time_ns"] = static_cast<double>(wall);
  state.counters["cpu_time_ns"] = static_cast<double>(cpu);
}

std::string timeout_text(std::uint64_t bound_ns) {
  return fmt::format("timed out: the case did not end within its bound of {}", short_duration(bound_ns));
}

// ---------------------------------------------------------------------------------------------------------------
// gil-cpu: a fixed amount of CPU work split over threads (one emulated interpreter, one GIL) or over processes
// (one interpreter and one GIL each, as multiprocessing does). The clock runs from before the first thread or
// fork to the last join or wait, as `time` around a Python script would; thread creation and fork
// are inside it, and are small against the work (docs/MEASURED.md).

void gil_cpu_threads(benchmark::State& state, const case_desc& c, const case_env& env, std::uint64_t bound) {
  const settings& cfg = *env.cfg;
  const gil_config gcfg = gil_config_for(c, cfg);
  const std::uint64_t total_ticks = cfg.gil_work_ns / cfg.tick_ns;
  gil g(gcfg);
  first_error err;
  std::vector<std::uint64_t> cpu(static_cast<std::size_t>(c.threads), 0);
  env.watchdog->arm(bound);
  const std::uint64_t t0 = now_ns();
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < c.threads; ++i) {
      const std::uint64_t share = share_of(total_ticks, c.threads, i);
      threads.emplace_back([&, i, share] {
        try {
          pin_this_thread(cpu_slot(cfg, i));
          gil::holder h(g);
          g.run_ticks(share);
        } catch (const std::exception& e) {
          err.set(e.what());
        }
        cpu[static_cast<std::size_t>(i)] = thread_cpu_ns();
      });
    }
  }  // jthreads join here
  const std::uint64_t wall = now_ns() - t0;
  const bool timed_out = env.watchdog->disarm();
  std::uint64_t cpu_total = 0;
  for (std::uint64_t v : cpu) cpu_total += v;
  state.SetIterationTime(static_cast<double>(wall) / 1e9);
  if (timed_out) return state.SkipWithError(timeout_text(bound).c_str());
  if (!err.get().empty()) return state.SkipWithError(err.get().c_str());
  set_job_counters(state, cfg, wall, cpu_total, total_ticks);
  set_gil_counters(state, g.stats());
}

void gil_cpu_processes(benchmark::State& state, const case_desc& c, const case_env& env, std::uint64_t bound) {
  const settings& cfg = *env.cfg;
  const gil_config gcfg = gil_config_for(c, cfg);
  const std::uint64_t total_ticks = cfg.gil_work_ns / cfg.tick_ns;
  std::vector<pid_t> pids;
  env.watchdog->arm(bound);
  const std::uint64_t t0 = now_ns();
  std::string error;
  for (int i = 0; i < c.threads; ++i) {
    const std::uint64_t share = share_of(total_ticks, c.threads, i);
    pid_t pid = fork();
    if (pid < 0) {
      error = errno_text("fork a gil-cpu worker process", errno);
      break;
    }
    if (pid == 0) {
      // The child: its own interpreter with its own GIL, one thread. Only async-signal-safe exits from here.
      int status = 0;
      try {
        pin_this_thread(cpu_slot(cfg, i));
        gil g(gcfg);
        gil::holder h(g);
        g.run_ticks(share);
      } catch (...) {
        status = 1;
      }
      _exit(status);
    }
    pids.push_back(pid);
  }
  // Children that outlive the bound are killed; their wait below then reports the signal.
  env.watchdog->set_action([pids] {
    for (pid_t p : pids) kill(p, SIGKILL);
  });
  std::uint64_t cpu_total = 0;
  for (pid_t p : pids) {
    int status = 0;
    rusage ru{};
    while (wait4(p, &status, 0, &ru) < 0) {
      if (errno != EINTR) {
        error = errno_text("wait for a gil-cpu worker process", errno);
        break;
      }
    }
    cpu_total += rusage_cpu_ns(ru);
    if (error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      error = WIFSIGNALED(status) ? fmt::format("a worker process died of signal {}", WTERMSIG(status))
                                  : fmt::format("a worker process exited with status {}", WEXITSTATUS(status));
  }
  const std::uint64_t wall = now_ns() - t0;
  const bool timed_out = env.watchdog->disarm();
  state.SetIterationTime(static_cast<double>(wall) / 1e9);
  if (timed_out) return state.SkipWithError(timeout_text(bound).c_str());
  if (!error.empty()) return state.SkipWithError(error.c_str());
  set_job_counters(state, cfg, wall, cpu_total, total_ticks);
}

}  // namespace

void run_gil_cpu_case(benchmark::State& state, const case_desc& c, const case_env& env) {
  const settings& cfg = *env.cfg;
  // Generous: the old GIL can make two threads several times slower than one.
  const std::uint64_t bound = cfg.gil_work_ns * 20 + 5'000'000'000ull;
  announce_case(env, c.name());
  for (auto _ : state) {
    if (interrupted()) {
      state.SkipWithError("interrupted before this case ran");
      continue;
    }
    if (c.model == "process")
      gil_cpu_processes(state, c, env, bound);
    else
      gil_cpu_threads(state, c, env, bound);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// gil-convoy and gil-placement: an I/O thread does small echo round trips over a socketpair with a peer that
// holds no GIL (it stands for the other end of a network connection), beside CPU-bound interpreter threads.
//
// Per round trip the I/O thread does what a Python client does: a tick of Python code, then sendall() and
// recv(), each releasing the GIL around its system call and taking it back afterwards. The round trip is timed
// from before the send to the moment the GIL is held again: when Python code would see the reply.
//
// Placement (gil-convoy): the I/O thread on the first CPU of the plan, the echo peer on the next one (it stands
// for a remote machine: its reply takes a cross-core wake-up, tens of microseconds here, like a fast LAN), and
// CPU-bound thread j on CPU j+1, round robin (with two CPUs the first shares its core with the echo peer, the
// second with the I/O thread). gil-placement varies both: the CPU-bound thread on the I/O thread's core or on
// the other one (placement same/cross), and the echo peer likewise (echo_placement same/cross).
//
// Why the echo peer's place matters so much: when the I/O thread drops the GIL for a system call, the waiting
// CPU-bound thread is signalled, but waking a thread on another core takes tens of microseconds. An echo
// on the I/O thread's own core answers several times sooner (docs/MEASURED.md), so the I/O thread usually takes
// the GIL back before the CPU-bound thread is even running, and the CPU-bound thread, woken by a signal rather
// than a timeout, starts a fresh interval and never asks for a drop: the GIL rarely changes hands. Real CPython does
// the same (cpython_compare.py); the convoy of the issue needs I/O that really blocks for longer than that wake-up.

namespace {

constexpr std::size_t msg_bytes = 64;

// The echo peer stands for the far end of a connection: it must answer as soon as a request arrives, not when
// the scheduler gets round to it on a core it shares with a CPU-bound thread (CFS could make it wait for a
// time slice, milliseconds, and that wait would be charged to the GIL). SCHED_FIFO makes it pre-empt a
// SCHED_OTHER thread at once; it only ever blocks in read(), so it cannot hog the core. Returns false where
// the system refuses (no privilege): the peer then runs as an ordinary thread, and the rows say so.
bool make_realtime() noexcept {
  sched_param p{};
  p.sched_priority = 1;
  return pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0;
}
// The first round trips run while the echo peer and the CPU-bound threads are still starting (first
// wake-ups, page faults, the GIL's first switch): not counted.
constexpr std::uint64_t warmup_round_trips = 3;

// Where a convoy case's threads run and how long: long enough for convoy_min_intervals switch intervals where the
// interval matters, so that even at 20 ms the percentiles rest on a few dozen round trips.
struct convoy_layout {
  std::uint64_t duration = 0, bound = 0;
  int io_cpu = 0, echo_cpu = 0;
  std::vector<int> cpu_cpus;  // one per CPU-bound thread
};

convoy_layout layout_convoy(const case_desc& c, const settings& cfg, const gil_config& gcfg) {
  convoy_layout l;
  const bool has_interval = c.switch_interval_ns != 0;
  l.duration =
      std::max(cfg.convoy_min_ns,
               has_interval ? static_cast<std::uint64_t>(cfg.convoy_min_intervals) * gcfg.switch_interval_ns : 0);
  l.bound = l.duration + 5'000'000'000ull + 10 * gcfg.switch_interval_ns;
  l.io_cpu = cpu_slot(cfg, 0);
  l.echo_cpu = c.echo_placement == "same" ? l.io_cpu : cpu_slot(cfg, 1);
  for (int j = 0; j < c.cpu_threads; ++j) {
    if (c.placement == "same")
      l.cpu_cpus.push_back(l.io_cpu);
    else
      l.cpu_cpus.push_back(cpu_slot(cfg, 1 + j));
  }
  return l;
}

// What the I/O thread measured.
struct io_record {
  histogram hist;
  std::uint64_t counted = 0, first_start = 0, last_end = 0;
  std::uint64_t io_cpu_ns = 0;        // from the window's start to the end (an in-flight round trip too)
  std::uint64_t io_cpu_total_ns = 0;  // the whole run, warm-up included
  std::uint64_t censored_ns = 0;
};

// The I/O thread's loop until `stop`: a tick of Python code, then an echo round trip with the GIL released around
// each system call. Throws on a failed or mismatched echo.
void io_round_trips(gil& g, int fd, int cpu, const std::atomic<bool>& stop, io_record& r) {
  pin_this_thread(cpu);
  const std::uint64_t cpu0 = thread_cpu_ns();
  std::uint64_t cpu_first = cpu0;
  gil::holder h(g, true);
  std::byte msg[msg_bytes] = {};
  std::byte reply[msg_bytes];
  for (std::uint64_t seq = 0; !stop.load(std::memory_order_relaxed); ++seq) {
    // The measured window starts with the first counted iteration (its tick of Python code included):
    // real_time and cpu_time per round trip are taken over it, as Google Benchmark's are.
    if (seq == warmup_round_trips) {
      r.first_start = now_ns();
      cpu_first = thread_cpu_ns();
    }
    g.run_ticks(1);  // a little Python code between round trips
    std::memcpy(msg, &seq, sizeof seq);
    const std::uint64_t t0 = now_ns();
    g.blocking([&] { write_all(fd, msg); });
    const bool got = g.blocking([&] { return read_exact(fd, reply); });
    const std::uint64_t t1 = now_ns();
    if (!got) throw peer_gone_error("the echo peer closed the connection");
    if (std::memcmp(msg, reply, msg_bytes) != 0)
      throw protocol_error(fmt::format("echo reply {} does not match the request", seq));
    if (stop.load(std::memory_order_relaxed)) {
      // Completed only because the run ended and the CPU-bound threads stopped: censored, not a sample.
      r.censored_ns = t1 - t0;
      break;
    }
    if (seq < warmup_round_trips) continue;
    r.hist.record(t1 - t0);
    ++r.counted;
    r.last_end = t1;
  }
  const std::uint64_t cpu_end = thread_cpu_ns();
  r.io_cpu_ns = cpu_end - cpu_first;
  r.io_cpu_total_ns = cpu_end - cpu0;
}

// CPU-bound Python code, `while not stop: n += 1`, holding the GIL as the policy lets it; returns n.
std::uint64_t spin_ticks(gil& g, int cpu, const std::atomic<bool>& stop, std::atomic<int>& started) {
  pin_this_thread(cpu);
  started.fetch_add(1);
  gil::holder h(g);
  std::uint64_t n = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    g.run_ticks(1);
    ++n;
  }
  return n;
}

// The counters of a finished convoy run: a starved run (not one round trip completed while the CPU-bound threads
// ran) is a result, not a failure.
void set_convoy_counters(benchmark::State& state, const convoy_layout& l, const io_record& r, std::uint64_t cpu_ticks,
                         bool echo_fifo) {
  const std::uint64_t span = r.last_end > r.first_start ? r.last_end - r.first_start : 0;
  state.counters["run_ns"] = static_cast<double>(l.duration);
  state.counters["round_trips"] = static_cast<double>(r.counted);
  state.counters["round_trips_per_s"] = span > 0 ? static_cast<double>(r.counted) * 1e9 / static_cast<double>(span) : 0;
  state.counters["cpu_ticks_per_s"] = static_cast<double>(cpu_ticks) * 1e9 / static_cast<double>(l.duration);
  state.counters["io_cpu"] = l.io_cpu;
  state.counters["echo_cpu"] = l.echo_cpu;
  state.counters["echo_fifo"] = echo_fifo ? 1 : 0;
  if (!l.cpu_cpus.empty()) state.counters["cpu_thread_cpu"] = l.cpu_cpus.front();
  if (r.counted == 0) {
    // The round trip that was in flight when the run ended says how long it had waited by then
    // (rtt_censored_ns). One iteration, the run: real_time is its length, cpu_time the I/O thread's CPU time in it.
    state.counters["starved"] = 1;
    if (r.censored_ns) state.counters["rtt_censored_ns"] = static_cast<double>(r.censored_ns);
    state.counters["iterations"] = 1;
    state.counters["real_time_ns"] = static_cast<double>(l.duration);
    state.counters["cpu_time_ns"] = static_cast<double>(r.io_cpu_total_ns);
    return;
  }
  state.counters["starved"] = 0;
  state.counters["rtt_p50_ns"] = static_cast<double>(r.hist.percentile(50));
  state.counters["rtt_p90_ns"] = static_cast<double>(r.hist.percentile(90));
  state.counters["rtt_p99_ns"] = static_cast<double>(r.hist.percentile(99));
  state.counters["rtt_max_ns"] = static_cast<double>(r.hist.max());
  state.counters["rtt_mean_ns"] = r.hist.mean();
  state.counters["wall_ns"] = static_cast<double>(span);
  state.counters["cpu_ns"] = static_cast<double>(r.io_cpu_ns);
  // Google Benchmark's meaning: an iteration is a counted round trip with its tick of Python code; the times
  // are per iteration over the measured window (rtt_mean_ns is the mean round trip alone).
  state.counters["iterations"] = static_cast<double>(r.counted);
  state.counters["real_time_ns"] = static_cast<double>(span) / static_cast<double>(r.counted);
  state.counters["cpu_time_ns"] = static_cast<double>(r.io_cpu_ns) / static_cast<double>(r.counted);
}

void convoy_body(benchmark::State& state, const case_desc& c, const case_env& env) {
  const settings& cfg = *env.cfg;
  const gil_config gcfg = gil_config_for(c, cfg);
  const convoy_layout l = layout_convoy(c, cfg, gcfg);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return state.SkipWithError(errno_text("create a socketpair", errno).c_str());
  unique_fd io_end(sv[0]), peer_end(sv[1]);

  gil g(gcfg);
  first_error err;
  std::atomic<bool> stop{false};
  std::atomic<int> cpu_started{0};
  std::atomic<bool> echo_fifo{false};
  std::vector<std::uint64_t> ticks(static_cast<std::size_t>(c.cpu_threads), 0);
  io_record rec;

  env.watchdog->arm(l.bound, [&] {
    // Ends the blocking reads of the I/O thread and the echo peer; the CPU-bound threads see the abort flag.
    ::shutdown(io_end.get(), SHUT_RDWR);
    ::shutdown(peer_end.get(), SHUT_RDWR);
  });

  {
    std::jthread echo([&] {
      try {
        pin_this_thread(l.echo_cpu);
        echo_fifo.store(make_realtime());
        std::byte buf[msg_bytes];
        while (read_exact(peer_end.get(), buf)) write_all(peer_end.get(), buf);
      } catch (const std::exception& e) {
        if (!stop.load()) err.set(std::string("echo peer: ") + e.what());
      }
    });
    std::vector<std::jthread> cpu_threads;
    for (int j = 0; j < c.cpu_threads; ++j) {
      cpu_threads.emplace_back([&, j] {
        try {
          ticks[static_cast<std::size_t>(j)] =
              spin_ticks(g, l.cpu_cpus[static_cast<std::size_t>(j)], stop, cpu_started);
        } catch (const std::exception& e) {
          err.set(e.what());
        }
      });
    }
    // The I/O thread starts once every CPU-bound thread runs.
    while (cpu_started.load() < c.cpu_threads && err.get().empty()) std::this_thread::yield();

    std::atomic<bool> io_done{false};
    const std::uint64_t deadline = now_ns() + l.duration;
    std::jthread io([&] {
      try {
        io_round_trips(g, io_end.get(), l.io_cpu, stop, rec);
      } catch (const std::exception& e) {
        err.set(std::string("I/O thread: ") + e.what());
      }
      io_done.store(true);
    });
    // Sleep until the end of the run (or until the I/O thread fails), then stop everyone.
    for (std::uint64_t now = now_ns(); now < deadline && !io_done.load() && err.get().empty() && !abort_requested();
         now = now_ns())
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::uint64_t>(10'000'000, deadline - now)));
    stop.store(true);
    io.join();
    for (auto& t : cpu_threads) t.join();
    ::shutdown(io_end.get(), SHUT_WR);  // EOF for the echo peer
  }
  const bool timed_out = env.watchdog->disarm();
  const std::uint64_t span = rec.last_end > rec.first_start ? rec.last_end - rec.first_start : 0;
  state.SetIterationTime(static_cast<double>(std::max<std::uint64_t>(span, 1)) / 1e9);
  if (timed_out) return state.SkipWithError(timeout_text(l.bound).c_str());
  if (!err.get().empty()) return state.SkipWithError(err.get().c_str());

  std::uint64_t cpu_ticks = 0;
  for (std::uint64_t t : ticks) cpu_ticks += t;
  set_convoy_counters(state, l, rec, cpu_ticks, echo_fifo.load());
  set_gil_counters(state, g.stats());
}

}  // namespace

void run_convoy_case(benchmark::State& state, const case_desc& c, const case_env& env) {
  announce_case(env, c.name());
  for (auto _ : state) {
    if (interrupted()) {
      state.SkipWithError("interrupted before this case ran");
      continue;
    }
    convoy_body(state, c, env);
  }
}

}  // namespace bench::contention
