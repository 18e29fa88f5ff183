#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/results.hpp"
#include "harness/stats.hpp"

namespace bench {
namespace {

TEST(Stats, MedianAndSpread) {
  summary s = summarize({10, 12, 11, 30, 9});
  EXPECT_DOUBLE_EQ(s.median, 11);
  EXPECT_DOUBLE_EQ(s.min, 9);
  EXPECT_DOUBLE_EQ(s.max, 30);
  EXPECT_DOUBLE_EQ(s.mad, 1);
  EXPECT_NEAR(s.spread_pct, 21.0 / 11 * 100, 1e-9);
  EXPECT_DOUBLE_EQ(median_of({1, 2, 3, 4}), 2.5);
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
  add_aggregates(rows, {"rtt_p99_ns"});
  const json* median = nullptr;
  for (const json& r : rows)
    if (r["run_type"] == "aggregate" && r["aggregate_name"] == "median") median = &r;
  ASSERT_NE(median, nullptr);
  EXPECT_DOUBLE_EQ((*median)["real_time"].get<double>(), 11);
  EXPECT_DOUBLE_EQ((*median)["rtt_p99_ns"].get<double>(), 22);
  EXPECT_EQ((*median)["failed_repetitions"].get<int>(), 1);
  EXPECT_EQ((*median)["transport"], "pipe");
  EXPECT_EQ((*median)["iterations"].get<int>(), 2);
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
