#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "harness/accounting.hpp"

namespace bench {
namespace {

cpu_mark mark(std::uint64_t t, std::uint64_t cpu, pid_t pid) { return {t, cpu, pid}; }

TEST(CpuAccounting, OneProcessFromItsEarliestBeginToItsLatestEnd) {
  // Two clients of one process read at 100/110 and 900/905; a server thread of it ended last, at 950.
  std::vector<cpu_span> spans = {{mark(110, 5'000, 7), mark(900, 60'000, 7)},
                                 {mark(100, 4'000, 7), mark(905, 61'000, 7)},
                                 {mark(120, 6'000, 7), mark(950, 62'000, 7)}};
  cpu_total t = combine_cpu(spans);
  EXPECT_EQ(t.processes, 1);
  EXPECT_EQ(t.cpu_ns, 62'000u - 4'000u);  // not a sum of the three overlapping spans of one clock
  EXPECT_EQ(t.window_ns, 850u);
  EXPECT_DOUBLE_EQ(cpus_busy(t), 58'000.0 / 850.0);
}

TEST(CpuAccounting, ProcessesAddUpOverTheWindowThatHoldsThemAll) {
  std::vector<cpu_span> spans = {{mark(1'000, 10'000, 1), mark(2'000, 10'900, 1)},  // the harness: 900 ns
                                 {mark(1'100, 50, 2), mark(2'100, 850, 2)},         // a forked server: 800 ns
                                 {mark(1'050, 0, 3), mark(1'900, 400, 3)}};         // another: 400 ns
  cpu_total t = combine_cpu(spans);
  EXPECT_EQ(t.processes, 3);
  EXPECT_EQ(t.cpu_ns, 2'100u);
  EXPECT_EQ(t.window_ns, 1'100u);  // 1000 .. 2100
  EXPECT_LE(cpus_busy(t), 3.0);
}

TEST(CpuAccounting, ReadingsMissingOrFromAnotherMachineAreLeftOut) {
  std::vector<cpu_span> spans = {{mark(1'000, 100, 4), mark(3'000, 1'100, 4)},
                                 {mark(0, 0, 0), mark(0, 0, 0)},       // --peer: the server's are not ours
                                 {mark(1'500, 7, 5), mark(0, 0, 0)}};  // an end that never finished
  cpu_total t = combine_cpu(spans);
  EXPECT_EQ(t.processes, 1);
  EXPECT_EQ(t.cpu_ns, 1'000u);
  EXPECT_EQ(t.window_ns, 2'000u);
  EXPECT_EQ(combine_cpu({}).processes, 0);
  EXPECT_EQ(cpus_busy(combine_cpu({})), 0.0);
}

TEST(Throughput, SeveralPairsOverOneWindowNotASumOfRates) {
  // Pair A: 1000 messages after its first arrival, 0 .. 1 ms; pair B the same, 0.5 .. 1.5 ms. Each alone is 1 M/s,
  // so a sum of rates says 2 M/s; all 2001 messages after the first arrival over 1.5 ms are 1.334 M/s.
  std::vector<stream_span> pairs = {{1'000'000, 2'000'000, 1000}, {1'500'000, 2'500'000, 1000}};
  stream_total t = combine_streams(pairs);
  EXPECT_EQ(t.messages, 2001u);
  EXPECT_EQ(t.window_ns, 1'500'000u);
  EXPECT_NEAR(t.msgs_per_s, 2001.0 / 1.5e-3, 1e-6);
}

TEST(Throughput, OnePairIsItsOwnMessagesOverItsOwnWindow) {
  std::vector<stream_span> one = {{10, 1'000'010, 500}};
  stream_total t = combine_streams(one);
  EXPECT_EQ(t.messages, 500u);
  EXPECT_DOUBLE_EQ(t.msgs_per_s, 500.0 / 1e-3);
  // A pair that measured nothing does not open the window at 0.
  std::vector<stream_span> with_idle = {{10, 1'000'010, 500}, {0, 0, 0}};
  EXPECT_EQ(combine_streams(with_idle).window_ns, 1'000'000u);
  EXPECT_EQ(combine_streams(std::vector<stream_span>{{0, 0, 0}}).messages, 0u);
}

TEST(GoogleBenchmarkTimes, PerIterationOfTheMeasuredWindow) {
  EXPECT_DOUBLE_EQ(per_iteration(40'000'000, 1'000), 40'000.0);
  EXPECT_DOUBLE_EQ(per_iteration(5, 2), 2.5);
  EXPECT_EQ(per_iteration(40'000'000, 0), 0.0);
}

TEST(Percentiles, ATailPercentileNeedsTenSamplesBeyondIt) {
  EXPECT_TRUE(percentile_supported(1, 50));
  EXPECT_FALSE(percentile_supported(0, 50));
  EXPECT_FALSE(percentile_supported(99, 90));
  EXPECT_TRUE(percentile_supported(100, 90));
  EXPECT_FALSE(percentile_supported(999, 99));
  EXPECT_TRUE(percentile_supported(1'000, 99));
  EXPECT_FALSE(percentile_supported(670, 99.9));  // the case: p99.9 of 670 is their maximum
  EXPECT_FALSE(percentile_supported(9'999, 99.9));
  EXPECT_TRUE(percentile_supported(10'000, 99.9));
  EXPECT_FALSE(percentile_supported(1'000'000, 100));
}

TEST(Percentiles, TheReasonNamesWhatWasWithheldAndWhatItNeeds) {
  const double ps[] = {50, 90, 99, 99.9};
  EXPECT_EQ(withheld_reason(10'000, ps), "");
  EXPECT_EQ(withheld_reason(670, ps), "p99 and p99.9 withheld: 670 samples, p99 needs 1000 (10 beyond it)");
  EXPECT_EQ(withheld_reason(50, ps), "p90, p99 and p99.9 withheld: 50 samples, p90 needs 100 (10 beyond it)");
}

// The reading covers every thread of the process, one that has already ended included (a --rate pacer ends before
// the client's last reading): a thread that spent 20 ms of its own CPU and exited shows in the difference.
TEST(ProcessCpu, AReadingCountsEveryThreadEvenOneThatEnded) {
  for (bool exact : {false, true}) {
    cpu_mark before = open_cpu_reading(exact);
    std::uint64_t spent = 0;
    std::thread worker([&] {
      std::uint64_t t0 = thread_cpu_ns();
      while (thread_cpu_ns() - t0 < 20'000'000) {}
      spent = thread_cpu_ns() - t0;
    });
    worker.join();
    cpu_mark after = close_cpu_reading(exact);
    EXPECT_EQ(after.pid, before.pid);
    EXPECT_LE(before.t_ns, after.t_ns);
    EXPECT_GE(after.cpu_ns - before.cpu_ns, spent) << (exact ? "exact" : "cheap");
  }
}

}  // namespace
}  // namespace bench
