// Internals of the contention suite: its resolved settings, the case descriptors (one per result name), and
// the experiment bodies that Google Benchmark runs. Not for other suites; see contention_suite.hpp.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/contention/watchdog.hpp"
#include "bench/progress.hpp"
#include "harness/case_key.hpp"
#include "harness/cpu.hpp"
#include "harness/gil.hpp"

namespace bench::contention {

// Every value a case needs, defaults filled in (contention_suite.cpp: resolve_settings).
struct settings {
  core_plan cores;
  bool quick = false;
  int reps = 5;
  std::uint64_t window_ns = 0;         // locks and false sharing: the measured window of one repetition
  std::uint64_t cs_ns = 50;            // critical section length
  std::uint64_t outside_ns = 50;       // work between two critical sections (equal to cs: see resolve_settings)
  std::uint64_t tick_ns = 25;          // GIL tick, see gil_config::tick_ns
  std::uint32_t check_interval = 100;  // old GIL
  std::vector<std::uint64_t> switch_intervals_ns;  // new/priority: swept by gil-convoy
  std::uint64_t default_switch_ns = 5'000'000;     // gil-cpu, gil-placement, and convoy cases without contention
  std::uint64_t gil_work_ns = 0;                   // gil-cpu: total CPU work, split over the threads or processes
  std::uint64_t convoy_min_ns = 0;                 // gil-convoy/placement: shortest run of one repetition
  int convoy_min_intervals = 40;                   // ... and at least this many switch intervals long
  std::vector<std::string> locks;                  // selected lock names
  std::vector<gil_policy> policies;                // selected GIL policies
  std::vector<int> thread_counts;                  // locks, false sharing, gil-cpu: 1, 2, 4, ..., cores
  std::vector<int> cpu_thread_counts;              // gil-convoy: 0 (alone), 1, 2, 4, ..., cores
  std::string filter;
};

// One result name. Lock cases registered with a thread range share one descriptor; `threads` is then filled
// in per run.
struct case_desc {
  std::string experiment;  // locks, false-sharing, gil-cpu, gil-convoy, gil-placement
  std::string lock;        // locks: mutex, tas, ttas, ticket, adaptive, shared-mutex, atomic, sharded
  std::string mix;         // shared-mutex: read-mostly, write-heavy
  std::string layout;      // false-sharing: adjacent, padded
  std::optional<gil_policy> policy;
  std::string model = "thread";          // gil-cpu: thread or process
  int threads = 1;                       // locks/false sharing/gil-cpu: workers; convoy/placement: interpreter threads
  int cpu_threads = 0;                   // convoy/placement: CPU-bound threads beside the I/O thread
  std::uint64_t switch_interval_ns = 0;  // new/priority only; 0 where no switch interval applies
  std::string placement;       // gil-placement: the CPU-bound thread on the I/O thread's core (same) or not (cross)
  std::string echo_placement;  // gil-convoy/placement: the echo peer on the I/O thread's core (same) or not

  case_key key() const;             // the name and the identity fields of its rows
  std::string name() const;         // contention/experiment:locks/lock:ticket/threads:4/cs:50ns
  std::string family_name() const;  // the name without /threads:N (lock families use a thread range)
  const settings* cfg = nullptr;    // what the case was planned with (its name reads it)
  // Lock and false-sharing families: the state their threads share (make_shared_run), made at registration.
  std::shared_ptr<void> shared;
};

// What every case body gets.
struct case_env {
  const settings* cfg = nullptr;
  case_watchdog* watchdog = nullptr;
  progress_line* progress = nullptr;  // only touched from Google Benchmark's main thread
};

// Valid names, in the order the suite runs and reports them.
const std::vector<std::string>& lock_names();

// The case bodies (registered with benchmark::RegisterBenchmark). Each measures one repetition, stores its
// results as user counters (named exactly as the result fields) and reports failures with SkipWithError.
std::shared_ptr<void> make_shared_run(const case_desc& c);
void run_lock_case(benchmark::State& state, const case_desc& c, const case_env& env);
void run_false_sharing_case(benchmark::State& state, const case_desc& c, const case_env& env);
void run_gil_cpu_case(benchmark::State& state, const case_desc& c, const case_env& env);
void run_convoy_case(benchmark::State& state, const case_desc& c, const case_env& env);

// "50ns", "100us", "5ms", "1.5ms": the compact form used in names.
std::string short_duration(std::uint64_t ns);
gil_config gil_config_for(const case_desc& c, const settings& cfg);
// The progress line: a case (one repetition) starts. Call from Google Benchmark's thread 0 only.
void announce_case(const case_env& env, const std::string& name);

}  // namespace bench::contention
