// The contention suite: settings, the case table, registration with Google Benchmark, the reporter that turns
// its runs into our rows, the console table and the results files.
#include "bench/contention/contention_suite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <set>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/units.hpp"
#include "bench/console_table.hpp"
#include "bench/contention/cases.hpp"
#include "bench/contention/cpython_rows.hpp"
#include "bench/python/interpreter.hpp"
#include "harness/gil.hpp"
#include "harness/results.hpp"
#include "harness/stats.hpp"
#include "harness/sysinfo.hpp"

namespace bench {
namespace contention {

std::string short_duration(std::uint64_t ns) {
  auto fmt_unit = [](double v, const char* unit) {
    std::string s = fmt::format("{:.3f}", v);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s + unit;
  };
  if (ns >= 1'000'000'000 && ns % 1'000'000 == 0) return fmt_unit(static_cast<double>(ns) / 1e9, "s");
  if (ns >= 1'000'000 && ns % 1'000 == 0) return fmt_unit(static_cast<double>(ns) / 1e6, "ms");
  if (ns >= 1'000) return fmt_unit(static_cast<double>(ns) / 1e3, "us");
  return fmt::format("{}ns", ns);
}

namespace {
// The GIL's own parameter, where the policy has one: the old GIL's check interval, the new one's switch interval.
void add_gil_params(case_key& k, const case_desc& c, const settings& cfg) {
  if (!c.policy) return;
  switch (*c.policy) {
    case gil_policy::none: return;
    case gil_policy::old_gil: k.named("check_interval", cfg.check_interval, "check"); return;
    case gil_policy::new_gil:
    case gil_policy::priority:
      k.named("switch_interval_us", static_cast<double>(c.switch_interval_ns) / 1000, "switch",
              short_duration(c.switch_interval_ns));
      return;
  }
}
}  // namespace

case_key case_desc::key() const {
  const settings& s = *cfg;
  case_key k("contention");
  k.named("experiment", experiment);
  if (experiment == "locks") {
    k.named("lock", lock);
    if (!mix.empty()) k.named("mix", mix);
    k.named("threads", threads)
        .named("cs_ns", s.cs_ns, "cs", short_duration(s.cs_ns))
        .unnamed("outside_ns", s.outside_ns);
  } else if (experiment == "false-sharing") {
    k.named("layout", layout).named("threads", threads);
  } else if (experiment == "gil-cpu") {
    k.named("policy", std::string(to_string(*policy))).named("model", model).named("threads", threads);
    k.named("work_ns", s.gil_work_ns, "work", short_duration(s.gil_work_ns));
    add_gil_params(k, *this, s);
  } else if (experiment == "gil-convoy") {
    k.named("policy", std::string(to_string(*policy))).named("cpu_threads", cpu_threads);
    add_gil_params(k, *this, s);
    k.unnamed("echo_placement", echo_placement);
  } else {
    k.named("policy", std::string(to_string(*policy))).named("placement", placement);
    k.named("echo_placement", echo_placement, "echo").unnamed("cpu_threads", cpu_threads);
    add_gil_params(k, *this, s);
  }
  k.unnamed("runtime", "cpp");  // bench's own emulation; rows of the real interpreter say cpython-X.Y
  return k;
}

std::string case_desc::name() const { return key().name(); }

std::string case_desc::family_name() const {
  std::string n = name();
  const std::string seg = fmt::format("/threads:{}", threads);
  if (auto pos = n.find(seg); pos != std::string::npos) n.erase(pos, seg.size());
  return n;
}

void announce_case(const case_env& env, const std::string& name) {
  if (env.progress) env.progress->step(name.substr(name.find('/') + 1));
}

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Settings and the case table

constexpr int max_cores = 256;
constexpr std::uint64_t max_cs_ns = 1'000'000;          // a "critical section" beyond 1 ms measures the sleep
constexpr std::uint64_t max_switch_ns = 1'000'000'000;  // convoy runs last 40 intervals: 1 s is already 40 s
constexpr std::uint64_t max_check_interval = 1'000'000;
constexpr std::uint64_t min_duration_ns = 1'000'000;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::vector<int> powers_up_to(int n) {
  std::vector<int> v;
  for (int t = 1; t < n; t *= 2) v.push_back(t);
  v.push_back(n);
  return v;
}

settings resolve_settings(const run_request& req) {
  settings s;
  s.quick = req.quick;
  const int cores = req.cores > 0 ? req.cores : static_cast<int>(allowed_cpus().size());
  if (cores > max_cores)
    throw usage_error(fmt::format("--cores {} is too many for the contention suite (at most {})", cores, max_cores));
  s.cores = plan_cores(cores);
  s.reps = req.reps > 0 ? req.reps : (req.quick ? 3 : 5);
  if (req.duration_ns != 0 && req.duration_ns < min_duration_ns)
    throw usage_error(fmt::format("--duration {} is too short for the contention suite (at least 1ms)",
                                  short_duration(req.duration_ns)));
  s.window_ns = req.duration_ns ? req.duration_ns : (req.quick ? 30'000'000 : 200'000'000);
  s.convoy_min_ns = s.window_ns;
  s.convoy_min_intervals = req.quick ? 15 : 40;
  s.gil_work_ns = req.quick ? 40'000'000 : 200'000'000;

  if (req.cs_ns > max_cs_ns)
    throw usage_error(
        fmt::format("--cs {} is too long for a critical section (at most 1ms)", short_duration(req.cs_ns)));
  s.cs_ns = req.cs_ns ? req.cs_ns : 50;
  // As much work outside the lock as inside: one thread holds the lock half the time, so two threads can just
  // keep a perfect lock busy, and every thread beyond that has to queue.
  s.outside_ns = s.cs_ns;

  if (req.check_interval > max_check_interval)
    throw usage_error(
        fmt::format("--check-interval {} is too large (at most {} ticks)", req.check_interval, max_check_interval));
  s.check_interval = req.check_interval ? static_cast<std::uint32_t>(req.check_interval) : 100;

  for (std::uint64_t si : req.switch_intervals_ns) {
    if (si == 0) throw usage_error("--switch-interval must be positive (got 0)");
    if (si > max_switch_ns)
      throw usage_error(fmt::format("--switch-interval {} is too long (at most 1s)", short_duration(si)));
  }
  s.switch_intervals_ns = req.switch_intervals_ns;
  if (s.switch_intervals_ns.empty()) s.switch_intervals_ns = {100'000, 1'000'000, 5'000'000, 20'000'000};
  std::sort(s.switch_intervals_ns.begin(), s.switch_intervals_ns.end());
  s.switch_intervals_ns.erase(std::unique(s.switch_intervals_ns.begin(), s.switch_intervals_ns.end()),
                              s.switch_intervals_ns.end());
  // CPython's default where one interval is used, if it is among those asked for; else the first asked for.
  s.default_switch_ns =
      std::find(s.switch_intervals_ns.begin(), s.switch_intervals_ns.end(), 5'000'000) != s.switch_intervals_ns.end()
          ? 5'000'000
      : req.switch_intervals_ns.empty() ? 5'000'000
                                        : req.switch_intervals_ns.front();

  for (const std::string& l : req.locks) {
    const auto& valid = lock_names();
    if (std::find(valid.begin(), valid.end(), l) == valid.end())
      throw usage_error(fmt::format("unknown lock '{}' (valid: {})", l, join(valid)));
  }
  for (const std::string& l : lock_names())
    if (req.locks.empty() || std::find(req.locks.begin(), req.locks.end(), l) != req.locks.end()) s.locks.push_back(l);
  std::set<gil_policy> chosen;
  for (const std::string& p : req.policies) {
    auto pol = parse_gil_policy(p);
    if (!pol) {
      std::vector<std::string> valid(gil_policy_names().begin(), gil_policy_names().end());
      throw usage_error(
          fmt::format("unknown GIL policy '{}' (valid: {}, or gil-old, gil-new, gil-priority as --lock "
                      "names them)",
                      p, join(valid)));
    }
    chosen.insert(*pol);
  }
  for (std::string_view p : gil_policy_names())
    if (req.policies.empty() || chosen.count(*parse_gil_policy(p))) s.policies.push_back(*parse_gil_policy(p));

  s.thread_counts = powers_up_to(cores);
  s.cpu_thread_counts = {0};
  for (int t : s.thread_counts) s.cpu_thread_counts.push_back(t);
  s.filter = req.filter;
  return s;
}

// A registered family: one descriptor, and for lock/false-sharing families the thread counts it runs with.
struct planned {
  using body_fn = void (*)(benchmark::State&, const case_desc&, const case_env&);
  case_desc desc;
  std::vector<int> thread_counts;  // empty: a single-threaded Google Benchmark case
  std::string family;
  body_fn body = nullptr;
};

// Collects the families that --filter keeps, in the order they run and print.
class case_planner {
 public:
  explicit case_planner(const settings& cfg) : cfg_(cfg) {
    if (cfg.filter.empty()) return;
    try {
      re_.emplace(cfg.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw usage_error(fmt::format("--filter '{}' is not a valid regular expression: {}", cfg.filter, e.what()));
    }
  }
  // A family run on Google Benchmark's threads, at each thread count whose name the filter keeps.
  void add_threaded(case_desc d, planned::body_fn body) {
    auto p = std::make_unique<planned>();
    for (int t : cfg_.thread_counts) {
      d.threads = t;
      if (wanted(d)) p->thread_counts.push_back(t);
    }
    if (p->thread_counts.empty()) return;
    d.threads = p->thread_counts.front();
    p->family = d.family_name();
    p->desc = std::move(d);
    p->body = body;
    out_.push_back(std::move(p));
  }
  void add_single(case_desc d, planned::body_fn body) {
    if (!wanted(d)) return;
    auto p = std::make_unique<planned>();
    p->family = d.name();
    p->desc = std::move(d);
    p->body = body;
    out_.push_back(std::move(p));
  }
  std::vector<std::unique_ptr<planned>> take() { return std::move(out_); }

 private:
  bool wanted(const case_desc& d) const { return !re_ || std::regex_search(d.name(), *re_); }

  const settings& cfg_;
  std::optional<std::regex> re_;
  std::vector<std::unique_ptr<planned>> out_;
};

void plan_locks(case_planner& plan, const settings& cfg) {
  for (const std::string& l : cfg.locks) {
    case_desc d;
    d.cfg = &cfg;
    d.experiment = "locks";
    d.lock = l;
    if (l == "shared-mutex") {
      for (const char* mix : {"read-mostly", "write-heavy"}) {
        d.mix = mix;
        plan.add_threaded(d, &run_lock_case);
      }
    } else {
      plan.add_threaded(d, &run_lock_case);
    }
  }
}

void plan_false_sharing(case_planner& plan, const settings& cfg) {
  for (const char* layout : {"adjacent", "padded"}) {
    case_desc d;
    d.cfg = &cfg;
    d.experiment = "false-sharing";
    d.layout = layout;
    plan.add_threaded(d, &run_false_sharing_case);
  }
}

case_desc gil_case(const settings& cfg, const char* experiment, gil_policy p) {
  case_desc d;
  d.cfg = &cfg;
  d.experiment = experiment;
  d.policy = p;
  d.switch_interval_ns = p == gil_policy::new_gil || p == gil_policy::priority ? cfg.default_switch_ns : 0;
  return d;
}

// gil-cpu: threads under every chosen policy; then processes. Each process has its own GIL with a single thread
// in it, so its policy hardly matters: they run once, under the new GIL when it is among the chosen policies
// (CPython 3's), else under the first chosen.
void plan_gil_cpu(case_planner& plan, const settings& cfg) {
  std::vector<std::pair<gil_policy, const char*>> cpu_models;
  for (gil_policy p : cfg.policies) cpu_models.emplace_back(p, "thread");
  if (!cfg.policies.empty()) {
    const bool has_new = std::find(cfg.policies.begin(), cfg.policies.end(), gil_policy::new_gil) != cfg.policies.end();
    cpu_models.emplace_back(has_new ? gil_policy::new_gil : cfg.policies.front(), "process");
  }
  for (const auto& [p, model] : cpu_models) {
    for (int t : cfg.thread_counts) {
      case_desc d = gil_case(cfg, "gil-cpu", p);
      d.model = model;
      d.threads = t;
      plan.add_single(d, &run_gil_cpu_case);
    }
  }
}

void plan_convoys(case_planner& plan, const settings& cfg) {
  for (gil_policy p : cfg.policies) {
    for (int k : cfg.cpu_thread_counts) {
      case_desc d = gil_case(cfg, "gil-convoy", p);
      d.cpu_threads = k;
      d.threads = k + 1;
      d.echo_placement = "cross";
      const bool sweeps = (p == gil_policy::new_gil || p == gil_policy::priority) && k > 0;
      if (!sweeps) {
        // none and old have no switch interval; alone (k = 0) nobody ever asks for the GIL.
        plan.add_single(d, &run_convoy_case);
        continue;
      }
      for (std::uint64_t si : cfg.switch_intervals_ns) {
        d.switch_interval_ns = si;
        plan.add_single(d, &run_convoy_case);
      }
    }
  }
}

void plan_placements(case_planner& plan, const settings& cfg) {
  for (gil_policy p : cfg.policies) {
    for (const char* where : {"same", "cross"}) {
      for (const char* echo : {"same", "cross"}) {
        case_desc d = gil_case(cfg, "gil-placement", p);
        d.cpu_threads = 1;
        d.threads = 2;
        d.placement = where;
        d.echo_placement = echo;
        plan.add_single(d, &run_convoy_case);
      }
    }
  }
}

// `cfg` must outlive the plan: every descriptor points to it (its names and bodies read it).
std::vector<std::unique_ptr<planned>> plan_cases(const settings& cfg) {
  case_planner plan(cfg);
  plan_locks(plan, cfg);
  plan_false_sharing(plan, cfg);
  plan_gil_cpu(plan, cfg);
  plan_convoys(plan, cfg);
  plan_placements(plan, cfg);
  std::vector<std::unique_ptr<planned>> out = plan.take();
  if (out.empty())
    throw usage_error(
        fmt::format("--filter '{}' matches no contention case (names look like "
                    "contention/experiment:locks/lock:ticket/threads:2/cs:50ns)",
                    cfg.filter));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Google Benchmark runs -> rows

// Keeps every iteration run (one per case and repetition; Google Benchmark's own aggregates are not used:
// add_aggregates computes ours, with the median and spread) and notes failures on the progress line.
class collecting_reporter : public benchmark::BenchmarkReporter {
 public:
  explicit collecting_reporter(progress_line& progress) : progress_(progress) {}
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      if (r.error_occurred)
        progress_.note(fmt::format("FAILED {} (repetition {}): {}", r.run_name.function_name, r.repetition_index,
                                   r.error_message));
      runs_.push_back(r);
    }
  }
  const std::vector<Run>& runs() const { return runs_; }

 private:
  progress_line& progress_;
  std::vector<Run> runs_;
};

json number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
  return v;
}

// Fields aggregated besides real_time and cpu_time.
const std::vector<std::string> metric_fields = {"wall_ns",
                                                "cpu_ns",
                                                "ops_total",
                                                "ops_per_s",
                                                "ops_min",
                                                "ops_max",
                                                "fairness_spread_pct",
                                                "fairness_min_over_max",
                                                "handoffs",
                                                "handoffs_per_op",
                                                "rtt_p50_ns",
                                                "rtt_p90_ns",
                                                "rtt_p99_ns",
                                                "rtt_max_ns",
                                                "rtt_mean_ns",
                                                "round_trips",
                                                "round_trips_per_s",
                                                "cpu_ticks_per_s",
                                                "starved",
                                                "rtt_censored_ns",
                                                "switches",
                                                "drop_requests",
                                                "forced_waits",
                                                "periodic_releases"};
// What each measured field of the suite is (context.schema.metrics).
const metric_def contention_metrics[] = {
    {"ops_per_s", "1/s", better::higher, "ops/s", "locks, false sharing: operations of all threads over the window"},
    {"ops_total", "count", better::higher, "ops", "locks, false sharing: operations of all threads in the window"},
    {"ops_min", "count", better::higher, "fewest", "the fewest operations one thread completed in the window"},
    {"ops_max", "count", better::neither, "most", "the most operations one thread completed in the window"},
    {"fairness_spread_pct", "%", better::lower, "unfairness", "(ops_max - ops_min) / the mean per thread"},
    {"fairness_min_over_max", "", better::higher, "min/max", "ops_min / ops_max: 1 when every thread got as much"},
    {"handoffs", "count", better::neither, "handoffs", "locks: acquisitions by another thread than the last holder"},
    {"handoffs_per_op", "", better::neither, "handoffs/op", "handoffs / operations"},
    {"wall_ns", "ns", better::lower, "wall", "gil-cpu: the whole job's wall time, split over the threads or processes"},
    {"cpu_ns", "ns", better::neither, "CPU", "gil-cpu: the CPU time of every thread or process of the job"},
    {"rtt_p50_ns", "ns", better::lower, "p50",
     "gil-convoy/placement: median round trip of the I/O thread's 64-byte echo with its peer, measured by the "
     "I/O thread, GIL acquisition included; null when it starved"},
    {"rtt_p90_ns", "ns", better::lower, "p90", "90th percentile of those round trips"},
    {"rtt_p99_ns", "ns", better::lower, "p99", "99th percentile of those round trips"},
    {"rtt_max_ns", "ns", better::lower, "max", "the longest of those round trips"},
    {"rtt_mean_ns", "ns", better::lower, "mean", "their mean"},
    {"round_trips", "count", better::higher, "round trips", "round trips completed in the run"},
    {"round_trips_per_s", "1/s", better::higher, "round trips/s", "round trips over the first start to the last end"},
    {"cpu_ticks_per_s", "1/s", better::neither, "ticks/s", "the CPU-bound threads' work done, in GIL ticks per second"},
    {"starved", "", better::lower, "starved", "1 when not one round trip completed while the CPU-bound threads ran"},
    {"rtt_censored_ns", "ns", better::lower, "censored",
     "a starved run: how long the round trip in flight at its end had waited by then"},
    {"switches", "count", better::neither, "switches", "GIL hand-overs from one thread to another"},
    {"drop_requests", "count", better::neither, "drop requests", "a waiter asked the holder to drop the GIL"},
    {"forced_waits", "count", better::neither, "forced waits",
     "a dropping holder waited until another thread took the GIL (the new GIL's FORCE_SWITCHING)"},
    {"periodic_releases", "count", better::neither, "releases", "old GIL: release and re-acquire points reached"},
};

// Every field a case_desc::key() can write: the suite's schema identity, copied onto the aggregate rows.
const std::vector<std::string> contention_identity = {
    "suite",     "experiment",     "lock",           "mix",
    "layout",    "policy",         "model",          "threads",
    "cs_ns",     "outside_ns",     "work_ns",        "cpu_threads",
    "placement", "echo_placement", "check_interval", "switch_interval_us",
    "runtime"};

json to_row(const benchmark::BenchmarkReporter::Run& run, const planned& p, const settings& cfg) {
  case_desc d = p.desc;
  if (!p.thread_counts.empty()) d.threads = static_cast<int>(run.threads);
  std::map<std::string, double> counters;
  for (const auto& [k, v] : run.counters) counters[k] = v.value;
  auto counter = [&](const std::string& k) -> json {
    auto it = counters.find(k);
    return it == counters.end() ? json(nullptr) : number(it->second);
  };

  json row;
  row["name"] = d.name();
  row["family_index"] = run.family_index;
  row["per_family_instance_index"] = run.per_family_instance_index;
  row["run_name"] = d.name();
  row["run_type"] = "iteration";
  row["repetitions"] = run.repetitions;
  row["repetition_index"] = run.repetition_index;
  row["threads"] = d.threads;
  // Google Benchmark's meaning: iterations is what the case counted (operations, round trips, or 1 for a whole
  // job), real_time and cpu_time are per iteration. A failed row has 0 for both, as Google Benchmark writes it
  // (error_occurred says why; tools that read real_time need a number there).
  const bool measured = !run.error_occurred && counters.count("real_time_ns") && counters.count("cpu_time_ns");
  row["iterations"] = measured && counters.count("iterations") ? counter("iterations") : json(run.iterations);
  row["real_time"] = measured ? counter("real_time_ns") : json(0.0);
  row["cpu_time"] = measured ? counter("cpu_time_ns") : json(0.0);
  row["time_unit"] = "ns";
  d.key().stamp(row);
  // Every row says its model and switch interval (null where none applies), so that tables line up.
  if (!row.contains("model")) row["model"] = d.model;
  if (!row.contains("switch_interval_us")) row["switch_interval_us"] = nullptr;
  if (d.policy) row["tick_ns"] = cfg.tick_ns;
  if (d.experiment == "gil-convoy" || d.experiment == "gil-placement") {
    // Always present on these rows (null when the I/O thread was starved or the case failed).
    for (const char* k : {"rtt_p50_ns", "rtt_p99_ns", "round_trips_per_s"}) row[k] = counter(k);
  }
  if (d.experiment == "gil-cpu")
    for (const char* k : {"wall_ns", "cpu_ns"}) row[k] = counter(k);
  for (const auto& [k, v] : counters) {
    if (k == "real_time_ns" || k == "cpu_time_ns" || k == "iterations" || row.contains(k)) continue;
    row[k] = number(v);
  }
  const int busy = d.experiment == "gil-convoy" || d.experiment == "gil-placement" ? d.cpu_threads + 1 : d.threads;
  row["oversubscribed"] = busy > cfg.cores.available;
  row["error_occurred"] = run.error_occurred;
  row["error_message"] = run.error_occurred ? run.error_message : "";
  return row;
}

// The figure each experiment is about: what its console column shows, the spread describes and bench compare
// compares (a convoy row whose I/O thread starved has no rtt_p50_ns: add_aggregates falls back to real_time).
primary_metric contention_primary_metric(const json& row) {
  const std::string experiment = row.value("experiment", "");
  if (experiment == "locks" || experiment == "false-sharing") return {"ops_per_s", true};
  if (experiment == "gil-cpu") return {"wall_ns", false};
  if (experiment == "gil-convoy" || experiment == "gil-placement") return {"rtt_p50_ns", false};
  return {"real_time", false};
}

// Facts of a case that are not part of its identity (the GIL's tick, the CPUs its threads ran on, the real
// CPython's countdown), copied from its first row onto the aggregate rows so that a median row says where and how
// it was measured.
const std::vector<std::string> case_facts = {
    "tick_ns",   "io_cpu", "cpu_thread_cpu",       "echo_cpu",
    "echo_fifo", "run_ns", "countdown_iterations", "countdown_ns_per_iteration"};

void copy_case_facts(std::vector<json>& rows) {
  std::map<std::string, const json*> first;
  for (const json& r : rows)
    if (r.value("run_type", "") == "iteration" && !first.count(r.value("run_name", ""))) first[r["run_name"]] = &r;
  for (json& r : rows) {
    if (r.value("run_type", "") != "aggregate") continue;
    auto it = first.find(r.value("run_name", ""));
    if (it == first.end()) continue;
    for (const std::string& k : case_facts)
      if (it->second->contains(k) && !r.contains(k)) r[k] = (*it->second)[k];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Console table: medians over the repetitions, with the spread (harness/stats.hpp).

struct stat_cell {
  summary s;
  bool ok = false;
};

using run_groups = std::map<std::string, std::vector<const json*>>;
// (run name, its first row) in console order.
using console_rows = std::vector<std::pair<std::string, const json*>>;

run_groups by_run(const std::vector<json>& rows) {
  run_groups m;
  for (const json& r : rows)
    if (r.value("run_type", "") == "iteration" && !r.value("error_occurred", false)) m[r["run_name"]].push_back(&r);
  return m;
}

// A run's successful repetitions; none for a run whose every repetition failed.
const std::vector<const json*>& group_of(const run_groups& groups, const std::string& run_name) {
  static const std::vector<const json*> none;
  auto it = groups.find(run_name);
  return it == groups.end() ? none : it->second;
}

stat_cell stat_of(const std::vector<const json*>& g, const char* field) {
  std::vector<double> v;
  for (const json* r : g)
    if (r->contains(field) && (*r)[field].is_number()) v.push_back((*r)[field].get<double>());
  stat_cell c;
  if (!v.empty()) {
    c.s = summarize(v);
    c.ok = true;
  }
  return c;
}

std::string spread_text(const stat_cell& c, bool& unstable) {
  if (!c.ok || c.s.n < 2) return "-";
  const bool shaky = is_unstable(c.s);
  unstable = unstable || shaky;
  return fmt::format("{:.0f}%{}", c.s.spread_pct, shaky ? "!" : "");
}

std::string ns_cell(const stat_cell& c) { return c.ok ? format_ns(c.s.median) : "-"; }
std::string rate_cell(const stat_cell& c, const char* missing) { return c.ok ? format_rate(c.s.median) : missing; }
std::string text_of(const json& row, const char* field) { return row[field].get<std::string>(); }

// The contention tables' layout: indented by two, one space between columns.
console_table spaced_table(std::vector<table_column> columns) {
  for (std::size_t i = 0; i < columns.size(); ++i) columns[i].gap = i == 0 ? 2 : 1;
  return console_table(std::move(columns));
}

// Plan order (Google Benchmark ran the repetitions shuffled), with each name's first row for its fields.
console_rows console_order(const std::vector<json>& rows, const std::vector<std::unique_ptr<planned>>& plan) {
  std::map<std::string, const json*> first_row;
  for (const json& r : rows)
    if (r.value("run_type", "") == "iteration" && !first_row.count(r["run_name"])) first_row[r["run_name"]] = &r;
  console_rows order;
  for (const auto& p : plan) {
    std::vector<int> counts = p->thread_counts.empty() ? std::vector<int>{p->desc.threads} : p->thread_counts;
    for (int t : counts) {
      case_desc d = p->desc;
      d.threads = t;
      auto it = first_row.find(d.name());
      if (it != first_row.end()) order.emplace_back(it->first, it->second);
      // The real interpreter's counterpart, right after the emulated case it stands beside.
      for (const auto& [name, row] : first_row)
        if (name.rfind(d.name() + "/runtime:", 0) == 0) order.emplace_back(name, row);
    }
  }
  return order;
}

console_rows section(const console_rows& order, const std::string& experiment) {
  console_rows v;
  for (const auto& e : order)
    if ((*e.second)["experiment"] == experiment) v.push_back(e);
  return v;
}

void print_locks(const console_rows& v, const run_groups& groups, bool& unstable) {
  fmt::print("\nLocks: {} critical section + as much work outside, ops/s over all threads (median of reps)\n",
             format_ns(static_cast<double>((*v.front().second)["cs_ns"].get<std::uint64_t>())));
  const console_table table = spaced_table({{"lock", 26, align::left},
                                            {"threads", 7},
                                            {"ops/s", 12},
                                            {"spread", 7},
                                            {"per thread min..max", 22},
                                            {"fairness", 9},
                                            {"handoff/op", 11}});
  table.print_header();
  for (const auto& [rn, first] : v) {
    const auto& g = group_of(groups, rn);
    std::string lock = text_of(*first, "lock");
    if (first->contains("mix")) lock += " (" + text_of(*first, "mix") + ")";
    auto ops = stat_of(g, "ops_per_s");
    auto mn = stat_of(g, "ops_min"), mx = stat_of(g, "ops_max"), fair = stat_of(g, "fairness_spread_pct");
    auto ho = stat_of(g, "handoffs_per_op");
    table.print_row(
        {lock, std::to_string((*first)["threads"].get<int>()), rate_cell(ops, "FAILED"), spread_text(ops, unstable),
         mn.ok ? format_rate(mn.s.median) + ".." + format_rate(mx.s.median) : "-",
         fair.ok ? fmt::format("{:.0f}%", fair.s.median) : "-", ho.ok ? fmt::format("{:.2f}", ho.s.median) : "-"});
  }
}

void print_false_sharing(const console_rows& v, const run_groups& groups, bool& unstable) {
  fmt::print("\nFalse sharing: each thread increments its own counter; ops/s over all threads\n");
  const console_table table = spaced_table({{"layout", 10, align::left}, {"threads", 7}, {"ops/s", 12}, {"spread", 7}});
  table.print_header();
  for (const auto& [rn, first] : v) {
    auto ops = stat_of(group_of(groups, rn), "ops_per_s");
    table.print_row({text_of(*first, "layout"), std::to_string((*first)["threads"].get<int>()),
                     rate_cell(ops, "FAILED"), spread_text(ops, unstable)});
  }
}

// The real interpreter's rows name it instead of the emulated policy (its GIL is the new one).
std::string policy_cell(const json& row) {
  const std::string runtime = row.value("runtime", std::string("cpp"));
  return runtime == "cpp" ? text_of(row, "policy") : runtime;
}

void print_gil_cpu(const console_rows& v, const run_groups& groups, bool& unstable) {
  fmt::print("\nGIL, CPU-bound: the same work split over threads (one GIL) or processes (one GIL each)\n");
  const console_table table = spaced_table({{"policy", 13, align::left},
                                            {"model", 8, align::left},
                                            {"threads", 7},
                                            {"wall", 10},
                                            {"spread", 7},
                                            {"cpu", 10},
                                            {"vs 1 thread", 13}});
  table.print_header();
  auto key_of = [](const json& row) { return policy_cell(row) + text_of(row, "model"); };
  std::map<std::string, double> one;  // policy/model -> wall at 1
  for (const auto& [rn, first] : v) {
    auto w = stat_of(group_of(groups, rn), "wall_ns");
    if (w.ok && (*first)["threads"] == 1) one[key_of(*first)] = w.s.median;
  }
  for (const auto& [rn, first] : v) {
    const auto& g = group_of(groups, rn);
    auto w = stat_of(g, "wall_ns"), c = stat_of(g, "cpu_ns");
    const std::string key = key_of(*first);
    std::string speed = w.ok && one.count(key) ? fmt::format("{:.2f}x faster", one[key] / w.s.median) : "-";
    table.print_row({policy_cell(*first), text_of(*first, "model"), std::to_string((*first)["threads"].get<int>()),
                     w.ok ? format_ns(w.s.median) : "FAILED", spread_text(w, unstable), ns_cell(c), speed});
  }
}

// gil-convoy and gil-placement: one table each, the same figures of the I/O thread's round trips.
void print_convoy(const std::string& exp, const console_rows& v, const run_groups& groups, bool& unstable) {
  const bool convoy = exp == "gil-convoy";
  if (convoy)
    fmt::print("\nGIL convoy: an I/O thread's echo round trips beside CPU-bound threads\n");
  else
    fmt::print(
        "\nGIL placement: the CPU-bound thread and the echo peer on the I/O thread's core (same) or not "
        "(cross)\n");
  const console_table table = spaced_table({{"policy", 13, align::left},
                                            {convoy ? "cpu threads" : "cpu thread / echo", 19, align::left},
                                            {"switch", 9},
                                            {"rtt p50", 10},
                                            {"spread", 7},
                                            {"rtt p99", 10},
                                            {"round trips/s", 13}});
  table.print_header();
  for (const auto& [rn, first] : v) {
    const auto& g = group_of(groups, rn);
    auto p50 = stat_of(g, "rtt_p50_ns"), p99 = stat_of(g, "rtt_p99_ns"), rts = stat_of(g, "round_trips_per_s");
    auto starved = stat_of(g, "starved");
    std::string where = convoy ? std::to_string((*first)["cpu_threads"].get<int>())
                               : text_of(*first, "placement") + " / " + text_of(*first, "echo_placement");
    std::string sw =
        (*first)["switch_interval_us"].is_number()
            ? short_duration(static_cast<std::uint64_t>((*first)["switch_interval_us"].get<double>() * 1000))
            : "-";
    std::string p50s = g.empty() ? "FAILED" : starved.ok && starved.s.median >= 1 ? "starved" : ns_cell(p50);
    table.print_row(
        {policy_cell(*first), where, sw, p50s, spread_text(p50, unstable), ns_cell(p99), rate_cell(rts, "-")});
  }
}

// The first ten failed repetitions with their errors, and how many more there were.
void print_failures(const std::vector<json>& rows) {
  int failed = 0;
  for (const json& r : rows)
    if (r.value("run_type", "") == "iteration" && r.value("error_occurred", false)) {
      if (failed++ < 10)
        fmt::print("FAILED {} (repetition {}): {}\n", r["name"].get<std::string>(), r.value("repetition_index", 0),
                   r.value("error_message", ""));
    }
  if (failed > 10) fmt::print("... and {} more failed repetitions (see results.json)\n", failed - 10);
}

void print_console(const std::vector<json>& rows, const std::vector<std::unique_ptr<planned>>& plan) {
  const run_groups groups = by_run(rows);
  const console_rows order = console_order(rows, plan);
  bool unstable = false;
  if (auto v = section(order, "locks"); !v.empty()) print_locks(v, groups, unstable);
  if (auto v = section(order, "false-sharing"); !v.empty()) print_false_sharing(v, groups, unstable);
  if (auto v = section(order, "gil-cpu"); !v.empty()) print_gil_cpu(v, groups, unstable);
  for (const char* exp : {"gil-convoy", "gil-placement"})
    if (auto v = section(order, exp); !v.empty()) print_convoy(exp, v, groups, unstable);
  print_failures(rows);
  if (unstable)
    fmt::print("\n! {}: results might be unstable; try --reps 9, a longer --duration, or a quieter machine.\n",
               unstable_rule());
}

}  // namespace
}  // namespace contention

void validate_contention(const run_request& req) {
  check_python_flag(req.python);  // the real-GIL rows
  contention::settings s = contention::resolve_settings(req);
  contention::plan_cases(s);
}

namespace contention {
namespace {

// What the context says of the real CPython's rows.
struct cpython_notes {
  std::string convoy = "no emulated new-GIL convoy in this run";
  json gil_cpu = "no emulated new-GIL gil-cpu case in this run";
  std::string python;
};

void append_real(std::vector<json>& rows, std::vector<json> real) {
  for (json& r : real) {
    r["family_index"] = 0;
    r["per_family_instance_index"] = 0;
    r["tick_ns"] = nullptr;
    rows.push_back(std::move(r));
  }
}

// The real CPython convoy beside every emulated new-GIL convoy of up to one CPU-bound thread (the worker runs
// one): as long as the emulation's own window, as many repetitions.
std::vector<cpython_convoy_case> real_convoys(const std::vector<std::unique_ptr<planned>>& plan, const settings& cfg) {
  std::vector<cpython_convoy_case> cases;
  for (const auto& p : plan) {
    const case_desc& d = p->desc;
    if (d.experiment != "gil-convoy" || d.policy != gil_policy::new_gil || d.cpu_threads > 1) continue;
    const std::uint64_t window = std::max(cfg.convoy_min_ns, cfg.convoy_min_intervals * d.switch_interval_ns);
    cases.push_back({d.name(), d.cpu_threads, d.switch_interval_ns, window, d.cpu_threads + 1 > cfg.cores.available});
  }
  return cases;
}

// The real CPython job beside every emulated new-GIL gil-cpu case: the threads under new, and the processes
// (planned under new where new is chosen).
std::vector<cpython_cpu_case> real_cpu_jobs(const std::vector<std::unique_ptr<planned>>& plan, const settings& cfg) {
  std::vector<cpython_cpu_case> cases;
  for (const auto& p : plan) {
    const case_desc& d = p->desc;
    if (d.experiment != "gil-cpu" || d.policy != gil_policy::new_gil) continue;
    cases.push_back({d.name(), std::string(to_string(*d.policy)), d.model == "process", d.threads, d.switch_interval_ns,
                     cfg.gil_work_ns, cfg.cores.cpus, d.threads > cfg.cores.available});
  }
  return cases;
}

cpython_notes add_cpython_rows(std::vector<json>& rows, const std::vector<std::unique_ptr<planned>>& plan,
                               const settings& cfg, const run_request& req) {
  cpython_notes notes;
  const std::vector<cpython_convoy_case> convoys = real_convoys(plan, cfg);
  const std::vector<cpython_cpu_case> jobs = real_cpu_jobs(plan, cfg);
  if (convoys.empty() && jobs.empty()) return notes;
  notes.python = python_for_cases(req.python);
  std::string why;
  const std::optional<cpython_lane> lane = open_cpython_lane(notes.python, why);
  if (!lane) {
    if (!convoys.empty()) notes.convoy = "not measured: " + why;
    if (!jobs.empty()) notes.gil_cpu = "not measured: " + why;
    return notes;
  }
  if (!jobs.empty()) {
    std::fprintf(stderr, "contention: the same CPU-bound job on the real %s (%zu cases x %d repetitions)\n",
                 lane->runtime.c_str(), jobs.size(), cfg.reps);
    const cpython_calibration cal = calibrate_cpython_cpu(*lane, cfg.cores.cpus, cfg.gil_work_ns);
    append_real(rows, cpython_cpu_rows(*lane, jobs, cfg.reps, cal));
    notes.gil_cpu = {
        {"how",
         "rows with runtime cpython-X.Y: bench/contention/cpython_compare.py --cpu-worker, a countdown "
         "(while n > 0: n -= 1) split over threads under sys.setswitchinterval, or over forked "
         "processes, worker i pinned as the emulation pins it; the countdown sized so that one thread "
         "takes gil_cpu_work_ns of CPU time at the calibrated cost per step"},
        {"calibration_ns_per_iteration", cal.ns_per_iteration},
        {"calibration_iterations", cal.iterations},
        {"calibration_wall_ns", cal.wall_ns},
        {"calibration_cpu_ns", cal.cpu_ns},
        {"calibration_failure", cal.failure},
        {"countdown_iterations", cal.ns_per_iteration > 0
                                     ? json(std::llround(static_cast<double>(cfg.gil_work_ns) / cal.ns_per_iteration))
                                     : json(nullptr)}};
  }
  if (!convoys.empty()) {
    std::fprintf(stderr, "contention: the same convoy on the real %s (%zu cases x %d repetitions)\n",
                 lane->runtime.c_str(), convoys.size(), cfg.reps);
    append_real(rows, cpython_convoy_rows(*lane, convoys, cfg.reps));
    notes.convoy =
        "rows with runtime cpython-X.Y: bench/contention/cpython_compare.py --convoy-worker, an I/O thread's 64-byte "
        "socketpair echoes (echo peer in a forked process) beside one CPU-bound thread under sys.setswitchinterval; "
        "its raw round trips, with bench's statistics";
  }
  return notes;
}

// Registers every planned family with Google Benchmark; returns them by family name, for the reporter's runs.
std::map<std::string, const planned*> register_cases(std::vector<std::unique_ptr<planned>>& plan, const settings& cfg,
                                                     const case_env& env) {
  std::map<std::string, const planned*> by_family;
  for (auto& p : plan) {
    const planned* pp = p.get();
    if (!pp->thread_counts.empty()) p->desc.shared = make_shared_run(p->desc);
    by_family[pp->family] = pp;
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
        pp->family.c_str(), [pp, env](benchmark::State& st) { pp->body(st, pp->desc, env); });
    b->Iterations(1)->Repetitions(cfg.reps)->UseManualTime();
    if (!pp->thread_counts.empty()) {
      // The lock experiments run on Google Benchmark's threads: ThreadRange when every count survived the
      // filter (it yields the same 1, 2, 4, ..., N), else the counts one by one.
      if (pp->thread_counts == cfg.thread_counts)
        b->ThreadRange(1, cfg.thread_counts.back());
      else
        for (int t : pp->thread_counts) b->Threads(t);
    }
  }
  // Random interleaving: repetitions of all cases run in a shuffled order, so that a slow minute of a shared
  // machine spreads over many cases as extra spread instead of biasing one case (Google Benchmark's
  // --benchmark_enable_random_interleaving).
  {
    std::string arg0 = "bench";
    std::string arg1 = "--benchmark_enable_random_interleaving=true";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    int argc = 2;
    benchmark::Initialize(&argc, argv);
  }
  return by_family;
}

// The run's settings in context: what a reader of results.json needs to know how the figures were taken.
json contention_context(const run_request& req, const settings& cfg, std::optional<double> load_before,
                        const cpython_notes& cpython) {
  json ctx = suite_context(req, cfg.cores);
  ctx["duration_ns"] = cfg.window_ns;
  ctx["repetitions"] = cfg.reps;
  ctx["cs_ns"] = cfg.cs_ns;
  ctx["outside_ns"] = cfg.outside_ns;
  ctx["tick_ns"] = cfg.tick_ns;
  ctx["tick_iterations"] = cpu_work::iterations_for(cfg.tick_ns);
  ctx["cpu_work_ns_per_iteration"] = cpu_work::ns_per_iteration();
  ctx["cpu_work_ns_per_call"] = cpu_work::ns_per_call();
  ctx["load_avg_1min_before"] = or_null(load_before);
  ctx["check_interval"] = cfg.check_interval;
  json sw = json::array();
  for (std::uint64_t s : cfg.switch_intervals_ns) sw.push_back(static_cast<double>(s) / 1000);
  ctx["switch_intervals_us"] = sw;
  ctx["default_switch_interval_us"] = static_cast<double>(cfg.default_switch_ns) / 1000;
  ctx["gil_cpu_work_ns"] = cfg.gil_work_ns;
  ctx["convoy_min_ns"] = cfg.convoy_min_ns;
  ctx["convoy_min_intervals"] = cfg.convoy_min_intervals;
  ctx["locks"] = cfg.locks;
  json pols = json::array();
  for (gil_policy p : cfg.policies) pols.push_back(std::string(to_string(p)));
  ctx["policies"] = pols;
  ctx["thread_counts"] = cfg.thread_counts;
  ctx["cpu_thread_counts"] = cfg.cpu_thread_counts;
  ctx["random_interleaving"] = true;
  ctx["cpython_convoy"] = cpython.convoy;
  ctx["cpython_gil_cpu"] = cpython.gil_cpu;
  ctx["cpython_interpreter"] = cpython.python;
  ctx["schema"] =
      to_json(suite_schema{contention_identity, {std::begin(contention_metrics), std::end(contention_metrics)}});
  return ctx;
}

}  // namespace
}  // namespace contention

int run_contention(const run_request& req) {
  using namespace contention;
  settings cfg = resolve_settings(req);
  std::vector<std::unique_ptr<planned>> plan = plan_cases(cfg);
  const std::filesystem::path dir = prepare_run_dir(req.out, "contention");
  if (cfg.cores.oversubscribed) warn_oversubscribed(cfg.cores);
  install_signal_handlers();
  cpu_work::calibrate();
  const std::optional<double> load_before = load_avg_1min();

  case_watchdog watchdog;
  int total = 0;
  for (const auto& p : plan)
    total += cfg.reps * (p->thread_counts.empty() ? 1 : static_cast<int>(p->thread_counts.size()));
  progress_line progress(total);
  const case_env env{&cfg, &watchdog, &progress};

  const std::map<std::string, const planned*> by_family = register_cases(plan, cfg, env);
  std::fprintf(stderr, "contention: %d cases x %d repetitions on %d CPU(s); tick %s = %llu iterations of %.2f ns\n",
               static_cast<int>(plan.size()), cfg.reps, cfg.cores.available, short_duration(cfg.tick_ns).c_str(),
               static_cast<unsigned long long>(cpu_work::iterations_for(cfg.tick_ns)), cpu_work::ns_per_iteration());
  collecting_reporter reporter(progress);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();
  progress.finish();

  run_results results;
  results.dir = dir;
  for (const auto& run : reporter.runs()) {
    auto it = by_family.find(run.run_name.function_name);
    if (it == by_family.end()) continue;
    results.rows.push_back(to_row(run, *it->second, cfg));
  }
  const cpython_notes cpython = add_cpython_rows(results.rows, plan, cfg, req);
  add_aggregates(results.rows, metric_fields, contention_identity, contention_primary_metric);
  copy_case_facts(results.rows);

  results.context = contention_context(req, cfg, load_before, cpython);
  write_results(results);

  print_console(results.rows, plan);
  std::printf("\nresults: %s\n", (dir / "results.json").c_str());
  std::fflush(stdout);
  draw_charts(req, dir);

  bool failed = false;
  for (const json& r : results.rows)
    if (r.value("run_type", "") == "iteration" && r.value("error_occurred", false)) failed = true;
  if (interrupted()) return 130;
  return failed ? 1 : 0;
}

}  // namespace bench
