#include "bench/python/python_suite.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/units.hpp"
#include "bench/console_table.hpp"
#include "bench/ipc_suite.hpp"
#include "bench/progress.hpp"
#include "bench/python/python_cases.hpp"
#include "harness/accounting.hpp"
#include "harness/histogram.hpp"
#include "harness/sysinfo.hpp"
#include "serializers/messages.hpp"

namespace bench {
namespace fs = std::filesystem;
using py::py_case;

namespace {

const metric_def python_metrics[] = {
    {"rtt_p50_ns", "ns", better::lower, "p50",
     "pingpong: the round trip of one message, from just before the client sends to just after it has the reply, "
     "checked; median over the window's round trips"},
    {"rtt_p99_ns", "ns", better::lower, "p99", "pingpong: the 99th percentile of the same round trips"},
    {"msgs_per_s", "1/s", better::higher, "messages/s",
     "pingpong: round trips per second, back to back; stream: messages per second, counted by the receiver"},
    {"bytes_per_s", "B/s", better::higher, "bytes/s", "stream: payload bytes per second, counted by the receiver"},
    {"cpu_ns_per_msg", "ns", better::lower, "CPU/msg",
     "pingpong: the CPU time of both ends (the interpreter's threads and a server process) per round trip"},
    {"op_p50_ns", "ns", better::lower, "p50",
     "serialize: one encode and one decode of the tick record, median of batches (each batch's mean)"},
    {"wall_ns", "ns", better::lower, "wall", "cpu: the whole countdown's wall time, split over the workers"},
    {"cpu_ns", "ns", better::neither, "CPU", "cpu: the CPU time of every worker thread or process"},
    {"switch_p50_ns", "ns", better::lower, "p50",
     "switch: one hand-over between two generators, asyncio tasks or threads, median of batches' means"},
    {"wire_bytes", "B", better::lower, "wire", "the encoded message's bytes (pingpong with a serializer, serialize)"},
};

primary_metric python_primary(const json& row) {
  const std::string e = row.value("experiment", "");
  if (e == "stream") return {"msgs_per_s", true};
  if (e == "serialize") return {"op_p50_ns", false};
  if (e == "cpu") return {"wall_ns", false};
  if (e == "switch") return {"switch_p50_ns", false};
  return {"rtt_p50_ns", false};
}

// The rows' percentiles of raw samples, by the rule every suite follows (a tail needs 10 samples beyond it).
void write_percentiles(json& row, const std::string& prefix, const std::vector<std::uint64_t>& samples) {
  histogram h;
  for (std::uint64_t s : samples) h.record(s);
  constexpr double ps[] = {50, 90, 99};
  constexpr const char* names[] = {"p50", "p90", "p99"};
  for (std::size_t i = 0; i < std::size(ps); ++i)
    row[prefix + names[i] + "_ns"] = percentile_supported(h.count(), ps[i]) ? json(h.percentile(ps[i])) : json(nullptr);
  if (std::string w = withheld_reason(h.count(), ps); !w.empty()) row["percentiles_withheld"] = w;
  row[prefix + "max_ns"] = h.max();
  row[prefix + "mean_ns"] = h.mean();
}

json failed(json row, const std::string& why) {
  row["error_occurred"] = true;
  row["error_message"] = why;
  row["iterations"] = 0;
  row["real_time"] = row["cpu_time"] = 0.0;
  return row;
}

std::vector<std::uint64_t> samples_of(const json& doc) {
  std::vector<std::uint64_t> v;
  for (const json& s : doc.at("samples_ns")) v.push_back(static_cast<std::uint64_t>(s.get<double>()));
  return v;
}

// The worker's raw figures -> the row's, as the C++ rows define them.
void write_pingpong(json& row, const json& doc) {
  const std::vector<std::uint64_t> rtt = samples_of(doc);
  if (rtt.empty()) throw std::runtime_error("the worker measured no round trip");
  if (doc.at("checked").get<std::uint64_t>() != rtt.size())
    throw std::runtime_error(
        fmt::format("{} replies checked for {} round trips", doc.at("checked").dump(), rtt.size()));
  write_percentiles(row, "rtt_", rtt);
  double sum = 0;
  for (std::uint64_t s : rtt) sum += static_cast<double>(s);
  row["messages"] = rtt.size();
  row["msgs_per_s"] = static_cast<double>(rtt.size()) * 1e9 / sum;
  row["iterations"] = rtt.size();
  row["real_time"] = sum / static_cast<double>(rtt.size());
  if (doc.contains("wire_bytes") && !doc["wire_bytes"].is_null()) row["wire_bytes"] = doc["wire_bytes"];
  if (doc.contains("cpu_ns") && doc["cpu_ns"].is_number()) {
    row["cpu_ns"] = doc["cpu_ns"];
    row["cpu_ns_per_msg"] = doc["cpu_ns"].get<double>() / static_cast<double>(rtt.size());
  }
}

void write_stream(json& row, const json& doc, std::uint64_t msg_bytes) {
  const std::uint64_t n = doc.at("messages").get<std::uint64_t>();
  const double window = doc.at("window_ns").get<double>();
  if (n < 2 || window <= 0) throw std::runtime_error("the receiver counted no stream");
  if (doc.at("checked").get<std::uint64_t>() != n)
    throw std::runtime_error(fmt::format("{} messages checked of {} received", doc.at("checked").dump(), n));
  row["messages"] = n;
  row["measured_window_ns"] = window;
  row["msgs_per_s"] = static_cast<double>(n) * 1e9 / window;
  row["bytes_per_s"] = static_cast<double>(n * msg_bytes) * 1e9 / window;
  row["lost"] = doc.value("lost", 0);
  row["iterations"] = n;
  row["real_time"] = window / static_cast<double>(n);
  if (doc.contains("cpu_ns") && doc["cpu_ns"].is_number()) row["cpu_ns"] = doc["cpu_ns"];
}

void write_batches(json& row, const json& doc, const std::string& prefix) {
  const std::vector<std::uint64_t> per_op = samples_of(doc);
  if (per_op.empty()) throw std::runtime_error("the worker measured no batch");
  write_percentiles(row, prefix, per_op);
  row["batches"] = per_op.size();
  row["batch"] = doc.value("batch", 0);
  row["iterations"] = per_op.size() * doc.value("batch", std::uint64_t{1});
  row["real_time"] = row[prefix + "mean_ns"];
  if (doc.contains("wire_bytes")) row["wire_bytes"] = doc["wire_bytes"];
}

void write_cpu(json& row, const json& doc) {
  const double wall = doc.at("wall_ns").get<double>(), cpu = doc.at("cpu_ns").get<double>();
  row["wall_ns"] = wall;
  row["cpu_ns"] = cpu;
  row["cpus_busy"] = wall > 0 ? cpu / wall : 0.0;
  row["iterations"] = 1;
  row["real_time"] = wall;
  row["cpu_time"] = cpu;
}

struct python_run {
  const run_request& req;
  core_plan cores;
  py::python_plan plan;
  run_results res;
  std::string interpreter;
  int reps = 0;
  int failures = 0;
  int serial = 0;
};

json spec_of(const python_run& run, const py_case& c, const temp_dir& scratch, const std::string& shm_prefix) {
  const std::vector<int>& cpus = run.cores.cpus;
  json spec{{"experiment", c.experiment},
            {"cpus", c.experiment == "cpu" ? json(cpus) : json{cpus[0], cpus.size() > 1 ? cpus[1] : cpus[0]}},
            {"warmup_ms", static_cast<double>(c.warmup_ns) / 1e6},
            {"duration_ms", static_cast<double>(c.duration_ns) / 1e6},
            {"scratch", scratch.path()},
            {"shm_prefix", shm_prefix}};
  if (!c.transport.empty()) spec.update({{"transport", c.transport}, {"model", c.model}});
  if (!c.serializer.empty()) spec["serializer"] = c.serializer;
  if (c.msg_bytes) spec["size"] = c.msg_bytes;
  if (!c.kind.empty()) spec["kind"] = c.kind;
  if (c.workers) spec.update({{"workers", c.workers}, {"iterations", c.iterations}});
  return spec;
}

// Shared-memory segments of a worker that was killed before it could unlink them.
void unlink_segments(const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/dev/shm", ec))
    if (e.path().filename().string().starts_with(prefix)) fs::remove(e.path(), ec);
}

json run_python_case(python_run& run, const py_case& c, json row) {
  temp_dir scratch("bench-py");
  const std::string shm_prefix = fmt::format("bench-py-{}-{}-", ::getpid(), ++run.serial);
  const std::uint64_t timeout =
      c.warmup_ns + c.duration_ns + (run.req.timeout_ns ? run.req.timeout_ns : 30'000'000'000ull);
  worker_output out = run_worker(
      {run.interpreter, bench_script("python/py_worker.py").string(), spec_of(run, c, scratch, shm_prefix).dump()},
      timeout);
  unlink_segments(shm_prefix);
  if (out.status != 0) return failed(std::move(row), out.failure("the CPython worker"));
  try {
    const json doc = json::parse(out.out);
    if (c.experiment == "pingpong") write_pingpong(row, doc);
    if (c.experiment == "stream") write_stream(row, doc, c.msg_bytes);
    if (c.experiment == "serialize") write_batches(row, doc, "op_");
    if (c.experiment == "switch") write_batches(row, doc, "switch_");
    if (c.experiment == "cpu") write_cpu(row, doc);
  } catch (const std::exception& e) {
    return failed(std::move(row), fmt::format("the CPython worker's answer: {}", e.what()));
  }
  if (!row.contains("cpu_time")) row["cpu_time"] = row["real_time"];
  row["error_occurred"] = false;
  row["error_message"] = "";
  return row;
}

// bench's serializer of the same kind on the same record: encode + decode (and reading every field) in batches of
// about a millisecond, on a pinned thread of its own (the main thread's affinity is what the workers inherit).
void cpp_serialize_batches(const py_case& c, int cpu, json& doc) {
  pin_this_thread(cpu);
  std::unique_ptr<ser::codec> codec = c.cpp_codec->make(ser::shape::small);
  const ser::message m = ser::make_message(ser::shape::small, ser::message_seed);
  std::span<const std::byte> enc = codec->serialize(m);
  const std::vector<std::byte> bytes(enc.begin(), enc.end());
  std::uint64_t t0 = now_ns();
  if (!codec->repeat(ser::phase::roundtrip, m, bytes, 100)) throw std::runtime_error("a decode or a traverse failed");
  const std::uint64_t batch = std::max<std::uint64_t>(1, 100 * 1'000'000 / std::max<std::uint64_t>(now_ns() - t0, 1));
  std::vector<std::uint64_t> per_op;
  const std::uint64_t warm_end = now_ns() + c.warmup_ns, end = warm_end + c.duration_ns;
  for (std::uint64_t t = now_ns(); t < end && !interrupted(); t = now_ns()) {
    if (!codec->repeat(ser::phase::roundtrip, m, bytes, batch))
      throw std::runtime_error("a decode or a traverse failed");
    if (t >= warm_end) per_op.push_back((now_ns() - t) / batch);
  }
  doc = {{"samples_ns", per_op}, {"batch", batch}, {"wire_bytes", bytes.size()}};
}

json run_cpp_serialize(const python_run& run, const py_case& c, json row) {
  std::string error;
  json doc;
  std::thread([&] {
    try {
      cpp_serialize_batches(c, run.cores.cpus[0], doc);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }).join();
  try {
    if (error.empty()) write_batches(row, doc, "op_");
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) return failed(std::move(row), error);
  row["cpu_time"] = row["real_time"];
  row["error_occurred"] = false;
  row["error_message"] = "";
  return row;
}

json measure(python_run& run, const py_case& c, const case_environment& env, int round) {
  json row{{"name", c.name()},        {"run_name", c.name()},          {"run_type", "iteration"},
           {"repetitions", run.reps}, {"repetition_index", round - 1}, {"threads", 1},
           {"time_unit", "ns"}};
  if (c.ipc) {
    json r = run_ipc_case(*c.ipc, env);
    for (auto it = r.begin(); it != r.end(); ++it) row[it.key()] = it.value();
    row["ipc_case"] = c.ipc->name;
  } else if (c.cpp_codec) {
    row = run_cpp_serialize(run, c, std::move(row));
  } else {
    row = run_python_case(run, c, std::move(row));
  }
  c.key().stamp(row);
  // More busy workers than CPUs: the CPU-bound job split over --cores processes on a smaller machine (threads
  // under one GIL wait for it instead of running, so they are not busy together).
  if (!c.ipc) row["oversubscribed"] = (c.kind == "process" ? c.workers : 2) > run.cores.available;
  if (!c.counterpart.empty()) row["counterpart"] = c.counterpart;
  return row;
}

std::string progress_text(const py_case& c, int round, int reps) {
  std::string what = c.experiment;
  for (const std::string* s : {&c.transport, &c.model, &c.serializer, &c.kind})
    if (!s->empty() && *s != "none") what.append(1, ' ').append(*s);
  if (c.msg_bytes) what.append(1, ' ').append(format_bytes(c.msg_bytes));
  if (c.workers) what += fmt::format(" x{}", c.workers);
  return fmt::format("round {}/{}  {} ({})", round, reps, what, c.runtime);
}

void measure_rounds(python_run& run) {
  temp_dir scratch;  // the C++ counterparts' FIFOs and socket files
  case_environment env;
  env.cores = &run.cores;
  env.scratch_dir = scratch.path();
  env.timeout_ns = run.req.timeout_ns ? run.req.timeout_ns : 10'000'000'000ull;
  int runnable = 0;
  for (const py_case& c : run.plan.cases) runnable += c.skip_reason.empty() ? 1 : 0;
  progress_line progress(runnable * run.reps);
  for (int round = 1; round <= run.reps && !interrupted(); ++round) {
    for (const py_case& c : run.plan.cases) {
      if (!c.skip_reason.empty()) continue;
      if (interrupted()) break;
      progress.step(progress_text(c, round, run.reps));
      ++env.case_serial;
      json row = measure(run, c, env, round);
      if (row["error_occurred"].get<bool>()) {
        if (interrupted()) continue;  // a case Ctrl-C cut short is not a result
        ++run.failures;
        progress.note(fmt::format("FAILED {}: {}", c.name(), row["error_message"].get<std::string>()));
      }
      run.res.rows.push_back(std::move(row));
    }
    write_results(run.res);
  }
  progress.finish();
}

// Each case's median row, as add_aggregates wrote it (failed and excluded repetitions left out), for the console.
class case_medians {
 public:
  explicit case_medians(const std::vector<json>& rows) {
    for (const json& r : rows)
      if (r.value("run_type", "") == "aggregate" && r.value("aggregate_name", "") == "median")
        by_name_[r["run_name"]] = &r;
  }
  std::optional<double> get(const std::string& name, const std::string& field) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end() || !it->second->contains(field) || !(*it->second)[field].is_number()) return std::nullopt;
    return (*it->second)[field].get<double>();
  }

 private:
  std::map<std::string, const json*> by_name_;
};

std::string ns_cell(std::optional<double> v) { return v ? format_ns(*v) : "-"; }
std::string rate_cell(std::optional<double> v) { return v ? fmt::format("{:.0f}", *v) : "-"; }
// How many times the C++ figure the Python one is (lower_better: time; otherwise a rate).
std::string ratio_cell(std::optional<double> py, std::optional<double> cpp, bool lower_better) {
  if (!py || !cpp || *py <= 0 || *cpp <= 0) return "-";
  return fmt::format("{:.1f}x", lower_better ? *py / *cpp : *cpp / *py);
}

// One line per reason: "skipped (the worker has no asyncio server for this transport): py-mp-pipe, py-shm".
void print_skipped(const python_run& run) {
  std::vector<std::pair<std::string, std::string>> by_reason;  // reason, the cases' short names
  for (const py_case& c : run.plan.cases) {
    if (c.skip_reason.empty()) continue;
    std::string what = c.transport.empty() ? c.experiment + " " + (c.serializer.empty() ? c.kind : c.serializer)
                                           : c.experiment + " " + c.transport + " " + c.model +
                                                 (c.serializer == "none" ? "" : " " + c.serializer);
    auto it = std::find_if(by_reason.begin(), by_reason.end(), [&](const auto& r) { return r.first == c.skip_reason; });
    if (it == by_reason.end())
      by_reason.emplace_back(c.skip_reason, what);
    else
      it->second += ", " + what;
  }
  for (const auto& [reason, names] : by_reason) fmt::print("  skipped ({}): {}\n", reason, names);
}

void print_python_header(const python_run& run) {
  int py = 0, cpp = 0;
  for (const py_case& c : run.plan.cases)
    if (c.skip_reason.empty()) (c.cpp() ? cpp : py) += 1;
  const python_probe& p = run.plan.probe;
  fmt::print("bench run python: {} CPython cases on {} ({}), {} C++ cases beside them, x {} repetitions on {}\n", py,
             p.runtime.empty() ? "no interpreter" : p.runtime, p.executable.empty() ? p.interpreter : p.executable, cpp,
             run.reps, machine_line(run.res.context));
  if (!p.failure.empty()) fmt::print("warning: no CPython cases: {}\n", p.failure);
  const py_case& any = run.plan.cases.front();
  fmt::print("each case: {} warm-up, then {} measured; the client on CPU {}, the server on CPU {}\n",
             format_ns(static_cast<double>(any.warmup_ns)), format_ns(static_cast<double>(any.duration_ns)),
             run.cores.cpus[0], run.cores.cpus.size() > 1 ? run.cores.cpus[1] : run.cores.cpus[0]);
  print_skipped(run);
  std::fflush(stdout);
}

void print_transport_table(const python_run& run, const case_medians& m, const std::string& experiment) {
  const bool pp = experiment == "pingpong";
  console_table t({{"transport", 12, align::left, 2},
                   {"model", 8, align::left, 1},
                   {"message", 9, align::left, 1},
                   {pp ? "p50" : "msgs/s", 10},
                   {pp ? "p99" : "MB/s", 10},
                   {"C++ beside it", 28, align::left, 3},
                   {pp ? "p50" : "msgs/s", 10},
                   {"Python/C++", 10, align::right, 2}});
  bool any = false;
  for (const py_case& c : run.plan.cases) {
    if (c.cpp() || c.experiment != experiment || !c.skip_reason.empty()) continue;
    if (!any)
      fmt::print("\n{}:\n{}\n",
                 pp ? "round trip (pingpong), CPython beside C++" : "one-way stream, timed at the receiver",
                 t.header());
    any = true;
    const std::string n = c.name();
    const std::string f = pp ? "rtt_p50_ns" : "msgs_per_s";
    std::optional<double> py = m.get(n, f), cpp = c.counterpart.empty() ? std::nullopt : m.get(c.counterpart, f);
    std::optional<double> mb = m.get(n, "bytes_per_s");
    t.print_row({c.transport, c.model, c.serializer != "none" ? c.serializer : format_bytes(c.msg_bytes),
                 pp ? ns_cell(py) : rate_cell(py),
                 pp ? ns_cell(m.get(n, "rtt_p99_ns")) : (mb ? fmt::format("{:.1f}", *mb / 1e6) : "-"),
                 c.counterpart.empty() ? "-" : c.counterpart_label, pp ? ns_cell(cpp) : rate_cell(cpp),
                 ratio_cell(py, cpp, pp)});
  }
}

void print_other_tables(const python_run& run, const case_medians& m) {
  console_table ser({{"serializer", 12, align::left, 2},
                     {"wire", 8},
                     {"encode+decode", 14},
                     {"C++ beside it", 16, align::left, 3},
                     {"p50", 10},
                     {"Python/C++", 10, align::right, 2}});
  console_table cpu({{"CPU-bound", 22, align::left, 2}, {"wall", 10}, {"CPU", 10}, {"CPUs busy", 10, align::right, 2}});
  bool ser_head = false, cpu_head = false;
  for (const py_case& c : run.plan.cases) {
    if (c.cpp() || !c.skip_reason.empty()) continue;
    const std::string n = c.name();
    if (c.experiment == "serialize") {
      if (!ser_head) fmt::print("\nserialization of the tick record (no transport):\n{}\n", ser.header());
      ser_head = true;
      std::optional<double> py = m.get(n, "op_p50_ns"),
                            cpp = c.counterpart.empty() ? std::nullopt : m.get(c.counterpart, "op_p50_ns");
      std::optional<double> wire = m.get(n, "wire_bytes");
      ser.print_row({c.serializer, wire ? fmt::format("{:.0f} B", *wire) : "-", ns_cell(py),
                     c.counterpart.empty() ? "-" : c.counterpart_label, ns_cell(cpp), ratio_cell(py, cpp, true)});
    } else if (c.experiment == "cpu" || c.experiment == "switch") {
      if (!cpu_head) fmt::print("\nthe GIL and hand-overs:\n{}\n", cpu.header());
      cpu_head = true;
      if (c.experiment == "cpu") {
        std::optional<double> busy = m.get(n, "cpus_busy");
        cpu.print_row(
            {fmt::format("{} {}{}", c.workers, c.kind, c.workers > 1 ? (c.kind == "process" ? "es" : "s") : ""),
             ns_cell(m.get(n, "wall_ns")), ns_cell(m.get(n, "cpu_ns")), busy ? fmt::format("{:.2f}", *busy) : "-"});
      } else {
        cpu.print_row({fmt::format("switch: {}", c.kind), ns_cell(m.get(n, "switch_p50_ns"))});
      }
    }
  }
}

void print_python_tables(const python_run& run) {
  const case_medians m(run.res.rows);
  print_transport_table(run, m, "pingpong");
  print_transport_table(run, m, "stream");
  print_other_tables(run, m);
}

}  // namespace

void validate_python(const run_request& req) {
  py::validate_python_names(req);
  check_python_flag(req.python);
}

namespace {

json python_context(const python_run& run) {
  json ctx = suite_context(run.req, run.cores);
  const python_probe& p = run.plan.probe;
  ctx["python"] = {{"interpreter", p.interpreter},
                   {"executable", p.executable},
                   {"runtime", p.runtime},
                   {"gil", p.gil},
                   {"failure", p.failure}};
  ctx["schema"] =
      to_json(suite_schema{py::python_identity_fields(), {std::begin(python_metrics), std::end(python_metrics)}});
  ctx["statistics"] = statistics_context();
  json skipped = json::array();
  for (const py_case& c : run.plan.cases)
    if (!c.skip_reason.empty()) skipped.push_back({{"name", c.name()}, {"reason", c.skip_reason}});
  ctx["skipped"] = skipped;
  ctx["reps"] = run.reps;
  return ctx;
}

}  // namespace

int run_python(const run_request& req) {
  validate_python(req);
  python_run run{req, plan_cores(req.cores), {}, {}, python_for_cases(req.python)};
  python_probe probe = probe_python(run.interpreter);
  if (!probe.failure.empty() && !req.python.empty())
    throw usage_error(fmt::format("--python {}: {}", req.python, probe.failure));
  run.plan = py::plan_python(req, run.cores, std::move(probe));
  if (run.plan.cases.empty()) throw usage_error("no case to run (check --filter, --transports, --serializers)");
  run.res.dir = prepare_run_dir(req.out, "python");
  warn_oversubscribed(run.cores);
  run.reps = req.reps ? req.reps : (req.quick ? 2 : 3);
  run.res.context = python_context(run);
  for (const std::string& w : machine_warnings(run.res.context)) fmt::print(stderr, "warning: {}\n", w);
  print_python_header(run);
  measure_rounds(run);
  run.res.context["interrupted"] = interrupted();
  add_aggregates(run.res.rows,
                 {"rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_max_ns", "msgs_per_s", "bytes_per_s", "cpu_ns_per_msg",
                  "op_p50_ns", "op_p99_ns", "wall_ns", "cpu_ns", "cpus_busy", "switch_p50_ns", "switch_p99_ns",
                  "wire_bytes", "lost"},
                 py::python_identity_fields(), python_primary);
  write_results(run.res);
  print_python_tables(run);
  fmt::print("\nresults: {}\n         {}\n", (run.res.dir / "results.json").string(),
             (run.res.dir / "results.csv").string());
  if (interrupted()) {
    fmt::print(stderr, "interrupted: the {} measurements finished before Ctrl-C are in {}\n", run.res.rows.size(),
               run.res.dir.string());
    return 130;
  }
  draw_charts(req, run.res.dir);
  if (run.failures)
    fmt::print(stderr, "{} case repetition(s) failed; see error_message in results.json\n", run.failures);
  return run.failures ? 1 : 0;
}

}  // namespace bench

namespace bench {

std::optional<run_request> lecture_python_request(const run_request& req, const fs::path& dir) {
  if (!lecture_matrix(req) || !req.filter.empty()) return std::nullopt;
  run_request r;
  r.suite = "python";
  r.command_line = req.command_line;
  r.reps = req.reps;
  r.duration_ns = req.duration_ns;
  r.warmup_ns = req.warmup_ns;
  r.cores = req.cores;
  r.cores_given = req.cores_given;
  r.python = req.python;
  r.quick = req.quick;
  r.no_plot = true;  // the deck draws its slide; the suite's own charts are for `bench run python`
  r.out = dir / "python";
  // The lesson's four bars and the GIL's threads against processes; their C++ rows come with them.
  r.filter = "experiment:(pingpong/transport:py-(pipe|mp-pipe|mp-queue)/model:process/serializer:none/size:64/|cpu/)";
  return r;
}

void print_python_list(const std::string& interpreter) {
  const python_probe p = probe_python(interpreter);
  fmt::print("python transports (bench run python, on {}{}):\n", p.runtime.empty() ? interpreter : p.runtime,
             p.executable.empty() ? "" : " " + p.executable);
  for (const py::py_transport_info& t : py::py_transports()) {
    std::string why = p.failure;
    if (why.empty())
      why = p.transport_unavailable.count(std::string(t.name)) ? p.transport_unavailable.at(std::string(t.name))
                                                               : "unknown to the worker";
    std::string models;
    if (auto it = p.transport_models.find(std::string(t.name)); it != p.transport_models.end())
      for (const std::string& m : it->second) models += (models.empty() ? "" : ", ") + m;
    fmt::print("  {:<16}{}\n  {:<16}({}; beside bench's {}; servers: {}){}\n", t.name, t.description, "", t.api,
               t.cpp_transport, models.empty() ? "-" : models, why.empty() ? "" : "  UNAVAILABLE: " + why);
  }
  fmt::print("python serializers (bench run python --serializers; messages are the tick record):\n");
  for (const py::py_serializer_info& s : py::py_serializers()) {
    std::string why = p.failure;
    if (why.empty() && p.serializer_unavailable.count(std::string(s.name)))
      why = p.serializer_unavailable.at(std::string(s.name));
    fmt::print("  {:<16}{}{}{}\n", s.name, s.api,
               s.cpp_serializer.empty() ? "" : fmt::format(" (beside bench's {})", s.cpp_serializer),
               why.empty() ? "" : "  UNAVAILABLE: " + why);
  }
}

}  // namespace bench
