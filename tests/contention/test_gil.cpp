// The emulated GIL: one tick at a time under every real GIL, the drop-request protocol hands the GIL over,
// blocking calls release it, and the ipc server's work_lock excludes. Ordering comes from flags and joins;
// the only clock is a generous guard that turns a hang into a failure (no assertion is about time).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "harness/gil.hpp"

namespace {

using bench::gil;
using bench::gil_config;
using bench::gil_policy;

// Asks everything to stop (request_abort) if a test body has not finished within `limit`: GIL waits and tick
// loops then throw aborted_error and the test fails instead of hanging.
class hang_guard {
 public:
  explicit hang_guard(std::chrono::seconds limit)
      : thread_([this, limit](std::stop_token st) {
          std::mutex m;
          std::unique_lock lk(m);
          std::condition_variable_any cv;
          if (!cv.wait_for(lk, st, limit, [] { return false; })) {
            if (!st.stop_requested()) {
              fired_ = true;
              bench::request_abort();
            }
          }
        }) {}
  ~hang_guard() {
    thread_.request_stop();
    thread_.join();
    bench::clear_abort();
  }
  bool fired() const { return fired_; }

 private:
  std::atomic<bool> fired_{false};
  std::jthread thread_;
};

std::string policy_name(const ::testing::TestParamInfo<gil_policy>& p) {
  return std::string(bench::to_string(p.param));
}

gil_config config(gil_policy p) {
  gil_config c;
  c.policy = p;
  c.switch_interval_ns = 100'000;  // 0.1 ms: many switches in a short test
  c.check_interval = 20;
  return c;
}

class GilPolicy : public ::testing::TestWithParam<gil_policy> {};

TEST_P(GilPolicy, OneThreadRunsATickAtATime) {
  hang_guard guard(std::chrono::seconds(60));
  gil g(config(GetParam()));
  constexpr int threads = 3;
  constexpr int ticks = 20000;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<std::uint64_t> done{0};
  {
    std::vector<std::jthread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&] {
        gil::holder h(g);
        for (int i = 0; i < ticks; ++i) {
          // A tick, with a count of the interpreter threads inside one at this moment.
          if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
          bench::cpu_work::run(g.tick_iterations());
          inside.fetch_sub(1);
          done.fetch_add(1);
          g.tick_boundary();
        }
      });
  }
  EXPECT_FALSE(guard.fired());
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(done.load(), static_cast<std::uint64_t>(threads) * ticks);
  EXPECT_GE(g.stats().switches, static_cast<std::uint64_t>(threads));
}

TEST_P(GilPolicy, BlockingCallReleasesTheGil) {
  hang_guard guard(std::chrono::seconds(60));
  gil g(config(GetParam()));
  std::latch other_ran(1);
  bool held_after = false;
  std::jthread a([&] {
    gil::holder h(g);
    // While this thread is "in a system call", another must be able to take the GIL.
    g.blocking([&] { other_ran.wait(); });
    held_after = g.held_by_me();
  });
  {
    gil::holder h(g);
    EXPECT_TRUE(g.held_by_me());
  }
  other_ran.count_down();
  a.join();
  EXPECT_FALSE(guard.fired());
  EXPECT_TRUE(held_after);
}

INSTANTIATE_TEST_SUITE_P(gils, GilPolicy,
                         ::testing::Values(gil_policy::old_gil, gil_policy::new_gil, gil_policy::priority),
                         policy_name);

class DropRequest : public ::testing::TestWithParam<gil_policy> {};

TEST_P(DropRequest, AWaiterGetsTheGilFromACpuBoundHolder) {
  // Thread A never gives the GIL up on its own: only a drop request (after the switch interval, or at once
  // for an I/O thread under priority) makes it let go at a tick boundary.
  hang_guard guard(std::chrono::seconds(60));
  gil g(config(GetParam()));
  std::atomic<bool> a_holds{false}, stop{false};
  std::jthread a([&] {
    try {
      gil::holder h(g);
      a_holds.store(true);
      a_holds.notify_one();
      while (!stop.load()) g.run_ticks(1);
    } catch (const bench::aborted_error&) {}
  });
  a_holds.wait(false);
  bool got = false;
  try {
    g.take(/*io=*/GetParam() == gil_policy::priority);
    got = g.held_by_me();
    stop.store(true);
    g.drop();
  } catch (const bench::aborted_error&) {
    stop.store(true);
  }
  a.join();
  EXPECT_FALSE(guard.fired()) << "the waiting thread never got the GIL";
  EXPECT_TRUE(got);
  // A never lets go on its own, so the waiter must have asked. (Whether A then waited on switch_cond is a
  // race CPython has too: the waiter may take the GIL and clear the request before A looks at it.)
  EXPECT_GE(g.stats().drop_requests, 1u);
}

INSTANTIATE_TEST_SUITE_P(gils, DropRequest, ::testing::Values(gil_policy::new_gil, gil_policy::priority), policy_name);

TEST(GilNone, RunsTicksWithoutALock) {
  gil g(config(gil_policy::none));
  g.take();
  EXPECT_FALSE(g.held_by_me());
  g.run_ticks(100);
  g.drop();
  EXPECT_EQ(g.stats().switches, 0u);
}

TEST(GilPolicyNames, ParseRoundTrips) {
  for (std::string_view n : bench::gil_policy_names()) {
    auto p = bench::parse_gil_policy(n);
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_EQ(bench::to_string(*p), n);
  }
  EXPECT_FALSE(bench::parse_gil_policy("gil").has_value());
}

// `run ipc --lock gil-new` and `run contention --policies gil-new` name the same GIL.
TEST(GilPolicyNames, TheIpcLockNamesAreTheSamePolicies) {
  EXPECT_EQ(bench::parse_gil_policy("gil-old"), bench::gil_policy::old_gil);
  EXPECT_EQ(bench::parse_gil_policy("gil-new"), bench::gil_policy::new_gil);
  EXPECT_EQ(bench::parse_gil_policy("gil-priority"), bench::gil_policy::priority);
  EXPECT_FALSE(bench::parse_gil_policy("gil-none").has_value());
  EXPECT_FALSE(bench::parse_gil_policy("gil-").has_value());
  for (std::string_view lock : bench::work_lock_names())
    if (lock.starts_with("gil-")) EXPECT_TRUE(bench::parse_gil_policy(lock).has_value()) << lock;
}

TEST(CpuWork, CalibrationIsSane) {
  EXPECT_GT(bench::cpu_work::ns_per_iteration(), 0.0);
  EXPECT_EQ(bench::cpu_work::iterations_for(0), 0u);
  EXPECT_GE(bench::cpu_work::iterations_for(1), 1u);
  EXPECT_GT(bench::cpu_work::iterations_for(1'000'000), bench::cpu_work::iterations_for(1'000));
}

TEST(WorkLock, UnknownNameListsTheValidOnes) {
  try {
    bench::make_work_lock("gil-3");
    FAIL() << "expected usage_error";
  } catch (const bench::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("'gil-3'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("gil-new"), std::string::npos) << e.what();
  }
}

TEST(WorkLock, LockingPoliciesExcludeAndNoneRuns) {
  hang_guard guard(std::chrono::seconds(120));
  for (std::string_view name : bench::work_lock_names()) {
    gil_config cfg;
    cfg.switch_interval_ns = 100'000;
    auto lock = bench::make_work_lock(name, cfg);
    ASSERT_TRUE(lock) << name;
    EXPECT_EQ(lock->name(), name);
    std::uint64_t counter = 0;
    std::atomic<std::uint64_t> runs{0};
    {
      std::vector<std::jthread> ts;
      for (int t = 0; t < 3; ++t)
        ts.emplace_back([&] {
          for (int i = 0; i < 2000; ++i) {
            if (name == "none") {
              lock->run(200);
              runs.fetch_add(1);
              continue;
            }
            lock->enter();
            counter = counter + 1;  // the shared state a message's work would touch
            lock->work(200);
            lock->leave();
          }
        });
    }
    if (name == "none")
      EXPECT_EQ(runs.load(), 6000u) << name;
    else
      EXPECT_EQ(counter, 6000u) << name;
  }
  EXPECT_FALSE(guard.fired());
}

}  // namespace
