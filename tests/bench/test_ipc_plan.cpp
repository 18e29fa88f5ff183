// The ipc planner: the lecture matrix that `bench run ipc` runs by default holds the cases every lesson of the
// deck draws (and no case twice); any flag that chooses cases plans the full matrix instead; contradictions are
// refused before any work.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "base/error.hpp"
#include "base/registry.hpp"
#include "bench/contention/contention_suite.hpp"
#include "bench/ipc_suite.hpp"
#include "serializers/registry.hpp"

namespace bench {
namespace {

run_request default_request(int cores = 8) {
  run_request r;
  r.suite = "ipc";
  r.cores = cores;
  r.cores_given = true;
  return r;
}

// The runnable cases that match every condition.
template <class Pred>
std::vector<const ipc_case*> runnable(const std::vector<ipc_case>& cases, Pred pred) {
  std::vector<const ipc_case*> out;
  for (const ipc_case& c : cases)
    if (c.skip_reason.empty() && pred(c)) out.push_back(&c);
  return out;
}

bool plain(const ipc_case& c) { return c.wl.work_ns == 0 && c.wl.lock == "none" && !c.wl.serializer && c.wl.rate == 0; }

std::set<int> pair_counts(const std::vector<const ipc_case*>& cases) {
  std::set<int> out;
  for (const ipc_case* c : cases) out.insert(c->pairs);
  return out;
}

TEST(IpcPlan, TheDefaultIsTheLectureMatrix) {
  EXPECT_TRUE(lecture_matrix(default_request()));
  run_request full = default_request();
  full.matrix = "full";
  EXPECT_FALSE(lecture_matrix(full));
  run_request quick = default_request();
  quick.quick = true;
  EXPECT_FALSE(lecture_matrix(quick));
  run_request narrowed = default_request();
  narrowed.transports = {"unix"};
  narrowed.matrix_flags = {"--transports"};
  EXPECT_FALSE(lecture_matrix(narrowed));
}

TEST(IpcPlan, LectureMatrixHoldsEveryLessonsCases) {
  // Planned for 2 CPUs: the clients still grow to 64, past the CPUs, which is the lesson.
  const run_request req = default_request(8);
  const std::vector<ipc_case> cases = plan_ipc(req, plan_cores(2));
  std::set<std::string> names;
  for (const ipc_case& c : cases) EXPECT_TRUE(names.insert(c.name).second) << "planned twice: " << c.name;

  // The ladder: a 64 B round trip per family, one pair (eventfd at the 32 B it carries).
  for (const char* t : {"shm-spin", "shm", "shm-eventfd", "pipe", "unix", "tcp", "zmq-ipc"}) {
    if (!find_row(transports(), t)->unavailable_reason().empty()) continue;
    EXPECT_EQ(runnable(cases,
                       [&](const ipc_case& c) {
                         return plain(c) && c.transport->name == t && c.model->name == "process" &&
                                c.wait_as == wait_mode::block && c.wl.kind == workload_kind::latency && c.pairs == 1 &&
                                c.wl.msg_bytes == 64;
                       })
                  .size(),
              1u)
        << t;
  }
  EXPECT_EQ(
      runnable(cases, [](const ipc_case& c) { return c.transport->name == "eventfd" && c.wl.msg_bytes == 32; }).size(),
      1u);
  // Through a broker, where one can be had: amqp (its three kinds of delivery) beside ZeroMQ over TCP.
  for (const char* t : {"zmq-tcp", "amqp", "amqp-durable", "amqp-confirmed"}) {
    bool can = find_row(transports(), t)->unavailable_reason().empty();
    EXPECT_EQ(runnable(cases,
                       [&](const ipc_case& c) {
                         return plain(c) && c.transport->name == t && c.model->name == "process" &&
                                c.wl.kind == workload_kind::latency && c.pairs == 1 && c.wl.msg_bytes == 64;
                       })
                  .size(),
              can ? 1u : 0u)
        << t;
  }
  // Spinning against sleeping: a kernel transport both ways.
  for (const char* wait : {"block", "spin"})
    EXPECT_EQ(runnable(cases,
                       [&](const ipc_case& c) {
                         return plain(c) && c.transport->name == "pipe" && c.wait == wait &&
                                c.wl.kind == workload_kind::latency;
                       })
                  .size(),
              1u)
        << wait;
  // Size: one-pair streams from 64 B to 1 MiB.
  for (const char* t : {"shm", "pipe", "unix", "tcp"}) {
    std::set<std::uint64_t> sizes;
    for (const ipc_case* c : runnable(cases, [&](const ipc_case& c) {
           return plain(c) && c.transport->name == t && c.wl.kind == workload_kind::throughput && c.pairs == 1;
         }))
      sizes.insert(c->wl.msg_bytes);
    EXPECT_EQ(sizes, (std::set<std::uint64_t>{64, 1024, 4096, 64 * 1024, 1024 * 1024})) << t;
  }
  // Clients: thread, process and the event loops from 1 to 64 clients, both workloads.
  for (const char* m : {"thread", "process", "async", "async-uring"}) {
    if (!find_row(models(), m)->unavailable_reason().empty()) continue;
    for (workload_kind k : {workload_kind::latency, workload_kind::throughput})
      EXPECT_EQ(pair_counts(runnable(cases,
                                     [&](const ipc_case& c) {
                                       return plain(c) && c.transport->name == "unix" && c.model->name == m &&
                                              c.wl.kind == k && c.wl.msg_bytes == 64;
                                     })),
                (std::set<int>{1, 2, 4, 8, 16, 32, 64}))
          << m;
  }
  // Serialization: four serializers, a small and a large message, over one transport.
  std::set<std::pair<std::string, ser::shape>> serialized;
  for (const ipc_case* c : runnable(cases, [](const ipc_case& c) { return c.wl.serializer != nullptr; })) {
    EXPECT_EQ(c->transport->name, "shm");
    serialized.insert({std::string(c->wl.serializer->name), c->wl.shape});
  }
  EXPECT_EQ(serialized.size(), 8u);
  // Locks and a GIL: the same work under every series, one CPU per server while there are CPUs.
  auto worked = [&](const char* model, const char* lock) {
    return runnable(cases, [&](const ipc_case& c) {
      return c.wl.work_ns == 10'000 && c.model->name == model && c.wl.lock == lock && c.place == placement::same &&
             c.wl.kind == workload_kind::throughput;
    });
  };
  for (const char* lock : {"none", "mutex", "gil-new"})
    EXPECT_EQ(pair_counts(worked("thread", lock)), (std::set<int>{1, 2, 4, 8})) << lock;
  EXPECT_EQ(pair_counts(worked("process", "gil-new")), (std::set<int>{1, 2, 4, 8}));
  EXPECT_EQ(pair_counts(worked("async", "none")), (std::set<int>{1, 2, 4, 8}));
}

TEST(IpcPlan, AFlagThatChoosesCasesPlansTheFullMatrix) {
  run_request req = default_request(4);
  req.transports = {"unix"};
  req.matrix_flags = {"--transports"};
  const std::vector<ipc_case> cases = plan_ipc(req, plan_cores(4));
  std::set<std::string> models_seen;
  for (const ipc_case& c : cases) {
    EXPECT_EQ(c.transport->name, "unix") << c.name;
    EXPECT_EQ(c.wl.work_ns, 0u) << c.name;
    models_seen.insert(std::string(c.model->name));
  }
  // Every available model, at 1 and 2 pairs (two ends per pair fit 4 cores twice).
  for (const model_info& m : models())
    if (m.unavailable_reason().empty()) {
      EXPECT_TRUE(models_seen.count(std::string(m.name))) << m.name;
    }
  EXPECT_EQ(pair_counts(runnable(cases, [](const ipc_case&) { return true; })), (std::set<int>{1, 2}));
}

TEST(IpcPlan, ContradictionsAreRefusedBeforeAnyWork) {
  run_request bad = default_request();
  bad.matrix = "most";
  EXPECT_THROW(validate_ipc(bad), usage_error);
  run_request both = default_request();
  both.matrix = "lecture";
  both.sizes = {64};
  both.matrix_flags = {"--sizes"};
  try {
    validate_ipc(both);
    ADD_FAILURE() << "--matrix lecture with --sizes was accepted";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("--sizes"), std::string::npos) << e.what();
  }
  run_request quick = default_request();
  quick.matrix = "lecture";
  quick.quick = true;
  EXPECT_THROW(validate_ipc(quick), usage_error);
}

TEST(IpcPlan, TheLectureRunAddsTheContentionLessons) {
  std::optional<run_request> c = lecture_contention_request(default_request(8), "/tmp/run");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->suite, "contention");
  EXPECT_EQ(c->out, std::filesystem::path("/tmp/run/contention"));
  EXPECT_EQ(c->cores, 8);  // spinlocks up to the requested cores: 4x the CPUs of a 2-CPU machine
  EXPECT_EQ(c->switch_intervals_ns, std::vector<std::uint64_t>{5'000'000});
  EXPECT_NO_THROW(validate_contention(*c));
  run_request full = default_request();
  full.matrix = "full";
  EXPECT_FALSE(lecture_contention_request(full, "/tmp/run").has_value());
  run_request filtered = default_request();
  filtered.filter = "latency";
  EXPECT_FALSE(lecture_contention_request(filtered, "/tmp/run").has_value());
}

TEST(IpcPlan, TheLectureRunAddsTheCoreMapWhereCpuPairsDiffer) {
  const topology mixed = read_topology("synthetic:package:1 l3:2 core:4 pu:2");
  const topology alike = read_topology("synthetic:package:1 core:2 pu:1");
  std::optional<run_request> m = lecture_cores_request(default_request(8), "/tmp/run", mixed);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->suite, "cores");
  EXPECT_TRUE(m->quick);
  EXPECT_EQ(m->out, std::filesystem::path("/tmp/run/cores"));
  EXPECT_FALSE(lecture_cores_request(default_request(8), "/tmp/run", alike).has_value());
  run_request full = default_request();
  full.matrix = "full";
  EXPECT_FALSE(lecture_cores_request(full, "/tmp/run", mixed).has_value());
}

}  // namespace
}  // namespace bench
