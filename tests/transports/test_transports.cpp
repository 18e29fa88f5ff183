// Every registered transport under every model it supports, through the same checks: messages round-trip
// intact (small and large: stream transports must survive split reads), a bad header is refused, and nothing
// is left behind (no file in the scratch directory, no child process).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "harness/ipc_case.hpp"
#include "harness/model.hpp"
#include "tests/transports/amqp_support.hpp"
#include "transports/transport.hpp"

namespace bench {
namespace {
namespace fs = std::filesystem;

class scratch {
 public:
  scratch() {
    path_ = fs::temp_directory_path() / ("bench-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~scratch() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  bool empty() const { return fs::is_empty(path_); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

bool has_children() {
  // The AMQP broker's keeper (started once for this binary, see amqp_test_broker) is a child by design.
  pid_t keeper = amqp_test_broker_keeper();
  for (pid_t p : child_processes()) {
    if (p == keeper) continue;
    if (::waitpid(p, nullptr, WNOHANG) == p) continue;  // it had exited: reaped now, not left running
    return true;
  }
  return false;
}

channel_options options_in(const scratch& dir, const char* name) {
  channel_options opt;
  opt.max_msg_bytes = 4096;
  opt.scratch_dir = dir.str();
  opt.unique_name = name;
  return opt;
}

struct combo {
  const transport_info* t;
  const model_info* m;
};
std::vector<combo> all_combos() {
  std::vector<combo> v;
  for (const auto& t : transports())
    for (const auto& m : models())
      if (t.unavailable_reason().empty() && m.unavailable_reason().empty() && incompatibility(m, t).empty())
        v.push_back({&t, &m});
  return v;
}
std::string combo_name(const testing::TestParamInfo<combo>& i) {
  std::string n = std::string(i.param.t->name) + "_" + std::string(i.param.m->name);
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

class EveryTransport : public testing::TestWithParam<combo> {
 protected:
  json run(workload_kind kind, std::size_t size, int pairs = 1, wait_mode wait = wait_mode::block,
           std::size_t flow_window = 0, const ser::serializer_info* serializer = nullptr) {
    core_plan cores = plan_cores(2);
    need_broker_for(*GetParam().t);
    ipc_case c;
    c.transport = GetParam().t;
    c.model = GetParam().m;
    c.pairs = pairs;
    c.wl.kind = kind;
    c.wl.msg_bytes = size;
    c.wl.warmup_ns = 2'000'000;
    c.wl.duration_ns = 20'000'000;
    c.wl.flow_window_bytes = flow_window ? flow_window : GetParam().t->credit_window_bytes;
    c.wl.serializer = serializer;
    c.wait_as = wait;
    c.wait = c.transport->fixed_wait.empty() ? to_string(wait) : std::string(c.transport->fixed_wait);
    c.name = case_name(c);
    case_environment env;
    env.cores = &cores;
    env.scratch_dir = dir_.str();
    env.timeout_ns = 20'000'000'000ull;  // only to keep a broken transport from hanging the suite
    env.case_serial = ++serial_;
    return run_ipc_case(c, env);
  }
  void expect_clean(const json& row) {
    EXPECT_FALSE(row["error_occurred"].get<bool>()) << row["error_message"];
    EXPECT_GT(row["messages"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(row["lost"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(row["corrupt"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(row["duplicated"].get<std::uint64_t>(), 0u);
    EXPECT_TRUE(dir_.empty()) << "left files in " << dir_.str();
    EXPECT_FALSE(has_children()) << "left a child process";
  }
  bool fits(std::size_t size) const { return !GetParam().t->max_msg_bytes || size <= GetParam().t->max_msg_bytes; }
  // "" where the one-way stream applies to the transport; otherwise why not (REQ/REP: ping-pong only).
  std::string no_stream() const {
    workload_params wl;
    wl.kind = workload_kind::throughput;
    return workload_incompatibility(*GetParam().t, wl);
  }
  // 64 bytes, or less where the transport carries less (eventfd: the 32-byte header alone).
  std::size_t small() const { return fits(64) ? 64 : GetParam().t->max_msg_bytes; }
  scratch dir_;
  int serial_ = 0;
};

TEST_P(EveryTransport, SmallMessagesRoundTripIntact) {
  json row = run(workload_kind::latency, small());
  expect_clean(row);
  EXPECT_GT(row["rtt_p50_ns"].get<std::uint64_t>(), 0u);
  // A short case may hold too few round trips for a p99 (it needs 1000): then it is withheld, with the reason.
  if (row["rtt_p99_ns"].is_null()) {
    EXPECT_NE(row.value("percentiles_withheld", "").find("p99"), std::string::npos) << row.dump();
  } else {
    EXPECT_LE(row["rtt_p50_ns"].get<std::uint64_t>(), row["rtt_p99_ns"].get<std::uint64_t>());
  }
  EXPECT_LE(row["rtt_p50_ns"].get<std::uint64_t>(), row["rtt_max_ns"].get<std::uint64_t>());
}

TEST_P(EveryTransport, LargeMessagesSurviveSplitReadsAndWrites) {
  // 1 MiB is 16 times a pipe's buffer: every message takes many partial writes and reads.
  if (!fits(1 << 20)) GTEST_SKIP() << "transport carries at most " << GetParam().t->max_msg_bytes << " bytes";
  expect_clean(run(workload_kind::latency, 1 << 20));
  if (no_stream().empty()) expect_clean(run(workload_kind::throughput, 1 << 20));
}

TEST_P(EveryTransport, SerializedMessagesRoundTripIntact) {
  // --serializers: every message is encoded and decoded at both ends. Cap'n Proto reads 8-byte words in place,
  // so this also proves that every transport's receive buffer hands the decoder a usable payload.
  const ser::serializer_info* capnp = ser::find_serializer("capnp");
  ASSERT_NE(capnp, nullptr);
  std::size_t size = header_bytes + encoded_bytes(*capnp, ser::shape::small);
  if (!fits(size)) GTEST_SKIP() << "transport carries at most " << GetParam().t->max_msg_bytes << " bytes";
  json row = run(workload_kind::latency, size, 1, wait_mode::block, 0, capnp);
  expect_clean(row);
  EXPECT_EQ(row["serializer"], "capnp");
  EXPECT_EQ(row["shape"], "small");
  EXPECT_EQ(row["wire_bytes"].get<std::size_t>(), size - header_bytes);
  for (const char* f : {"serialize_ns", "deserialize_ns", "transport_ns"})
    EXPECT_GT(row[f].get<std::uint64_t>(), 0u) << f;
}

TEST_P(EveryTransport, OddSizesStreamIntact) {
  if (!fits(4099)) GTEST_SKIP();
  if (std::string why = no_stream(); !why.empty()) GTEST_SKIP() << why;
  json row = run(workload_kind::throughput, 4099);
  expect_clean(row);
  EXPECT_GT(row["msgs_per_s"].get<double>(), 0);
}

TEST_P(EveryTransport, CreditFlowControlKeepsTheStreamIntact) {
  // The credit path lossy transports use, exercised on every transport (a 4 KiB window: 64 messages of 64 B).
  if (std::string why = no_stream(); !why.empty()) GTEST_SKIP() << why;
  json row = run(workload_kind::throughput, small(), 1, wait_mode::block, 4096);
  expect_clean(row);
  EXPECT_GT(row["msgs_per_s"].get<double>(), 0);
}

TEST_P(EveryTransport, SeveralPairsAtOnce) { expect_clean(run(workload_kind::latency, small(), 3)); }

TEST_P(EveryTransport, SpinningWaitWorksToo) {
  if (!GetParam().t->spin_capable) GTEST_SKIP();
  if (!GetParam().m->spins) GTEST_SKIP() << GetParam().m->name << " waits in the kernel; spinning is not offered";
  expect_clean(run(workload_kind::latency, small(), 1, wait_mode::spin));
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryTransport, testing::ValuesIn(all_combos()), combo_name);

// Endpoint-level checks, in one thread pair, without the harness's workloads.
class EveryEndpoint : public testing::TestWithParam<const transport_info*> {
 protected:
  channel make_channel(const scratch& dir, std::size_t max_msg_bytes, const char* name) {
    channel_options opt;
    opt.max_msg_bytes = max_msg_bytes;
    opt.scratch_dir = dir.str();
    opt.unique_name = name;
    need_broker_for(*GetParam());
    return GetParam()->make(opt);
  }
};

TEST_P(EveryEndpoint, ManyVariableSizedMessagesArriveInOrder) {
  // 300 datagrams sent back to back with no flow control: a lossy transport may drop some (seen here under
  // load). Its losses are counted by the workloads, which run it with credits (CreditFlowControl... above).
  if (GetParam()->lossy) GTEST_SKIP() << GetParam()->name << " may drop messages when its receiver falls behind";
  scratch dir;
  channel_options opt;
  opt.max_msg_bytes = 70'000;
  opt.scratch_dir = dir.str();
  opt.unique_name = "vary";
  need_broker_for(*GetParam());
  std::size_t limit = std::min<std::size_t>(GetParam()->max_msg_bytes ? GetParam()->max_msg_bytes : 70'000, 70'000);
  opt.max_msg_bytes = limit;
  channel ch = GetParam()->make(opt);
  constexpr int n = 300;
  // A ping-pong-only transport (REQ/REP) takes the next message only after the reply to the last: echo each.
  const bool echo = !GetParam()->ping_pong_only.empty();
  std::thread sender([&] {
    std::vector<std::byte> reply(70'000);
    for (int i = 0; i < n; ++i) {
      std::size_t size = limit <= 32 ? 32 : 32 + (static_cast<std::size_t>(i) * 7919) % (limit - 32);
      message_source src(size, static_cast<std::uint64_t>(i));
      ch.client->send(src.next(static_cast<std::uint64_t>(i), 0));
      if (echo) ch.client->recv(reply);
    }
  });
  std::vector<std::byte> buf(70'000);
  for (int i = 0; i < n; ++i) {
    std::size_t got = ch.server->recv(buf);
    ASSERT_GT(got, 0u);
    std::span<const std::byte> msg(buf.data(), got);
    ASSERT_TRUE(verify_message(msg)) << "message " << i;
    ASSERT_EQ(read_header(msg).seq, static_cast<std::uint64_t>(i));
    if (echo) ch.server->send(msg);
  }
  sender.join();
  ch = {};
  EXPECT_TRUE(dir.empty());
}

TEST_P(EveryEndpoint, BadHeaderIsRefused) {
  if (!GetParam()->stream) GTEST_SKIP() << "datagram transports deliver whole messages; the harness checks them";
  scratch dir;
  channel ch = make_channel(dir, 4096, "bad");
  std::vector<std::byte> junk(64, std::byte{0x5a});
  ch.client->send(junk);
  std::vector<std::byte> buf(4096);
  EXPECT_THROW(ch.server->recv(buf), protocol_error);
}

TEST_P(EveryEndpoint, PeerClosingIsSeen) {
  if (!GetParam()->sees_peer_close) GTEST_SKIP() << GetParam()->name << " cannot tell that its peer went away";
  scratch dir;
  channel ch = make_channel(dir, 4096, "close");
  ch.client.reset();
  std::vector<std::byte> buf(4096);
  EXPECT_EQ(ch.server->recv(buf), 0u);
}

// A receiver that polls anyway can be polled between sends (the open loop does, with --rate): what is there,
// or nothing at once, and a peer's end once it is gone.
TEST_P(EveryEndpoint, PolledReceiveTakesWhatIsThereAndNeverWaits) {
  if (!GetParam()->spin_capable && GetParam()->fixed_wait != "spin") GTEST_SKIP() << GetParam()->name << " never spins";
  scratch dir;
  channel_options opt;
  opt.max_msg_bytes = 4096;
  opt.scratch_dir = dir.str();
  opt.unique_name = "poll";
  opt.wait = wait_mode::spin;
  need_broker_for(*GetParam());
  channel ch = GetParam()->make(opt);
  if (!ch.server->spin_receiver()) GTEST_SKIP() << GetParam()->name << " offers no polled receive";
  std::vector<std::byte> buf(4096);
  EXPECT_FALSE(ch.server->poll_recv(buf).has_value()) << "nothing was sent";
  std::size_t size = GetParam()->max_msg_bytes && GetParam()->max_msg_bytes < 64 ? GetParam()->max_msg_bytes : 64;
  message_source src(size, 4);
  ch.client->send(src.next(0, 0));
  std::optional<std::size_t> got;
  for (int i = 0; i < 10'000'000 && !got; ++i) got = ch.server->poll_recv(buf);  // a bound, not a timing
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(*got, size);
  EXPECT_TRUE(verify_message(std::span<const std::byte>(buf.data(), *got)));
  if (!GetParam()->sees_peer_close) return;
  ch.client.reset();
  std::optional<std::size_t> end;
  for (int i = 0; i < 10'000'000 && !end; ++i) end = ch.server->poll_recv(buf);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, 0u) << "a peer that closed reads as closed";
  ch = {};
  EXPECT_TRUE(dir.empty());
}

std::vector<const transport_info*> available_transports() {
  std::vector<const transport_info*> v;
  for (const auto& t : transports())
    if (t.unavailable_reason().empty()) v.push_back(&t);
  return v;
}
INSTANTIATE_TEST_SUITE_P(Registry, EveryEndpoint, testing::ValuesIn(available_transports()),
                         [](const testing::TestParamInfo<const transport_info*>& i) {
                           std::string n(i.param->name);
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Faults: a server that dies, and one that hangs. The case must fail with a message, within the watchdog's
// time, and leave nothing behind.
class dying_host final : public server_host {
 public:
  void start(std::span<server_job> jobs, const workload_params&) override {
    for (server_job& j : jobs) {
      pid_t pid = ::fork();
      if (pid == 0) {
        j.slot->state.store(pair_slot::ready);
        ::_exit(7);  // dies at once, taking its endpoint with it
      }
      pids_.push_back(pid);
      j.ch->server.reset();
    }
  }
  void interrupt() noexcept override {
    for (pid_t p : pids_) ::kill(p, SIGKILL);
  }
  std::string join() override {
    for (pid_t p : pids_) ::waitpid(p, nullptr, 0);
    pids_.clear();
    return "server exited early";
  }
  std::vector<pid_t> pids_;
};

class hanging_host final : public server_host {
 public:
  void start(std::span<server_job> jobs, const workload_params&) override {
    for (server_job& j : jobs) {
      j.slot->state.store(pair_slot::ready);  // claims to be ready, then never reads
      held_.push_back(std::move(j.ch->server));
    }
  }
  void interrupt() noexcept override {}
  std::string join() override {
    held_.clear();
    return {};
  }
  std::vector<std::unique_ptr<endpoint>> held_;
};

json run_with_host(std::function<std::unique_ptr<server_host>()> make, const std::string& dir,
                   const char* transport = "pipe") {
  static model_info fake;
  fake = model_info{
      .name = "fake", .description = "test", .unavailable_reason = [] { return std::string(); }, .make = make};
  core_plan cores = plan_cores(2);
  ipc_case c;
  c.transport = find_transport(transport);
  c.model = &fake;
  c.wl.kind = workload_kind::latency;
  c.wl.msg_bytes = 64;
  c.wl.warmup_ns = 1'000'000;
  c.wl.duration_ns = 50'000'000;
  c.wait = "block";
  c.name = case_name(c);
  case_environment env;
  env.cores = &cores;
  env.scratch_dir = dir;
  env.timeout_ns = 300'000'000;
  return run_ipc_case(c, env);
}

TEST(Faults, DeadServerFailsTheCaseWithAMessage) {
  scratch dir;
  json row = run_with_host([] { return std::unique_ptr<server_host>(new dying_host); }, dir.str());
  EXPECT_TRUE(row["error_occurred"].get<bool>());
  EXPECT_NE(row["error_message"].get<std::string>().find("closed"), std::string::npos) << row["error_message"];
  EXPECT_FALSE(has_children());
  EXPECT_FALSE(abort_requested()) << "the abort flag must be cleared for the next case";
}

TEST(Faults, HungServerIsStoppedByTheWatchdog) {
  scratch dir;
  json row = run_with_host([] { return std::unique_ptr<server_host>(new hanging_host); }, dir.str());
  EXPECT_TRUE(row["error_occurred"].get<bool>());
  EXPECT_NE(row["error_message"].get<std::string>().find("timed out"), std::string::npos) << row["error_message"];
  EXPECT_FALSE(abort_requested());
}

TEST(Faults, ZmqPeerThatNeverConnectsEndsWithTheWatchdog) {
  // The server claims to be ready and never touches its endpoint: it never binds, so the client waits for an
  // address that never comes. The watchdog must end that wait; the case fails, the run goes on.
  for (const char* t : {"zmq-tcp", "zmq-ipc", "zmq-reqrep"}) {
    scratch dir;
    json row = run_with_host([] { return std::unique_ptr<server_host>(new hanging_host); }, dir.str(), t);
    EXPECT_TRUE(row["error_occurred"].get<bool>()) << t;
    EXPECT_NE(row["error_message"].get<std::string>().find("timed out"), std::string::npos) << row["error_message"];
    EXPECT_FALSE(abort_requested());
    EXPECT_TRUE(dir.empty()) << t << " left files in " << dir.str();
  }
}

// --- event-loop models --------------------------------------------------------------------------------------

std::vector<const model_info*> event_loop_models() {
  std::vector<const model_info*> v;
  for (const char* name : {"async", "async-uring"}) v.push_back(find_model(name));
  return v;
}

std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Three pairs on a host, servers started, nobody sending yet.
struct idle_case {
  explicit idle_case(const model_info& m, const char* transport = "unix") {
    channel_options opt;
    opt.max_msg_bytes = 64;
    opt.scratch_dir = dir.str();
    for (int i = 0; i < 3; ++i) {
      opt.unique_name = "idle" + std::to_string(i);
      channels.push_back(find_transport(transport)->make(opt));
    }
    slots = std::make_unique<pair_slot[]>(3);
    for (std::size_t i = 0; i < 3; ++i) jobs.push_back({&channels[i], &slots[i], -1});
    host = m.make();
  }
  bool all(int state) const {
    for (std::size_t i = 0; i < 3; ++i)
      if (slots[i].state.load() != state) return false;
    return true;
  }
  // Starts the servers and waits until every one is ready.
  void start(const workload_params& wl = {}) {
    host->start(jobs, wl);
    while (!all(pair_slot::ready)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Stops the host (the watchdog's and Ctrl-C's interrupt; a no-op for a loop that has ended) and checks that
  // every pair failed, the first saying `because`, and that the channels leave nothing behind.
  void stop_expecting_failures(const std::string& because) {
    host->interrupt();
    EXPECT_EQ(host->join(), "");
    EXPECT_TRUE(all(pair_slot::failed));
    EXPECT_NE(std::string(slots[0].error).find(because), std::string::npos) << slots[0].error;
    clear_abort();
    channels.clear();
    EXPECT_TRUE(dir.empty());
  }
  scratch dir;
  std::vector<channel> channels;
  std::unique_ptr<pair_slot[]> slots;
  std::vector<server_job> jobs;
  std::unique_ptr<server_host> host;
};

TEST(EventLoops, OneThreadServesEveryPair) {
  for (const model_info* m : event_loop_models()) {
    if (!m->unavailable_reason().empty()) continue;
    SCOPED_TRACE(std::string(m->name));
    idle_case c(*m);
    std::size_t before = thread_count();
    workload_params wl;
    c.host->start(c.jobs, wl);
    while (!c.all(pair_slot::ready)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(thread_count(), before + 1) << "one event-loop thread for the three pairs";
    c.host->interrupt();
    EXPECT_EQ(c.host->join(), "");
    clear_abort();
  }
}

TEST(EventLoops, InterruptStopsAWaitingLoopAndJoinReturns) {
  // The watchdog's path: servers waiting for messages that never come are stopped, and every pair is reported
  // failed (not left "ready"), with what stopped it.
  for (const model_info* m : event_loop_models()) {
    if (!m->unavailable_reason().empty()) continue;
    SCOPED_TRACE(std::string(m->name));
    for (bool wait_until_ready : {true, false}) {  // also: stopped before the loop even ran
      idle_case c(*m, "pipe");
      workload_params wl;
      c.host->start(c.jobs, wl);
      while (wait_until_ready && !c.all(pair_slot::ready)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      auto t0 = std::chrono::steady_clock::now();
      c.host->interrupt();
      EXPECT_EQ(c.host->join(), "");
      // Not a timing test: a generous bound that only a loop that ignored the interrupt would exceed.
      EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
      EXPECT_TRUE(c.all(pair_slot::failed));
      EXPECT_NE(std::string(c.slots[0].error).find("stopped by the watchdog"), std::string::npos) << c.slots[0].error;
      clear_abort();
      c.channels.clear();
      EXPECT_TRUE(c.dir.empty());
    }
  }
}

// Every transport an event loop can drive (ZeroMQ, the eventfd-signalled rings, sockets, pipes, queues), under
// each event-loop model available here.
std::vector<combo> event_loop_combos() {
  std::vector<combo> v;
  for (const combo& c : all_combos())
    if (!c.m->spins) v.push_back(c);
  return v;
}

// Waits (bounded: only a loop that never noticed would take this long) until no pair is `ready` any more.
bool all_over(const idle_case& c) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (c.all(pair_slot::failed) || c.all(pair_slot::done)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

TEST(EventLoops, CtrlCStopsTheLoopOnEveryTransport) {
  // Ctrl-C and the watchdog both end in interrupt(): every waiting pair is failed with the reason, whatever
  // descriptor the loop waits on (ZMQ_FD, the rings' epoll set, a socket), and nothing is left behind.
  for (const combo& k : event_loop_combos()) {
    SCOPED_TRACE(std::string(k.t->name) + " " + std::string(k.m->name));
    idle_case c(*k.m, std::string(k.t->name).c_str());
    c.start();
    c.stop_expecting_failures("stopped by the watchdog");
  }
}

TEST(EventLoops, ClientClosingEndsItsPairOnEveryTransportThatSeesIt) {
  // The loop waits; the clients close their ends (a client that failed does that). Each pair must end, failed
  // with the reason, without the watchdog: the rings' life lines wake the loop like a socket's end of file.
  for (const combo& k : event_loop_combos()) {
    if (!k.t->sees_peer_close) continue;
    SCOPED_TRACE(std::string(k.t->name) + " " + std::string(k.m->name));
    idle_case c(*k.m, std::string(k.t->name).c_str());
    c.start();
    for (channel& ch : c.channels) ch.client.reset();
    EXPECT_TRUE(all_over(c)) << "the loop did not see its clients go";
    c.stop_expecting_failures("closed");
  }
}

TEST(EventLoops, KilledClientProcessEndsItsPair) {
  // A client in another process sends one message and is killed (SIGKILL: no destructor runs). The loop must
  // notice through the transport alone: end of file on a socket or pipe, the life line on a shared ring.
  for (const combo& k : event_loop_combos()) {
    if (!k.t->sees_peer_close || !k.t->cross_process) continue;
    SCOPED_TRACE(std::string(k.t->name) + " " + std::string(k.m->name));
    idle_case c(*k.m, std::string(k.t->name).c_str());
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      message_source src(k.t->max_msg_bytes && k.t->max_msg_bytes < 64 ? k.t->max_msg_bytes : 64, 1);
      for (channel& ch : c.channels) ch.client->send(src.next(0, flag_warmup));
      for (;;) ::pause();
    }
    for (channel& ch : c.channels) ch.client.reset();  // the child holds the only client ends now
    workload_params wl;
    wl.msg_bytes = k.t->max_msg_bytes && k.t->max_msg_bytes < 64 ? k.t->max_msg_bytes : 64;
    c.start(wl);
    ::kill(pid, SIGKILL);
    ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
    EXPECT_TRUE(all_over(c)) << "the loop did not see its clients die";
    // A socket or pipe says "closed", a ring's life line "ended without closing": never the watchdog.
    EXPECT_EQ(std::string(c.slots[0].error).find("watchdog"), std::string::npos) << c.slots[0].error;
    c.stop_expecting_failures("server: ");
  }
}

bool polls_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

TEST(EventLoops, EventfdRingsOfferWhatALoopNeeds) {
  // The eventfd-signalled rings as an event loop sees them, one step at a time: a descriptor that polls
  // readable exactly when there is a message or the peer is gone, and a retry timer when the ring is full.
  // Waits are bounded generously and only ever for something that must happen: no timing is asserted.
  for (const char* name : {"shm-eventfd", "eventfd"}) {
    SCOPED_TRACE(name);
    scratch dir;
    channel ch = find_transport(name)->make(options_in(dir, "loop"));
    endpoint::native_io io = ch.server->native();
    ASSERT_EQ(io.type, endpoint::native_io::kind::message);
    ASSERT_NE(io.read_fd, io.write_fd);
    EXPECT_FALSE(io.send_polls_out);
    std::vector<std::byte> buf(4096);
    EXPECT_FALSE(ch.server->try_recv(buf).has_value());
    EXPECT_FALSE(polls_readable(io.read_fd, 0));

    message_source src(32, 3);  // eventfd carries the header alone
    ch.client->send(src.next(0, 0));
    EXPECT_TRUE(polls_readable(io.read_fd, 10'000));
    EXPECT_EQ(ch.server->try_recv(buf), std::optional<std::size_t>(32));
    EXPECT_FALSE(ch.server->try_recv(buf).has_value());

    std::uint64_t sent = 0;
    while (ch.server->try_send(src.next(sent, 0))) ++sent;  // until the server's ring is full
    EXPECT_GT(sent, 0u);
    EXPECT_TRUE(polls_readable(io.write_fd, 10'000)) << "a full ring arms the retry timer";
    EXPECT_EQ(ch.client->recv(buf), 32u);
    EXPECT_TRUE(ch.server->try_send(src.next(sent, 0))) << "room again after the client took one";
    EXPECT_FALSE(polls_readable(io.write_fd, 0)) << "a send that went through clears the timer";

    ch.client.reset();
    EXPECT_TRUE(polls_readable(io.read_fd, 10'000)) << "the peer's end wakes the loop";
    EXPECT_EQ(ch.server->try_recv(buf), std::optional<std::size_t>(0));
  }
}

TEST(EventLoops, UnavailableIoUringIsSaidNotCrashed) {
  const model_info* m = find_model("async-uring");
  ASSERT_NE(m, nullptr);
  std::string why = m->unavailable_reason();
  if (!why.empty()) {
    EXPECT_NE(why.find("io_uring"), std::string::npos) << why;
  }
  EXPECT_EQ(m->unavailable_reason(), why) << "probed once";
}

// --- ZeroMQ and fork ----------------------------------------------------------------------------------------

TEST(Zmq, BadHeaderIsRefused) {
  scratch dir;
  channel ch = find_transport("zmq-inproc")->make(options_in(dir, "bad"));
  std::vector<std::byte> junk(64, std::byte{0x5a});
  std::thread sender([&] { ch.client->send(junk); });
  std::vector<std::byte> buf(4096);
  EXPECT_THROW(ch.server->recv(buf), protocol_error);
  sender.join();
}

// The process model's order: channel made in the parent, fork, the child uses channel.server and the parent
// channel.client, each dropping its copy of the other's endpoint. ZeroMQ state must be made after the fork.
TEST(Zmq, EndpointMadeBeforeForkWorksAfterIt) {
  for (const char* name : {"zmq-ipc", "zmq-tcp", "zmq-reqrep"}) {
    SCOPED_TRACE(name);
    scratch dir;
    // ZeroMQ already busy in this process (a context with its I/O thread) must not confuse the child either.
    channel busy = find_transport("zmq-inproc")->make(options_in(dir, "busy"));
    std::thread peer([&] {
      std::vector<std::byte> b(4096);
      busy.server->recv(b);
    });
    message_source hello(64, 1);
    busy.client->send(hello.next(0, 0));
    peer.join();

    channel ch = find_transport(name)->make(options_in(dir, "fork"));
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      busy = {};  // copies of the parent's live ZeroMQ objects: must be left alone, not closed
      ch.client.reset();
      std::vector<std::byte> buf(4096);
      std::size_t n = ch.server->recv(buf);
      ch.server->send(std::span<const std::byte>(buf.data(), n));
      ch.server.reset();  // delivers the echo before the process ends
      ::_exit(n == 100 ? 0 : 1);
    }
    ch.server.reset();
    message_source src(100, 2);
    ch.client->send(src.next(7, 0));
    std::vector<std::byte> buf(4096);
    std::size_t n = ch.client->recv(buf);
    ASSERT_EQ(n, 100u);
    EXPECT_TRUE(verify_message(std::span<const std::byte>(buf.data(), n)));
    EXPECT_EQ(read_header(std::span<const std::byte>(buf.data(), n)).seq, 7u);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    ch = {};
    busy = {};
    EXPECT_TRUE(dir.empty()) << "left files in " << dir.str();
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  bench::install_signal_handlers();  // the watchdog's SIGUSR1 pokes must not kill the test
  return RUN_ALL_TESTS();
}
