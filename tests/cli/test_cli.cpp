// The CLI as a user runs it: a short run whose files are checked field by field, every bad input refused with
// exit status 2 and one line, oversubscription allowed, and Ctrl-C that keeps what was measured and leaves
// nothing behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "bench/suite.hpp"
#include "harness/model.hpp"
#include "harness/results.hpp"
#include "tests/support/results_checks.hpp"
#include "transports/amqp.hpp"
#include "transports/amqp_broker.hpp"

namespace bench {
namespace {
namespace fs = std::filesystem;

struct outcome {
  int status = -1;
  std::string out, err;
};

fs::path temp_dir(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("bench-cli-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs bench with the arguments; stdout and stderr go to files. Optionally sends SIGINT after `interrupt_after`.
outcome bench_cmd(std::vector<std::string> args, const fs::path& tmpdir = {}, double interrupt_after = 0,
                  const fs::path& wait_for_file = {}) {
  static int n = 0;
  fs::path io = temp_dir("io" + std::to_string(++n));
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string o = (io / "out").string(), e = (io / "err").string();
    freopen(o.c_str(), "w", stdout);
    freopen(e.c_str(), "w", stderr);
    if (!tmpdir.empty()) ::setenv("TMPDIR", tmpdir.c_str(), 1);
    std::vector<char*> argv;
    std::string bin = BENCH_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  if (interrupt_after > 0) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!wait_for_file.empty() && !fs::exists(wait_for_file) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::duration<double>(interrupt_after));
    ::kill(pid, SIGINT);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  outcome r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(io / "out");
  r.err = slurp(io / "err");
  fs::remove_all(io);
  return r;
}

// Processes whose command line mentions `marker` (forked servers carry their parent's command line).
int processes_mentioning(const std::string& marker) {
  int count = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = slurp(e.path() / "cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(marker) != std::string::npos && cmd.find("test_cli") == std::string::npos) ++count;
  }
  return count;
}

// Processes whose environment mentions `marker` (the broker's processes carry its directory there, whatever their
// command line says: the Erlang VM, its helpers, the epmd it daemonized).
int processes_with_environment_mentioning(const std::string& marker) {
  int count = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (slurp(e.path() / "environ").find(marker) != std::string::npos) ++count;
  }
  return count;
}

TEST(Cli, ShortRunWritesWellFormedResults) {
  fs::path out = temp_dir("run");
  fs::path tmp = temp_dir("tmp");
  outcome r = bench_cmd({"run",     "ipc",     "--quick",    "--transports", "pipe,unix", "--models",  "thread,process",
                         "--sizes", "64,64K",  "--duration", "20ms",         "--warmup",  "5ms",       "--reps",
                         "2",       "--cores", "2",          "--no-plot",    "--out",     out.string()},
                        tmp);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Round-trip latency"), std::string::npos);
  EXPECT_NE(r.out.find("results.json"), std::string::npos);

  json doc = read_results(out / "results.json");
  bench::testing::expect_schema_and_identity(doc);
  const json& ctx = doc["context"];
  for (const char* f :
       {"date",         "host_name", "num_cpus",        "caches",          "load_avg",       "library_build_type",
        "command_line", "suite",     "cores_requested", "cores_available", "oversubscribed", "kernel",
        "cpu_model",    "compiler",  "build_type",      "libraries",       "floor",          "harness_overhead_ns",
        "rounds",       "placement", "idle_policy"})
    EXPECT_TRUE(ctx.contains(f)) << "context lacks " << f;
  EXPECT_EQ(ctx["suite"], "ipc");
  EXPECT_EQ(ctx["cores_requested"], 2);
  EXPECT_NE(ctx["command_line"].get<std::string>().find("--transports pipe,unix"), std::string::npos);
  for (const char* f : {"timer_overhead_ns", "c2c_one_way_ns", "c2c_two_line_one_way_ns", "memcpy_gbps", "xcore_gbps"})
    EXPECT_TRUE(ctx["floor"].contains(f)) << "floor lacks " << f;
  EXPECT_GT(ctx["floor"]["timer_overhead_ns"].get<double>(), 0);
  EXPECT_EQ(ctx["rounds"].size(), 2u);
  EXPECT_EQ(ctx["transport_descriptions"].size(), 2u);  // pipe, unix: what each one is, as bench list says
  EXPECT_EQ(ctx["model_descriptions"]["process"], std::string(find_model("process")->description));

  int iterations = 0, medians = 0;
  for (const json& row : doc["benchmarks"]) {
    std::string name = row["name"];
    EXPECT_EQ(name.rfind("ipc/transport:", 0), 0u) << name;
    for (const char* f : {"run_name", "run_type", "repetitions", "threads", "iterations", "real_time", "cpu_time",
                          "time_unit", "suite", "transport", "model", "serializer", "workload", "msg_bytes", "pairs"})
      EXPECT_TRUE(row.contains(f)) << name << " lacks " << f;
    EXPECT_EQ(row["time_unit"], "ns");
    if (row["run_type"] == "iteration") {
      ++iterations;
      for (const char* f : {"messages", "lost", "corrupt", "error_occurred", "error_message", "repetition_index"})
        EXPECT_TRUE(row.contains(f)) << name << " lacks " << f;
      EXPECT_FALSE(row["error_occurred"].get<bool>()) << name << ": " << row["error_message"];
      EXPECT_EQ(row["lost"], 0);
      EXPECT_EQ(row["corrupt"], 0);
      EXPECT_NE(name.find("/size:" + std::string(row["msg_bytes"] == 64 ? "64/" : "64K/")), std::string::npos) << name;
      if (row["workload"] == "latency") {
        for (const char* f : {"rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns", "rtt_max_ns"})
          EXPECT_TRUE(row.contains(f)) << f;
        // A tail percentile with fewer than 10 samples beyond it is withheld (null), and the row says why.
        if (row["rtt_p99_ns"].is_null()) {
          EXPECT_TRUE(row.contains("percentiles_withheld")) << name;
        }
        // Google Benchmark's real_time: the measured window per iteration (round trip), over every round trip.
        EXPECT_EQ(row["iterations"], row["messages"]);
        EXPECT_NEAR(row["real_time"].get<double>() * row["iterations"].get<double>(),
                    row["measured_window_ns"].get<double>(), 1e-6 * row["measured_window_ns"].get<double>())
            << name;
      } else {
        EXPECT_GT(row["msgs_per_s"].get<double>(), 0);
        EXPECT_DOUBLE_EQ(row["bytes_per_s"].get<double>(),
                         row["msgs_per_s"].get<double>() * row["msg_bytes"].get<double>());
      }
    } else {
      EXPECT_EQ(row["run_type"], "aggregate");
      if (row["aggregate_name"] == "median") ++medians;
    }
  }
  // 2 transports x 2 models x 2 workloads x 2 sizes, 2 repetitions each; one median row per case.
  EXPECT_EQ(iterations, 32);
  EXPECT_EQ(medians, 16);
  std::string csv = slurp(out / "results.csv");
  EXPECT_EQ(csv.rfind("name,", 0), 0u);
  EXPECT_TRUE(fs::is_empty(tmp)) << "left files in TMPDIR";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

// Open loop: the pacer sends at absolute times, so the number of measured messages is the rate times the
// measured duration whatever the machine does (a late send is late, not skipped), and the row says the rate.
// Receivers that poll anyway (shm-spin; pipes and datagram sockets with --wait spin) take the one-thread loop
// (sending and polling in turn), blocking ones the pacer thread beside the receiver.
void expect_paced_count(const std::string& transports, const std::string& wait, int cases) {
  fs::path out = temp_dir("rate");
  outcome r =
      bench_cmd({"run",       "ipc", "--transports", transports, "--wait",     wait,      "--models",  "thread,process",
                 "--sizes",   "64",  "--rate",       "2000",     "--duration", "50ms",    "--warmup",  "5ms",
                 "--reps",    "1",   "--cores",      "1",        "--filter",   "latency", "--no-plot", "--out",
                 out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("Throughput"), std::string::npos) << "an empty throughput table was printed";
  int iterations = 0;
  json doc = read_results(out / "results.json");
  for (const json& row : doc["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    ++iterations;
    std::string name = row["name"];
    EXPECT_NE(name.find("/rate:2000"), std::string::npos) << name;
    EXPECT_EQ(row["rate"], 2000.0);
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["error_message"];
    EXPECT_EQ(row["messages"], 100) << name;  // 50 ms at 2000/s
    // The pacer's lateness is part of each round trip (both count from the intended time, over the same
    // messages), so no percentile of it can exceed the round trip's.
    ASSERT_TRUE(row.contains("send_late_p50_ns") && row.contains("send_late_p99_ns")) << name;
    EXPECT_LE(row["send_late_p50_ns"].get<double>(), row["rtt_p50_ns"].get<double>()) << name;
    // 100 round trips hold no p99 (it needs 1000): withheld for both, with the reason.
    EXPECT_TRUE(row["send_late_p99_ns"].is_null() && row["rtt_p99_ns"].is_null()) << name;
    EXPECT_NE(row.value("percentiles_withheld", "").find("send_late_"), std::string::npos) << name;
  }
  EXPECT_EQ(iterations, cases);
  fs::remove_all(out);
}

TEST(Cli, OpenLoopRateSendsAtThePacedCount) {
  expect_paced_count("pipe,shm-spin", "block", 4);
  expect_paced_count("pipe,unix-dgram", "spin", 4);
}

struct bad_input {
  std::vector<std::string> args;
  std::string expect;
};

TEST(Cli, BadInputExitsTwoWithOneClearLine) {
  fs::path good = temp_dir("bad");
  std::vector<bad_input> cases = {
      {{"run", "nosuch"}, "unknown suite 'nosuch' (valid: ipc"},
      {{"run", "ipc", "--transports", "pipe,carrier-pigeon"}, "unknown transport 'carrier-pigeon' (valid: "},
      {{"run", "ipc", "--models", "fibers"}, "unknown model 'fibers' (valid: thread, process"},
      {{"run", "ipc", "--matrix", "most"}, "unknown matrix 'most' (valid: lecture, full)"},
      {{"run", "ipc", "--topology", "synthetic:package:1 core:4 pu:2"}, "--topology plans for another machine"},
      {{"run", "ipc", "--dry-run", "--topology", "synthetic:nonsense:7"},
       "hwloc cannot read that synthetic description"},
      {{"run", "ipc", "--dry-run", "--placement", "far", "--topology", "synthetic:package:1 core:4 pu:2"},
       "--placement far needs two L3 domains or NUMA nodes"},
      {{"run", "ipc", "--transports", ""}, "--transports was given an empty value"},
      {{"run", "python", "--transports", "pipe"}, "unknown Python transport 'pipe' (valid: py-pipe"},
      {{"run", "python", "--models", "async"}, "unknown Python server model 'async' (valid: thread, process, asyncio)"},
      {{"run", "python", "--serializers", "protobuf"}, "unknown Python serializer 'protobuf' (valid: pickle5"},
      {{"run", "python", "--python", "/nonexistent/python3"}, "--python /nonexistent/python3: no such executable"},
      {{"run", "contention", "--python", "/nonexistent/python3"}, "--python /nonexistent/python3: no such executable"},
      {{"run", "ipc", "--python", "/nonexistent/python3"}, "--python /nonexistent/python3: no such executable"},
      {{"run", "serialize", "--python", "/usr/bin/python3"}, "--python does not apply to the serialize suite"},
      {{"run", "ipc", "--filter", " "}, "--filter was given an empty value"},
      {{"run", "ipc", "--reps", ""}, "--reps was given an empty value"},
      {{"run", "ipc", "--transports", "pipe,pipe"}, "--transports lists 'pipe' twice"},
      {{"run", "ipc", "--wait", "spin,spin"}, "--wait lists 'spin' twice"},
      {{"run", "ipc", "--matrix", "lecture", "--sizes", "64"}, "--matrix lecture runs the lessons' own cases; --sizes"},
      {{"run", "contention", "--matrix", "full"}, "--matrix does not apply to the contention suite"},
      {{"run", "ipc", "--cores", "0"}, "--cores must be at least 1"},
      {{"run", "ipc", "--cores", "-2"}, "negative"},
      {{"run", "ipc", "--cores", "lots"}, "not a whole number"},
      {{"run", "ipc", "--sizes", "0"}, "size 0"},
      {{"run", "ipc", "--sizes", "16"}, "smaller than the 32-byte header"},
      {{"run", "ipc", "--sizes", "1G"}, "exceeds the supported maximum of 64 MiB"},
      {{"run", "ipc", "--sizes", "64,-4K"}, "negative"},
      {{"run", "ipc", "--sizes", "4KB"}, "ambiguous"},
      {{"run", "ipc", "--duration", "-1s"}, "negative"},
      {{"run", "ipc", "--duration", "fast"}, "not a number"},
      {{"run", "ipc", "--duration", "10"}, "needs a unit"},
      {{"run", "ipc", "--reps", "0"}, "--reps must be between 1 and 1000"},
      {{"run", "ipc", "--placement", "north"}, "unknown placement 'north'"},
      {{"run", "ipc", "--wait", "maybe"}, "unknown wait mode 'maybe'"},
      {{"run", "ipc", "--wait", "block,maybe"}, "unknown wait mode 'maybe'"},
      {{"run", "ipc", "--rate", "-5"}, "negative"},
      {{"run", "ipc", "--work", "2s"}, "absurd"},
      {{"run", "ipc", "--work", "10us", "--lock", "none,gil-newest"},
       "unknown lock 'gil-newest' (valid: none, mutex, gil-old, gil-new, gil-priority)"},
      {{"run", "ipc", "--lock", "gil-new"}, "--lock gil-new needs --work"},
      {{"run", "ipc", "--lock", "none,mutex", "--work", "0us"}, "--lock mutex needs --work"},
      {{"run", "ipc", "--work", "1us", "--lock", "mutex,mutex"}, "--lock lists 'mutex' twice"},
      {{"run", "contention", "--lock", "gil-new"}, "--lock does not apply to the contention suite"},
      {{"run", "ipc", "--filter", "("}, "not a valid regular expression"},
      {{"run", "ipc", "--filter", "no-such-case"}, "no case to run: --filter matches no case"},
      {{"run", "ipc", "--cs", "50ns"}, "--cs does not apply to the ipc suite"},
      {{"run", "ipc", "--out", "/proc/forbidden/run"}, "cannot create output directory /proc/forbidden/run"},
      {{"run", "ipc", "--frobnicate"}, "--frobnicate"},
      {{"plot", good.string()}, "holds no results.json"},
      {{"report", good.string()}, "holds no results.json"},
      {{"lecture", good.string()}, "holds no results.json"},
      {{"compare", good.string(), good.string()}, "holds no results.json"},
      {{"compare", good.string()}, "b is required"},
      {{"run", "all", "--transports", "pipe"}, "--transports does not apply to the all suite"},
      {{"run", "all", "--csv", "-"}, "`bench run all` writes a directory per suite"},
      {{"run", "ipc", "--json", "-", "--csv", "-"}, "cannot both print on stdout"},
      {{"run", "ipc", "--json", "/proc/forbidden/run.json"}, "no such directory /proc/forbidden"},
      {{"run", "ipc", "--serializers", "raw,xml"}, "unknown serializer 'xml' (valid: raw, protobuf, capnp"},
      {{"run", "ipc", "--serializers", "raw", "--shapes", "huge"},
       "unknown shape 'huge' (valid: small, medium, large)"},
      {{"run", "ipc", "--shapes", "small"}, "--shapes needs --serializers"},
      {{"run", "ipc", "--serializers", "raw", "--sizes", "64"}, "--sizes and --serializers exclude each other"},
      {{"run", "ipc", "--serializers", "raw", "--rate", "1000"}, "--rate and --serializers exclude each other"},
      {{"run", "ipc", "--serializers", "raw", "--work", "1us"}, "--work and --serializers exclude each other"},
  };
  for (const auto& c : cases) {
    outcome r = bench_cmd(c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    EXPECT_EQ(r.status, 2) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << cmd << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << cmd << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.rfind("bench: error: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.out.empty()) << cmd << " printed: " << r.out;  // nothing measured, nothing printed
  }
  fs::remove_all(good);
}

// --wait block,spin: both disciplines side by side in one run, so a chart can set them against each other; a
// transport that waits its own way (the shm rings) runs once, under its own discipline.
TEST(Cli, WaitListRunsEachDisciplineOnce) {
  fs::path out = temp_dir("waits");
  outcome r =
      bench_cmd({"run",     "ipc",        "--transports", "pipe,shm-spin", "--models",  "thread", "--sizes", "64",
                 "--wait",  "block,spin", "--duration",   "5ms",           "--warmup",  "2ms",    "--reps",  "1",
                 "--cores", "2",          "--no-plot",    "--out",         out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  json doc = read_results(out / "results.json");
  EXPECT_EQ(doc["context"]["wait"], "block,spin");
  std::multiset<std::string> seen;
  for (const json& row : doc["benchmarks"])
    if (row["run_type"] == "iteration" && row["workload"] == "latency" && row["pairs"] == 1) {
      seen.insert(row["transport"].get<std::string>() + "/" + row["wait"].get<std::string>());
      EXPECT_GT(row["cpu_ns_per_msg"].get<double>(), 0) << row["name"];
    }
  EXPECT_EQ(seen, (std::multiset<std::string>{"pipe/block", "pipe/spin", "shm-spin/spin"}));
  fs::remove_all(out);
}

// --lock with --work: every case once per lock, the lock in each row, its name and the context.
TEST(Cli, LockedWorkRunRecordsTheLock) {
  fs::path out = temp_dir("lock");
  outcome r = bench_cmd(
      {"run",    "ipc",     "--quick", "--transports", "unix",       "--models",  "thread,process", "--sizes", "64",
       "--work", "5us",     "--lock",  "none,gil-new", "--duration", "10ms",      "--warmup",       "2ms",     "--reps",
       "1",      "--cores", "4",       "--no-plot",    "--out",      out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("gil-new"), std::string::npos) << "the console table names the lock:\n" << r.out;
  json doc = read_results(out / "results.json");
  EXPECT_EQ(doc["context"]["work_ns"], 5000);
  EXPECT_EQ(doc["context"]["locks"], json::array({"none", "gil-new"}));
  EXPECT_TRUE(doc["context"]["server_lock"].contains("scope"));
  EXPECT_GT(doc["context"]["server_lock"]["cpu_work_ns_per_iteration"].get<double>(), 0);
  std::map<std::string, int> per_lock;
  for (const json& row : doc["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    std::string name = row["name"], lock = row["lock"];
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << name << ": " << row["error_message"];
    EXPECT_EQ(row["work_ns"], 5000) << name;
    EXPECT_NE(name.find("/work:5us"), std::string::npos) << name;
    EXPECT_EQ(name.find("/lock:") != std::string::npos, lock != "none") << name;
    if (lock != "none") {
      EXPECT_EQ(name.substr(name.size() - lock.size() - 6), "/lock:" + lock) << name;
    }
    ++per_lock[lock];
  }
  // 2 models x 2 workloads x (1 and 2 pairs), once per lock.
  EXPECT_EQ(per_lock["none"], 8);
  EXPECT_EQ(per_lock["gil-new"], 8);
  fs::remove_all(out);
}

TEST(Cli, SerializedRunSaysHowMuchOfTheRoundTripWasSerialization) {
  fs::path out = temp_dir("ser");
  fs::path tmp = temp_dir("sertmp");
  outcome r = bench_cmd({"run", "ipc", "--serializers", "raw,protobuf,capnp,json", "--shapes", "small,medium",
                         "--transports", "unix", "--models", "thread,process", "--duration", "10ms", "--warmup", "2ms",
                         "--reps", "2", "--no-plot", "--out", out.string()},
                        tmp);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Serialization in the round trip"), std::string::npos) << r.out;
  json doc = read_results(out / "results.json");
  EXPECT_EQ(doc["context"]["serializer_descriptions"].size(), 4u);
  EXPECT_TRUE(doc["context"]["schema"]["metrics"].contains("serialize_ns"));
  bench::testing::expect_schema_and_identity(doc);
  std::map<std::string, int> iterations;
  std::map<std::pair<std::string, std::string>, std::uint64_t> wire;
  for (const json& row : doc["benchmarks"]) {
    std::string name = row["name"];
    std::string ser = row["serializer"], shape = row["shape"];
    EXPECT_NE(name.find("/serializer:" + ser + "/shape:" + shape + "/workload:latency/"), std::string::npos) << name;
    EXPECT_EQ(row["workload"], "latency") << name;  // the ping-pong only
    EXPECT_EQ(row["msg_bytes"].get<double>(), row["wire_bytes"].get<double>() + 32) << name;
    for (const char* f : {"serialize_ns", "deserialize_ns", "transport_ns", "serialization_pct", "rtt_p50_ns"})
      ASSERT_TRUE(row.contains(f)) << name << " lacks " << f;
    if (row["run_type"] != "iteration") continue;
    ++iterations[ser];
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << name << ": " << row["error_message"];
    EXPECT_EQ(row["corrupt"], 0);  // every decoded message gave back the message's checksum
    EXPECT_EQ(row["lost"], 0);
    EXPECT_GT(row["messages"].get<std::uint64_t>(), 0u);
    // The parts are medians of per-round-trip values that add up to each round trip.
    std::uint64_t parts = row["serialize_ns"].get<std::uint64_t>() + row["deserialize_ns"].get<std::uint64_t>();
    EXPECT_LE(parts, row["rtt_max_ns"].get<std::uint64_t>()) << name;
    EXPECT_GT(row["serialization_pct"].get<double>(), 0) << name;
    EXPECT_LT(row["serialization_pct"].get<double>(), 100) << name;
    auto [it, fresh] = wire.emplace(std::make_pair(ser, shape), row["wire_bytes"].get<std::uint64_t>());
    EXPECT_EQ(it->second, row["wire_bytes"].get<std::uint64_t>()) << "one message, one size: " << name;
  }
  // 4 serializers x 2 shapes x 1 transport x 2 models x 2 repetitions.
  for (const char* s : {"raw", "protobuf", "capnp", "json"}) EXPECT_EQ(iterations[s], 8) << s;
  EXPECT_EQ(wire[std::make_pair(std::string("raw"), std::string("small"))], 48u);  // raw's fixed layout of the tick
  EXPECT_TRUE(fs::is_empty(tmp)) << "left files in TMPDIR";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

TEST(Cli, OversubscribedRunWarnsAndRecordsIt) {
  fs::path out = temp_dir("over");
  int online = static_cast<int>(std::thread::hardware_concurrency());
  std::string cores = std::to_string(online * 4);
  outcome r = bench_cmd({"run", "ipc", "--cores", cores, "--transports", "pipe", "--models", "thread", "--sizes", "64",
                         "--duration", "10ms", "--warmup", "2ms", "--reps", "1", "--no-plot", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("oversubscribed"), std::string::npos) << r.err;
  json doc = read_results(out / "results.json");
  EXPECT_TRUE(doc["context"]["oversubscribed"].get<bool>());
  EXPECT_EQ(doc["context"]["cores_requested"].get<int>(), online * 4);
  bool saw_sweep = false;
  for (const json& row : doc["benchmarks"])
    if (row["run_type"] == "iteration" && row["pairs"].get<int>() > 1) {
      saw_sweep = true;
      EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["error_message"];
    }
  EXPECT_TRUE(saw_sweep) << "the pairs sweep should reach " << online * 2 << " pairs";
  fs::remove_all(out);
}

// Ctrl-C during a run of these transports and models: the finished cases are kept, nothing is left behind.
void expect_ctrl_c_keeps_cases_and_leaves_nothing(const std::string& tag, const std::string& transports,
                                                  const std::string& models) {
  fs::path out = temp_dir(tag);
  fs::path tmp = temp_dir(tag + "-tmp");
  // Many short rounds: the first round's results are on disk after well under a second.
  outcome r = bench_cmd({"run", "ipc", "--transports", transports, "--models", models, "--sizes", "64", "--duration",
                         "20ms", "--warmup", "2ms", "--reps", "1000", "--no-plot", "--out", out.string()},
                        tmp, 0.3, out / "results.json");
  EXPECT_EQ(r.status, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  json doc = read_results(out / "results.json");
  int rows = 0;
  for (const json& row : doc["benchmarks"])
    if (row["run_type"] == "iteration") {
      ++rows;
      EXPECT_FALSE(row["error_occurred"].get<bool>()) << "an interrupted case must not be reported as a measurement";
    }
  EXPECT_GT(rows, 0);
  EXPECT_TRUE(fs::is_empty(tmp)) << "left FIFOs or sockets behind";
  EXPECT_EQ(processes_mentioning(out.string()), 0) << "left a server process behind";
  EXPECT_EQ(processes_with_environment_mentioning(tmp.string()), 0) << "left a broker process behind";
  for (const auto& e : fs::directory_iterator(out)) EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos);
  fs::remove_all(out);
  fs::remove_all(tmp);
}

// eventfd carries only its 32-byte header: with the default sizes (all larger) it runs at 32 B rather than
// appearing only as skipped rows; sizes asked for explicitly stay as asked, and are skipped with the reason.
TEST(Cli, WakeUpOnlyTransportRunsAtItsOwnSizeByDefault) {
  fs::path out = temp_dir("eventfd");
  outcome r = bench_cmd({"run", "ipc", "--quick", "--transports", "eventfd", "--models", "thread", "--duration", "5ms",
                         "--warmup", "1ms", "--reps", "1", "--cores", "2", "--no-plot", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  json doc = read_results(out / "results.json");
  std::set<std::uint64_t> sizes;
  for (const json& row : doc["benchmarks"]) sizes.insert(row["msg_bytes"].get<std::uint64_t>());
  EXPECT_EQ(sizes, (std::set<std::uint64_t>{32}));
  outcome asked = bench_cmd({"run", "ipc", "--transports", "eventfd", "--models", "thread", "--sizes", "64",
                             "--duration", "5ms", "--reps", "1", "--no-plot", "--out", (out / "asked").string()});
  EXPECT_EQ(asked.status, 2);
  EXPECT_NE(asked.err.find("eventfd carries at most 32 B per message; 64 B requested"), std::string::npos) << asked.err;
  fs::remove_all(out);
}

// The cases of a table that one transport skips for one reason take one line with their count and models.
TEST(Cli, SkippedCasesOfOneReasonShareALine) {
  fs::path out = temp_dir("skips");
  outcome r =
      bench_cmd({"run", "ipc", "--quick", "--transports", "zmq-reqrep", "--models", "thread,process", "--duration",
                 "5ms", "--warmup", "1ms", "--reps", "1", "--cores", "2", "--no-plot", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("zmq-reqrep     4 cases (thread, process) skipped: the one-way stream does not apply"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("  skipped:"), std::string::npos) << "no skipped case on a line of its own:\n" << r.out;
  fs::remove_all(out);
}

TEST(Cli, CtrlCKeepsFinishedCasesAndLeavesNothingBehind) {
  expect_ctrl_c_keeps_cases_and_leaves_nothing("sigint", "fifo,unix", "process");
}

TEST(Cli, CtrlCStopsTheEventLoopsToo) {
  // The loops wait on ZMQ_FD (REQ/REP), on the ring's epoll set (shm-eventfd) and on a socket path (zmq-ipc files).
  expect_ctrl_c_keeps_cases_and_leaves_nothing("sigint-loop", "shm-eventfd,zmq-reqrep", "async,async-uring");
}

// Where rabbitmq-server is installed (CI installs it), bench starts a private broker for the amqp cases.
bool rabbitmq_installed() {
  const char* over = std::getenv("BENCH_RABBITMQ_SERVER");
  return ::access(over && *over ? over : "/usr/lib/rabbitmq/bin/rabbitmq-server", X_OK) == 0;
}
#define SKIP_WITHOUT_RABBITMQ() \
  if (!rabbitmq_installed()) GTEST_SKIP() << "rabbitmq-server is not installed (apt-get install rabbitmq-server)"

// The amqp cases through the private broker bench starts: measured under both models, the broker's start
// recorded, and after the run no process of it and no directory left (its TMPDIR is the test's).
TEST(Cli, AmqpRunStartsItsBrokerAndLeavesNothingBehind) {
  SKIP_WITHOUT_RABBITMQ();
  fs::path out = temp_dir("amqp");
  fs::path tmp = temp_dir("amqp-tmp");
  outcome r =
      bench_cmd({"run", "ipc", "--transports", "amqp", "--models", "thread,process", "--sizes", "64", "--duration",
                 "20ms", "--warmup", "5ms", "--reps", "1", "--cores", "2", "--no-plot", "--out", out.string()},
                tmp);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("amqp: a private RabbitMQ broker"), std::string::npos) << r.out;
  json doc = read_results(out / "results.json");
  EXPECT_EQ(doc["context"]["amqp_broker"]["kind"], "private");
  EXPECT_GT(doc["context"]["amqp_broker"]["start_s"].get<double>(), 0);
  EXPECT_EQ(doc["context"]["amqp_broker"]["url"].get<std::string>().find('@'), std::string::npos)
      << "no credentials in the results";
  std::set<std::string> measured;
  for (const json& row : doc["benchmarks"])
    if (row["run_type"] == "iteration") {
      EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["error_message"];
      measured.insert(row["model"].get<std::string>() + "/" + row["workload"].get<std::string>());
    }
  EXPECT_EQ(measured,
            (std::set<std::string>{"thread/latency", "thread/throughput", "process/latency", "process/throughput"}));
  EXPECT_TRUE(fs::is_empty(tmp)) << "left the broker's directory behind";
  EXPECT_EQ(processes_with_environment_mentioning(tmp.string()), 0) << "left a process of the broker behind";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

TEST(Cli, CtrlCStopsTheAmqpBrokerToo) {
  SKIP_WITHOUT_RABBITMQ();
  // The broker's directory is in the run's TMPDIR, which must be left empty, and its processes name it.
  expect_ctrl_c_keeps_cases_and_leaves_nothing("sigint-amqp", "amqp", "thread,process");
}

// --amqp-url: the cases go through a broker that is already running (here one the test starts), and bench starts
// none of its own.
TEST(Cli, AmqpUrlUsesARunningBroker) {
  SKIP_WITHOUT_RABBITMQ();
  amqp_broker broker;
  fs::path out = temp_dir("amqp-url");
  fs::path tmp = temp_dir("amqp-url-tmp");
  outcome r = bench_cmd({"run",     "ipc",        "--transports", "amqp",       "--models",   "process", "--sizes",
                         "64",      "--duration", "20ms",         "--warmup",   "5ms",        "--reps",  "1",
                         "--cores", "2",          "--no-plot",    "--amqp-url", broker.url(), "--out",   out.string()},
                        tmp);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("a private RabbitMQ broker"), std::string::npos) << r.out;
  json doc = read_results(out / "results.json");
  EXPECT_EQ(doc["context"]["amqp_broker"]["kind"], "external");
  const std::string shown = doc["context"]["amqp_broker"]["url"].get<std::string>();
  EXPECT_NE(shown, broker.url()) << "the password is left out of the results";
  EXPECT_EQ(shown, amqp_url_for_display(broker.url()));
  for (const json& row : doc["benchmarks"]) {
    if (row["run_type"] == "iteration") {
      EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["error_message"];
    }
  }
  EXPECT_TRUE(fs::is_empty(tmp)) << "bench started a broker of its own";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

TEST(Cli, AmqpWithoutRabbitmqIsListedUnavailableWithTheReason) {
  ::setenv("BENCH_RABBITMQ_SERVER", "/nonexistent/rabbitmq-server", 1);  // as on a machine without it
  outcome r = bench_cmd({"list", "transports"});
  ::unsetenv("BENCH_RABBITMQ_SERVER");
  ASSERT_EQ(r.status, 0) << r.err;
  std::size_t at = r.out.find("\n  amqp ");
  ASSERT_NE(at, std::string::npos) << r.out;
  std::string row = r.out.substr(at, r.out.find("\n  amqp-durable") - at);
  EXPECT_NE(row.find("UNAVAILABLE: rabbitmq-server is not installed"), std::string::npos) << row;
}

TEST(Cli, AmqpUrlThatCannotBeReachedIsRefusedBeforeAnyWork) {
  outcome r = bench_cmd({"run", "ipc", "--transports", "amqp", "--amqp-url", "amqp://u:p@127.0.0.1:1/", "--no-plot"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--amqp-url amqp://u@127.0.0.1:1/"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, JsonAndCsvOnStdoutCarryNothingElse) {
  fs::path out = temp_dir("stdout");
  std::vector<std::string> run = {"run",     "ipc", "--transports", "pipe", "--models", "thread",
                                  "--sizes", "64",  "--duration",   "10ms", "--warmup", "2ms",
                                  "--reps",  "1",   "--cores",      "2",    "--out",    out.string()};
  // With charts: the chart script's output (a child process) must stay off stdout too.
  std::vector<std::string> with_json = run;
  with_json.insert(with_json.end(), {"--json", "-"});
  outcome j = bench_cmd(with_json);
  ASSERT_EQ(j.status, 0) << j.err;
  EXPECT_EQ(j.out, slurp(out / "results.json"));
  EXPECT_EQ(json::parse(j.out)["context"]["suite"], "ipc");
  EXPECT_NE(j.err.find("Round-trip latency"), std::string::npos) << "the console table goes to stderr";
  EXPECT_NE(j.err.find("results.json"), std::string::npos);

  std::vector<std::string> with_csv = run;
  with_csv.insert(with_csv.end(), {"--no-plot", "--csv", "-", "--json", (out / "copy.json").string()});
  outcome c = bench_cmd(with_csv);
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out, slurp(out / "results.csv"));
  EXPECT_EQ(c.out.rfind("name,", 0), 0u);
  EXPECT_EQ(slurp(out / "copy.json"), slurp(out / "results.json"));
  fs::remove_all(out);
}

TEST(Cli, ReportAndCompareOfFinishedRuns) {
  if (find_python().empty()) GTEST_SKIP() << "no Python with matplotlib: bench report and compare cannot run";
  fs::path tmp = temp_dir("report");
  fs::copy(fs::path(BENCH_FIXTURES) / "ipc-real", tmp / "a");
  fs::copy(fs::path(BENCH_FIXTURES) / "ipc-real", tmp / "b");
  outcome r = bench_cmd({"report", (tmp / "a").string(), (tmp / "b").string(), "--out", (tmp / "page.html").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, (tmp / "page.html").string() + "\n");
  EXPECT_EQ(slurp(tmp / "page.html").rfind("<!DOCTYPE html>", 0), 0u);
  outcome c = bench_cmd({"compare", (tmp / "a").string(), (tmp / "b").string(), "--out", (tmp / "cmp").string()});
  ASSERT_EQ(c.status, 0) << c.err;
  // The kept run has too few repetitions for any test to reach alpha: no case is called anything.
  EXPECT_NE(c.out.find("no verdict"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("  slower  "), std::string::npos) << c.out;  // the verdict column
  EXPECT_TRUE(fs::exists(tmp / "cmp" / "compare.json"));
  // Bad input found by the scripts (a results.json that is not one) is exit status 2 and one line too.
  std::ofstream(tmp / "b" / "results.json") << "{\"context\": {}, \"benchmarks\": [";
  outcome bad = bench_cmd({"compare", (tmp / "a").string(), (tmp / "b").string()});
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  fs::remove_all(tmp);
}

TEST(Cli, LectureOfFinishedRuns) {
  if (find_python().empty()) GTEST_SKIP() << "no Python with matplotlib: bench lecture cannot run";
  fs::path tmp = temp_dir("lecture");
  fs::copy(fs::path(BENCH_FIXTURES) / "ipc-real", tmp / "ipc");
  fs::copy(fs::path(BENCH_FIXTURES) / "contention-real", tmp / "contention");
  outcome r = bench_cmd({"lecture", (tmp / "ipc").string(), (tmp / "contention").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  // Every path it wrote, one a line: the manifest and the slide show among them.
  EXPECT_NE(r.out.find((tmp / "ipc" / "lecture" / "slides.json").string() + "\n"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tmp / "ipc" / "lecture" / "index.html"));
  EXPECT_TRUE(fs::exists(tmp / "ipc" / "lecture" / "01-latency-ladder.png"));
  fs::remove_all(tmp);
}

// Planning the class machine from here: a synthetic 8-core / 16-thread / 2-L3 topology, every placement's pairs as
// defined, and nothing measured; --json writes the plan with the rows' client_cpus and server_cpus.
TEST(Cli, DryRunPlansAnotherMachine) {
  fs::path tmp = temp_dir("dry");
  const std::string topo = "synthetic:package:1 l3:2 core:4 pu:2";
  for (const char* place : {"cross", "smt", "far"}) {
    fs::path plan = tmp / (std::string(place) + ".json");
    outcome r = bench_cmd({"run", "ipc", "--dry-run", "--topology", topo, "--cores", "8", "--placement", place,
                           "--transports", "unix", "--models", "thread", "--sizes", "64", "--json", plan.string(),
                           "--out", (tmp / place).string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("nothing was measured"), std::string::npos) << r.out;
    json doc = read_results(plan);
    EXPECT_EQ(doc["context"]["topology"]["cores"], 8);
    EXPECT_EQ(doc["context"]["topology"]["l3_domains"], 2);
    int at_four = 0;
    for (const json& row : doc["benchmarks"]) {
      EXPECT_EQ(row["placement"], place);
      EXPECT_TRUE(row.contains("client_cpus") && row.contains("server_cpus")) << row.dump();
      if (row["pairs"] == 4 && std::string(place) != "smt") {
        ++at_four;
        EXPECT_EQ(row["placed"], "8 endpoints on 8 distinct cores") << row.dump();
      }
      if (std::string(place) == "smt") {
        EXPECT_NE(row["placed"].get<std::string>().find("hardware threads"), std::string::npos);
      }
    }
    if (std::string(place) != "smt") {
      EXPECT_EQ(at_four, 2) << place;  // latency and throughput at 4 pairs
    }
  }
  fs::remove_all(tmp);
}

// The README's first command, shortened: no flag that chooses cases gives the lecture matrix, the contention
// lessons beside it and the deck, with the lock and GIL comparison among the rows.
TEST(Cli, DefaultRunIsTheLecture) {
  fs::path out = temp_dir("default");
  fs::path tmp = temp_dir("default-tmp");
  outcome r = bench_cmd(
      {"run", "ipc", "--duration", "5ms", "--warmup", "1ms", "--reps", "1", "--cores", "8", "--out", out.string()},
      tmp);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("the lecture's cases"), std::string::npos) << r.out;
  json doc = read_results(out / "results.json");
  EXPECT_EQ(doc["context"]["matrix"], "lecture");
  std::set<std::string> locks;
  for (const json& row : doc["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["name"] << ": " << row["error_message"];
    if (row["model"] == "thread" && row.value("work_ns", 0) > 0) locks.insert(row["lock"].get<std::string>());
  }
  EXPECT_EQ(locks, (std::set<std::string>{"none", "mutex", "gil-new"}));
  json contention = read_results(out / "contention" / "results.json");
  std::set<std::string> experiments;
  for (const json& row : contention["benchmarks"]) experiments.insert(row.value("experiment", ""));
  EXPECT_TRUE(experiments.count("locks") && experiments.count("gil-convoy"));
  if (!find_python().empty()) {
    json manifest = read_results(out / "lecture" / "slides.json");
    // Every lesson has its rows; one this machine cannot show still gets its slide, saying why. The broker's
    // lesson is drawn where a broker can be had, and is otherwise not for this machine.
    // The Python lessons come from the run's python/ rows, where a CPython could run them.
    const bool cpython = fs::exists(out / "python" / "results.json") &&
                         read_results(out / "python" / "results.json")["context"]["python"]["failure"] == "";
    EXPECT_EQ(manifest["slides"].size(), (rabbitmq_installed() ? 10u : 9u) + (cpython ? 2u : 0u)) << manifest.dump();
    EXPECT_TRUE(manifest["not_in_results"].empty()) << manifest["not_in_results"].dump();
    EXPECT_TRUE(fs::exists(out / "lecture" / "lecture.pdf"));
  }
  EXPECT_TRUE(fs::is_empty(tmp)) << "left files in TMPDIR";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

TEST(Cli, RunAllRunsEverySuiteThenOneReport) {
  fs::path out = temp_dir("all");
  outcome r = bench_cmd({"run", "all", "--quick", "--duration", "10ms", "--warmup", "2ms", "--reps", "1", "--cores",
                         "2", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const suite_info& s : suites()) {
    EXPECT_TRUE(fs::exists(out / s.name / "results.json")) << s.name;
    EXPECT_NE(r.out.find("== bench run " + std::string(s.name) + " =="), std::string::npos) << s.name;
  }
  if (!find_python().empty()) {
    std::string page = slurp(out / "report.html");
    for (const suite_info& s : suites())
      EXPECT_NE(page.find(std::string(s.name) + " suite"), std::string::npos) << s.name;
  }
  fs::remove_all(out);
}

TEST(Cli, ListAndInfo) {
  outcome l = bench_cmd({"list"});
  EXPECT_EQ(l.status, 0);
  for (const char* t : {"pipe", "fifo", "unix", "tcp", "thread", "process", "ipc"})
    EXPECT_NE(l.out.find(t), std::string::npos) << t;
  outcome t = bench_cmd({"list", "transports"});
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.out.find("models:"), std::string::npos);
  outcome i = bench_cmd({"info"});
  EXPECT_EQ(i.status, 0) << i.err;
  EXPECT_NE(i.out.find("hardware floor"), std::string::npos);
  EXPECT_NE(i.out.find("memcpy"), std::string::npos);
}

TEST(Cli, NotApplicableCombinationsAreListedAndSkippedWithTheirReason) {
  // bench list says what the event loops cannot drive (and only that), and that REQ/REP is ping-pong only.
  outcome m = bench_cmd({"list", "models"});
  ASSERT_EQ(m.status, 0) << m.err;
  std::size_t at = m.out.find("\n  async ");
  ASSERT_NE(at, std::string::npos) << m.out;
  std::string async_line = m.out.substr(at + 1, m.out.find('\n', at + 1) - at - 1);
  EXPECT_NE(
      async_line.find("not with shm-spin, shm, mmap, amqp, amqp-durable, amqp-confirmed (has no pollable descriptor"),
      std::string::npos)
      << async_line;
  EXPECT_EQ(async_line.find("eventfd"), std::string::npos)
      << "shm-eventfd and eventfd are driven by the loops: " << async_line;
  outcome t = bench_cmd({"list", "transports"});
  EXPECT_NE(t.out.find("ping-pong only"), std::string::npos) << t.out;

  // A run skips each such case with its reason, on the console and in the results.
  fs::path out = temp_dir("na");
  outcome r = bench_cmd({"run", "ipc", "--transports", "zmq-reqrep,shm-spin", "--models", "async", "--sizes", "64",
                         "--duration", "5ms", "--warmup", "2ms", "--reps", "1", "--no-plot", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("skipped: the one-way stream does not apply to zmq-reqrep: REQ/REP"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("skipped: shm-spin has no pollable descriptor"), std::string::npos) << r.out;
  fs::remove_all(out);

  // Nothing left to run: bad input, exit 2 before any work.
  outcome rate = bench_cmd({"run", "ipc", "--transports", "zmq-reqrep", "--models", "thread", "--rate", "1000"});
  EXPECT_EQ(rate.status, 2);
  EXPECT_NE(rate.err.find("the open-loop sender (--rate) does not apply to zmq-reqrep"), std::string::npos) << rate.err;
}

}  // namespace
}  // namespace bench

namespace bench {
namespace {

// Shared-memory segments of the python suite's workers (bench-py-<pid>-<case>-...) in /dev/shm.
int python_segments_left() {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/dev/shm"))
    if (e.path().filename().string().starts_with("bench-py-")) ++n;
  return n;
}

// `bench run python --quick` as the issue asks it: every Python transport and serializer measured on real CPython
// with its payloads checked, each beside its C++ row of the same run, and nothing left behind.
TEST(Cli, PythonQuickRunMeasuresEveryTransportAndSerializerBesideCpp) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  fs::path out = temp_dir("python"), tmp = temp_dir("python-tmp");
  outcome r = bench_cmd({"run", "python", "--quick", "--duration", "30ms", "--warmup", "5ms", "--reps", "1", "--cores",
                         "2", "--no-plot", "--out", out.string()},
                        tmp);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  json doc = read_results(out / "results.json");
  bench::testing::expect_schema_and_identity(doc);
  ASSERT_EQ(doc["context"]["python"]["failure"], "") << doc["context"]["python"].dump();
  const std::string runtime = doc["context"]["python"]["runtime"];
  EXPECT_TRUE(runtime.starts_with("cpython-")) << runtime;
  std::set<std::string> transports, serializers, experiments, names;
  std::set<std::string> counterparts;
  for (const json& row : doc["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["name"] << ": " << row["error_message"];
    names.insert(row["run_name"].get<std::string>());
    if (row["runtime"] != runtime) continue;
    experiments.insert(row["experiment"].get<std::string>());
    if (row.contains("transport")) transports.insert(row["transport"].get<std::string>());
    if (row.contains("serializer")) serializers.insert(row["serializer"].get<std::string>());
    if (row.contains("counterpart")) counterparts.insert(row["counterpart"].get<std::string>());
    if (row["experiment"] == "pingpong") {
      EXPECT_GT(row["rtt_p50_ns"].get<double>(), 0) << row["name"];
      EXPECT_EQ(row["messages"], row["iterations"]) << row["name"];
    }
  }
  EXPECT_EQ(transports, (std::set<std::string>{"py-pipe", "py-unix", "py-tcp", "py-udp", "py-mp-pipe", "py-mp-queue",
                                               "py-shm", "py-mmap", "py-zmq"}));
  EXPECT_EQ(serializers, (std::set<std::string>{"none", "pickle5", "pickle0", "marshal", "json", "struct", "msgpack"}));
  EXPECT_EQ(experiments, (std::set<std::string>{"pingpong", "stream", "serialize", "cpu", "switch"}));
  for (const std::string& c : counterparts) EXPECT_TRUE(names.count(c)) << "no C++ row " << c << " in the run";
  EXPECT_TRUE(
      names.count("python/experiment:pingpong/transport:pipe/model:process/serializer:none/size:64/runtime:cpp"));
  EXPECT_NE(r.out.find("Python/C++"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(tmp)) << "left files in TMPDIR";
  EXPECT_EQ(python_segments_left(), 0) << "left a shared-memory segment in /dev/shm";
  // A worker's command line holds its spec, which names its private directory in the run's TMPDIR.
  EXPECT_EQ(processes_mentioning(tmp.string()), 0) << "left a worker process behind";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

// A worker that outlives its deadline is killed with everything it started; its rows fail with the reason.
TEST(Cli, PythonWorkerPastItsDeadlineFailsTheCaseAndLeavesNothing) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  fs::path out = temp_dir("python-late"), tmp = temp_dir("python-late-tmp");
  outcome r = bench_cmd({"run",        "python",  "--transports", "py-shm,py-mp-queue",
                         "--models",   "process", "--sizes",      "64",
                         "--duration", "500ms",   "--warmup",     "1ms",
                         "--timeout",  "1ms",     "--reps",       "1",
                         "--cores",    "2",       "--filter",     "pingpong",
                         "--no-plot",  "--out",   out.string()},
                        tmp);
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  json doc = read_results(out / "results.json");
  int failed = 0;
  for (const json& row : doc["benchmarks"])
    if (row["run_type"] == "iteration" && row["runtime"] != "cpp") {
      EXPECT_TRUE(row["error_occurred"].get<bool>()) << row["name"];
      EXPECT_NE(row["error_message"].get<std::string>().find("overran its deadline"), std::string::npos)
          << row["error_message"];
      ++failed;
    }
  EXPECT_EQ(failed, 2);
  EXPECT_TRUE(fs::is_empty(tmp)) << "left files in TMPDIR";
  EXPECT_EQ(python_segments_left(), 0) << "left a shared-memory segment in /dev/shm";
  // A worker's command line holds its spec, which names its private directory in the run's TMPDIR.
  EXPECT_EQ(processes_mentioning(tmp.string()), 0) << "left a worker process behind";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

// Ctrl-C in the middle of a worker: exit 130, the rounds already measured kept (the one cut short is not a
// result), and the worker's processes, segments and files gone with it.
TEST(Cli, PythonCtrlCKeepsFinishedRoundsAndLeavesNothing) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  fs::path out = temp_dir("python-sigint"), tmp = temp_dir("python-sigint-tmp");
  outcome r = bench_cmd(
      {"run", "python", "--transports", "py-shm,py-mp-queue", "--models", "process", "--sizes", "64", "--filter",
       "pingpong", "--duration", "100ms", "--warmup", "2ms", "--reps", "1000", "--no-plot", "--out", out.string()},
      tmp, 0.3, out / "results.json");
  EXPECT_EQ(r.status, 130) << r.err;
  json doc = read_results(out / "results.json");
  int rows = 0;
  for (const json& row : doc["benchmarks"])
    if (row["run_type"] == "iteration") {
      ++rows;
      EXPECT_FALSE(row["error_occurred"].get<bool>()) << "an interrupted case must not be reported as a measurement";
    }
  EXPECT_GT(rows, 0);
  EXPECT_TRUE(fs::is_empty(tmp)) << "left files in TMPDIR";
  EXPECT_EQ(python_segments_left(), 0) << "left a shared-memory segment in /dev/shm";
  EXPECT_EQ(processes_mentioning(tmp.string()), 0) << "left a worker process behind";
  fs::remove_all(out);
  fs::remove_all(tmp);
}

// An interpreter without pyzmq and msgpack (here Debian's, told that neither exists): the cases that need them are
// listed unavailable with the reason and skipped, and the others run.
TEST(Cli, PythonWithoutAModuleListsItUnavailableAndSkipsItsCases) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  fs::path dir = temp_dir("python-missing");
  {
    std::ofstream(dir / "zmq.py") << "raise ImportError('hidden by the test')\n";
    std::ofstream(dir / "msgpack.py") << "raise ImportError('hidden by the test')\n";
    std::ofstream sh(dir / "python3");
    sh << "#!/bin/sh\nPYTHONPATH=" << dir.string() << " exec /usr/bin/python3 \"$@\"\n";
  }
  fs::permissions(dir / "python3", fs::perms::owner_all);
  const std::string py = (dir / "python3").string();
  fs::path out = dir / "run";
  outcome r =
      bench_cmd({"run",     "python",   "--python", py,           "--transports", "py-zmq,py-pipe", "--serializers",
                 "msgpack", "--models", "process",  "--duration", "20ms",         "--warmup",       "2ms",
                 "--reps",  "1",        "--cores",  "2",          "--no-plot",    "--out",          out.string()});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("skipped (no module zmq (python3-zmq)): pingpong py-zmq process"), std::string::npos) << r.out;
  json doc = read_results(out / "results.json");
  std::set<std::string> skipped;
  for (const json& s : doc["context"]["skipped"]) skipped.insert(s["name"].get<std::string>());
  EXPECT_TRUE(skipped.count("python/experiment:serialize/serializer:msgpack/runtime:" +
                            doc["context"]["python"]["runtime"].get<std::string>()));
  bool py_pipe = false;
  for (const json& row : doc["benchmarks"])
    if (row["run_type"] == "iteration") {
      EXPECT_NE(row.value("transport", ""), "py-zmq");
      EXPECT_NE(row.value("transport", ""), "zmq-ipc") << "a C++ row beside a skipped Python case";
      py_pipe = py_pipe || row.value("transport", "") == "py-pipe";
    }
  EXPECT_TRUE(py_pipe);
  ::setenv("BENCH_PYTHON", py.c_str(), 1);
  outcome l = bench_cmd({"list", "python"});
  ::unsetenv("BENCH_PYTHON");
  EXPECT_EQ(l.status, 0);
  EXPECT_NE(l.out.find("UNAVAILABLE: no module zmq"), std::string::npos) << l.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bench
