// The machine as the harness sees it, for `bench info` and every results file's context block.
#pragma once

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

// /proc/stat counters sampled around a case, to record steal time (the hypervisor running someone else).
struct cpu_times {
  unsigned long long total = 0, steal = 0;
};
cpu_times read_cpu_times();
double steal_pct(const cpu_times& a, const cpu_times& b);
double load_avg_1min();

// Warnings about the machine worth printing before a run (debug build, powersave governor, ...).
std::vector<std::string> machine_warnings(const json& context);

}  // namespace bench
