#include "bench/contention/cpython_rows.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <initializer_list>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "bench/python/interpreter.hpp"
#include "harness/histogram.hpp"

namespace bench::contention {
namespace {

using json = nlohmann::ordered_json;

// Runs one worker; its JSON answer, or nothing with `failure` saying why (it could not start, failed, overran
// its deadline, or printed what bench cannot read).
std::optional<json> ask_worker(std::vector<std::string> argv, std::uint64_t timeout_ns, std::string& failure) {
  worker_output out;
  try {
    out = run_worker(std::move(argv), timeout_ns);
  } catch (const std::exception& e) {
    failure = e.what();
    return std::nullopt;
  }
  if (out.status != 0) {
    failure = out.failure("the CPython worker");
    return std::nullopt;
  }
  try {
    return json::parse(out.out);
  } catch (const std::exception& e) {
    failure = fmt::format("the CPython worker's answer is not what bench asked for: {}", e.what());
    return std::nullopt;
  }
}

// The fields every real row shares with its emulated twin, in the emulation's order.
json twin_row(int reps, int rep, const char* experiment, const std::string& policy, const char* model, int threads,
              std::uint64_t switch_interval_ns) {
  return json{{"run_type", "iteration"},  {"repetitions", reps},
              {"repetition_index", rep},  {"threads", threads},
              {"time_unit", "ns"},        {"suite", "contention"},
              {"experiment", experiment}, {"policy", policy},
              {"model", model},           {"switch_interval_us", static_cast<double>(switch_interval_ns) / 1000}};
}

void name_row(json& row, const cpython_lane& lane, const std::string& emulated_name) {
  row["runtime"] = lane.runtime;
  row["name"] = row["run_name"] = emulated_name + "/runtime:" + lane.runtime;
}

// As a failed emulated row: 0 for the times (as Google Benchmark writes them), null for the measured fields.
json failed_row(json row, const std::string& why, std::initializer_list<const char*> measured) {
  row["error_occurred"] = true;
  row["error_message"] = why;
  row["real_time"] = 0.0;
  row["cpu_time"] = 0.0;
  row["iterations"] = 0;
  for (const char* k : measured) row[k] = nullptr;
  return row;
}

constexpr std::initializer_list<const char*> convoy_fields = {"rtt_p50_ns", "rtt_p99_ns", "round_trips_per_s"};

// Fields as the emulated convoy's rows carry them (bench/contention/gil_cases.cpp): iterations = round trips,
// real_time and cpu_time per round trip over the window; a run without a round trip is starved, not failed.
json measured_convoy_row(json row, const std::vector<std::uint64_t>& samples, double cpu_ns) {
  row["error_occurred"] = false;
  row["error_message"] = "";
  if (samples.empty()) {
    row["starved"] = 1;
    for (const char* k : convoy_fields) row[k] = nullptr;
    row["iterations"] = 1;
    row["run_ns"] = row["real_time"] = static_cast<double>(row["duration_ns"].get<std::uint64_t>());
    row["cpu_time"] = cpu_ns;
    return row;
  }
  histogram h;
  double sum = 0;
  for (std::uint64_t s : samples) {
    h.record(s);
    sum += static_cast<double>(s);
  }
  row["rtt_p50_ns"] = h.percentile(50);
  row["rtt_p90_ns"] = h.percentile(90);
  row["rtt_p99_ns"] = h.percentile(99);
  row["rtt_max_ns"] = h.max();
  // Back-to-back round trips: their sum is the time they took, as the emulation counts its window.
  row["round_trips_per_s"] = sum > 0 ? static_cast<double>(samples.size()) * 1e9 / sum : 0.0;
  row["starved"] = 0;
  row["round_trips"] = samples.size();
  row["wall_ns"] = sum;
  row["iterations"] = samples.size();
  row["real_time"] = sum / static_cast<double>(samples.size());
  // The interpreter's threads (the I/O one and the CPU-bound one) and the echo peer, over the whole run.
  row["cpu_ns"] = cpu_ns;
  row["cpu_time"] = cpu_ns / static_cast<double>(samples.size());
  return row;
}

json convoy_row(const cpython_lane& lane, const cpython_convoy_case& c, int reps, int rep) {
  json row = twin_row(reps, rep, "gil-convoy", "new", "thread", c.cpu_threads + 1, c.switch_interval_ns);
  row["cpu_threads"] = c.cpu_threads;
  row["echo_placement"] = "cross";
  row["oversubscribed"] = c.oversubscribed;
  row["duration_ns"] = c.duration_ns;
  std::string failure;
  std::optional<json> doc = ask_worker(
      {lane.python, lane.script.string(), "--convoy-worker", "--switch-us",
       fmt::format("{}", static_cast<double>(c.switch_interval_ns) / 1000), "--cpu-threads",
       std::to_string(c.cpu_threads), "--duration-ms", fmt::format("{}", static_cast<double>(c.duration_ns) / 1e6)},
      c.timeout_ns ? c.timeout_ns : c.duration_ns + 30'000'000'000ull, failure);
  std::vector<std::uint64_t> samples;
  double cpu_ns = 0;
  if (doc) {
    try {
      samples = doc->at("samples_ns").get<std::vector<std::uint64_t>>();
      cpu_ns = doc->at("cpu_ns").get<double>();
    } catch (const std::exception& e) {
      failure = fmt::format("the CPython worker's answer is not what bench asked for: {}", e.what());
    }
  }
  name_row(row, lane, c.emulated_name);
  return failure.empty() ? measured_convoy_row(std::move(row), samples, cpu_ns)
                         : failed_row(std::move(row), failure, convoy_fields);
}

std::string cpu_list(const std::vector<int>& cpus) {
  std::string s;
  for (int c : cpus) {
    if (!s.empty()) s += ',';
    s += std::to_string(c);
  }
  return s;
}

json cpu_row(const cpython_lane& lane, const cpython_cpu_case& c, int reps, int rep, const cpython_calibration& cal) {
  json row =
      twin_row(reps, rep, "gil-cpu", c.policy, c.processes ? "process" : "thread", c.workers, c.switch_interval_ns);
  row["work_ns"] = c.work_ns;
  row["oversubscribed"] = c.oversubscribed;
  // One thread's countdown sized to take the emulated job's time: the work the emulation stands for.
  const auto iterations =
      cal.ns_per_iteration > 0 ? std::llround(static_cast<double>(c.work_ns) / cal.ns_per_iteration) : 0;
  row["countdown_iterations"] = iterations;
  row["countdown_ns_per_iteration"] = cal.ns_per_iteration;
  name_row(row, lane, c.emulated_name);
  std::string failure = cal.failure.empty() ? "" : "the countdown's calibration failed: " + cal.failure;
  std::optional<json> doc;
  if (failure.empty())
    doc =
        ask_worker({lane.python, lane.script.string(), "--cpu-worker", "--kind", c.processes ? "processes" : "threads",
                    "--workers", std::to_string(c.workers), "--iterations", std::to_string(iterations), "--switch-us",
                    fmt::format("{}", static_cast<double>(c.switch_interval_ns) / 1000), "--cpus", cpu_list(c.cpus)},
                   c.timeout_ns ? c.timeout_ns : c.work_ns * 20 + 30'000'000'000ull, failure);
  double wall = 0, cpu = 0;
  if (doc) {
    try {
      wall = doc->at("wall_ns").get<double>();
      cpu = doc->at("cpu_ns").get<double>();
      if (!(wall > 0)) failure = "the CPython worker measured no time";
    } catch (const std::exception& e) {
      failure = fmt::format("the CPython worker's answer is not what bench asked for: {}", e.what());
    }
  }
  if (!failure.empty()) return failed_row(std::move(row), failure, {"wall_ns", "cpu_ns"});
  // As the emulated gil-cpu rows: one iteration is the whole job.
  row["wall_ns"] = wall;
  row["cpu_ns"] = cpu;
  row["iterations"] = 1;
  row["real_time"] = wall;
  row["cpu_time"] = cpu;
  row["error_occurred"] = false;
  row["error_message"] = "";
  return row;
}

}  // namespace

std::optional<cpython_lane> open_cpython_lane(const std::string& python, std::string& why) {
  cpython_lane lane{python, bench_script("contention/cpython_compare.py"), "cpython"};
  if (!std::filesystem::exists(lane.script)) {
    why = "no " + lane.script.string();
    return std::nullopt;
  }
  // "cpython-3.11": the interpreter's own word, asked once so that every row of the run carries the same name.
  // An interpreter that cannot say it keeps "cpython": its workers then fail, each with a failed row.
  try {
    worker_output v = run_worker({python, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"},
                                 10'000'000'000ull);
    std::istringstream words(v.out);
    std::string impl;
    int major = 0, minor = 0;
    if (v.status == 0 && words >> impl >> major >> minor) lane.runtime = fmt::format("{}-{}.{}", impl, major, minor);
  } catch (const std::exception&) {}
  return lane;
}

std::vector<json> cpython_convoy_rows(const cpython_lane& lane, const std::vector<cpython_convoy_case>& cases,
                                      int reps) {
  std::vector<json> rows;
  for (int rep = 0; rep < reps && !interrupted(); ++rep)
    for (const cpython_convoy_case& c : cases)
      if (!interrupted()) rows.push_back(convoy_row(lane, c, reps, rep));
  return rows;
}

cpython_calibration calibrate_cpython_cpu(const cpython_lane& lane, const std::vector<int>& cpus,
                                          std::uint64_t target_ns) {
  cpython_calibration cal;
  // A quarter of the job (at least 20 ms): long enough to swamp the thread's start, short beside the run.
  const double ms = std::max(20.0, static_cast<double>(target_ns) / 4e6);
  std::optional<json> doc = ask_worker({lane.python, lane.script.string(), "--cpu-worker", "--calibrate-ms",
                                        fmt::format("{}", ms), "--cpus", cpu_list(cpus)},
                                       60'000'000'000ull, cal.failure);
  if (!doc) return cal;
  try {
    cal.iterations = doc->at("iterations").get<std::uint64_t>();
    cal.wall_ns = doc->at("wall_ns").get<std::uint64_t>();
    cal.cpu_ns = doc->at("cpu_ns").get<std::uint64_t>();
    cal.ns_per_iteration = doc->at("ns_per_iteration").get<double>();
    if (!(cal.ns_per_iteration > 0)) cal.failure = "it measured no time per step";
  } catch (const std::exception& e) {
    cal.failure = fmt::format("the CPython worker's answer is not what bench asked for: {}", e.what());
  }
  if (!cal.failure.empty()) cal.ns_per_iteration = 0;
  return cal;
}

std::vector<json> cpython_cpu_rows(const cpython_lane& lane, const std::vector<cpython_cpu_case>& cases, int reps,
                                   const cpython_calibration& cal) {
  std::vector<json> rows;
  for (int rep = 0; rep < reps && !interrupted(); ++rep)
    for (const cpython_cpu_case& c : cases)
      if (!interrupted()) rows.push_back(cpu_row(lane, c, reps, rep, cal));
  return rows;
}

}  // namespace bench::contention
