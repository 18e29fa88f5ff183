#include "bench/cores/cores_suite.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/units.hpp"
#include "bench/progress.hpp"
#include "harness/case_key.hpp"
#include "harness/floor.hpp"
#include "harness/results.hpp"
#include "harness/sysinfo.hpp"

namespace bench {
namespace {

// The CPUs of the map: the first --cores of the allowed ones (all by default), each once, ascending.
std::vector<int> map_cpus(const core_plan& cores) {
  std::set<int> distinct(cores.cpus.begin(), cores.cpus.end());
  return {distinct.begin(), distinct.end()};
}

json pair_row(const topology& t, int a, int b, const round_trip_summary& s) {
  json row;
  case_key key("cores");
  key.named("cpu_a", a).named("cpu_b", b).unnamed("relation", cpu_relation(t, a, b));
  row["name"] = key.name();
  row["run_name"] = row["name"];
  row["run_type"] = "iteration";
  key.stamp(row);
  row["rtt_p50_ns"] = s.median_ns;
  row["rtt_p10_ns"] = s.p10_ns;
  row["rtt_p90_ns"] = s.p90_ns;
  row["stalled_pct"] = s.stalled_pct;
  // Google Benchmark's shape: an iteration is one round trip, real_time its median.
  row["iterations"] = s.samples;
  row["real_time"] = s.median_ns;
  row["cpu_time"] = s.median_ns;  // both ends spin the whole time: CPU time per round trip is its wall time
  row["time_unit"] = "ns";
  row["error_occurred"] = false;
  row["error_message"] = "";
  return row;
}

primary_metric cores_primary_metric(const json&) { return {"rtt_p50_ns", false}; }

const metric_def cores_metrics[] = {
    {"rtt_p50_ns", "ns", better::lower, "p50",
     "median of 20,000 individual round trips of one cache line between cpu_a and cpu_b, both threads pinned and "
     "spinning (the hardware floor's ping-pong)"},
    {"rtt_p10_ns", "ns", better::lower, "p10", "their 10th percentile"},
    {"rtt_p90_ns", "ns", better::lower, "p90", "their 90th percentile"},
    {"stalled_pct", "%", better::lower, "stalled",
     "share of the ping-pong's time in round trips over 10x the median: a peer not running"},
    {"relation", "", better::neither, "relation",
     "what the two CPUs share: smt siblings (one core), same L3, other L3, other NUMA node, other package"},
};

suite_schema cores_schema() {
  return {{"suite", "cpu_a", "cpu_b", "relation"}, {std::begin(cores_metrics), std::end(cores_metrics)}};
}

// The map as a table: medians of the p50 round trip, CPU against CPU, then one line per relation.
void print_map(const std::vector<int>& cpus, const std::vector<json>& rows) {
  std::map<std::pair<int, int>, double> p50;
  std::map<std::string, std::vector<double>> by_relation;
  for (const json& r : rows)
    if (r["run_type"] == "aggregate" && r["aggregate_name"] == "median") {
      p50[{r["cpu_a"].get<int>(), r["cpu_b"].get<int>()}] = r["rtt_p50_ns"].get<double>();
      by_relation[r["relation"].get<std::string>()].push_back(r["rtt_p50_ns"].get<double>());
    }
  fmt::print(
      "\nCache-line round trip between CPUs (median of individual round trips, ns; median of repetitions)\n{:>6}", "");
  for (int b : cpus) fmt::print("{:>7}", b);
  fmt::print("\n");
  for (int a : cpus) {
    fmt::print("{:>6}", a);
    for (int b : cpus) {
      auto it = p50.find({std::min(a, b), std::max(a, b)});
      fmt::print("{:>7}", a == b            ? std::string("-")
                          : it == p50.end() ? std::string("?")
                                            : fmt::format("{:.0f}", it->second));
    }
    fmt::print("\n");
  }
  for (auto& [relation, v] : by_relation) {
    std::sort(v.begin(), v.end());
    fmt::print("{:<16} {} pair(s): {} to {}, median {}\n", relation, v.size(), format_ns(v.front()),
               format_ns(v.back()), format_ns(v[v.size() / 2]));
  }
}

}  // namespace

std::string cpu_relation(const topology& t, int cpu_a, int cpu_b) {
  const cpu_site *a = t.site(cpu_a), *b = t.site(cpu_b);
  if (!a || !b) return "unknown";
  // The farthest difference names the pair; NUMA before L3, since a machine that reports no L3 has its package
  // as the L3 domain (topology.hpp).
  if (a->core == b->core) return "smt siblings";
  if (a->package != b->package) return "other package";
  if (a->numa != b->numa) return "other NUMA node";
  if (a->l3 == b->l3) return "same L3";
  return "other L3";
}

void validate_cores(const run_request& req) {
  if (req.cores < 2 || static_cast<int>(allowed_cpus().size()) < 2)
    throw usage_error("bench run cores needs two CPUs at least: it measures the round trip between pairs of them");
}

int run_cores(const run_request& req) {
  validate_cores(req);
  const core_plan cores = plan_cores(std::min(req.cores, static_cast<int>(allowed_cpus().size())));
  const std::vector<int> cpus = map_cpus(cores);
  const int reps = req.reps ? req.reps : (req.quick ? 1 : 3);
  std::vector<std::pair<int, int>> pairs;
  for (std::size_t i = 0; i < cpus.size(); ++i)
    for (std::size_t j = i + 1; j < cpus.size(); ++j) pairs.emplace_back(cpus[i], cpus[j]);

  run_results res;
  res.dir = prepare_run_dir(req.out, "cores");
  res.context = suite_context(req, cores);
  res.context["reps"] = reps;
  res.context["statistics"] = statistics_context();
  res.context["schema"] = to_json(cores_schema());
  fmt::print("bench run cores: {} CPU pairs x {} repetitions on {} ({})\n", pairs.size(), reps,
             machine_line(res.context), cores.topo.describe());
  std::fflush(stdout);
  progress_line progress(static_cast<int>(pairs.size()) * reps);
  for (int round = 1; round <= reps && !interrupted(); ++round) {
    for (const auto& [a, b] : pairs) {
      if (interrupted()) break;
      progress.step(fmt::format("round {}/{}  CPU {} and CPU {}", round, reps, a, b));
      std::optional<round_trip_summary> s = measure_canary(a, b);
      if (!s) continue;  // interrupted mid-pair: that pair has no figure
      json row = pair_row(cores.topo, a, b, *s);
      row["repetitions"] = reps;
      row["repetition_index"] = round - 1;
      res.rows.push_back(std::move(row));
    }
    write_results(res);  // after every round: Ctrl-C loses nothing already measured
  }
  progress.finish();
  res.context["interrupted"] = interrupted();
  add_aggregates(res.rows, {"rtt_p10_ns", "rtt_p90_ns", "stalled_pct"}, cores_schema().identity, cores_primary_metric);
  write_results(res);
  print_map(cpus, res.rows);
  fmt::print("\nresults: {}\n", (res.dir / "results.json").string());
  if (interrupted()) return 130;
  draw_charts(req, res.dir);
  return 0;
}

}  // namespace bench
