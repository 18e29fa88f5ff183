// bench serve on loopback (no root needed): a run against it meets the results contract and names both hosts;
// bad control frames, a wrong version and a client that vanishes mid-case leave it serving the next client; a
// second client is answered busy; Ctrl-C stops it and leaves no process behind.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "harness/control.hpp"
#include "tests/bench/remote_support.hpp"
#include "transports/network.hpp"

namespace bench {
namespace {
using test::child_process;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct serve_fixture {
  fs::path dir;
  std::string marker;
  std::unique_ptr<child_process> serve;
  std::string address;
  explicit serve_fixture(const std::string& tag, std::vector<std::string> extra = {}) {
    dir = test::fresh_dir(tag);
    marker = "BENCH_TEST_MARK=" + tag + "-" + std::to_string(::getpid());
    std::vector<std::string> argv = {BENCH_BINARY, "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    fs::create_directories(dir / "serve");
    serve = std::make_unique<child_process>(argv, dir / "serve", std::vector<std::string>{marker});
    address = test::serve_address(*serve);
  }
  ~serve_fixture() {
    serve.reset();
    fs::remove_all(dir);
  }
  bool alive() { return !serve->wait(0).has_value(); }
};

control_channel connect_control(const std::string& address) {
  return control_channel(connect_tcp(parse_net_address(address, 0), 5'000));
}

control_frame hello(control_channel& c, int protocol = control_protocol) {
  c.send(control_type::hello, {{"protocol", protocol}, {"host", "test"}});
  std::optional<control_frame> f = c.receive(30'000);
  EXPECT_TRUE(f);
  return f ? *f : control_frame{};
}

std::vector<std::string> quick_run(const std::string& address, const fs::path& out, const std::string& transports) {
  return {BENCH_BINARY, "run",    "ipc",     "--peer",    address,      "--transports", transports,
          "--models",   "thread", "--sizes", "64,4K",     "--duration", "5ms",          "--warmup",
          "1ms",        "--reps", "1",       "--no-plot", "--out",      out.string()};
}

TEST(Serve, LoopbackRunMeetsTheResultsContract) {
  serve_fixture s("run");
  ASSERT_FALSE(s.address.empty()) << s.serve->out() << s.serve->err();
  fs::create_directories(s.dir / "run");
  child_process run(quick_run(s.address, s.dir / "out", "tcp,udp,zmq-tcp"), s.dir / "run");
  std::optional<int> st = run.wait(240);
  ASSERT_TRUE(st) << "the run did not finish";
  EXPECT_EQ(*st, 0) << run.err();
  test::check_results(s.dir / "out" / "results.json", "tcp, udp, zmq-tcp");
  EXPECT_NE(s.serve->out().find("done, "), std::string::npos) << s.serve->out();
  // Both unpinned on this one machine: the client must say that the two ends can share a CPU.
  EXPECT_NE(run.err().find("runs on this machine, on CPUs this run uses too"), std::string::npos) << run.err();
  json doc = json::parse(test::slurp(s.dir / "out" / "results.json"));
  EXPECT_FALSE(doc["context"]["peer"]["shared_cpus"].empty());
}

// The server side runs what the client asked for: its --work under each --lock, and with --serializers it
// decodes and re-encodes every request (a server that echoed raw bytes would leave the parts at zero).
TEST(Serve, LockAndSerializerReachTheServer) {
  serve_fixture s("locks");
  ASSERT_FALSE(s.address.empty()) << s.serve->out() << s.serve->err();
  fs::create_directories(s.dir / "run");
  auto run_with = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        BENCH_BINARY, "run",      "ipc",    "--peer",     s.address, "--transports",
        "tcp",        "--models", "thread", "--duration", "5ms",     "--warmup",
        "1ms",        "--reps",   "1",      "--no-plot",  "--out",   (s.dir / out).string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_process run(argv, s.dir / "run");
    std::optional<int> st = run.wait(240);
    EXPECT_TRUE(st) << "the run did not finish";
    EXPECT_EQ(st.value_or(-1), 0) << run.err();
    return json::parse(test::slurp(s.dir / out / "results.json"));
  };
  json locked = run_with("locked", {"--sizes", "64", "--work", "2us", "--lock", "none,gil-new"});
  std::set<std::string> locks;
  for (const json& row : locked["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["name"] << ": " << row["error_message"];
    locks.insert(row["lock"].get<std::string>());
  }
  EXPECT_EQ(locks, (std::set<std::string>{"none", "gil-new"}));
  json serialized = run_with("ser", {"--serializers", "raw,json", "--shapes", "small"});
  int rows = 0;
  for (const json& row : serialized["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    ++rows;
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["name"] << ": " << row["error_message"];
    EXPECT_EQ(row["corrupt"], 0) << row["name"];
    EXPECT_GT(row["deserialize_ns"].get<double>(), 0) << row["name"];
  }
  EXPECT_EQ(rows, 2);
  // What the server says it ran: the lock and the serializer arrived there, not only in the client's rows.
  std::string log = s.serve->out();
  EXPECT_NE(log.find("work 2000 ns under lock gil-new"), std::string::npos) << log;
  EXPECT_NE(log.find("serializer json shape small"), std::string::npos) << log;
}

TEST(Serve, RefusesBadInputBeforeAnyWork) {
  serve_fixture s("usage");
  ASSERT_FALSE(s.address.empty());
  fs::create_directories(s.dir / "a");
  struct bad {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<bad> cases = {
      {{"--peer", s.address, "--transports", "unix"}, "cannot cross machines"},
      {{"--peer", s.address, "--placement", "same"}, "--placement same"},
      {{"--peer", "127.0.0.1:1"}, "cannot connect"},
      {{"--peer", "127.0.0.1:99999"}, "port"},
  };
  for (const bad& b : cases) {
    std::vector<std::string> argv = {BENCH_BINARY, "run", "ipc", "--out", (s.dir / "never").string()};
    argv.insert(argv.end(), b.args.begin(), b.args.end());
    child_process run(argv, s.dir / "a");
    EXPECT_EQ(run.wait(60), 2) << b.says;
    std::string err = run.err();
    EXPECT_NE(err.find(b.says), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_FALSE(fs::exists(s.dir / "never"));
  }
  child_process bad_listen({BENCH_BINARY, "serve", "--listen", "127.0.0.1:notaport"}, s.dir / "a");
  EXPECT_EQ(bad_listen.wait(10), 2);
}

TEST(Serve, BadFramesAndVanishingClientsLeaveItServing) {
  serve_fixture s("fuzz");
  ASSERT_FALSE(s.address.empty());
  net_address at = parse_net_address(s.address, 0);
  auto raw_exchange = [&](const std::string& bytes) {
    unique_fd fd = connect_tcp(at, 5'000);
    ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    control_channel c(std::move(fd));
    try {
      std::optional<control_frame> f = c.receive(10'000);
      return f ? f->body.value("code", std::string("?")) : std::string("silence");
    } catch (const std::exception& e) {
      return std::string("closed: ") + e.what();
    }
  };
  EXPECT_EQ(raw_exchange("GET / HTTP/1.0\r\n\r\n"), "malformed");
  EXPECT_EQ(raw_exchange(std::string("BNCC\0\1\0\0\x7f\xff\xff\xff", 12)), "malformed");  // 2 GiB frame
  EXPECT_EQ(raw_exchange(std::string("BNCC\0\x63\0\0\0\0\0\0", 12)), "malformed");        // unknown type
  EXPECT_EQ(raw_exchange(std::string("BNCC\0\1\0\0\0\0\0\3abc", 15)), "malformed");       // not JSON
  {
    control_channel c = connect_control(s.address);
    control_frame f = hello(c, 99);
    EXPECT_EQ(f.type, control_type::error);
    EXPECT_EQ(f.body.value("code", ""), "version");
    EXPECT_NE(f.body.value("message", "").find("protocol version 99"), std::string::npos);
  }
  {
    // Malformed and impossible requests are answered, and the same session goes on.
    control_channel c = connect_control(s.address);
    ASSERT_EQ(hello(c).type, control_type::welcome);
    c.send(control_type::run_case, {{"transport", "tcp"}});
    std::optional<control_frame> f = c.receive(10'000);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->type, control_type::error);
    EXPECT_EQ(f->body.value("code", ""), "refused");
    c.send(control_type::ready);
    f = c.receive(10'000);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->body.value("code", ""), "malformed");
    c.send(control_type::bye);
  }
  {
    // A client that asks for a case, gets its ports, and vanishes before connecting.
    control_channel c = connect_control(s.address);
    ASSERT_EQ(hello(c).type, control_type::welcome);
    nlohmann::ordered_json req = {{"transport", "tcp"},
                                  {"model", "process"},
                                  {"workload", "latency"},
                                  {"msg_bytes", 64},
                                  {"warmup_ns", 1000000},
                                  {"duration_ns", 5000000},
                                  {"rate", 0},
                                  {"work_ns", 0},
                                  {"lock", "none"},
                                  {"serializer", "none"},
                                  {"shape", "small"},
                                  {"seed", 1},
                                  {"flow_window_bytes", 0},
                                  {"pairs", 2},
                                  {"placement", "cross"},
                                  {"wait", "block"},
                                  {"timeout_ns", 1000000000},
                                  {"client_ports", {json::array(), json::array()}}};
    c.send(control_type::run_case, req);
    std::optional<control_frame> f = c.receive(10'000);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->type, control_type::listening) << f->body.dump();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(s.alive());
  // ... and the next client is served as if nothing had happened.
  fs::create_directories(s.dir / "run");
  child_process run(quick_run(s.address, s.dir / "out", "tcp"), s.dir / "run");
  EXPECT_EQ(run.wait(120), 0) << run.err() << s.serve->out();
  test::check_results(s.dir / "out" / "results.json", "tcp");
  std::string log = s.serve->out();
  EXPECT_NE(log.find("went away in the middle of the case"), std::string::npos) << log;
}

TEST(Serve, SecondClientIsAnsweredBusy) {
  serve_fixture s("busy");
  ASSERT_FALSE(s.address.empty());
  control_channel first = connect_control(s.address);
  ASSERT_EQ(hello(first).type, control_type::welcome);
  control_channel second = connect_control(s.address);
  control_frame f = hello(second);
  EXPECT_EQ(f.type, control_type::error);
  EXPECT_EQ(f.body.value("code", ""), "busy");
  EXPECT_NE(f.body.value("message", "").find("--clients"), std::string::npos);
  first.send(control_type::bye);
  first.close();
  // Once the first session has ended, the next client is welcome (the server reaps it within a poll).
  control_type got = control_type::error;
  for (int i = 0; i < 50 && got != control_type::welcome; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    control_channel next = connect_control(s.address);
    got = hello(next).type;
  }
  EXPECT_EQ(got, control_type::welcome);
}

TEST(Serve, ClientsFlagServesSeveralAtOnce) {
  serve_fixture s("clients", {"--clients", "2"});
  ASSERT_FALSE(s.address.empty());
  EXPECT_NE(s.serve->out().find("2 clients at a time"), std::string::npos) << s.serve->out();
  control_channel first = connect_control(s.address), second = connect_control(s.address);
  EXPECT_EQ(hello(first).type, control_type::welcome);
  EXPECT_EQ(hello(second).type, control_type::welcome);
  control_channel third = connect_control(s.address);
  EXPECT_EQ(hello(third).body.value("code", ""), "busy");
}

TEST(Serve, CtrlCEndsTheRunningCaseAndLeavesNothingBehind) {
  serve_fixture s("sigint");
  ASSERT_FALSE(s.address.empty());
  fs::create_directories(s.dir / "run");
  std::vector<std::string> argv = quick_run(s.address, s.dir / "out", "tcp");
  argv[std::find(argv.begin(), argv.end(), "--models") - argv.begin() + 1] = "process";
  argv[std::find(argv.begin(), argv.end(), "--duration") - argv.begin() + 1] = "2s";
  child_process run(argv, s.dir / "run");
  // Once the client has started its first case (its progress line), Ctrl-C the server in the middle of it.
  for (int i = 0; i < 3000 && run.err().find("round 1/") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(s.serve->stop(SIGINT), 0) << s.serve->out();
  EXPECT_NE(s.serve->out().find("bench serve: stopped"), std::string::npos);
  std::optional<int> st = run.wait(60);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, 1) << run.err();  // the cases on a stopped server failed, each with its reason
  EXPECT_NE(run.err().find("stopped"), std::string::npos) << run.err();
  EXPECT_EQ(test::processes_with(s.marker), 0);
}

}  // namespace
}  // namespace bench
