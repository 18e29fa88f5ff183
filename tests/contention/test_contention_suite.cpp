// validate_contention refuses bad input with a message that names the problem; a tiny real run writes
// results whose rows carry every field the issue asks for (checked field by field).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "base/error.hpp"
#include "bench/contention/contention_suite.hpp"
#include "harness/results.hpp"
#include "tests/support/results_checks.hpp"

namespace {

namespace fs = std::filesystem;

bench::run_request base_request() {
  bench::run_request r;
  r.suite = "contention";
  r.command_line = "bench run contention (test)";
  r.cores = 2;
  r.cores_given = true;
  r.quick = true;
  return r;
}

// Expects validate_contention to throw usage_error whose text contains every one of `needles`.
void expect_refused(const bench::run_request& r, std::initializer_list<std::string> needles) {
  try {
    bench::validate_contention(r);
    ADD_FAILURE() << "accepted, expected a usage_error mentioning " << *needles.begin();
  } catch (const bench::usage_error& e) {
    const std::string msg = e.what();
    for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "message: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
  }
}

TEST(ValidateContention, AcceptsTheDefaults) { EXPECT_NO_THROW(bench::validate_contention(base_request())); }

// One vocabulary: the GILs as `run ipc --lock` names them are the contention suite's policies too.
TEST(ValidateContention, AcceptsTheIpcNamesOfTheGils) {
  auto r = base_request();
  r.policies = {"none", "gil-new", "gil-priority"};
  EXPECT_NO_THROW(bench::validate_contention(r));
  r.policies = {"gil-mutex"};
  expect_refused(r, {"gil-mutex", "gil-new"});
}

TEST(ValidateContention, RefusesAZeroSwitchInterval) {
  auto r = base_request();
  r.switch_intervals_ns = {5'000'000, 0};
  expect_refused(r, {"--switch-interval", "positive"});
}

TEST(ValidateContention, RefusesAnAbsurdSwitchInterval) {
  auto r = base_request();
  r.switch_intervals_ns = {5'000'000'000};
  expect_refused(r, {"--switch-interval", "5s", "too long"});
}

TEST(ValidateContention, RefusesAnAbsurdCheckInterval) {
  auto r = base_request();
  r.check_interval = 5'000'000;
  expect_refused(r, {"--check-interval", "5000000"});
}

TEST(ValidateContention, RefusesALongCriticalSection) {
  auto r = base_request();
  r.cs_ns = 2'000'000;
  expect_refused(r, {"--cs", "2ms", "too long"});
}

TEST(ValidateContention, RefusesAnUnknownLockListingTheValidOnes) {
  auto r = base_request();
  r.locks = {"ticket", "spin"};
  expect_refused(r, {"unknown lock 'spin'", "mutex", "ttas", "ticket", "adaptive", "shared-mutex", "sharded"});
}

TEST(ValidateContention, RefusesAnUnknownPolicyListingTheValidOnes) {
  auto r = base_request();
  r.policies = {"gil3"};
  expect_refused(r, {"unknown GIL policy 'gil3'", "none", "old", "new", "priority"});
}

TEST(ValidateContention, RefusesABadFilter) {
  auto r = base_request();
  r.filter = std::string("(");
  expect_refused(r, {"--filter", "regular expression"});
  r = base_request();
  r.filter = std::string("no-such-case");  // (assigning a literal here trips g++ 12's false -Wrestrict)
  expect_refused(r, {"--filter", "matches no"});
}

TEST(ValidateContention, RefusesATooShortDurationAndTooManyCores) {
  auto r = base_request();
  r.duration_ns = 10'000;
  expect_refused(r, {"--duration", "too short"});
  r = base_request();
  r.cores = 1000;
  expect_refused(r, {"--cores", "1000"});
}

TEST(ValidateContention, RefusesAPythonThatIsNotThere) {
  auto r = base_request();
  r.python = "/nonexistent/python3";
  expect_refused(r, {"--python /nonexistent/python3", "no such executable"});
  r.python = "/usr/bin/env";  // an executable: whether it is a Python shows when its workers run
  EXPECT_NO_THROW(bench::validate_contention(r));
}

// Each real CPython gil-cpu row (runtime cpython-X.Y) stands beside an emulated row of the same name less its
// /runtime: part, with the same experiment fields: every emulated new-GIL thread case and the process case.
void expect_real_gil_cpu_twins(const nlohmann::json& doc) {
  std::map<std::string, const nlohmann::json*> emulated;
  std::vector<const nlohmann::json*> real;
  for (const auto& row : doc["benchmarks"]) {
    if (row["run_type"] != "iteration" || row["experiment"] != "gil-cpu") continue;
    if (row["runtime"] == "cpp")
      emulated[row["name"]] = &row;
    else
      real.push_back(&row);
  }
  ASSERT_EQ(real.size(), 4u) << "thread and process, 2 repetitions each";
  for (const nlohmann::json* r : real) {
    const std::string name = (*r)["name"], runtime = (*r)["runtime"];
    SCOPED_TRACE(name);
    EXPECT_EQ(runtime.rfind("cpython-", 0), 0u);
    const std::string suffix = "/runtime:" + runtime;
    ASSERT_GT(name.size(), suffix.size());
    ASSERT_EQ(name.substr(name.size() - suffix.size()), suffix);
    auto twin = emulated.find(name.substr(0, name.size() - suffix.size()));
    ASSERT_NE(twin, emulated.end()) << "no emulated twin";
    for (const char* k : {"suite", "experiment", "policy", "model", "threads", "work_ns", "switch_interval_us"})
      EXPECT_EQ((*r)[k], (*twin->second)[k]) << k;
    EXPECT_GT((*r)["countdown_iterations"].get<double>(), 0);
  }
}

TEST(RunContention, WritesRowsWithTheRequiredFields) {
  const fs::path dir = fs::temp_directory_path() / ("bench-contention-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto r = base_request();
  r.out = dir;
  r.no_plot = true;
  r.reps = 2;
  r.duration_ns = 20'000'000;
  r.switch_intervals_ns = {1'000'000};
  // One small case of every experiment.
  r.filter =
      "lock:ticket/threads:2/|lock:shared-mutex/mix:read-mostly/threads:1/|layout:padded/threads:2|"
      "gil-cpu/policy:new/model:.*/threads:2/|gil-convoy/policy:(new|none)/cpu_threads:1(/|$)|"
      "gil-placement/policy:new/placement:same/echo:cross";
  ASSERT_EQ(bench::run_contention(r), 0);

  std::ifstream in(dir / "results.json");
  ASSERT_TRUE(in) << "no results.json in " << dir;
  const auto doc = nlohmann::json::parse(in);
  ASSERT_TRUE(doc.contains("context"));
  EXPECT_EQ(doc["context"]["suite"], "contention");
  EXPECT_TRUE(doc["context"].contains("tick_ns"));
  EXPECT_TRUE(doc["context"].contains("switch_intervals_us"));
  EXPECT_EQ(doc["context"]["schema_version"], bench::results_schema_version);
  bench::testing::expect_schema_and_identity(nlohmann::ordered_json::parse(doc.dump()));
  EXPECT_TRUE(fs::exists(dir / "results.csv"));

  std::set<std::string> experiments;
  std::map<std::string, int> iterations_per_name;
  int aggregates = 0;
  const std::map<std::string, std::string> primary = {{"locks", "ops_per_s"},
                                                      {"false-sharing", "ops_per_s"},
                                                      {"gil-cpu", "wall_ns"},
                                                      {"gil-convoy", "rtt_p50_ns"},
                                                      {"gil-placement", "rtt_p50_ns"}};
  for (const auto& row : doc["benchmarks"]) {
    if (row["run_type"] == "aggregate") {
      ++aggregates;
      if (row["aggregate_name"] == "median" && row["primary_metric"] != "real_time") {  // real_time: all starved
        EXPECT_EQ(row["primary_metric"], primary.at(row["experiment"].get<std::string>())) << row["name"];
      }
      continue;
    }
    ASSERT_EQ(row["run_type"], "iteration");
    const std::string name = row["name"];
    SCOPED_TRACE(name);
    for (const char* k : {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "real_time",
                          "cpu_time", "time_unit", "experiment", "model", "switch_interval_us", "oversubscribed",
                          "error_occurred", "error_message"})
      EXPECT_TRUE(row.contains(k)) << "missing " << k;
    EXPECT_EQ(row["error_occurred"], false) << row["error_message"];
    EXPECT_EQ(row["run_name"], name);
    EXPECT_EQ(row["repetitions"], 2);
    EXPECT_EQ(row["time_unit"], "ns");
    EXPECT_TRUE(row["real_time"].is_number());
    EXPECT_TRUE(row["cpu_time"].is_number());
    EXPECT_TRUE(row["oversubscribed"].is_boolean());
    // Google Benchmark's meaning: iterations is what the case counted, real_time and cpu_time per iteration.
    const double its = row["iterations"].get<double>(), real = row["real_time"].get<double>();
    EXPECT_GE(its, 1);
    ++iterations_per_name[name];
    const std::string exp = row["experiment"];
    experiments.insert(exp);
    EXPECT_EQ(name.rfind("contention/experiment:" + exp + "/", 0), 0u);
    if (exp == "locks") {
      EXPECT_TRUE(row["lock"].is_string());
      EXPECT_FALSE(row.contains("policy"));
      EXPECT_NE(name.find("/lock:" + row["lock"].get<std::string>() + "/"), std::string::npos);
      EXPECT_NE(name.find("/threads:" + std::to_string(row["threads"].get<int>()) + "/"), std::string::npos);
      EXPECT_NE(name.find("/cs:50ns"), std::string::npos);
      EXPECT_GT(row["ops_per_s"].get<double>(), 0);
      EXPECT_LE(row["ops_min"].get<double>(), row["ops_max"].get<double>());
      EXPECT_EQ(its, row["ops_total"].get<double>());
      EXPECT_NEAR(real * its, row["wall_ns"].get<double>(), 1e-6 * row["wall_ns"].get<double>());
      EXPECT_NEAR(row["cpu_time"].get<double>() * its, row["cpu_ns"].get<double>(), 1e-6 * row["cpu_ns"].get<double>());
      EXPECT_TRUE(row["switch_interval_us"].is_null());
    } else if (exp == "false-sharing") {
      EXPECT_EQ(row["layout"], "padded");
      EXPECT_GT(row["ops_per_s"].get<double>(), 0);
      EXPECT_EQ(its, row["ops_total"].get<double>());
    } else {
      EXPECT_TRUE(row["policy"].is_string());
      EXPECT_FALSE(row.contains("lock"));
      EXPECT_NE(name.find("/policy:" + row["policy"].get<std::string>()), std::string::npos);
    }
    if (exp == "gil-cpu") {
      EXPECT_GT(row["wall_ns"].get<double>(), 0);
      EXPECT_GT(row["cpu_ns"].get<double>(), 0);
      EXPECT_EQ(row["switch_interval_us"], 1000.0);
      EXPECT_NE(name.find("/model:" + row["model"].get<std::string>() + "/"), std::string::npos);
      EXPECT_EQ(its, 1);  // the whole job
      EXPECT_EQ(real, row["wall_ns"].get<double>());
    }
    if (exp == "gil-convoy" || exp == "gil-placement") {
      EXPECT_EQ(row["threads"], 2);
      EXPECT_EQ(row["cpu_threads"], 1);
      for (const char* k : {"rtt_p50_ns", "rtt_p99_ns", "round_trips_per_s", "starved", "echo_placement"})
        EXPECT_TRUE(row.contains(k)) << "missing " << k;
      if (row["starved"] == 0) {
        ASSERT_TRUE(row["rtt_p50_ns"].is_number()) << row.dump();
        EXPECT_GT(row["rtt_p50_ns"].get<double>(), 0);
        EXPECT_GE(row["rtt_p99_ns"].get<double>(), row["rtt_p50_ns"].get<double>());
        EXPECT_GT(row["round_trips_per_s"].get<double>(), 0);
        EXPECT_EQ(its, row["round_trips"].get<double>());
        EXPECT_NEAR(real * its, row["wall_ns"].get<double>(), 1e-6 * row["wall_ns"].get<double>());
      } else {
        // On a loaded machine a short run can end before one measured round trip completes: a result (null
        // percentiles; one iteration, the run), not a failure.
        EXPECT_TRUE(row["rtt_p50_ns"].is_null());
        EXPECT_EQ(row["starved"], 1);
        EXPECT_EQ(its, 1);
        EXPECT_EQ(real, row["run_ns"].get<double>());
      }
      if (row["policy"] == "none")
        EXPECT_TRUE(row["switch_interval_us"].is_null());
      else
        EXPECT_EQ(row["switch_interval_us"], 1000.0);
    }
  }
  EXPECT_EQ(experiments, (std::set<std::string>{"locks", "false-sharing", "gil-cpu", "gil-convoy", "gil-placement"}));
  // ticket@2, shared-mutex@1, padded@2, gil-cpu thread+process, convoy new+none, placement, and the real CPython
  // beside the emulated new-GIL gil-cpu cases and convoy: 11 cases x 2 reps.
  EXPECT_EQ(iterations_per_name.size(), 11u);
  for (const auto& [n, count] : iterations_per_name) EXPECT_EQ(count, 2) << n;
  EXPECT_EQ(aggregates, 11 * 6);  // median, mean, stddev, cv, min, max
  int real = 0;
  for (const auto& [n, count] : iterations_per_name)
    real += n.rfind("contention/experiment:gil-convoy/policy:new/cpu_threads:1/switch:1ms/runtime:cpython-", 0) == 0;
  EXPECT_EQ(real, 1) << "the real CPython's convoy, named after the emulated one";
  expect_real_gil_cpu_twins(doc);
  EXPECT_TRUE(doc["context"]["cpython_gil_cpu"]["calibration_ns_per_iteration"].get<double>() > 0)
      << doc["context"]["cpython_gil_cpu"].dump();
  fs::remove_all(dir);
}

}  // namespace
