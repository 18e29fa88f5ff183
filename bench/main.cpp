// bench: the command line. Parses and validates everything into a run_request before any work; bad input gets
// one line on stderr and exit status 2.
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/registry.hpp"
#include "base/units.hpp"
#include "bench/python/interpreter.hpp"
#include "bench/python/python_suite.hpp"
#include "bench/serve.hpp"
#include "bench/suite.hpp"
#include "harness/build_info.hpp"
#include "harness/floor.hpp"
#include "harness/model.hpp"
#include "harness/remote.hpp"
#include "harness/sysinfo.hpp"
#include "serializers/registry.hpp"
#include "transports/transport.hpp"

namespace fs = std::filesystem;
using namespace bench;

namespace {

std::string joined_command_line(int argc, char** argv) {
  std::string s = "bench";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool quote = a.empty() || a.find_first_of(" \t'\"$") != std::string::npos;
    s += " " + (quote ? "'" + a + "'" : a);
  }
  return s;
}

void print_list(const std::string& what) {
  if (what.empty() || what == "suites") {
    fmt::print("suites:\n");
    for (const auto& s : suites()) fmt::print("  {:<16}{}\n", s.name, s.description);
  }
  if (what.empty() || what == "transports") {
    fmt::print("transports:\n");
    for (const auto& t : transports()) {
      std::string caps =
          fmt::format("{}{}{}{}{}", t.stream ? "stream" : "datagram",
                      t.cross_process ? ", cross-process" : ", threads only", t.pollable ? ", pollable" : "",
                      !t.fixed_wait.empty() ? ", waits by " + std::string(t.fixed_wait)
                      : t.spin_capable      ? std::string(", --wait block|spin")
                                            : std::string(", --wait block only"),
                      t.lossy ? ", lossy" : "");
      if (t.max_msg_bytes) caps += ", max " + format_bytes(t.max_msg_bytes);
      if (!t.ping_pong_only.empty())
        caps += ", ping-pong only (stream and --rate not applicable: " + std::string(t.ping_pong_only) + ")";
      if (t.network) caps += ", crosses machines (--peer)";
      std::string why = t.unavailable_reason();
      fmt::print("  {:<16}{}\n  {:<16}({}){}\n", t.name, t.description, "", caps,
                 why.empty() ? "" : "  UNAVAILABLE: " + why);
    }
  }
  if (what.empty() || what == "models") {
    fmt::print("models:\n");
    for (const auto& m : models()) {
      std::string why = m.unavailable_reason();
      // Transports it cannot use, grouped by why: "not with shm-spin, shm (has no pollable descriptor ...)".
      std::vector<std::pair<std::string, std::string>> na;  // reason (without the name), names
      for (const auto& t : transports()) {
        std::string r = incompatibility(m, t);
        if (r.empty()) continue;
        if (r.starts_with(t.name) && r.size() > t.name.size()) r.erase(0, t.name.size() + 1);
        auto it = std::find_if(na.begin(), na.end(), [&](const auto& g) { return g.first == r; });
        if (it == na.end())
          na.emplace_back(r, std::string(t.name));
        else
          it->second += ", " + std::string(t.name);
      }
      std::string nots;
      for (const auto& [reason, names] : na) nots += fmt::format("; not with {} ({})", names, reason);
      fmt::print("  {:<16}{}{}{}\n", m.name, m.description, nots, why.empty() ? "" : "  UNAVAILABLE: " + why);
    }
  }
  if (what.empty() || what == "serializers") {
    fmt::print(
        "serializers (bench run serialize; bench run ipc --serializers; otherwise ipc messages are raw bytes, "
        "serializer 'none'):\n");
    for (const auto& s : ser::serializers()) fmt::print("  {:<16}{} ({})\n", s.name, s.description, s.library);
  }
  if (what.empty() || what == "python") print_python_list(python_for_cases(""));
}

void print_info() {
  json c = machine_context();
  fmt::print("{}\n", machine_line(c));
  for (auto it = c.begin(); it != c.end(); ++it) {
    if (it.key() == "caches") continue;
    fmt::print("  {:<22}{}\n", it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  }
  for (const auto& cache : c["caches"])
    fmt::print("  {:<22}L{} {} {} KiB, shared by {}\n", "cache", cache["level"].get<int>(),
               cache["type"].get<std::string>(), cache["size"].get<long>() / 1024, cache["num_sharing"].get<int>());
  // The floor's two CPUs as a run picks them: two distinct physical cores of one L3 where there are.
  const core_plan plan = plan_cores(static_cast<int>(allowed_cpus().size()));
  fmt::print("  {:<22}{} ({}; cross order: {})\n", "topology", plan.topo.describe(), plan.topo.source,
             fmt::join(plan.cpus, ","));
  const std::vector<int>& cpus = plan.cpus;
  const int a = cpus[0], b = cpus.size() > 1 ? cpus[1] : cpus[0];
  busy_check busy = measure_busy(std::vector<int>{a, b});
  fmt::print("hardware floor (measured now on CPUs {} and {}, as every run measures it before each round):\n", a, b);
  hardware_floor f = measure_floor(a, b);
  fmt::print("  {:<22}{:.1f} ns\n", "timer overhead", f.timer_overhead_ns);
  if (const auto& one = f.cross.one_line)
    fmt::print(
        "  {:<22}{:.0f} ns round trip: median of {} individual round trips (p10 {:.0f}, p90 {:.0f} ns; "
        "{:.1f}% of the time lost to a peer not running)\n",
        "cache-line handoff", one->median_ns, one->samples, one->p10_ns, one->p90_ns, one->stalled_pct);
  if (const auto& two = f.cross.two_lines)
    fmt::print("  {:<22}{:.0f} ns round trip with a line each way (what a channel of two rings pays at least)\n", "",
               two->median_ns);
  fmt::print("  {:<22}{:.1f} GB/s in cache (64 KiB), {:.1f} GB/s from memory (64 MiB)\n", "memcpy", f.memcpy_gbps,
             f.memcpy_mem_gbps);
  if (f.xcore_gbps) {
    fmt::print("  {:<22}{:.1f} GB/s, the best of {} methods ({}): a ceiling for every transport\n",
               "cross-core streaming", *f.xcore_gbps, f.cross.xcore_variants.size(), f.cross.xcore_method);
    for (const streaming_variant& v : f.cross.xcore_variants)
      fmt::print("  {:<22}  {:.1f} GB/s  {}\n", "", v.gbps, v.method);
  }
  if (!f.note.empty()) fmt::print("  note: {}\n", f.note);
  fmt::print("busy check ({:.1f} s, the way a run starts): {}\n", busy.window_s,
             busy.reasons.empty() ? "quiet" : fmt::format("{}", fmt::join(busy.reasons, "; ")));
}

// The subcommands besides run, with what they were given.
struct tool_commands {
  CLI::App *list = nullptr, *plot = nullptr, *report = nullptr, *lecture = nullptr, *compare = nullptr,
           *serve = nullptr;
  std::string list_what, plot_dir, report_out, compare_a, compare_b, compare_out;
  std::vector<std::string> report_dirs, lecture_dirs;
  serve_options serve_opt;
};

void add_tool_commands(CLI::App& app, tool_commands& t) {
  t.list =
      app.add_subcommand("list", "the registries: transports, models, serializers, suites, and the python suite's");
  t.list->add_option("what", t.list_what, "transports | models | serializers | suites | python")
      ->check(CLI::IsMember({"transports", "models", "serializers", "suites", "python"}));
  app.add_subcommand("info", "the machine as the harness sees it, and the hardware floor measured now");
  t.plot = app.add_subcommand("plot", "re-draw the charts of a finished run from its results files");
  t.plot->add_option("dir", t.plot_dir, "a run directory (holding results.json)")->required();
  t.report =
      app.add_subcommand("report", "one self-contained HTML page of finished runs: machine, floor, charts, tables");
  t.report->add_option("dirs", t.report_dirs, "run directories (holding results.json)")->required();
  t.report->add_option("--out", t.report_out, "the HTML file (default: report.html in the first directory)");
  t.lecture = app.add_subcommand(
      "lecture", "the lecture deck of finished runs (slides, PDF, slide show) into the first one's lecture/");
  t.lecture->add_option("dirs", t.lecture_dirs, "run directories (holding results.json); the others add their rows")
      ->required();
  t.compare =
      app.add_subcommand("compare", "two runs case by case: ratios of the medians, verdicts beyond the noise, a chart");
  t.compare->add_option("a", t.compare_a, "the baseline run directory")->required();
  t.compare->add_option("b", t.compare_b, "the run directory compared with it")->required();
  t.compare->add_option("--out", t.compare_out,
                        "where compare.json and the chart go (default: B/compare-vs-<name of A>)");

  t.serve = app.add_subcommand("serve",
                               "the server side of two-host runs: bench run ipc --peer HOST:PORT on another machine");
  t.serve->add_option("--listen", t.serve_opt.listen,
                      "ADDR:PORT to listen on (default 127.0.0.1:5300: loopback only; "
                      "e.g. 0.0.0.0:5300 serves other machines)");
  t.serve->add_option("--clients", t.serve_opt.max_clients,
                      "clients served at once (default 1; one more is answered busy)");
}

void require_results(const std::string& dir) {
  if (!fs::exists(fs::path(dir) / "results.json")) throw usage_error(fmt::format("{} holds no results.json", dir));
}

// The subcommand other than run that was given, run; nullopt when it was run.
std::optional<int> run_tool_command(const CLI::App& app, const tool_commands& t) {
  if (t.list->parsed()) {
    print_list(t.list_what);
    return 0;
  }
  if (t.serve->parsed()) return run_serve(t.serve_opt);
  if (app.got_subcommand("info")) {
    print_info();
    return 0;
  }
  if (t.plot->parsed()) {
    require_results(t.plot_dir);
    fmt::print("charts:\n");
    return run_plot_script(t.plot_dir) == 0 ? 0 : 1;
  }
  if (t.report->parsed()) {
    for (const auto& d : t.report_dirs) require_results(d);
    std::vector<std::string> args = t.report_dirs;
    if (!t.report_out.empty()) args.insert(args.end(), {"--out", t.report_out});
    return run_python_tool("report.py", args);
  }
  if (t.lecture->parsed()) {
    for (const auto& d : t.lecture_dirs) require_results(d);
    return run_python_tool("lecture.py", t.lecture_dirs);
  }
  if (t.compare->parsed()) {
    require_results(t.compare_a);
    require_results(t.compare_b);
    std::vector<std::string> args = {t.compare_a, t.compare_b};
    if (!t.compare_out.empty()) args.insert(args.end(), {"--out", t.compare_out});
    return run_python_tool("compare.py", args);
  }
  return std::nullopt;
}

// bench run's options as typed; turned into a run_request by make_request.
struct run_options {
  CLI::App* command = nullptr;
  std::string json_to, csv_to;
  std::string suite, cores, transports_s, models_s, serializers_s, sizes_s, duration_s, warmup_s, timeout_s, reps_s,
      filter, out, placement_s = "cross", wait_s = "block", rate_s, work_s, lock, shapes_s, cs_s, switch_s, check_s,
                   locks_s, policies_s;
  bool quick = false, no_plot = false, drop = false;
  std::string matrix;
  bool dry_run = false;
  std::string topology_spec;
  std::string peer;
  std::string amqp_url;
  std::string python;
};

// The options that choose the cases and their timing, for every suite.
void add_case_options(CLI::App* run, run_options& o) {
  std::string suite_names = row_names(suites());
  run->add_option("suite", o.suite, "the suite: " + suite_names + ", or all (each with its defaults, then one report)")
      ->required();
  run->add_option("--cores", o.cores,
                  "CPUs to use (default: all online); more than exist is allowed, warned and recorded");
  run->add_option("--transports", o.transports_s, "comma list (default: all available; see bench list)");
  run->add_option("--models", o.models_s, "comma list: thread, process, async, async-uring (default: all available)");
  run->add_option("--serializers", o.serializers_s,
                  "comma list (serialize suite; ipc: encode and decode every message of the ping-pong)");
  run->add_option("--sizes", o.sizes_s, "message sizes on the wire incl. the 32-byte header, e.g. 64,4K,64K,1M");
  run->add_option("--duration", o.duration_s, "measured time per case and repetition, e.g. 0.2s");
  run->add_option("--warmup", o.warmup_s, "unmeasured time before each case, e.g. 50ms");
  run->add_option("--timeout", o.timeout_s,
                  "watchdog: a case is failed when it overruns duration by this (default 10s)");
  run->add_option("--reps", o.reps_s, "repetitions, interleaved across cases (default 3)");
  run->add_flag("--quick", o.quick, "a small matrix for smoke tests and demos");
  run->add_option("--filter", o.filter, "only cases whose name matches this regular expression");
  run->add_option("--out", o.out, "output directory (default results/<date-time>-<suite>)");
  run->add_flag("--no-plot", o.no_plot, "write results only, no charts");
  run->add_option("--json", o.json_to,
                  "also copy results.json to FILE; - prints it on stdout (everything else goes to stderr)");
  run->add_option("--csv", o.csv_to,
                  "also copy results.csv to FILE; - prints it on stdout (everything else goes to stderr)");
}

// The options of one suite each (ipc; serialize; contention), in the order --help lists them.
void add_suite_options(CLI::App* run, run_options& o) {
  run->add_option("--matrix", o.matrix,
                  "ipc: lecture (the default: the cases the lecture deck's lessons draw) or full "
                  "(every transport and model at every size; what the case flags narrow)");
  run->add_option("--placement", o.placement_s,
                  "cross (two physical cores sharing an L3, the default), smt (the two hardware "
                  "threads of one core), far (two L3 domains or NUMA nodes), same (one hardware "
                  "thread), os (unpinned)");
  run->add_flag("--dry-run", o.dry_run,
                "ipc: print the plan (cases, the CPUs of each end, the time it takes) and measure nothing");
  run->add_option("--topology", o.topology_spec,
                  "ipc with --dry-run: plan for another machine: an XML file from lstopo --of xml, "
                  "or synthetic:DESCRIPTION (hwloc's format, e.g. 'synthetic:package:1 l3:2 core:4 pu:2')");
  run->add_option("--wait", o.wait_s,
                  "block (sleep in the kernel), spin (non-blocking, polled), or block,spin (both, side by side)");
  run->add_option("--rate", o.rate_s, "open-loop latency: messages per second per pair, paced");
  run->add_flag("--drop-disturbed", o.drop, "leave rounds with a disturbed canary or steal time out of the aggregates");
  run->add_option("--peer", o.peer,
                  "HOST[:PORT] of a bench serve: the server side of every pair runs there (tcp, udp, zmq-tcp)");
  run->add_option("--amqp-url", o.amqp_url,
                  "ipc: amqp://USER:PASSWORD@HOST:PORT/VHOST of a running broker for the amqp transports (default: "
                  "bench starts a private rabbitmq-server for the run)");
  run->add_option(
      "--python", o.python,
      "the CPython of the python suite's cases, the contention suite's real-GIL rows and the lecture's Python "
      "lessons (default /usr/bin/python3)");
  run->add_option("--work", o.work_s, "server CPU work per message, e.g. 10us");
  run->add_option("--lock", o.lock,
                  "lock(s) around the server's --work, one per server process: comma list of none, mutex, "
                  "gil-old, gil-new, gil-priority (default none)");
  run->add_option("--shapes", o.shapes_s,
                  "comma list: small, medium, large (serialize suite; ipc with --serializers, default small,large)");
  run->add_option("--cs", o.cs_s, "critical section length (contention suite), e.g. 50ns");
  run->add_option("--switch-interval", o.switch_s, "GIL switch interval(s) (contention suite), e.g. 5ms or 0.1ms,1ms");
  run->add_option("--check-interval", o.check_s, "old-GIL check interval in ticks (contention suite)");
  run->add_option("--locks", o.locks_s,
                  "the locks the contention suite compares, comma list: mutex, tas, ttas, ticket, adaptive, "
                  "shared-mutex, atomic, sharded (--lock is the ipc server's)");
  run->add_option("--policies", o.policies_s,
                  "the GILs the contention suite emulates, comma list: none, gil-old, gil-new, gil-priority (as "
                  "--lock names them; old, new, priority also)");
}

void add_run_command(CLI::App& app, run_options& o) {
  o.command = app.add_subcommand("run", "run a suite and write results/<date-time>-<suite>/");
  add_case_options(o.command, o);
  add_suite_options(o.command, o);
}

// An option given an empty or blank value (--transports "") is a mistake, not a request for the default.
void refuse_blank_values(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands())
    for (const CLI::Option* o : sub->get_options()) {
      if (o->count() == 0 || o->get_expected_min() == 0) continue;  // not given, or a flag without a value
      for (const std::string& v : o->results())
        if (v.find_first_not_of(" \t") == std::string::npos)
          throw usage_error(fmt::format("{} was given an empty value", o->get_name()));
    }
}

std::uint64_t positive_duration(const std::string& text, const char* flag) {
  std::uint64_t ns = parse_duration_ns(text);
  if (ns == 0) throw usage_error(fmt::format("{} must be longer than 0", flag));
  return ns;
}

// --cores, the lists, --sizes.
void read_case_lists(const run_options& o, run_request& req) {
  int online = static_cast<int>(allowed_cpus().size());
  if (!o.cores.empty()) {
    std::uint64_t n = parse_count(o.cores, "--cores");
    if (n == 0) throw usage_error("--cores must be at least 1");
    if (n > 4096) throw usage_error(fmt::format("--cores {} is more than any machine bench supports (4096)", n));
    req.cores = static_cast<int>(n);
    req.cores_given = true;
  } else {
    req.cores = online;
  }
  if (!o.transports_s.empty()) req.transports = split_list(o.transports_s, "--transports");
  if (!o.models_s.empty()) req.models = split_list(o.models_s, "--models");
  if (!o.serializers_s.empty()) req.serializers = split_list(o.serializers_s, "--serializers");
  if (!o.shapes_s.empty()) req.shapes = split_list(o.shapes_s, "--shapes");
  if (!o.locks_s.empty()) req.locks = split_list(o.locks_s, "--locks");
  if (!o.policies_s.empty()) req.policies = split_list(o.policies_s, "--policies");
  if (!o.sizes_s.empty())
    for (const auto& s : split_list(o.sizes_s, "--sizes")) {
      std::uint64_t b = parse_size(s);
      if (b == 0) throw usage_error("message size 0 is not a message");
      req.sizes.push_back(b);
    }
}

// --duration, --warmup, --timeout, --reps, and the flags that take no value.
void read_timing(const run_options& o, run_request& req) {
  if (!o.duration_s.empty()) {
    req.duration_ns = positive_duration(o.duration_s, "--duration");
    if (req.duration_ns > 600'000'000'000ull)
      throw usage_error("--duration over 10 minutes per case is not a benchmark, it is a soak test");
  }
  if (!o.warmup_s.empty()) req.warmup_ns = positive_duration(o.warmup_s, "--warmup");
  if (!o.timeout_s.empty()) req.timeout_ns = positive_duration(o.timeout_s, "--timeout");
  if (!o.reps_s.empty()) {
    std::uint64_t r = parse_count(o.reps_s, "--reps");
    if (r == 0 || r > 1000) throw usage_error("--reps must be between 1 and 1000");
    req.reps = static_cast<int>(r);
  }
  req.quick = o.quick;
  req.filter = o.filter;
  if (!o.out.empty()) req.out = o.out;
  req.no_plot = o.no_plot;
  req.drop_disturbed = o.drop;
}

// --placement, --dry-run and --topology, --wait, --rate, --work, --lock.
void read_ipc_options(const run_options& o, run_request& req) {
  if (std::optional<placement> p = parse_placement(o.placement_s))
    req.place = *p;
  else
    throw usage_error(fmt::format("unknown placement '{}' (valid: cross, smt, far, same, os)", o.placement_s));
  req.dry_run = o.dry_run;
  req.topology = o.topology_spec;
  if (!req.topology.empty() && !req.dry_run)
    throw usage_error("--topology plans for another machine, whose CPUs cannot be pinned here: it needs --dry-run");
  req.waits.clear();
  for (const auto& w : split_list(o.wait_s, "--wait")) {
    wait_mode m;
    if (w == "block")
      m = wait_mode::block;
    else if (w == "spin")
      m = wait_mode::spin;
    else
      throw usage_error(fmt::format("unknown wait mode '{}' (valid: block, spin)", w));
    if (std::find(req.waits.begin(), req.waits.end(), m) == req.waits.end()) req.waits.push_back(m);
  }
  if (!o.rate_s.empty()) req.rate = parse_positive(o.rate_s, "--rate");
  if (!o.work_s.empty()) {
    req.work_ns = parse_duration_ns(o.work_s);
    if (req.work_ns > 1'000'000'000ull)
      throw usage_error(fmt::format("--work {} is absurd: at most 1s of work per message", o.work_s));
  }
  if (o.command->count("--lock")) req.server_locks = split_list(o.lock, "--lock");  // names checked by the suite
}

// --cs, --switch-interval, --check-interval.
void read_contention_options(const run_options& o, run_request& req) {
  if (!o.cs_s.empty()) req.cs_ns = parse_duration_ns(o.cs_s);
  if (!o.switch_s.empty())
    for (const auto& s : split_list(o.switch_s, "--switch-interval"))
      req.switch_intervals_ns.push_back(parse_duration_ns(s));
  if (!o.check_s.empty()) {
    req.check_interval = parse_count(o.check_s, "--check-interval");
    // 0 in run_request means "suite default", so a typed 0 must be refused here.
    if (req.check_interval == 0) throw usage_error("--check-interval must be positive (got 0)");
  }
}

// Flags that belong to another suite are refused rather than silently ignored.
void refuse_foreign_flags(const CLI::App& run, const std::string& suite) {
  struct owned {
    const char* flag;
    std::vector<std::string_view> suites;
  };
  const owned owners[] = {{"--transports", {"ipc", "python"}},
                          {"--models", {"ipc", "python"}},
                          {"--sizes", {"ipc", "python"}},
                          {"--placement", {"ipc"}},
                          {"--wait", {"ipc"}},
                          {"--rate", {"ipc"}},
                          {"--work", {"ipc"}},
                          {"--lock", {"ipc"}},
                          {"--drop-disturbed", {"ipc"}},
                          {"--peer", {"ipc"}},
                          {"--amqp-url", {"ipc"}},
                          {"--python", {"python", "contention", "ipc"}},
                          {"--matrix", {"ipc"}},
                          {"--dry-run", {"ipc"}},
                          {"--topology", {"ipc"}},
                          {"--serializers", {"serialize", "ipc", "python"}},
                          {"--shapes", {"serialize", "ipc"}},
                          {"--cs", {"contention"}},
                          {"--switch-interval", {"contention"}},
                          {"--check-interval", {"contention"}},
                          {"--locks", {"contention"}},
                          {"--policies", {"contention"}}};
  for (const owned& o : owners) {
    if (run.count(o.flag) == 0) continue;
    if (std::find(o.suites.begin(), o.suites.end(), suite) == o.suites.end())
      throw usage_error(fmt::format("{} does not apply to the {} suite", o.flag, suite));
  }
}

run_request make_request(const run_options& o, int argc, char** argv) {
  run_request req;
  req.suite = o.suite;
  req.command_line = joined_command_line(argc, argv);
  if (!find_suite(o.suite) && o.suite != "all")
    throw usage_error(fmt::format("unknown suite '{}' (valid: {}, all)", o.suite, row_names(suites())));
  read_case_lists(o, req);
  read_timing(o, req);
  read_ipc_options(o, req);
  read_contention_options(o, req);
  refuse_foreign_flags(*o.command, o.suite);
  // Any flag that chooses ipc cases plans the full matrix narrowed by it, as it always did.
  for (const char* f : {"--transports", "--models", "--sizes", "--placement", "--wait", "--rate", "--work", "--lock",
                        "--peer", "--serializers", "--shapes"})
    if (o.command->count(f)) req.matrix_flags.emplace_back(f);
  req.matrix = o.matrix;
  req.amqp_url = o.amqp_url;
  req.python = o.python;
  if (!o.peer.empty()) {
    check_peer_request(o.peer, req.transports, req.place);
    req.peer = o.peer;
  }
  return req;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench: measures inter-process communication and concurrency, and draws the charts"};
  app.set_version_flag("--version", fmt::format("bench {} ({}, {})", build_info::git_revision, build_info::build_type,
                                                build_info::compiler));
  app.require_subcommand(1);
  tool_commands tools;
  add_tool_commands(app, tools);
  run_options run;
  add_run_command(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    fmt::print(stderr, "bench: error: {} (see bench --help)\n", msg);
    return 2;
  }

  install_signal_handlers();
  try {
    refuse_blank_values(app);
    if (std::optional<int> status = run_tool_command(app, tools)) return *status;
    run_request req = make_request(run, argc, argv);
    const suite_info* si = find_suite(run.suite);
    if (si) si->validate(req);
    return run_command(si, req, {run.json_to, run.csv_to});
  } catch (const usage_error& e) {
    fmt::print(stderr, "bench: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench: {}\n", e.what());
    return 1;
  }
}
