// The machine as the harness sees it, for `bench info` and every results file's context block.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "harness/results.hpp"

namespace bench {

// Google Benchmark's context fields (date, host_name, executable, num_cpus, mhz_per_cpu, cpu_scaling_enabled,
// caches, load_avg, library_build_type) plus ours: kernel, cpu_model, compiler, compiler_flags, build_type,
// git_revision, libraries, governor, idle_policy, steal_pct_since_boot.
json machine_context();

// This boot of this kernel (/proc/sys/kernel/random/boot_id): two processes that read the same one run on one
// machine, network namespaces or not. "" where it cannot be read.
std::string boot_id();

// The one-line description charts use as a subtitle.
std::string machine_line(const json& context);

// A figure that could not be read is unknown, written as null, never as 0.
json or_null(const std::optional<double>& v);

// /proc/stat counters sampled around a case or a round, to record steal time (the hypervisor running someone else).
// ok is false when the counters could not be read; every figure computed from them is then unknown.
struct cpu_times {
  bool ok = false;
  unsigned long long total = 0, idle = 0, steal = 0;  // jiffies; idle includes iowait
};
// The counters of the given CPUs (their "cpuN" lines, each counted once) from /proc/stat's text; empty cpus: the
// machine's "cpu" line. Not ok if any of those lines is missing or has no steal field.
cpu_times parse_cpu_times(std::string_view proc_stat, std::span<const int> cpus = {});
cpu_times read_cpu_times(std::span<const int> cpus = {});
// Steal time as a share of the CPUs' time between the two samples; unknown if either read failed or no time passed.
std::optional<double> steal_pct(const cpu_times& a, const cpu_times& b);
// The CPUs' time spent on anything but idle (other programs, the kernel, steal) between the two samples.
std::optional<double> busy_pct(const cpu_times& a, const cpu_times& b);
// Tasks runnable now, machine-wide (/proc/stat's procs_running, the reader included); unknown if unreadable.
std::optional<int> parse_procs_running(std::string_view proc_stat);
std::optional<double> load_avg_1min();

// The busy check at the start of a run: measured, not the 1-minute load average (which still holds the build that
// ran just before). Over a short window in which bench itself sleeps: how many other tasks were runnable, how busy
// the run's CPUs were and how much the hypervisor stole of them; then a cache-line ping-pong on the run's first
// two CPUs, whose time lost to stalls says whether its two threads had their CPUs to themselves.
struct busy_check {
  double window_s = 0;
  int samples = 0;
  std::optional<double> others_runnable_median;  // procs_running minus bench's own sampling thread
  std::optional<double> others_runnable_max;
  int spare_cpus = 0;                        // online CPUs the run does not use
  std::optional<double> cpus_busy_pct;       // of the run's CPUs, while bench slept
  std::optional<double> steal_pct;           // of the run's CPUs
  std::optional<double> canary_stalled_pct;  // share of the ping-pong's time its peer was not running
  std::optional<double> canary_round_trip_ns;
  std::vector<std::string> reasons;  // empty: not busy
};
busy_check measure_busy(std::span<const int> cpus);
// The judgement alone, from the figures (tested on synthetic ones): fills reasons.
void judge_busy(busy_check& b);
json to_json(const busy_check& b);

// Warnings about the machine worth printing before a run (debug build, powersave governor, busy_at_start, ...).
std::vector<std::string> machine_warnings(const json& context);

}  // namespace bench
