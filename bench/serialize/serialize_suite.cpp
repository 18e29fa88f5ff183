#include "bench/serialize/serialize_suite.hpp"

#include <sched.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/units.hpp"
#include "bench/console_table.hpp"
#include "harness/case_key.hpp"
#include "harness/cpu.hpp"
#include "harness/stats.hpp"
#include "harness/sysinfo.hpp"
#include "serializers/registry.hpp"

namespace bench {
namespace fs = std::filesystem;
namespace {

// Default: the lecture run, about 75 s for all 7 serializers x 3 shapes (99 cases x 5 repetitions x ~0.14 s).
// Quick: a smoke test and demo in about 10 s (3 repetitions of ~15 ms).
struct serialize_defaults {
  int reps;
  double min_time_s;  // per case and repetition (Google Benchmark's MinTime)
};
serialize_defaults defaults_for(const run_request& req) {
  return req.quick ? serialize_defaults{3, 0.01} : serialize_defaults{5, 0.1};
}

// Calls per batch in the timed loop: enough that Google Benchmark's own per-iteration bookkeeping disappears next
// to a raw copy of a 48-byte tick (a few ns), while a batch of large messages stays short.
std::uint64_t batch_for(ser::shape s) {
  switch (s) {
    case ser::shape::small: return 64;
    case ser::shape::medium: return 8;
    case ser::shape::large: return 1;
  }
  return 1;
}

// The message every case measures: seed 1 of its shape, the same in every run (and in ipc --serializers).
using ser::message_seed;

// The time the console, ratio_to_raw and the charts quote. Every phase is single-threaded CPU work that never
// blocks, so the thread's CPU time is the time the work took; wall-clock time adds whatever the scheduler gave to
// other processes meanwhile. In a default run on the shared 2-vCPU development VM (the thread got 72% of the
// wall time), raw's large encode scattered by 54% between repetitions in real_time and by 1% in cpu_time.
// Rows carry both.
constexpr const char* headline_time = "cpu_time";

struct case_spec {
  const ser::serializer_info* serializer;
  ser::shape shape;
  ser::phase phase;
  std::string name;
};

struct serialize_plan {
  std::vector<const ser::serializer_info*> serializers;
  std::vector<ser::shape> shapes;
  std::vector<case_spec> cases;
  int reps = 0;
  double min_time_s = 0;
  double warmup_s = 0;
};

case_key serialize_case_key(const ser::serializer_info& s, ser::shape shape, ser::phase p) {
  case_key k("serialize");
  k.named("serializer", s.name).named("shape", ser::to_string(shape)).named("phase", ser::to_string(p));
  k.unnamed("runtime", "cpp");
  return k;
}

std::string case_name(const ser::serializer_info& s, ser::shape shape, ser::phase p) {
  return serialize_case_key(s, shape, p).name();
}

const metric_def serialize_metrics[] = {
    {"real_time", "ns", better::lower, "wall time",
     "wall-clock ns per message for the phase (Google Benchmark's time per iteration); median over repetitions in "
     "the aggregate rows"},
    {"cpu_time", "ns", better::lower, "CPU time",
     "the measuring thread's CPU ns per message: the headline (console, ratio_to_raw, charts), since every phase "
     "is CPU work that never blocks and wall time adds other processes' turns"},
    {"spread_pct", "%", better::lower, "spread",
     "on median rows: the spread of cpu_time (the primary metric) over repetitions, as context.statistics defines "
     "it; unstable above its threshold"},
    {"phase", "", better::neither, "phase",
     "build: C++ struct -> library object; encode: object -> bytes; decode: bytes -> object or view (validated); "
     "traverse: read every field; roundtrip: all four"},
    {"ratio_to_raw", "x", better::lower, "x raw",
     "on median rows: cpu_time / raw's median cpu_time for the same shape and phase"},
    {"wire_bytes", "B", better::lower, "wire bytes", "size of the encoded benchmark message (seed 1 of its shape)"},
    {"bytes_per_s", "B/s", better::higher, "bytes/s",
     "wire_bytes / real_time: the rate at which this phase turns out or takes in encoded bytes"},
};

const std::vector<std::string> serialize_identity = {"suite", "serializer", "shape", "phase", "runtime"};

// Everything the request asks for, checked; throws usage_error before any work.
serialize_plan make_plan(const run_request& req) {
  serialize_plan plan;
  std::set<std::string> seen;
  for (const std::string& name : req.serializers) {
    const ser::serializer_info* s = ser::find_serializer(name);
    if (s == nullptr)
      throw usage_error(fmt::format("unknown serializer '{}' (valid: {})", name, ser::serializer_names()));
    if (seen.insert(name).second) plan.serializers.push_back(s);
  }
  if (req.serializers.empty())
    for (const ser::serializer_info& s : ser::serializers()) plan.serializers.push_back(&s);
  seen.clear();
  for (const std::string& name : req.shapes) {
    std::optional<ser::shape> s = ser::parse_shape(name);
    if (!s) throw usage_error(fmt::format("unknown shape '{}' (valid: {})", name, ser::shape_names()));
    if (seen.insert(name).second) plan.shapes.push_back(*s);
  }
  if (req.shapes.empty()) plan.shapes.assign(ser::all_shapes.begin(), ser::all_shapes.end());

  std::optional<std::regex> filter;
  if (!req.filter.empty()) {
    try {
      filter.emplace(req.filter);
    } catch (const std::regex_error& e) {
      throw usage_error(fmt::format("--filter '{}' is not a valid regular expression: {}", req.filter, e.what()));
    }
  }
  for (ser::shape shape : plan.shapes)
    for (const ser::serializer_info* s : plan.serializers)
      for (ser::phase p : ser::all_phases) {
        if (p == ser::phase::build && !s->builds_object) continue;  // encodes straight from the struct
        std::string name = case_name(*s, shape, p);
        if (filter && !std::regex_search(name, *filter)) continue;
        plan.cases.push_back({s, shape, p, std::move(name)});
      }
  if (plan.cases.empty())
    throw usage_error(fmt::format("--filter '{}' matches no serialize case (names look like {})", req.filter,
                                  case_name(*plan.serializers.front(), plan.shapes.front(), ser::phase::decode)));

  serialize_defaults d = defaults_for(req);
  plan.reps = req.reps ? req.reps : d.reps;
  plan.min_time_s = req.duration_ns ? static_cast<double>(req.duration_ns) / 1e9 : d.min_time_s;
  plan.warmup_s = static_cast<double>(req.warmup_ns) / 1e9;
  return plan;
}

// One (serializer, shape): its codec, the message, the bytes it encodes to. Shared by that pair's phases; each
// phase sets up its own precondition before timing (interleaving runs the phases in any order).
struct subject {
  const ser::serializer_info* serializer = nullptr;
  ser::shape shape = ser::shape::small;
  std::unique_ptr<ser::codec> codec;
  ser::message msg;
  ser::byte_buffer wire;  // a private copy of the encoding (aligned: what decode reads)
  std::size_t wire_bytes = 0;
  std::uint64_t batch = 1;
  std::string setup_error;  // non-empty: every case of this subject is reported as failed with it

  std::span<const std::byte> encoded() const { return {wire.data(), wire_bytes}; }
};

// Builds the subject and proves its round trip before anything is timed: a serializer that does not give the
// message back is a failed case, not a fast one.
void set_up(subject& s) {
  try {
    s.codec = s.serializer->make(s.shape);
    s.msg = ser::make_message(s.shape, message_seed);
    s.batch = batch_for(s.shape);
    std::span<const std::byte> out = s.codec->serialize(s.msg);
    s.wire_bytes = out.size();
    std::byte* copy = s.wire.reserve(std::max<std::size_t>(out.size(), 1));
    std::copy(out.begin(), out.end(), copy);
    ser::status st = s.codec->decode(s.encoded());
    if (!st) throw std::runtime_error(std::string("cannot decode its own encoding: ") + st.error);
    ser::message back;
    if (st = s.codec->to_plain(back); !st) throw std::runtime_error(std::string("cannot read it back: ") + st.error);
    if (!(back == s.msg)) throw std::runtime_error("the decoded message differs from the original");
    std::uint64_t sum = 0;
    if (st = s.codec->traverse(sum); !st) throw std::runtime_error(std::string("traverse failed: ") + st.error);
    if (sum != ser::checksum_of(s.msg)) throw std::runtime_error("traverse's checksum differs from the message's");
  } catch (const std::exception& e) {
    s.setup_error = fmt::format("{} {}: {}", s.serializer->name, ser::to_string(s.shape), e.what());
  }
}

// A one-line progress display on stderr (redrawn on a terminal, a line every 10 s otherwise). Google Benchmark
// decides the iteration counts, so progress is by time against the planned total.
class progress_clock {
 public:
  explicit progress_clock(double planned_s) : planned_s_(planned_s), tty_(::isatty(2) != 0), start_(now_ns()) {}
  void tick(const std::string& what) {
    const std::uint64_t now = now_ns();
    if (now - last_ < (tty_ ? 200'000'000ull : 10'000'000'000ull)) return;
    last_ = now;
    const double elapsed = static_cast<double>(now - start_) / 1e9;
    std::string line = fmt::format("  {:>4.0f} s of ~{:.0f} s  {}", elapsed, planned_s_, what);
    if (tty_)
      fmt::print(stderr, "\r\033[K{}", line);
    else
      fmt::print(stderr, "{}\n", line);
    std::fflush(stderr);
  }
  void finish() {
    if (tty_) fmt::print(stderr, "\r\033[K");
    fmt::print(stderr, "done in {:.0f} s\n", static_cast<double>(now_ns() - start_) / 1e9);
  }

 private:
  double planned_s_;
  bool tty_;
  std::uint64_t start_, last_ = 0;
};

struct registered_case {
  const case_spec* spec;
  subject* subj;
};

void run_case(benchmark::State& state, const registered_case& c, progress_clock& progress) {
  progress.tick(c.spec->name);
  subject& s = *c.subj;
  if (interrupted()) {
    state.SkipWithError("interrupted");
    return;
  }
  if (!s.setup_error.empty()) {
    state.SkipWithError(s.setup_error.c_str());
    return;
  }
  const ser::phase p = c.spec->phase;
  try {
    // Preconditions, untimed: encode re-encodes a built object, traverse re-reads a decoded one.
    if (p == ser::phase::encode) s.codec->build(s.msg);
    if (p == ser::phase::traverse && !s.codec->decode(s.encoded())) {
      state.SkipWithError("decode failed before traverse");
      return;
    }
    bool ok = true;
    while (state.KeepRunningBatch(static_cast<benchmark::IterationCount>(s.batch))) {
      if (!s.codec->repeat(p, s.msg, s.encoded(), s.batch)) ok = false;
      if (interrupted()) {
        state.SkipWithError("interrupted");
        return;
      }
    }
    if (!ok) state.SkipWithError("a decode or traverse failed inside the timed loop");
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());  // copies the message
  }
}

// Keeps Google Benchmark's iteration runs (its own mean/median aggregates are recomputed by add_aggregates).
class capture_reporter final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& report) override {
    for (const Run& r : report)
      if (r.run_type == Run::RT_Iteration) runs.push_back(r);
  }
  std::vector<Run> runs;
};

// Google Benchmark's flags, set the way its command line would: random interleaving runs the repetitions of all
// cases in a shuffled order, so a slow phase of the machine spreads over every case instead of hitting one.
void configure_google_benchmark() {
  static char program[] = "bench";
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  char* argv[] = {program, interleave, nullptr};
  int argc = 2;
  benchmark::Initialize(&argc, argv);
}

// Pins the calling thread for the run and puts its CPU mask back afterwards.
class pinned_scope {
 public:
  explicit pinned_scope(int cpu) {
    saved_ok_ = sched_getaffinity(0, sizeof saved_, &saved_) == 0;
    pin_this_thread(cpu);
  }
  ~pinned_scope() {
    if (saved_ok_) sched_setaffinity(0, sizeof saved_, &saved_);
  }
  pinned_scope(const pinned_scope&) = delete;
  pinned_scope& operator=(const pinned_scope&) = delete;

 private:
  cpu_set_t saved_{};
  bool saved_ok_ = false;
};

json row_for(const benchmark::BenchmarkReporter::Run& r, const case_spec& c, const subject& s, int family) {
  json row;
  row["name"] = c.name;
  row["family_index"] = family;
  row["per_family_instance_index"] = 0;
  row["run_name"] = c.name;
  row["run_type"] = "iteration";
  row["repetitions"] = r.repetitions;
  row["repetition_index"] = r.repetition_index;
  row["threads"] = 1;
  row["iterations"] = r.error_occurred ? 0 : r.iterations;
  const double real = r.error_occurred ? 0.0 : r.GetAdjustedRealTime();
  row["real_time"] = real;
  row["cpu_time"] = r.error_occurred ? 0.0 : r.GetAdjustedCPUTime();
  row["time_unit"] = "ns";
  serialize_case_key(*c.serializer, c.shape, c.phase).stamp(row);
  row["wire_bytes"] = s.wire_bytes;
  if (!r.error_occurred && real > 0) row["bytes_per_s"] = static_cast<double>(s.wire_bytes) / real * 1e9;
  row["error_occurred"] = r.error_occurred;
  row["error_message"] = r.error_message;
  return row;
}

// On every median row: ratio_to_raw, its median headline time over raw's for the same shape and phase. (The
// spread and the unstable flag of the headline time come from add_aggregates: it is the rows' primary metric.)
void add_ratios_to_raw(std::vector<json>& rows) {
  std::map<std::pair<std::string, std::string>, double> raw;
  auto is_median = [](const json& r) {
    return r.value("run_type", "") == "aggregate" && r.value("aggregate_name", "") == "median";
  };
  for (const json& r : rows)
    if (is_median(r) && r.value("serializer", "") == "raw")
      raw[{r["shape"].get<std::string>(), r["phase"].get<std::string>()}] = r[headline_time].get<double>();
  for (json& r : rows) {
    if (!is_median(r)) continue;
    auto it = raw.find({r["shape"].get<std::string>(), r["phase"].get<std::string>()});
    if (it != raw.end() && it->second > 0) r["ratio_to_raw"] = r[headline_time].get<double>() / it->second;
  }
}

// "0.53 ns" below 10 ns (flatbuffers' encode is a pointer), otherwise the harness's "850 ns", "12.3 us".
std::string time_text(double ns) { return ns < 10 ? fmt::format("{:.2g} ns", ns) : format_ns(ns); }
// "x0.53", "x4.9", "x586", "x1140".
std::string ratio_text(double r) { return r < 10 ? fmt::format("x{:.2g}", r) : fmt::format("x{:.0f}", r); }

std::string cell(const json* median, const std::vector<const json*>& iterations) {
  if (median == nullptr) return iterations.empty() ? "-" : "FAILED";
  std::string s = time_text((*median)[headline_time].get<double>());
  if (median->contains("ratio_to_raw")) s += fmt::format(" {}", ratio_text((*median)["ratio_to_raw"].get<double>()));
  if (median->value("unstable", false)) s += " !";
  if (median->value("failed_repetitions", 0) > 0) s += " *";
  return s;
}

void print_table(const std::vector<json>& rows, const serialize_plan& plan) {
  std::map<std::string, const json*> medians;
  std::map<std::string, std::vector<const json*>> iterations;
  for (const json& r : rows) {
    if (r["run_type"] == "aggregate" && r["aggregate_name"] == "median") medians[r["run_name"]] = &r;
    if (r["run_type"] == "iteration") iterations[r["run_name"]].push_back(&r);
  }
  std::set<std::string> planned;
  for (const case_spec& c : plan.cases) planned.insert(c.name);
  std::vector<table_column> columns = {{"serializer", 13, align::left}};
  for (ser::phase p : ser::all_phases) columns.push_back({std::string(ser::to_string(p)), 18});
  columns.push_back({"wire bytes", 12});
  const console_table table(std::move(columns));
  bool any_unstable = false, any_failed = false;
  for (ser::shape shape : plan.shapes) {
    if (std::none_of(plan.cases.begin(), plan.cases.end(), [&](const case_spec& c) { return c.shape == shape; }))
      continue;
    fmt::print("\nshape {}: {}\n", ser::to_string(shape), ser::describe(shape));
    table.print_header();
    for (const ser::serializer_info* s : plan.serializers) {
      std::vector<std::string> cells = {std::string(s->name)};
      std::optional<std::uint64_t> wire;
      bool any = false;
      for (ser::phase p : ser::all_phases) {
        std::string name = case_name(*s, shape, p);
        if (!planned.count(name)) {
          cells.emplace_back();
          continue;
        }
        any = true;
        auto m = medians.find(name);
        const json* median = m == medians.end() ? nullptr : m->second;
        std::string text = cell(median, iterations[name]);
        any_unstable |= text.find('!') != std::string::npos;
        any_failed |= text == "FAILED" || text.find('*') != std::string::npos;
        cells.push_back(text);
        if (!iterations[name].empty()) wire = (*iterations[name].front())["wire_bytes"].get<std::uint64_t>();
      }
      if (!any) continue;
      cells.push_back(wire ? std::to_string(*wire) : "-");
      table.print_row(cells);
    }
  }
  fmt::print(
      "\nmedian CPU time per message of {} repetitions (real_time too in the results); xN = that median / raw's "
      "for the same shape and phase\n",
      plan.reps);
  if (any_unstable)
    fmt::print("! = unstable: {} (try --reps 9, a longer --duration, a quieter machine)\n", unstable_rule());
  if (any_failed) fmt::print("FAILED / * = every / some repetition(s) failed: see error_message in results.json\n");
}

json serializer_context(const serialize_plan& plan, int cpu) {
  json c;
  c["pinned_cpu"] = cpu;
  c["repetitions"] = plan.reps;
  c["min_time_s"] = plan.min_time_s;
  c["warmup_s"] = plan.warmup_s;
  c["random_interleaving"] = true;
  c["headline_time"] = headline_time;
  c["message_seed"] = message_seed;
  json shapes = json::object();
  for (ser::shape s : plan.shapes)
    shapes[std::string(ser::to_string(s))] = {{"description", ser::describe(s)}, {"batch", batch_for(s)}};
  c["shapes"] = shapes;
  json sers = json::object();
  for (const ser::serializer_info* s : plan.serializers)
    sers[std::string(s->name)] = {{"library", s->library},
                                  {"version", s->version},
                                  {"description", s->description},
                                  {"builds_object", s->builds_object},
                                  {"self_delimiting", s->self_delimiting}};
  c["serializers"] = sers;
  return c;
}

}  // namespace

void validate_serialize(const run_request& req) { (void)make_plan(req); }

namespace {

using subject_map = std::map<std::pair<const ser::serializer_info*, ser::shape>, subject>;

// One subject (its message built, encoded and checked once) per serializer and shape the plan measures.
subject_map subjects_of(const serialize_plan& plan) {
  subject_map subjects;
  for (const case_spec& c : plan.cases) {
    subject& s = subjects[{c.serializer, c.shape}];
    if (s.serializer == nullptr) {
      s.serializer = c.serializer;
      s.shape = c.shape;
      set_up(s);
    }
  }
  return subjects;
}

struct measured_cases {
  std::vector<json> rows;
  int failures = 0;
  std::optional<double> steal;  // hypervisor steal on the measuring CPU while it ran
};

// Registers every case with Google Benchmark and runs them pinned to one CPU; a case Ctrl-C stopped before it
// was measured is neither a row nor a failure.
measured_cases measure_cases(const serialize_plan& plan, subject_map& subjects, const core_plan& cores,
                             double planned_s) {
  configure_google_benchmark();
  benchmark::ClearRegisteredBenchmarks();
  progress_clock progress(planned_s);
  std::vector<registered_case> registered;
  registered.reserve(plan.cases.size());
  std::map<std::string, std::size_t> index;
  for (const case_spec& c : plan.cases) {
    index[c.name] = registered.size();
    registered.push_back({&c, &subjects[{c.serializer, c.shape}]});
    const registered_case* rc = &registered.back();
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
        c.name.c_str(), [rc, &progress](benchmark::State& st) { run_case(st, *rc, progress); });
    b->Repetitions(plan.reps)->MinTime(plan.min_time_s)->Unit(benchmark::kNanosecond);
    if (plan.warmup_s > 0) b->MinWarmUpTime(plan.warmup_s);
  }
  capture_reporter reporter;
  measured_cases out;
  const cpu_times before = read_cpu_times(cores.cpus);
  {
    pinned_scope pin(cores.cpus.front());
    benchmark::RunSpecifiedBenchmarks(&reporter);
  }
  out.steal = steal_pct(before, read_cpu_times(cores.cpus));
  benchmark::ClearRegisteredBenchmarks();  // the lambdas refer to this function's locals
  progress.finish();
  for (const benchmark::BenchmarkReporter::Run& r : reporter.runs) {
    auto it = index.find(r.run_name.function_name);
    if (it == index.end()) continue;
    const registered_case& rc = registered[it->second];
    if (r.error_occurred && r.error_message == "interrupted") continue;  // not measured, not failed
    if (r.error_occurred) ++out.failures;
    out.rows.push_back(row_for(r, *rc.spec, *rc.subj, static_cast<int>(it->second)));
  }
  return out;
}

// How much of the wall time the measuring thread actually ran: on a busy machine (or under hypervisor steal)
// real_time includes waiting for the CPU; cpu_time, also in every row, leaves it out.
double cpu_share_of(const std::vector<json>& rows) {
  double real_total = 0, cpu_total = 0;
  for (const json& r : rows)
    if (!r["error_occurred"].get<bool>()) {
      const auto n = static_cast<double>(r["iterations"].get<std::int64_t>());
      real_total += r["real_time"].get<double>() * n;
      cpu_total += r["cpu_time"].get<double>() * n;
    }
  return real_total > 0 ? cpu_total / real_total : 1.0;
}

json serialize_context(const run_request& req, const core_plan& cores, const serialize_plan& plan) {
  json ctx = suite_context(req, cores);
  ctx["serialize"] = serializer_context(plan, cores.cpus.front());
  for (const ser::serializer_info* s : plan.serializers)
    if (!s->version.empty()) ctx["libraries"][std::string(s->library)] = s->version;  // nlohmann_json: same key
  ctx["schema"] =
      to_json(suite_schema{serialize_identity, {std::begin(serialize_metrics), std::end(serialize_metrics)}});
  return ctx;
}

}  // namespace

int run_serialize(const run_request& req) {
  const serialize_plan plan = make_plan(req);
  const fs::path dir = prepare_run_dir(req.out, "serialize");
  const core_plan cores = plan_cores(1);  // one thread, one CPU: serialization is measured alone
  run_results res;
  res.dir = dir;
  res.context = serialize_context(req, cores, plan);
  for (const std::string& w : machine_warnings(res.context)) fmt::print(stderr, "warning: {}\n", w);
  subject_map subjects = subjects_of(plan);

  const double planned_s = static_cast<double>(plan.cases.size()) * plan.min_time_s * (1.55 + 1.4 * (plan.reps - 1));
  fmt::print("bench run serialize: {} cases x {} repetitions of >= {} on {}, pinned to CPU {} (~{:.0f} s)\n",
             plan.cases.size(), plan.reps, format_ns(plan.min_time_s * 1e9), machine_line(res.context),
             cores.cpus.front(), planned_s);
  std::fflush(stdout);
  measured_cases measured = measure_cases(plan, subjects, cores, planned_s);
  res.rows = std::move(measured.rows);
  res.context["interrupted"] = interrupted();
  const double cpu_share = cpu_share_of(res.rows);
  res.context["cpu_share"] = cpu_share;
  res.context["steal_pct"] = or_null(measured.steal);
  res.context["load_avg_after"] = or_null(load_avg_1min());
  add_aggregates(res.rows, {"wire_bytes", "bytes_per_s"}, serialize_identity, [](const json&) {
    return primary_metric{headline_time, false};
  });
  add_ratios_to_raw(res.rows);
  write_results(res);
  print_table(res.rows, plan);
  if (cpu_share < 0.9 || measured.steal.value_or(0) > 5)
    fmt::print(stderr,
               "warning: the measuring thread ran only {:.0f}% of the wall time (hypervisor steal {}): other "
               "load shared its CPU, so real_time includes waiting (the table and charts use cpu_time, which leaves it "
               "out, but caches were shared too): for figures to quote, rerun on a quiet machine.\n",
               100 * cpu_share, measured.steal ? fmt::format("{:.0f}%", *measured.steal) : "unknown");
  fmt::print("\nresults: {}\n         {}\n", (dir / "results.json").string(), (dir / "results.csv").string());
  if (interrupted()) {
    fmt::print(stderr, "interrupted: the measurements finished before Ctrl-C are in {}\n", dir.string());
    return 130;
  }
  draw_charts(req, dir);
  if (measured.failures)
    fmt::print(stderr, "{} case repetition(s) failed; see error_message in results.json\n", measured.failures);
  return measured.failures ? 1 : 0;
}

}  // namespace bench
