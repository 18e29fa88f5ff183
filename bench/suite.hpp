// What `bench run SUITE` hands a suite, and the table of suites the CLI reads.
//
// The CLI parses and validates every flag into a run_request before any suite starts; a suite re-checks only
// what is specific to it (throwing usage_error, which the CLI turns into exit status 2 before any work).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <span>
#include "base/fd.hpp"
#include "harness/cpu.hpp"
#include "harness/results.hpp"

namespace bench {

struct run_request {
  std::string suite;
  std::string command_line;  // exactly as typed, for the results' context
  int cores = 0;             // as requested (or all online CPUs by default)
  bool cores_given = false;
  bool quick = false;
  std::vector<std::string> transports;   // empty: all available
  std::vector<std::string> models;       // empty: all available
  std::vector<std::string> serializers;  // empty: suite default
  std::vector<std::uint64_t> sizes;      // message bytes, header included; empty: suite default
  std::uint64_t duration_ns = 0;         // per case and repetition; 0: suite default
  std::uint64_t warmup_ns = 0;           // 0: suite default
  std::uint64_t timeout_ns = 0;          // watchdog per case; 0: suite default
  int reps = 0;                          // 0: suite default
  std::string filter;                    // ECMAScript regex over case names; empty: all
  std::optional<std::filesystem::path> out;
  bool no_plot = false;
  placement place = placement::cross;
  // --wait: each discipline listed is a dimension of the plan (block,spin runs both side by side, so that a chart
  // compares like with like); transports with a discipline of their own run once.
  std::vector<wait_mode> waits{wait_mode::block};
  double rate = 0;  // open-loop messages per second; 0: closed loop
  bool drop_disturbed = false;
  std::uint64_t work_ns = 0;              // server work per message (--work)
  std::vector<std::string> server_locks;  // locks around the ipc server's work (--lock, work_lock_names()); empty: none
  std::string peer;                       // --peer HOST:PORT: the server side runs in `bench serve` there
  std::string amqp_url;                   // --amqp-url: the amqp cases use this broker instead of starting one
  std::string python;                     // --python PATH: the interpreter of the CPython cases; "": the default
  bool dry_run = false;                   // --dry-run: print the plan, measure nothing
  std::string topology;                   // --topology SPEC (with --dry-run): plan for that machine; "": this one
  std::string matrix;                     // --matrix lecture|full; "": lecture unless a flag below chooses cases
  std::vector<std::string> matrix_flags;  // the flags given that choose ipc cases (--transports, --sizes, --lock, ...)
  // serialize suite
  std::vector<std::string> shapes;  // empty: all
  // contention suite
  std::uint64_t cs_ns = 0;                         // critical section length (--cs); 0: suite default
  std::vector<std::uint64_t> switch_intervals_ns;  // --switch-interval (may be a list); empty: suite default
  std::uint64_t check_interval = 0;                // --check-interval (ticks); 0: suite default
  std::vector<std::string> locks;                  // --locks; empty: all
  std::vector<std::string> policies;               // --policies; empty: all
};

struct suite_info {
  std::string_view name;
  std::string_view description;
  // Checks the request without doing any work; throws usage_error.
  std::function<void(const run_request&)> validate;
  // Runs the suite; returns the process exit status (0 all good, 1 some case failed, 130 interrupted).
  std::function<int(const run_request&)> run;
};

std::span<const suite_info> suites();
const suite_info* find_suite(std::string_view name);

// Shared by every suite (bench/run_common.cpp).
// machine_context() plus command_line, suite, cores_requested, cores_available, oversubscribed, cpus_used.
nlohmann::ordered_json suite_context(const run_request& req, const core_plan& cores);
// Runs plots/plot.py on a finished run directory (unless --no-plot) and prints the chart paths; a missing
// Python/matplotlib is a warning, never a failure of the measurements.
void draw_charts(const run_request& req, const std::filesystem::path& dir);
// Warns on stderr (one line) when more cores are requested than exist.
void warn_oversubscribed(const core_plan& cores);
// An interpreter that can import matplotlib ($BENCH_PYTHON, the configured one, /usr/bin/python3, python3), or "".
std::string find_python();
// The plots/ folder of this source tree ($BENCH_PLOTS_DIR, the configured one, or found beside the binary).
std::filesystem::path plots_dir();
// Runs plots/plot.py DIR; returns its exit status (charts' paths go to stdout).
int run_plot_script(const std::filesystem::path& dir);
// Runs plots/<script> ARGS (plot.py, report.py, compare.py) with find_python() and returns its exit status;
// throws std::runtime_error when no interpreter can import matplotlib or it cannot be started.
int run_python_tool(const std::string& script, const std::vector<std::string>& args);

// `bench run` (bench/run_driver.cpp). Copies of the results for other tools: `--json FILE`, `--csv FILE`, where
// FILE "-" is stdout, which then carries that document and nothing else.
struct result_copies {
  std::string json, csv;
};
// Runs one suite (`si`, already validated) and writes the copies; with si == nullptr, `bench run all`: every
// suite of the table with its defaults into one directory, then one report of them all.
int run_command(const suite_info* si, run_request req, const result_copies& copies);

}  // namespace bench
