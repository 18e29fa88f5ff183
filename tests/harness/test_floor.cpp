// The floor's arithmetic on synthetic data: the summary of individual round trips, the machine-change verdicts
// of rounds, and which rows lie beyond their round's floor.
#include <gtest/gtest.h>

#include <numeric>

#include "harness/floor.hpp"

namespace bench {
namespace {

TEST(Floor, RoundTripSummaryIsTheMedianOfIndividualSamples) {
  std::vector<double> s(100);
  std::iota(s.begin(), s.end(), 1.0);  // 1 .. 100, given shuffled below
  std::reverse(s.begin(), s.end());
  round_trip_summary r = summarize_round_trips(s);
  EXPECT_DOUBLE_EQ(r.median_ns, 50.5);
  EXPECT_DOUBLE_EQ(r.p10_ns, 10);
  EXPECT_DOUBLE_EQ(r.p90_ns, 90);
  EXPECT_EQ(r.samples, 100);
  EXPECT_DOUBLE_EQ(r.stalled_pct, 0);  // nothing above 10x the median
}

TEST(Floor, OnePreemptionMovesTheMedianNotAtAll) {
  // 999 round trips of 500 ns and one of 5 ms (the responder preempted): a mean of one batch would read 5.5 us.
  std::vector<double> s(999, 500.0);
  s.push_back(5'000'000);
  round_trip_summary r = summarize_round_trips(s);
  EXPECT_DOUBLE_EQ(r.median_ns, 500);
  EXPECT_NEAR(r.stalled_pct, 100.0 * 5e6 / (5e6 + 999 * 500), 1e-9);
  EXPECT_THROW(summarize_round_trips({}), std::invalid_argument);
}

std::vector<round_figures> rounds_of(std::vector<std::optional<double>> c2c,
                                     std::vector<std::optional<double>> gbps = {},
                                     std::vector<std::optional<double>> steal = {}) {
  std::vector<round_figures> out;
  for (std::size_t i = 0; i < c2c.size(); ++i) {
    round_figures f;
    f.round = static_cast<int>(i) + 1;
    f.c2c_round_trip_ns = c2c[i];
    if (i < gbps.size()) f.xcore_gbps = gbps[i];
    if (i < steal.size()) f.steal_pct = steal[i];
    out.push_back(f);
  }
  return out;
}

std::vector<int> disturbed(const std::vector<round_verdict>& v) {
  std::vector<int> out;
  for (const round_verdict& r : v)
    if (r.disturbed) out.push_back(r.round);
  return out;
}

TEST(Floor, SteadyRoundsAreNotFlagged) {
  auto v = judge_rounds(rounds_of({500, 540, 470, 520}, {17, 18, 16.5, 17.2}, {0.0, 1.0, 0.0, 0.5}));
  ASSERT_EQ(v.size(), 4u);
  EXPECT_TRUE(disturbed(v).empty());
}

TEST(Floor, ARoundThatRanFasterIsFlaggedInWords) {
  // The run: the host moved the vCPUs in round 3 and everything ran faster.
  auto v = judge_rounds(rounds_of({630, 640, 236}));
  EXPECT_EQ(disturbed(v), std::vector<int>{3});
  EXPECT_NE(v[2].why.find("the cache-line round trip was 2.7x faster than in the other rounds"), std::string::npos)
      << v[2].why;
  EXPECT_NE(v[2].why.find("vCPUs moved or frequency changed"), std::string::npos);
}

TEST(Floor, ARoundThatRanSlowerIsFlagged) {
  auto v = judge_rounds(rounds_of({500, 1500, 510}));
  EXPECT_EQ(disturbed(v), std::vector<int>{2});
  EXPECT_NE(v[1].why.find("2.9x slower"), std::string::npos) << v[1].why;
}

TEST(Floor, StreamingSlowerOrFasterIsFlaggedToo) {
  auto slow = judge_rounds(rounds_of({500, 500, 500}, {17, 8, 17}));
  EXPECT_EQ(disturbed(slow), std::vector<int>{2});
  EXPECT_NE(slow[1].why.find("cross-core streaming was 2.1x slower"), std::string::npos) << slow[1].why;
  auto fast = judge_rounds(rounds_of({500, 500, 500}, {17, 17, 40}));
  EXPECT_EQ(disturbed(fast), std::vector<int>{3});
  EXPECT_NE(fast[2].why.find("faster"), std::string::npos);
}

TEST(Floor, OneRoundHasNothingToBeComparedWith) {
  EXPECT_TRUE(disturbed(judge_rounds(rounds_of({5000}))).empty());
  EXPECT_TRUE(judge_rounds({}).empty());
}

TEST(Floor, TwoRoundsThatDisagreeAreBothFlagged) {
  auto v = judge_rounds(rounds_of({600, 230}));
  EXPECT_EQ(disturbed(v), (std::vector<int>{1, 2}));
  EXPECT_NE(v[0].why.find("slower than in the other round "), std::string::npos) << v[0].why;
  EXPECT_TRUE(disturbed(judge_rounds(rounds_of({600, 590}))).empty());
}

TEST(Floor, TheRunStartFloorTellsWhichOfTwoRoundsMoved) {
  round_figures start;
  start.c2c_round_trip_ns = 610;
  auto v = judge_rounds(rounds_of({600, 230}), &start);
  EXPECT_EQ(disturbed(v), std::vector<int>{2});
  EXPECT_NE(v[1].why.find("2.6x faster than in the other round and at the start"), std::string::npos) << v[1].why;
  // The start alone judges no round: one round has no other round to be compared with.
  EXPECT_TRUE(disturbed(judge_rounds(rounds_of({230}), &start)).empty());
}

TEST(Floor, StealFlagsARoundAndUnknownStealDoesNot) {
  auto v = judge_rounds(rounds_of({500, 500, 500}, {}, {0.0, 12.0, std::nullopt}));
  EXPECT_EQ(disturbed(v), std::vector<int>{2});
  EXPECT_NE(v[1].why.find("stole 12.0%"), std::string::npos);
  // A round without a floor figure is judged by what it has, and does not move the others' reference.
  EXPECT_EQ(disturbed(judge_rounds(rounds_of({500, std::nullopt, 510, 1600}))), std::vector<int>{4});
}

TEST(Floor, RoundFiguresReadTheRoundsFloorAndOldCanaries) {
  json r = {{"round", 2},
            {"canary_ns", 900.0},
            {"steal_pct", nullptr},
            {"floor", {{"c2c_round_trip_ns", 480.0}, {"xcore_gbps", 17.5}}}};
  round_figures f = round_figures_of(r);
  EXPECT_EQ(f.round, 2);
  EXPECT_EQ(f.c2c_round_trip_ns, 480.0);
  EXPECT_EQ(f.xcore_gbps, 17.5);
  EXPECT_FALSE(f.steal_pct.has_value());  // null is unknown, not 0
  json old = {{"round", 1}, {"canary_ns", 900.0}, {"steal_pct", 0.5}};
  EXPECT_EQ(round_figures_of(old).c2c_round_trip_ns, 900.0);
  EXPECT_EQ(round_figures_of(old).steal_pct, 0.5);
}

json row(const char* workload, double value, const char* client = "0", const char* server = "1", int pairs = 1) {
  json r = {{"workload", workload},
            {"client_cpus", client},
            {"server_cpus", server},
            {"pairs", pairs},
            {"error_occurred", false}};
  r[std::string(workload) == "latency" ? "rtt_p50_ns" : "bytes_per_s"] = value;
  return r;
}

TEST(Floor, LatencyBelowItsRoundsRoundTripIsBelowFloor) {
  json floor = {{"c2c_round_trip_ns", 472.0}, {"xcore_gbps", 21.8}};
  std::string why = below_floor_reason(row("latency", 236), floor);
  EXPECT_NE(why.find("below this round's cache-line round trip"), std::string::npos) << why;
  EXPECT_EQ(below_floor_reason(row("latency", 472), floor), "");
  EXPECT_EQ(below_floor_reason(row("latency", 1500), floor), "");
  // Both ends on one CPU: the cross-core floor does not apply.
  EXPECT_EQ(below_floor_reason(row("latency", 236, "1", "1"), floor), "");
  EXPECT_EQ(below_floor_reason(row("latency", 236, "0,1", "1"), floor), "");
  // No floor figure this round (one CPU): nothing to judge against.
  EXPECT_EQ(below_floor_reason(row("latency", 236), json{{"c2c_round_trip_ns", nullptr}}), "");
  json remote = row("latency", 236);
  remote["peer"] = "otherhost:5300";
  EXPECT_EQ(below_floor_reason(remote, floor), "");
}

TEST(Floor, AStreamWithinTheCeilingMeasuredBesideItIsNotFlagged) {
  // The round's ceiling read 6.7 GB/s; the host then gave the pair more: the stream read 7.0 and the ceiling
  // measured right after it 7.2. Above both (7.3 against 7.2) it stays flagged, naming both.
  json floor = {{"c2c_round_trip_ns", 450.0}, {"xcore_gbps", 6.7}};
  json r = row("throughput", 7.0e9);
  r["xcore_beside_gbps"] = 7.2;
  EXPECT_EQ(below_floor_reason(r, floor), "");
  r["bytes_per_s"] = 7.3e9;
  std::string why = below_floor_reason(r, floor);
  EXPECT_NE(why.find("and the ceiling measured again right after it"), std::string::npos) << why;
  r["xcore_beside_gbps"] = nullptr;  // could not be measured: the round's ceiling alone judges
  EXPECT_NE(below_floor_reason(r, floor).find("streaming ceiling"), std::string::npos);
}

TEST(Floor, OnePairThroughputAboveTheStreamingCeilingIsFlagged) {
  json floor = {{"c2c_round_trip_ns", 472.0}, {"xcore_gbps", 21.8}};
  std::string why = below_floor_reason(row("throughput", 23.5e9), floor);
  EXPECT_NE(why.find("above this round's cross-core streaming ceiling"), std::string::npos) << why;
  EXPECT_EQ(below_floor_reason(row("throughput", 20e9), floor), "");
  // Several pairs stream on several pairs of cores: one pair's ceiling is not theirs.
  EXPECT_EQ(below_floor_reason(row("throughput", 40e9, "0", "1", 2), floor), "");
  json failed = row("throughput", 23.5e9);
  failed["error_occurred"] = true;
  EXPECT_EQ(below_floor_reason(failed, floor), "");
}

}  // namespace
}  // namespace bench
