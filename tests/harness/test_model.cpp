// The server's lock (--lock) is one per server process: shared by every server thread of the thread model,
// built anew in each forked server of the process model, and the loop thread's own in the event-loop models.
// Checked by counting, not by timing: an instrumented lock records, in memory shared with forked servers, each
// instance that was built (and by which process), which threads entered it, and how many threads were between
// enter() and leave() at once.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "harness/cpu.hpp"
#include "harness/ipc_case.hpp"
#include "transports/transport.hpp"

namespace bench {
namespace {

constexpr int max_instances = 8, max_threads = 8;

struct instance_record {
  std::atomic<pid_t> creator{0};
  std::atomic<pid_t> threads[max_threads] = {};  // distinct thread ids that entered, 0 = free slot
  std::atomic<std::uint64_t> entries{0};
};
struct lock_census {
  std::atomic<int> instances{0};
  instance_record at[max_instances];
  std::atomic<int> holders{0}, max_holders{0};  // between enter() and leave() now / at most, over every instance
};
static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "shared with forked servers");

// The census lives in MAP_SHARED memory, so that forked servers' instances are counted too.
class shared_census {
 public:
  shared_census() {
    void* p = ::mmap(nullptr, sizeof(lock_census), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("cannot map the census");
    c_ = new (p) lock_census();
  }
  ~shared_census() { ::munmap(c_, sizeof(lock_census)); }
  shared_census(const shared_census&) = delete;
  shared_census& operator=(const shared_census&) = delete;
  lock_census& operator*() { return *c_; }
  lock_census* operator->() { return c_; }

 private:
  lock_census* c_ = nullptr;
};

pid_t this_thread_id() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// The real lock of that name, with the census kept around enter() and leave().
void raise_to(std::atomic<int>& max, int now) {
  int seen = max.load();
  while (now > seen && !max.compare_exchange_weak(seen, now)) {}
}

class counted_lock final : public work_lock {
 public:
  counted_lock(std::string_view name, instance_record& rec, lock_census& all)
      : inner_(make_work_lock(name)), rec_(rec), all_(all) {}
  std::string_view name() const noexcept override { return inner_->name(); }
  void enter() override {
    inner_->enter();
    raise_to(all_.max_holders, all_.holders.fetch_add(1) + 1);
    rec_.entries.fetch_add(1);
    pid_t me = this_thread_id();
    for (auto& slot : rec_.threads) {
      pid_t v = slot.load();
      if (v == me) break;
      if (v == 0 && (slot.compare_exchange_strong(v, me) || v == me)) break;
    }
  }
  void leave() override {
    all_.holders.fetch_sub(1);
    inner_->leave();
  }
  void work(std::uint64_t ns) override { inner_->work(ns); }

 private:
  std::unique_ptr<work_lock> inner_;
  instance_record& rec_;
  lock_census& all_;
};

work_lock_factory counting(lock_census& census) {
  return [&census](std::string_view name) -> std::unique_ptr<work_lock> {
    int i = census.instances.fetch_add(1);
    if (i >= max_instances) throw std::runtime_error("more lock instances than the census holds");
    census.at[i].creator = ::getpid();
    return std::make_unique<counted_lock>(name, census.at[i], census);
  };
}

int threads_that_entered(const instance_record& r) {
  auto taken = [](const std::atomic<pid_t>& t) { return t.load() != 0; };
  return static_cast<int>(std::count_if(std::begin(r.threads), std::end(r.threads), taken));
}

struct lock_run {
  std::string name;
  json row;
  std::set<pid_t> creators;
};

// One short throughput case of `pairs` pairs over a pipe, the servers' work under the counted `lock`.
lock_run run_case(const char* model, const char* lock, int pairs, lock_census& census, std::uint64_t work_ns = 5'000) {
  core_plan cores = plan_cores(2 * pairs);
  ipc_case c;
  c.transport = find_transport("pipe");
  c.model = find_model(model);
  c.pairs = pairs;
  c.wl.kind = workload_kind::throughput;
  c.wl.msg_bytes = 64;
  c.wl.warmup_ns = 2'000'000;
  c.wl.duration_ns = 20'000'000;
  c.wl.work_ns = work_ns;
  c.wl.lock = lock;
  c.wl.make_lock = counting(census);
  c.wait = "block";
  c.name = case_name(c);
  case_environment env;
  env.cores = &cores;
  env.scratch_dir = ::testing::TempDir();
  env.timeout_ns = 10'000'000'000ull;
  lock_run r;
  r.name = c.name;
  r.row = run_ipc_case(c, env);
  for (int i = 0; i < std::min(census.instances.load(), max_instances); ++i)
    r.creators.insert(census.at[i].creator.load());
  return r;
}

// Under a mutex, enter() to leave() is exclusive: with one lock shared by both server threads, no two of them
// were ever between enter() and leave() at once, counted over every lock instance of the process.
TEST(ServerLock, OneMutexSharedByAllServerThreadsOfTheProcess) {
  shared_census census;
  lock_run r = run_case("thread", "mutex", 2, *census);
  ASSERT_FALSE(r.row["error_occurred"].get<bool>()) << r.row["error_message"];
  ASSERT_EQ(census->instances.load(), 1) << "the thread model builds one lock for all its server threads";
  EXPECT_EQ(*r.creators.begin(), ::getpid()) << "built in the harness process";
  EXPECT_EQ(threads_that_entered(census->at[0]), 2) << "both server threads took the same lock";
  EXPECT_EQ(census->max_holders.load(), 1) << "two server threads held a mutex at once";
}

// The emulated GIL is shared the same way. (Its enter()..leave() spans may overlap: a waiter's drop request
// hands the GIL over between two ticks of a message's work, as CPython does, so holders are not counted.)
TEST(ServerLock, OneGilSharedByAllServerThreadsOfTheProcess) {
  shared_census census;
  lock_run r = run_case("thread", "gil-new", 2, *census);
  ASSERT_FALSE(r.row["error_occurred"].get<bool>()) << r.row["error_message"];
  EXPECT_EQ(r.row["lock"], "gil-new");
  EXPECT_NE(r.name.find("/work:5us/lock:gil-new"), std::string::npos) << r.name;
  ASSERT_EQ(census->instances.load(), 1);
  EXPECT_EQ(*r.creators.begin(), ::getpid());
  const instance_record& rec = census->at[0];
  EXPECT_EQ(threads_that_entered(rec), 2);
  EXPECT_GE(rec.entries.load(), r.row["messages"].get<std::uint64_t>()) << "one entry per message worked on";
}

TEST(ServerLock, EveryForkedServerBuildsItsOwn) {
  shared_census census;
  lock_run r = run_case("process", "gil-new", 2, *census);
  ASSERT_FALSE(r.row["error_occurred"].get<bool>()) << r.row["error_message"];
  ASSERT_EQ(census->instances.load(), 2) << "one lock per server process";
  EXPECT_EQ(r.creators.size(), 2u) << "built by two different processes";
  EXPECT_EQ(r.creators.count(::getpid()), 0u) << "built after the fork, in the servers, not in the harness";
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(threads_that_entered(census->at[i]), 1) << "instance " << i << " is one server's alone";
    EXPECT_GT(census->at[i].entries.load(), 0u);
  }
}

TEST(ServerLock, TheEventLoopHasOneUncontendedLock) {
  shared_census census;
  lock_run r = run_case("async", "mutex", 2, *census);
  ASSERT_FALSE(r.row["error_occurred"].get<bool>()) << r.row["error_message"];
  ASSERT_EQ(census->instances.load(), 1);
  EXPECT_EQ(*r.creators.begin(), ::getpid());
  EXPECT_EQ(threads_that_entered(census->at[0]), 1) << "only the loop thread works";
  EXPECT_GT(census->at[0].entries.load(), 0u) << "applied although uncontended";
}

TEST(ServerLock, NoWorkNoLockEntered) {
  shared_census census;
  lock_run r = run_case("thread", "none", 1, *census, 0);
  ASSERT_FALSE(r.row["error_occurred"].get<bool>()) << r.row["error_message"];
  EXPECT_EQ(r.name.find("lock:"), std::string::npos) << "the default lock is not spelled in the name";
  EXPECT_EQ(r.row["lock"], "none");
  EXPECT_EQ(census->at[0].entries.load(), 0u) << "no --work: nothing to run under the lock";
}

}  // namespace
}  // namespace bench
