// /proc/stat parsing on synthetic text (steal time of the run's CPUs, a failed read as unknown), and the busy
// verdict at start from its measured figures.
#include <gtest/gtest.h>

#include "harness/sysinfo.hpp"

namespace bench {
namespace {

// user nice system idle iowait irq softirq steal guest guest_nice
constexpr const char* stat_before =
    "cpu  1000 0 500 8000 100 0 0 400 0 0\n"
    "cpu0 100 0 50 800 50 0 0 0 0 0\n"
    "cpu1 900 0 450 7200 50 0 0 400 300 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n"
    "procs_running 3\n"
    "procs_blocked 0\n";
constexpr const char* stat_after =
    "cpu  1100 0 520 8100 100 0 0 480 0 0\n"
    "cpu0 100 0 50 900 50 0 0 0 0 0\n"
    "cpu1 1000 0 470 7200 50 0 0 480 300 0\n"
    "procs_running 1\n";

TEST(Sysinfo, CpuTimesOfTheNamedCpusOnly) {
  cpu_times one = parse_cpu_times(stat_before, std::vector<int>{1});
  ASSERT_TRUE(one.ok);
  // guest (300) is already in user: not counted twice.
  EXPECT_EQ(one.total, 900u + 450 + 7200 + 50 + 400);
  EXPECT_EQ(one.steal, 400u);
  EXPECT_EQ(one.idle, 7250u);
  cpu_times both = parse_cpu_times(stat_before, std::vector<int>{0, 1, 1});  // an oversubscribed plan repeats CPUs
  ASSERT_TRUE(both.ok);
  EXPECT_EQ(both.total, one.total + 100 + 50 + 800 + 50);
  cpu_times machine = parse_cpu_times(stat_before);
  ASSERT_TRUE(machine.ok);
  EXPECT_EQ(machine.steal, 400u);
}

TEST(Sysinfo, StealOfTheRunsCpusNotTheMachines) {
  std::vector<int> cpu0{0}, cpu1{1};
  // CPU 0 had no steal, CPU 1 had 80 of its 200 jiffies stolen.
  EXPECT_EQ(steal_pct(parse_cpu_times(stat_before, cpu0), parse_cpu_times(stat_after, cpu0)), 0.0);
  std::optional<double> s1 = steal_pct(parse_cpu_times(stat_before, cpu1), parse_cpu_times(stat_after, cpu1));
  ASSERT_TRUE(s1);
  EXPECT_NEAR(*s1, 100.0 * 80 / 200, 1e-9);
  std::optional<double> busy0 = busy_pct(parse_cpu_times(stat_before, cpu0), parse_cpu_times(stat_after, cpu0));
  ASSERT_TRUE(busy0);
  EXPECT_DOUBLE_EQ(*busy0, 0.0);  // all 100 jiffies idle
}

TEST(Sysinfo, AFailedReadIsUnknownNeverZero) {
  cpu_times missing = parse_cpu_times(stat_before, std::vector<int>{0, 7});  // no cpu7 line
  EXPECT_FALSE(missing.ok);
  cpu_times no_steal = parse_cpu_times("cpu0 1 2 3 4 5 6 7\n", std::vector<int>{0});  // 7 fields: no steal column
  EXPECT_FALSE(no_steal.ok);
  EXPECT_FALSE(parse_cpu_times("", {}).ok);
  cpu_times good = parse_cpu_times(stat_before, std::vector<int>{0});
  EXPECT_FALSE(steal_pct(missing, good).has_value());
  EXPECT_FALSE(steal_pct(good, missing).has_value());
  EXPECT_FALSE(steal_pct(good, good).has_value());  // no time passed: nothing to divide by
  EXPECT_FALSE(busy_pct(good, missing).has_value());
  EXPECT_TRUE(or_null(steal_pct(missing, good)).is_null());
  EXPECT_EQ(or_null(2.5), json(2.5));
}

TEST(Sysinfo, ProcsRunning) {
  EXPECT_EQ(parse_procs_running(stat_before), 3);
  EXPECT_EQ(parse_procs_running(stat_after), 1);
  EXPECT_FALSE(parse_procs_running("cpu 1 2 3\n").has_value());
}

TEST(Sysinfo, BusyVerdictFromMeasuredFigures) {
  busy_check quiet;
  quiet.samples = 20;
  quiet.window_s = 0.2;
  quiet.others_runnable_median = 0;
  quiet.cpus_busy_pct = 3;
  quiet.steal_pct = 0;
  quiet.canary_stalled_pct = 0.5;
  judge_busy(quiet);
  EXPECT_TRUE(quiet.reasons.empty());

  busy_check others = quiet;
  others.others_runnable_median = 2;  // two compilers on a 2-CPU machine the run uses whole
  others.cpus_busy_pct = 90;
  judge_busy(others);
  ASSERT_EQ(others.reasons.size(), 2u);
  EXPECT_NE(others.reasons[0].find("2 other task(s) runnable"), std::string::npos) << others.reasons[0];

  busy_check spare = quiet;
  spare.others_runnable_median = 2;
  spare.spare_cpus = 6;  // they can run on CPUs the run leaves free
  judge_busy(spare);
  EXPECT_TRUE(spare.reasons.empty());

  busy_check stalled = quiet;
  stalled.canary_stalled_pct = 40;
  stalled.steal_pct = 9;
  judge_busy(stalled);
  EXPECT_EQ(stalled.reasons.size(), 2u);

  busy_check unknown;  // nothing could be read: no verdict either way
  judge_busy(unknown);
  EXPECT_TRUE(unknown.reasons.empty());
}

TEST(Sysinfo, BusyWarningComesFromTheMeasurementNotTheLoadAverage) {
  json c = {{"build_type", "Release"}, {"governor", "performance"}, {"num_cpus", 2}, {"load_avg", {3.0, 2.0, 1.0}}};
  busy_check quiet;
  c["busy_at_start"] = to_json(quiet);
  for (const std::string& w : machine_warnings(c)) EXPECT_EQ(w.find("busy"), std::string::npos) << w;
  busy_check busy;
  busy.cpus_busy_pct = 95;
  judge_busy(busy);
  c["busy_at_start"] = to_json(busy);
  std::vector<std::string> w = machine_warnings(c);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("the machine is busy (the run's CPUs were 95% busy"), std::string::npos) << w[0];
}

}  // namespace
}  // namespace bench
