// The real CPython convoy's rows: measured by the worker script and summarised by bench, and a worker that
// hangs is stopped at its deadline with its whole process group, leaving a failed row and no process.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "bench/contention/cpython_convoy.hpp"
#include "bench/suite.hpp"

namespace bench::contention {
namespace {
namespace fs = std::filesystem;

TEST(CpythonConvoy, RowsCarryBenchStatisticsOfTheWorkersRoundTrips) {
  if (find_python().empty()) GTEST_SKIP() << "no python3";
  std::string why;
  std::vector<cpython_convoy_case> cases = {
      {"contention/experiment:gil-convoy/policy:new/cpu_threads:0/switch:5ms", 0, 5'000'000, 30'000'000, false}};
  auto rows = cpython_convoy_rows(cases, 1, why);
  ASSERT_EQ(rows.size(), 1u) << why;
  const auto& r = rows[0];
  EXPECT_FALSE(r["error_occurred"].get<bool>()) << r["error_message"];
  EXPECT_EQ(r["runtime"].get<std::string>().rfind("cpython-", 0), 0u) << r.dump();
  EXPECT_EQ(r["name"], "contention/experiment:gil-convoy/policy:new/cpu_threads:0/switch:5ms/runtime:" +
                           r["runtime"].get<std::string>());
  EXPECT_GT(r["round_trips"].get<double>(), 0);
  // The worker's rate is bench's: round trips over the sum of their times (back to back).
  EXPECT_NEAR(r["round_trips_per_s"].get<double>(), r["round_trips"].get<double>() * 1e9 / r["wall_ns"].get<double>(),
              1e-6 * r["round_trips_per_s"].get<double>());
  EXPECT_NEAR(r["real_time"].get<double>() * r["iterations"].get<double>(), r["wall_ns"].get<double>(), 1.0);
  EXPECT_GT(r["cpu_ns"].get<double>(), 0);
}

TEST(CpythonConvoy, AWorkerThatHangsIsStoppedWithItsChildren) {
  // A plots/ beside a bench/contention/cpython_compare.py that forks a child and sleeps: both must be gone.
  fs::path root = fs::temp_directory_path() / ("bench-hang-" + std::to_string(::getpid()));
  fs::create_directories(root / "plots");
  fs::create_directories(root / "bench" / "contention");
  const std::string marker = "bench_hang_marker_" + std::to_string(::getpid());
  std::ofstream(root / "bench" / "contention" / "cpython_compare.py")
      << "import os, sys, time\nif sys.argv[1:2] == ['--convoy-worker']:\n    os.fork()\n    time.sleep(100)  # "
      << marker << "\n";
  ::setenv("BENCH_PLOTS_DIR", (root / "plots").c_str(), 1);
  std::string why;
  std::vector<cpython_convoy_case> cases = {{"contention/experiment:gil-convoy/policy:new/cpu_threads:1/switch:5ms", 1,
                                             5'000'000, 10'000'000, false, 500'000'000}};
  auto rows = cpython_convoy_rows(cases, 1, why);
  ::unsetenv("BENCH_PLOTS_DIR");
  ASSERT_EQ(rows.size(), 1u) << why;
  EXPECT_TRUE(rows[0]["error_occurred"].get<bool>());
  EXPECT_NE(rows[0]["error_message"].get<std::string>().find("deadline"), std::string::npos) << rows[0].dump();
  // The script's own path names the folder: no process of it may be left. "[/]tmp/...": pgrep's pattern must not
  // match the shell that runs it.
  const std::string path = (root / "bench").string();
  std::string cmd = "pgrep -f '[" + path.substr(0, 1) + "]" + path.substr(1) + "' > /dev/null";
  EXPECT_NE(std::system(cmd.c_str()), 0) << "a worker process outlived its deadline";
  fs::remove_all(root);
}

}  // namespace
}  // namespace bench::contention
