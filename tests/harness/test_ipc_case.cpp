// One ipc case end to end, on the figures the row derives: the CPU over the measured window, the per-iteration
// times, withheld percentiles, and what a failing pacer is reported as.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "base/cancel.hpp"
#include "harness/cpu.hpp"
#include "harness/ipc_case.hpp"

namespace bench {
namespace {

struct case_run {
  ipc_case c;
  core_plan cores = plan_cores(2);
  case_environment env;
  case_run(const transport_info* t, const char* model, workload_kind kind) {
    c.transport = t;
    c.model = find_model(model);
    c.wl.kind = kind;
    c.wl.msg_bytes = 64;
    c.wl.warmup_ns = 5'000'000;
    c.wl.duration_ns = 20'000'000;
    c.wait = t->fixed_wait.empty() ? "block" : std::string(t->fixed_wait);
    env.cores = &cores;
    env.scratch_dir = ::testing::TempDir();
    env.timeout_ns = 10'000'000'000ull;
  }
  json run() {
    c.name = case_name(c);
    return run_ipc_case(c, env);
  }
};

// The row's figures agree with each other: per-iteration times of its own windows, the CPU inside a window that
// holds it, and no more CPUs busy than the machine has.
void expect_consistent(const json& row) {
  ASSERT_FALSE(row["error_occurred"].get<bool>()) << row["error_message"];
  auto n = row["messages"].get<double>();
  ASSERT_GT(n, 0);
  EXPECT_EQ(row["iterations"], row["messages"]);
  EXPECT_NEAR(row["real_time"].get<double>() * n, row["measured_window_ns"].get<double>(), 1e-6 * n);
  EXPECT_NEAR(row["cpu_time"].get<double>() * n, row["cpu_ns"].get<double>(), 1e-6 * n);
  EXPECT_EQ(row["cpu_time"], row["cpu_ns_per_msg"]);
  EXPECT_LE(row["measured_window_ns"].get<double>(), row["cpu_window_ns"].get<double>());
  EXPECT_LT(row["cpu_window_ns"].get<double>(), row["wall_ns"].get<double>());
  EXPECT_DOUBLE_EQ(row["cpus_busy"].get<double>(), row["cpu_ns"].get<double>() / row["cpu_window_ns"].get<double>());
  EXPECT_LE(row["cpus_busy"].get<double>(), static_cast<double>(allowed_cpus().size())) << row.dump();
}

TEST(IpcCase, CpuAndTimesOfALatencyCaseAreOverItsMeasuredWindow) {
  case_run r(find_transport("shm-spin"), "thread", workload_kind::latency);
  r.c.wl.warmup_ns = 60'000'000;  // three times the measured part: warm-up CPU counted would show
  json row = r.run();
  expect_consistent(row);
  EXPECT_EQ(row["cpu_processes"], 1);
  EXPECT_LT(row["cpu_window_ns"].get<double>(), 0.5 * row["wall_ns"].get<double>()) << "the warm-up is in the window";
}

TEST(IpcCase, AForkedServerIsCountedAsAProcessOfItsOwn) {
  for (workload_kind kind : {workload_kind::latency, workload_kind::throughput}) {
    case_run r(find_transport("pipe"), "process", kind);
    json row = r.run();
    expect_consistent(row);
    EXPECT_EQ(row["cpu_processes"], 2) << to_string(kind);
  }
}

TEST(IpcCase, SeveralPairsShareOneWindow) {
  case_run r(find_transport("pipe"), "thread", workload_kind::throughput);
  r.c.pairs = 2;
  json row = r.run();
  expect_consistent(row);
  EXPECT_NEAR(row["msgs_per_s"].get<double>(),
              row["messages"].get<double>() * 1e9 / row["measured_window_ns"].get<double>(), 1e-6);
}

TEST(IpcCase, ATailPercentileIsGivenOnlyWithTenSamplesBeyondIt) {
  case_run r(find_transport("pipe"), "thread", workload_kind::latency);
  r.c.wl.duration_ns = 2'000'000;
  json row = r.run();
  ASSERT_FALSE(row["error_occurred"].get<bool>()) << row["error_message"];
  auto n = row["messages"].get<std::uint64_t>();
  EXPECT_TRUE(row["rtt_p50_ns"].is_number());
  EXPECT_EQ(row["rtt_p99_ns"].is_number(), n >= 1000) << n;
  EXPECT_EQ(row["rtt_p999_ns"].is_number(), n >= 10000) << n;
  EXPECT_EQ(row.contains("percentiles_withheld"), n < 10000) << n;
  if (n < 10000) {
    EXPECT_NE(row["percentiles_withheld"].get<std::string>().find("p99.9"), std::string::npos);
  }
}

// A client end whose sends fail after a few: the --rate pacer's.
class failing_sender final : public endpoint {
 public:
  failing_sender(std::unique_ptr<endpoint> inner, int good) : inner_(std::move(inner)), good_(good) {}
  void send(std::span<const std::byte> msg) override {
    if (good_-- <= 0) throw std::runtime_error("cannot write to the pipe: injected failure");
    inner_->send(msg);
  }
  std::size_t recv(std::span<std::byte> buf) override { return inner_->recv(buf); }

 private:
  std::unique_ptr<endpoint> inner_;
  int good_;
};

TEST(IpcCase, APacerThatCannotSendIsReportedAsThatNotAsATimeout) {
  install_signal_handlers();  // the stop pokes the case's threads with SIGUSR1, which must not kill the test
  transport_info failing = *find_transport("pipe");
  failing.make = [](const channel_options& o) {
    channel ch = find_transport("pipe")->make(o);
    ch.client = std::make_unique<failing_sender>(std::move(ch.client), 50);
    return ch;
  };
  case_run r(&failing, "thread", workload_kind::latency);
  r.c.wl.rate = 2000;
  r.env.timeout_ns = 60'000'000'000ull;  // the stop must come from the failure, not from the watchdog
  json row = r.run();
  ASSERT_TRUE(row["error_occurred"].get<bool>());
  std::string e = row["error_message"];
  EXPECT_NE(e.find("pacer (--rate) could not send: cannot write to the pipe: injected failure"), std::string::npos)
      << e;
  EXPECT_EQ(e.find("timed out"), std::string::npos) << e;
  EXPECT_EQ(e.find("watchdog"), std::string::npos) << e;  // the server was stopped because of it: not a cause
}

}  // namespace
}  // namespace bench
