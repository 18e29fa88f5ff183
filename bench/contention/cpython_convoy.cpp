#include "bench/contention/cpython_convoy.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/fd.hpp"
#include "bench/suite.hpp"
#include "harness/histogram.hpp"

extern char** environ;

namespace bench::contention {
namespace {

using json = nlohmann::ordered_json;

struct captured {
  int status = -1;  // exit status; -1 when it was killed at its deadline
  std::string out;
};

// Runs argv with stdout into a pipe, in a process group of its own, and kills the whole group (the worker and the
// echo peer it forked) if it outlives the deadline or bench is interrupted.
captured run_captured(std::vector<std::string> argv, std::uint64_t timeout_ns) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe for the CPython worker");
  unique_fd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], std::strerror(err)));
  write_end.reset();
  captured c;
  const std::uint64_t deadline = now_ns() + timeout_ns;
  bool killed = false;
  char buf[65536];
  for (;;) {
    if (now_ns() > deadline || interrupted()) {
      ::kill(-pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n <= 0) break;
    c.out.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  ::kill(-pid, SIGKILL);  // an echo peer left behind by a worker that died
  c.status = killed ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return c;
}

json failed_row(json row, const std::string& why) {
  row["error_occurred"] = true;
  row["error_message"] = why;
  row["real_time"] = 0.0;
  row["cpu_time"] = 0.0;
  row["iterations"] = 0;
  for (const char* k : {"rtt_p50_ns", "rtt_p99_ns", "round_trips_per_s"}) row[k] = nullptr;
  return row;
}

// Fields as the emulated convoy's rows carry them (bench/contention/gil_cases.cpp): iterations = round trips,
// real_time and cpu_time per round trip over the window; a run without a round trip is starved, not failed.
json measured_row(json row, const std::vector<std::uint64_t>& samples, double cpu_ns) {
  if (samples.empty()) {
    row["starved"] = 1;
    for (const char* k : {"rtt_p50_ns", "rtt_p99_ns", "round_trips_per_s"}) row[k] = nullptr;
    row["iterations"] = 1;
    row["run_ns"] = row["real_time"] = static_cast<double>(row["duration_ns"].get<std::uint64_t>());
    row["cpu_time"] = cpu_ns;
    row["error_occurred"] = false;
    row["error_message"] = "";
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
  row["error_occurred"] = false;
  row["error_message"] = "";
  return row;
}

}  // namespace

std::vector<json> cpython_convoy_rows(const std::vector<cpython_convoy_case>& cases, int reps, std::string& why) {
  std::vector<json> rows;
  const std::string py = find_python();
  const std::filesystem::path script = plots_dir().parent_path() / "bench" / "contention" / "cpython_compare.py";
  if (py.empty() || !std::filesystem::exists(script)) {
    why = py.empty() ? "no python3 found" : "no " + script.string();
    return rows;
  }
  // "cpython-3.11": the interpreter's own word, asked once so that every row of the run carries the same name.
  std::string runtime = "cpython";
  if (captured v = run_captured({py, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"},
                                10'000'000'000ull);
      v.status == 0) {
    std::istringstream words(v.out);
    std::string impl;
    int major = 0, minor = 0;
    if (words >> impl >> major >> minor) runtime = fmt::format("{}-{}.{}", impl, major, minor);
  }
  for (int rep = 0; rep < reps && !interrupted(); ++rep) {
    for (const cpython_convoy_case& c : cases) {
      if (interrupted()) break;
      json row{{"run_type", "iteration"},
               {"repetitions", reps},
               {"repetition_index", rep},
               {"threads", c.cpu_threads + 1},
               {"time_unit", "ns"},
               {"suite", "contention"},
               {"experiment", "gil-convoy"},
               {"policy", "new"},
               {"model", "thread"},
               {"switch_interval_us", static_cast<double>(c.switch_interval_ns) / 1000},
               {"cpu_threads", c.cpu_threads},
               {"echo_placement", "cross"},
               {"oversubscribed", c.oversubscribed}};
      captured out = run_captured(
          {py, script.string(), "--convoy-worker", "--switch-us",
           fmt::format("{}", static_cast<double>(c.switch_interval_ns) / 1000), "--cpu-threads",
           std::to_string(c.cpu_threads), "--duration-ms", fmt::format("{}", static_cast<double>(c.duration_ns) / 1e6)},
          c.timeout_ns ? c.timeout_ns : c.duration_ns + 30'000'000'000ull);
      row["duration_ns"] = c.duration_ns;
      std::vector<std::uint64_t> samples;
      double cpu_ns = 0;
      std::string failure;
      if (out.status != 0) {
        failure = out.status < 0 ? "the CPython worker overran its deadline and was stopped"
                                 : fmt::format("the CPython worker exited with status {}", out.status);
      } else {
        try {
          json doc = json::parse(out.out);
          samples = doc.at("samples_ns").get<std::vector<std::uint64_t>>();
          cpu_ns = doc.at("cpu_ns").get<double>();
        } catch (const std::exception& e) {
          failure = fmt::format("the CPython worker's answer is not what bench asked for: {}", e.what());
        }
      }
      row["runtime"] = runtime;
      row["name"] = row["run_name"] = c.emulated_name + "/runtime:" + runtime;
      rows.push_back(failure.empty() ? measured_row(std::move(row), samples, cpu_ns)
                                     : failed_row(std::move(row), failure));
    }
  }
  return rows;
}

}  // namespace bench::contention
