// The serialize suite as the CLI drives it: bad names refused (with the valid ones listed) before any work, and
// a tiny run whose results.json is checked field by field. Nothing here depends on how fast anything ran.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "base/error.hpp"
#include "bench/serialize/serialize_suite.hpp"
#include "harness/results.hpp"
#include "harness/stats.hpp"
#include "serializers/protobuf.hpp"
#include "tests/support/results_checks.hpp"

namespace bench {
namespace {
namespace fs = std::filesystem;

run_request request() {
  run_request r;
  r.suite = "serialize";
  r.command_line = "bench run serialize (test)";
  r.cores = 1;
  return r;
}

std::string usage_message(const run_request& r) {
  try {
    validate_serialize(r);
  } catch (const usage_error& e) {
    return e.what();
  }
  return "";
}

TEST(SerializeSuite, UnknownSerializerIsRefusedWithTheValidNames) {
  run_request r = request();
  r.serializers = {"protobuf", "xml"};
  std::string msg = usage_message(r);
  EXPECT_NE(msg.find("unknown serializer 'xml'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("raw, protobuf, capnp, flatbuffers, msgpack, json, json-fast"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
}

TEST(SerializeSuite, UnknownShapeIsRefusedWithTheValidNames) {
  run_request r = request();
  r.shapes = {"huge"};
  std::string msg = usage_message(r);
  EXPECT_NE(msg.find("unknown shape 'huge' (valid: small, medium, large)"), std::string::npos) << msg;
}

TEST(SerializeSuite, BadOrEmptyFiltersAreRefused) {
  run_request r = request();
  r.filter = "phase:(decode";
  EXPECT_NE(usage_message(r).find("not a valid regular expression"), std::string::npos);
  r.filter = "serializer:xml";
  EXPECT_NE(usage_message(r).find("matches no serialize case"), std::string::npos);
}

TEST(SerializeSuite, GoodRequestsPassValidation) {
  run_request r = request();
  EXPECT_NO_THROW(validate_serialize(r));
  r.serializers = {"raw", "json-fast"};
  r.shapes = {"large", "small"};
  r.filter = "phase:(decode|encode)";
  EXPECT_NO_THROW(validate_serialize(r));
}

class temp_dir {
 public:
  temp_dir() {
    std::string t = (fs::temp_directory_path() / "bench-serialize-test-XXXXXX").string();
    if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp");
    path_ = t;
  }
  ~temp_dir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(SerializeSuite, ATinyRunWritesEveryRowWithEveryField) {
  ser::silence_protobuf_logs();
  temp_dir tmp;
  run_request r = request();
  r.quick = true;
  r.reps = 2;
  r.duration_ns = 1'000'000;  // 1 ms per case and repetition
  r.serializers = {"raw", "protobuf", "msgpack"};
  r.shapes = {"small"};
  r.out = tmp.path() / "run";
  r.no_plot = true;
  ASSERT_EQ(run_serialize(r), 0);

  ASSERT_TRUE(fs::exists(tmp.path() / "run" / "results.csv"));
  json doc = read_results(tmp.path() / "run" / "results.json");
  const json& ctx = doc["context"];
  EXPECT_EQ(ctx["suite"], "serialize");
  EXPECT_EQ(ctx["serialize"]["repetitions"], 2);
  EXPECT_EQ(ctx["serialize"]["min_time_s"], 0.001);
  EXPECT_TRUE(ctx["serialize"]["serializers"].contains("protobuf"));
  EXPECT_EQ(ctx["libraries"]["protobuf"], ctx["serialize"]["serializers"]["protobuf"]["version"]);
  EXPECT_TRUE(ctx["libraries"].contains("msgpack-cxx"));
  bench::testing::expect_schema_and_identity(doc);
  EXPECT_TRUE(ctx["cpu_share"].is_number());
  EXPECT_TRUE(ctx["steal_pct"].is_number());
  EXPECT_EQ(ctx["schema_version"], results_schema_version);
  EXPECT_EQ(ctx["statistics"]["unstable_above_pct"], unstable_above_pct);

  // raw, protobuf: 5 phases; msgpack encodes straight from the struct, so no build phase.
  const std::set<std::string> phases = {"build", "encode", "decode", "traverse", "roundtrip"};
  std::map<std::string, int> iterations;
  std::map<std::string, const json*> medians;
  for (const json& row : doc["benchmarks"]) {
    const std::string run_name = row["run_name"];
    if (row["run_type"] == "aggregate") {
      EXPECT_EQ(row["run_name"], row["name"].get<std::string>().substr(0, run_name.size()));
      if (row["aggregate_name"] == "median") medians[run_name] = &row;
      continue;
    }
    ++iterations[run_name];
    EXPECT_EQ(row["run_type"], "iteration");
    EXPECT_EQ(row["name"], run_name);
    EXPECT_EQ(row["suite"], "serialize");
    EXPECT_EQ(row["shape"], "small");
    EXPECT_TRUE(phases.count(row["phase"].get<std::string>()));
    const std::string ser = row["serializer"];
    EXPECT_EQ(run_name, "serialize/serializer:" + ser + "/shape:small/phase:" + row["phase"].get<std::string>());
    EXPECT_EQ(row["repetitions"], 2);
    EXPECT_TRUE(row["repetition_index"] == 0 || row["repetition_index"] == 1);
    EXPECT_EQ(row["time_unit"], "ns");
    EXPECT_TRUE(row["real_time"].is_number());
    EXPECT_GT(row["real_time"].get<double>(), 0.0);
    EXPECT_TRUE(row["cpu_time"].is_number());
    EXPECT_GT(row["iterations"].get<long>(), 0);
    EXPECT_GT(row["wire_bytes"].get<long>(), 0);
    EXPECT_EQ(row["error_occurred"], false);
    EXPECT_EQ(row["error_message"], "");
  }
  EXPECT_EQ(iterations.size(), 5u + 5u + 4u);
  for (const auto& [name, n] : iterations) EXPECT_EQ(n, 2) << name;
  EXPECT_EQ(iterations.count("serialize/serializer:msgpack/shape:small/phase:build"), 0u);
  ASSERT_EQ(medians.size(), iterations.size());
  EXPECT_EQ(ctx["serialize"]["headline_time"], "cpu_time");
  for (const auto& [name, m] : medians) {
    ASSERT_TRUE(m->contains("ratio_to_raw")) << name;
    // The spread and the flag describe the headline time, and iterations keeps Google Benchmark's meaning.
    EXPECT_EQ((*m)["primary_metric"], "cpu_time") << name;
    EXPECT_EQ((*m)["higher_is_better"], false) << name;
    EXPECT_TRUE((*m)["spread_pct"].is_number()) << name;
    EXPECT_TRUE((*m)["unstable"].is_boolean()) << name;
    EXPECT_EQ((*m)["repetitions_used"], 2) << name;
    EXPECT_GT((*m)["iterations"].get<long>(), 2) << name;
    if ((*m)["serializer"] == "raw") {
      EXPECT_EQ((*m)["ratio_to_raw"], 1.0);
    }
    EXPECT_GT((*m)["ratio_to_raw"].get<double>(), 0.0);
  }
  EXPECT_EQ((*medians["serialize/serializer:raw/shape:small/phase:encode"])["wire_bytes"], 48.0);
}

TEST(SerializeSuite, AFilteredRunHoldsExactlyTheMatchingCase) {
  temp_dir tmp;
  run_request r = request();
  r.reps = 1;
  r.duration_ns = 1'000'000;
  r.filter = "serializer:raw/shape:large/phase:decode$";
  r.out = tmp.path() / "one";
  r.no_plot = true;
  ASSERT_EQ(run_serialize(r), 0);
  json doc = read_results(tmp.path() / "one" / "results.json");
  ASSERT_EQ(doc["benchmarks"].size(), 1u + 6u) << "one iteration row and its six aggregates";
  for (const json& row : doc["benchmarks"])
    EXPECT_EQ(row["run_name"], "serialize/serializer:raw/shape:large/phase:decode");
}

}  // namespace
}  // namespace bench
