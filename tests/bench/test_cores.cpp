// bench run cores: what each pair of CPUs shares, named from the topology, and a short map on this machine whose
// rows carry their CPUs, their relation and the round trip.
#include <gtest/gtest.h>

#include <filesystem>

#include "bench/cores/cores_suite.hpp"
#include "harness/cpu.hpp"
#include "harness/results.hpp"
#include "tests/support/results_checks.hpp"

namespace bench {
namespace {

TEST(Cores, RelationsFollowTheTopology) {
  // 2 packages x 2 L3 x 2 cores x 2 threads, siblings side by side: CPU 0-1 one core, 0-3 one L3, 0-7 one package.
  topology t = read_topology("synthetic:package:2 l3:2 core:2 pu:2");
  EXPECT_EQ(cpu_relation(t, 0, 1), "smt siblings");
  EXPECT_EQ(cpu_relation(t, 0, 2), "same L3");
  EXPECT_EQ(cpu_relation(t, 0, 4), "other L3");
  EXPECT_EQ(cpu_relation(t, 0, 8), "other package");
  EXPECT_EQ(cpu_relation(t, 0, 99), "unknown");
  topology numa = read_topology("synthetic:numa:2 core:2 pu:1");
  EXPECT_EQ(cpu_relation(numa, 0, 2), "other NUMA node");
}

TEST(Cores, AShortMapOfThisMachine) {
  namespace fs = std::filesystem;
  fs::path out = fs::temp_directory_path() / ("bench-cores-" + std::to_string(::getpid()));
  fs::remove_all(out);
  run_request req;
  req.suite = "cores";
  req.cores = 2;
  req.quick = true;
  req.no_plot = true;
  req.out = out;
  ASSERT_EQ(run_cores(req), 0);
  json doc = read_results(out / "results.json");
  EXPECT_EQ(doc["context"]["suite"], "cores");
  EXPECT_TRUE(doc["context"].contains("topology"));
  bench::testing::expect_schema_and_identity(doc);
  int iterations = 0;
  for (const json& row : doc["benchmarks"]) {
    if (row["run_type"] == "aggregate" && row["aggregate_name"] != "median") continue;
    EXPECT_LT(row["cpu_a"].get<int>(), row["cpu_b"].get<int>());
    EXPECT_FALSE(row["relation"].get<std::string>().empty());
    EXPECT_GT(row["rtt_p50_ns"].get<double>(), 0);
    if (row["run_type"] == "iteration") {
      ++iterations;
      EXPECT_EQ(row["real_time"], row["rtt_p50_ns"]);  // Google Benchmark's time per iteration: the median
      // Named from this machine's topology, as the map's console and chart group the pairs.
      EXPECT_EQ(row["relation"],
                cpu_relation(read_topology("", allowed_cpus()), row["cpu_a"].get<int>(), row["cpu_b"].get<int>()));
    }
  }
  EXPECT_EQ(iterations, 1);  // two CPUs: one pair, one repetition with --quick
  fs::remove_all(out);
}

}  // namespace
}  // namespace bench
