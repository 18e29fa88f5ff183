// The arithmetic of one ipc case's figures, kept apart from the code that measures so it can be tested on
// synthetic inputs: the CPU of every process over the measured window, the throughput of several pairs over one
// window, Google Benchmark's per-iteration times, and which percentiles the samples can support.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bench {

// A reading of the CPU time of one whole process (every thread it has or had) at a moment (CLOCK_MONOTONIC,
// comparable across the processes of one machine). pid 0: no reading was taken.
struct cpu_mark {
  std::uint64_t t_ns = 0;
  std::uint64_t cpu_ns = 0;
  pid_t pid = 0;
};

// The readings one end took at the start and at the end of its part of the measured window.
struct cpu_span {
  cpu_mark begin, end;
};

// CPU time of the calling process, every thread included (the --rate pacer, ZeroMQ's I/O threads, an event loop,
// server threads). The kernel's process clock counts a thread that is running on another CPU only up to its last
// scheduler tick (up to 4 ms at HZ=250, a tenth of a 40 ms window for a spinning end); `exact` first reads every
// thread's own clock, which brings each running thread's count up to date, at a cost of a few microseconds per
// thread, so it is taken only where nothing measured waits for it.
// A reading that opens a span takes its time before the CPU, one that closes it after: the CPU counted then lies
// inside the span's times, which is what bounds CPUs busy by the CPUs that ran.
cpu_mark open_cpu_reading(bool exact) noexcept;
cpu_mark close_cpu_reading(bool exact) noexcept;

// The CPU of a case over its measured window: per process, from its earliest begin reading to its latest end
// reading; the window from the earliest begin to the latest end of all. Every process's span lies inside the
// window, so cpu_ns / window_ns cannot exceed the CPUs its threads ran on. Spans with a missing reading, or from
// another machine (pid 0), are left out.
struct cpu_total {
  std::uint64_t cpu_ns = 0;
  std::uint64_t window_ns = 0;
  int processes = 0;
};
cpu_total combine_cpu(std::span<const cpu_span> spans);

// One pair's measured stream at its receiver: the arrivals of its first and last measured messages, and how many
// arrived after the first.
struct stream_span {
  std::uint64_t first_ns = 0, last_ns = 0;
  std::uint64_t measured = 0;
};
// Several pairs over ONE window: every measured message that arrived after the first arrival of any pair (each
// other pair's first arrival included), over the last arrival of any pair minus that first one. Not a sum of each
// pair's rate over its own window, which counts a pair that ran alone for a while as if all ran at once.
struct stream_total {
  std::uint64_t messages = 0;
  std::uint64_t window_ns = 0;
  double msgs_per_s = 0;
};
stream_total combine_streams(std::span<const stream_span> pairs);

// Google Benchmark's meaning: time per iteration, here per message measured, in ns; 0 without iterations.
double per_iteration(std::uint64_t total_ns, std::uint64_t iterations) noexcept;
// CPUs busy on average over the window: cpu / window; 0 without a window.
double cpus_busy(const cpu_total& t) noexcept;

// A tail percentile p is reported only when at least this many samples lie beyond it: p99.9 of 670 round trips
// is their maximum, not a 99.9th percentile. 10 beyond it means p90 needs 100 samples, p99 1000, p99.9 10000.
constexpr double min_samples_beyond = 10;
// The median is reported from any number of samples (it is what the row's figure is); a tail percentile (above
// 50) by the rule above.
bool percentile_supported(std::uint64_t samples, double p) noexcept;
// Why the unsupported ones of `ps` were withheld, e.g. "p99 and p99.9 withheld: 670 samples, p99 needs 1000 (10
// beyond it)"; "" when every one is supported.
std::string withheld_reason(std::uint64_t samples, std::span<const double> ps);

}  // namespace bench
