// The case key: one place that names a case and writes its identity fields, so name and fields agree.
#include <gtest/gtest.h>

#include "harness/case_key.hpp"
#include "harness/ipc_case.hpp"
#include "harness/model.hpp"
#include "serializers/registry.hpp"
#include "transports/transport.hpp"

namespace bench {
namespace {

TEST(CaseKey, NamesWhatItIsToldToNameAndStampsEveryField) {
  case_key k("demo");
  k.named("transport", "pipe").named("msg_bytes", 65536, "size", "64K").unnamed("rate", 0).named("pairs", 2);
  EXPECT_EQ(k.name(), "demo/transport:pipe/size:64K/pairs:2");
  nlohmann::ordered_json row = {{"run_type", "iteration"}};
  k.stamp(row);
  EXPECT_EQ(row["suite"], "demo");
  EXPECT_EQ(row["msg_bytes"], 65536);
  EXPECT_EQ(row["rate"], 0);
  EXPECT_EQ(row["pairs"], 2);
  EXPECT_EQ(k.identity(),
            (nlohmann::ordered_json{
                {"suite", "demo"}, {"transport", "pipe"}, {"msg_bytes", 65536}, {"rate", 0}, {"pairs", 2}}));
}

TEST(CaseKey, SchemaListsIdentityAndDescribesEachMetric) {
  const metric_def m[] = {{"rtt_p50_ns", "ns", better::lower, "p50", "median round trip"},
                          {"msgs_per_s", "1/s", better::higher, "messages/s", "one way"}};
  auto j = to_json(suite_schema{{"transport", "pairs"}, {std::begin(m), std::end(m)}});
  EXPECT_EQ(j["version"], results_schema_version);
  EXPECT_EQ(j["identity"], (nlohmann::ordered_json{"suite", "transport", "pairs"}));
  EXPECT_EQ(j["metrics"]["rtt_p50_ns"]["better"], "lower");
  EXPECT_EQ(j["metrics"]["msgs_per_s"]["better"], "higher");
  EXPECT_EQ(j["metrics"]["msgs_per_s"]["label"], "messages/s");
}

// Every field an ipc key writes is in the suite's identity list, in its order, and the name keeps the form
// that --filter, compare and earlier results use.
TEST(CaseKey, IpcKeyWritesTheSuitesIdentityInOrder) {
  ipc_case c;
  c.transport = find_transport("unix");
  c.model = find_model("thread");
  ASSERT_NE(c.transport, nullptr);
  ASSERT_NE(c.model, nullptr);
  c.wl.kind = workload_kind::latency;
  c.wl.msg_bytes = 1024;
  c.wl.serializer = ser::find_serializer("json");
  ASSERT_NE(c.wl.serializer, nullptr);
  c.wl.rate = 1000;
  c.wl.work_ns = 10'000;
  c.wl.lock = "mutex";
  c.wait = "block";
  c.pairs = 2;
  const case_key k = ipc_case_key(c);
  EXPECT_EQ(k.name(),
            "ipc/transport:unix/model:thread/serializer:json/shape:small/workload:latency/wait:block/placement:cross/"
            "size:1K/pairs:2/rate:1000/work:10us/lock:mutex");
  std::vector<std::string> written;
  const nlohmann::ordered_json identity = k.identity();
  for (const auto& [f, v] : identity.items()) written.push_back(f);
  EXPECT_EQ(written, ipc_identity_fields());
}

}  // namespace
}  // namespace bench
