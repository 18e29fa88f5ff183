#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "harness/results.hpp"
#include "harness/stats.hpp"

namespace bench {
namespace {

TEST(Stats, MedianAndSpread) {
  summary s = summarize({10, 12, 11, 30, 9});
  EXPECT_DOUBLE_EQ(s.median, 11);
  EXPECT_DOUBLE_EQ(s.min, 9);
  EXPECT_DOUBLE_EQ(s.max, 30);
  EXPECT_DOUBLE_EQ(s.mad, 1);  // deviations 1, 1, 0, 19, 2
  // The one wild repetition (30) moves neither the median nor the spread: 1.206 x 1.4826 x 1 / 11.
  EXPECT_NEAR(s.spread_pct, 1.206 * 1.4826 / 11 * 100, 1e-9);
  EXPECT_DOUBLE_EQ(median_of({1, 2, 3, 4}), 2.5);
  EXPECT_DOUBLE_EQ(summarize({7}).spread_pct, 0);
  EXPECT_DOUBLE_EQ(summarize({}).spread_pct, 0);
}

TEST(Stats, SmallSampleFactors) {
  EXPECT_DOUBLE_EQ(mad_small_sample_factor(2), 1.196);
  EXPECT_DOUBLE_EQ(mad_small_sample_factor(3), 1.495);
  EXPECT_DOUBLE_EQ(mad_small_sample_factor(9), 1.107);
  EXPECT_DOUBLE_EQ(mad_small_sample_factor(10), 10 / 9.2);
}

// Normal repetitions with a 5% standard deviation: the spread, averaged over many synthetic runs, estimates 5%
// whether a run has 3, 5, 9 or 25 repetitions, where (max - min) / median grows with every repetition added.
TEST(Stats, SpreadDoesNotGrowWithRepetitions) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> value(1000.0, 50.0);
  auto average = [&](std::size_t n, bool range) {
    double total = 0;
    const int trials = 20000;
    for (int t = 0; t < trials; ++t) {
      std::vector<double> v(n);
      for (double& x : v) x = value(rng);
      summary s = summarize(v);
      total += range ? (s.max - s.min) / s.median * 100 : s.spread_pct;
    }
    return total / trials;
  };
  for (std::size_t n : {3u, 5u, 9u, 25u}) EXPECT_NEAR(average(n, false), 5.0, 0.25) << n << " repetitions";
  EXPECT_GT(average(9, true), 1.6 * average(3, true));
}

TEST(Stats, UnstableAboveTheThresholdOnly) {
  summary s;
  s.n = 3;
  s.spread_pct = unstable_above_pct;
  EXPECT_FALSE(is_unstable(s));
  s.spread_pct = std::nextafter(unstable_above_pct, 1e9);
  EXPECT_TRUE(is_unstable(s));
  s.n = 1;  // one repetition: nothing to disagree with
  EXPECT_FALSE(is_unstable(s));
  // Three repetitions 100 - d, 100, 100 + d have the spread 1.495 x 1.4826 x d %: just under and just over.
  const double d = unstable_above_pct / (1.495 * 1.4826);
  EXPECT_FALSE(is_unstable(summarize({100 - 0.99 * d, 100, 100 + 0.99 * d})));
  EXPECT_TRUE(is_unstable(summarize({100 - 1.01 * d, 100, 100 + 1.01 * d})));
  EXPECT_NE(unstable_rule().find("10%"), std::string::npos);
}

TEST(Results, AggregatesSkipFailedAndExcludedRows) {
  std::vector<json> rows;
  auto it = [](double t, bool failed, bool excluded = false) {
    json r;
    r["name"] = "x/size:64";
    r["run_name"] = "x/size:64";
    r["run_type"] = "iteration";
    r["repetitions"] = 4;
    r["real_time"] = t;
    r["cpu_time"] = t / 2;
    r["rtt_p99_ns"] = t * 2;
    r["error_occurred"] = failed;
    r["excluded"] = excluded;
    r["transport"] = "pipe";
    return r;
  };
  rows.push_back(it(10, false));
  rows.push_back(it(12, false));
  rows.push_back(it(1000, true));
  rows.push_back(it(500, false, true));
  add_aggregates(rows, {"rtt_p99_ns"}, {"suite", "transport"});
  const json* median = nullptr;
  for (const json& r : rows)
    if (r["run_type"] == "aggregate" && r["aggregate_name"] == "median") median = &r;
  ASSERT_NE(median, nullptr);
  EXPECT_DOUBLE_EQ((*median)["real_time"].get<double>(), 11);
  EXPECT_DOUBLE_EQ((*median)["rtt_p99_ns"].get<double>(), 22);
  EXPECT_EQ((*median)["failed_repetitions"].get<int>(), 1);
  EXPECT_EQ((*median)["transport"], "pipe");
  EXPECT_EQ((*median)["repetitions_used"].get<int>(), 2);
}

json iteration(const std::string& workload, double p50, double rate, double real, long iterations) {
  json r;
  r["name"] = r["run_name"] = "ipc/workload:" + workload;
  r["run_type"] = "iteration";
  r["repetitions"] = 3;
  r["iterations"] = iterations;
  r["workload"] = workload;
  r["real_time"] = real;
  r["cpu_time"] = real / 2;
  r["time_unit"] = "ns";
  if (workload == "latency")
    r["rtt_p50_ns"] = p50;
  else
    r["msgs_per_s"] = rate;
  r["error_occurred"] = false;
  return r;
}

const json& aggregate(const std::vector<json>& rows, const std::string& run_name, const std::string& stat) {
  for (const json& r : rows)
    if (r["run_type"] == "aggregate" && r["run_name"] == run_name && r["aggregate_name"] == stat) return r;
  throw std::runtime_error("no " + stat + " row for " + run_name);
}

// The spread describes each row's primary metric, not real_time (which the rows may fill with wall time per
// iteration): latency p50s that agree under a real_time that scatters are stable, and the reverse is not.
TEST(Results, SpreadAndFlagDescribeThePrimaryMetric) {
  std::vector<json> rows = {
      iteration("latency", 100, 0, 10, 500),         iteration("latency", 101, 0, 40, 480),
      iteration("latency", 99, 0, 90, 510),          iteration("throughput", 0, 1e6, 1000, 9000),
      iteration("throughput", 0, 1.5e6, 1000, 9100), iteration("throughput", 0, 0.8e6, 1000, 9200)};
  add_aggregates(rows, {"rtt_p50_ns", "msgs_per_s"}, {"suite", "transport"});
  const json& lat = aggregate(rows, "ipc/workload:latency", "median");
  EXPECT_EQ(lat["primary_metric"], "rtt_p50_ns");
  EXPECT_EQ(lat["higher_is_better"], false);
  EXPECT_NEAR(lat["spread_pct"].get<double>(), 1.495 * 1.4826 * 1 / 100 * 100, 1e-9);
  EXPECT_EQ(lat["unstable"], false);
  const json& thr = aggregate(rows, "ipc/workload:throughput", "median");
  EXPECT_EQ(thr["primary_metric"], "msgs_per_s");
  EXPECT_EQ(thr["higher_is_better"], true);
  EXPECT_NEAR(thr["spread_pct"].get<double>(), 1.495 * 1.4826 * 0.2e6 / 1e6 * 100, 1e-9);
  EXPECT_EQ(thr["unstable"], true);
  // A suite's own choice.
  std::vector<json> cpu = {iteration("x", 0, 0, 10, 1), iteration("x", 0, 0, 30, 1)};
  add_aggregates(cpu, {}, {"suite"}, [](const json&) { return primary_metric{"cpu_time", false}; });
  EXPECT_EQ(aggregate(cpu, "ipc/workload:x", "median")["primary_metric"], "cpu_time");
  EXPECT_NEAR(aggregate(cpu, "ipc/workload:x", "median")["spread_pct"].get<double>(), 1.196 * 1.4826 * 5 / 10 * 100,
              1e-9);
}

// Google Benchmark's aggregate shape: iterations of a repetition, cv a fraction with unit "percentage".
TEST(Results, AggregatesHaveGoogleBenchmarksShape) {
  std::vector<json> rows = {iteration("latency", 100, 0, 10, 500), iteration("latency", 110, 0, 20, 480),
                            iteration("latency", 90, 0, 30, 510)};
  add_aggregates(rows, {"rtt_p50_ns"}, {"suite", "transport"});
  const json& cv = aggregate(rows, "ipc/workload:latency", "cv");
  EXPECT_EQ(cv["aggregate_unit"], "percentage");
  EXPECT_NEAR(cv["real_time"].get<double>(), 10.0 / 20.0, 1e-12);  // stddev 10 / mean 20
  EXPECT_EQ(cv["time_unit"], "ns");
  const json& median = aggregate(rows, "ipc/workload:latency", "median");
  EXPECT_EQ(median["aggregate_unit"], "time");
  EXPECT_EQ(median["iterations"], 500);
  EXPECT_EQ(median["repetitions"], 3);
  EXPECT_EQ(median["repetitions_used"], 3);
  EXPECT_EQ(median["name"], "ipc/workload:latency_median");
}

TEST(Results, ContextStartsWithTheSchemaVersionAndTheStatistics) {
  run_results r;
  r.context["suite"] = "ipc";
  json doc = to_document(r);
  EXPECT_EQ(doc["context"].begin().key(), "schema_version");
  EXPECT_EQ(doc["context"]["schema_version"], results_schema_version);
  EXPECT_EQ(doc["context"]["statistics"]["unstable_above_pct"], unstable_above_pct);
  EXPECT_NE(doc["context"]["statistics"]["spread"].get<std::string>().find("MAD"), std::string::npos);
  EXPECT_EQ(doc["context"]["suite"], "ipc");
}

TEST(Results, WrittenAtomicallyAndReadBack) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("bench-test-results-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  run_results r;
  r.dir = dir;
  r.context["suite"] = "ipc";
  json row;
  row["name"] = "a,b";
  row["real_time"] = 0.1 + 0.2;  // full precision must survive
  r.rows.push_back(row);
  write_results(r);
  json back = read_results(dir / "results.json");
  EXPECT_EQ(back["context"]["suite"], "ipc");
  EXPECT_EQ(back["benchmarks"][0]["real_time"].get<double>(), 0.1 + 0.2);
  std::ifstream csv(dir / "results.csv");
  std::string header, line;
  std::getline(csv, header);
  std::getline(csv, line);
  EXPECT_EQ(header, "name,real_time");
  EXPECT_EQ(line.substr(0, 6), "\"a,b\",");
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Results, UnwritableOutputIsAUsageError) {
  EXPECT_THROW(prepare_run_dir(std::filesystem::path("/proc/no-such-dir/x"), "ipc"), std::exception);
}

}  // namespace
}  // namespace bench
