// The real CPython's rows beside the emulated GIL's: measured by the worker script and shaped by bench like their
// emulated twins; a worker that fails gives a failed row with its reason, and one that hangs is stopped at its
// deadline with its whole process group, leaving a failed row and no process.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench/contention/cpython_rows.hpp"
#include "bench/python/interpreter.hpp"

namespace bench::contention {
namespace {
namespace fs = std::filesystem;

const char* const convoy_name = "contention/experiment:gil-convoy/policy:new/cpu_threads:1/switch:5ms";
const char* const cpu_name = "contention/experiment:gil-cpu/policy:new/model:thread/threads:2/work:40ms/switch:5ms";

// The interpreter the rows run on, and its lane; skips the test where there is none.
std::optional<cpython_lane> real_lane() {
  const std::string py = python_for_cases("");
  if (py.find('/') != std::string::npos && ::access(py.c_str(), X_OK) != 0) return std::nullopt;
  std::string why;
  auto lane = open_cpython_lane(py, why);
  EXPECT_TRUE(lane) << why;
  return lane;
}

// A source tree (plots/ beside bench/contention/cpython_compare.py) whose worker script is `script`; bench finds
// it through BENCH_PLOTS_DIR while this lives, and nothing of it is left afterwards.
class fake_tree {
 public:
  explicit fake_tree(const std::string& script)
      : root_(fs::temp_directory_path() / ("bench-fake-worker-" + std::to_string(::getpid()))) {
    fs::create_directories(root_ / "plots");
    fs::create_directories(root_ / "bench" / "contention");
    std::ofstream(root_ / "bench" / "contention" / "cpython_compare.py") << script;
    ::setenv("BENCH_PLOTS_DIR", (root_ / "plots").c_str(), 1);
  }
  ~fake_tree() {
    ::unsetenv("BENCH_PLOTS_DIR");
    fs::remove_all(root_);
  }
  fake_tree(const fake_tree&) = delete;
  fake_tree& operator=(const fake_tree&) = delete;
  cpython_lane lane() const {
    std::string why;
    auto l = open_cpython_lane(python_for_cases(""), why);
    EXPECT_TRUE(l) << why;
    return l.value_or(cpython_lane{});
  }
  // True when no process runs a script of this tree. "[/]tmp/...": pgrep's pattern must not match its own shell.
  bool nothing_left() const {
    const std::string path = (root_ / "bench").string();
    std::string cmd = "pgrep -f '[" + path.substr(0, 1) + "]" + path.substr(1) + "' > /dev/null";
    return std::system(cmd.c_str()) != 0;
  }

 private:
  fs::path root_;
};

cpython_cpu_case two_threads() { return {cpu_name, "new", false, 2, 5'000'000, 40'000'000, {0}, false}; }

TEST(CpythonConvoy, RowsCarryBenchStatisticsOfTheWorkersRoundTrips) {
  auto lane = real_lane();
  if (!lane) GTEST_SKIP() << "no python3";
  std::vector<cpython_convoy_case> cases = {
      {"contention/experiment:gil-convoy/policy:new/cpu_threads:0/switch:5ms", 0, 5'000'000, 30'000'000, false}};
  auto rows = cpython_convoy_rows(*lane, cases, 1);
  ASSERT_EQ(rows.size(), 1u);
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

TEST(CpythonCpu, CalibrationTimesTheCountdown) {
  auto lane = real_lane();
  if (!lane) GTEST_SKIP() << "no python3";
  const cpython_calibration cal = calibrate_cpython_cpu(*lane, {0}, 40'000'000);
  EXPECT_TRUE(cal.failure.empty()) << cal.failure;
  EXPECT_GT(cal.ns_per_iteration, 0);
  EXPECT_GT(cal.iterations, 0u);
  // CPU time per step: the emulation's work is CPU time, and a busy machine stretches only the wall.
  EXPECT_NEAR(cal.ns_per_iteration * static_cast<double>(cal.iterations), static_cast<double>(cal.cpu_ns),
              1e-6 * static_cast<double>(cal.cpu_ns));
  EXPECT_GT(cal.wall_ns, 0u);
}

// Threads and processes, each row named after its emulated twin and carrying the twin's identity fields.
TEST(CpythonCpu, RowsStandBesideTheirEmulatedTwins) {
  auto lane = real_lane();
  if (!lane) GTEST_SKIP() << "no python3";
  cpython_calibration cal;
  cal.ns_per_iteration = 100;  // a countdown of 40 ms / 100 ns = 400,000 steps, whatever the machine's speed
  cpython_cpu_case procs = two_threads();
  procs.emulated_name = "contention/experiment:gil-cpu/policy:new/model:process/threads:2/work:40ms/switch:5ms";
  procs.processes = true;
  auto rows = cpython_cpu_rows(*lane, {two_threads(), procs}, 2, cal);
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& r : rows) {
    SCOPED_TRACE(r.dump());
    EXPECT_FALSE(r["error_occurred"].get<bool>());
    const std::string runtime = r["runtime"];
    EXPECT_EQ(runtime.rfind("cpython-", 0), 0u);
    const bool process = r["model"] == "process";
    EXPECT_EQ(r["name"], std::string(process ? procs.emulated_name : cpu_name) + "/runtime:" + runtime);
    EXPECT_EQ(r["run_name"], r["name"]);
    EXPECT_EQ(r["experiment"], "gil-cpu");
    EXPECT_EQ(r["policy"], "new");
    EXPECT_EQ(r["threads"], 2);
    EXPECT_EQ(r["work_ns"], 40'000'000);
    EXPECT_EQ(r["switch_interval_us"], 5000.0);
    EXPECT_EQ(r["countdown_iterations"], 400'000);
    EXPECT_EQ(r["countdown_ns_per_iteration"], 100.0);
    EXPECT_GT(r["wall_ns"].get<double>(), 0);
    EXPECT_GT(r["cpu_ns"].get<double>(), 0);
    EXPECT_EQ(r["iterations"], 1);  // the whole job, as the emulated rows count it
    EXPECT_EQ(r["real_time"], r["wall_ns"]);
    EXPECT_EQ(r["cpu_time"], r["cpu_ns"]);
  }
  EXPECT_EQ(rows[0]["repetition_index"], 0);
  EXPECT_EQ(rows[3]["repetition_index"], 1);
}

TEST(CpythonCpu, AFailedCalibrationFailsEveryRowWithItsReason) {
  auto lane = real_lane();
  if (!lane) GTEST_SKIP() << "no python3";
  cpython_calibration cal;
  cal.failure = "the CPython worker exited with status 1: MemoryError";
  auto rows = cpython_cpu_rows(*lane, {two_threads()}, 2, cal);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_TRUE(r["error_occurred"].get<bool>());
    EXPECT_NE(r["error_message"].get<std::string>().find("calibration failed: the CPython worker exited with status 1"),
              std::string::npos)
        << r.dump();
    EXPECT_TRUE(r["wall_ns"].is_null());
  }
}

TEST(CpythonCpu, AWorkerThatFailsGivesAFailedRowWithItsLastWords) {
  fake_tree tree("import sys\nprint('Traceback: RuntimeError: no such CPU', file=sys.stderr)\nsys.exit(3)\n");
  cpython_calibration cal;
  cal.ns_per_iteration = 100;
  auto rows = cpython_cpu_rows(tree.lane(), {two_threads()}, 1, cal);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0]["error_occurred"].get<bool>());
  const std::string why = rows[0]["error_message"];
  EXPECT_NE(why.find("status 3"), std::string::npos) << why;
  EXPECT_NE(why.find("no such CPU"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  EXPECT_TRUE(rows[0]["wall_ns"].is_null());
  // The calibration of such a worker fails too, with the same words, and leaves no time per step.
  const cpython_calibration bad = calibrate_cpython_cpu(tree.lane(), {0}, 40'000'000);
  EXPECT_EQ(bad.ns_per_iteration, 0);
  EXPECT_NE(bad.failure.find("no such CPU"), std::string::npos) << bad.failure;
}

TEST(CpythonRows, AWorkerThatHangsIsStoppedWithItsChildren) {
  // Both workers fork a child and sleep: the worker and its child must be gone at the deadline.
  fake_tree tree("import os, sys, time\nos.fork()\ntime.sleep(100)\n");
  std::vector<cpython_convoy_case> convoys = {{convoy_name, 1, 5'000'000, 10'000'000, false, 500'000'000}};
  auto rows = cpython_convoy_rows(tree.lane(), convoys, 1);
  cpython_calibration cal;
  cal.ns_per_iteration = 100;
  cpython_cpu_case job = two_threads();
  job.timeout_ns = 500'000'000;
  auto cpu = cpython_cpu_rows(tree.lane(), {job}, 1, cal);
  rows.insert(rows.end(), cpu.begin(), cpu.end());
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_TRUE(r["error_occurred"].get<bool>());
    EXPECT_NE(r["error_message"].get<std::string>().find("deadline"), std::string::npos) << r.dump();
  }
  EXPECT_TRUE(tree.nothing_left()) << "a worker process outlived its deadline";
}

}  // namespace
}  // namespace bench::contention
