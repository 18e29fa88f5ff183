// Checks every suite's results must pass, whatever the suite: context.schema names the identity fields and
// describes every metric, and the identity fields of a row say which case it is as its run_name does (one name
// per identity, one identity per name), so no reader has to parse a name.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/results.hpp"

namespace bench::testing {

inline void expect_schema_and_identity(const nlohmann::ordered_json& doc) {
  ASSERT_TRUE(doc["context"].contains("schema")) << "no context.schema";
  const auto& schema = doc["context"]["schema"];
  EXPECT_EQ(schema["version"], results_schema_version);
  ASSERT_TRUE(schema["identity"].is_array());
  EXPECT_EQ(schema["identity"][0], "suite");
  ASSERT_TRUE(schema["metrics"].is_object());
  EXPECT_FALSE(schema["metrics"].empty());
  for (const auto& [field, m] : schema["metrics"].items()) {
    EXPECT_TRUE(m["unit"].is_string()) << field;
    EXPECT_TRUE(m["better"] == "lower" || m["better"] == "higher" || m["better"] == "neither") << field;
    EXPECT_FALSE(m["what"].get<std::string>().empty()) << field;
  }
  std::map<std::string, std::string> identity_of_name, name_of_identity;
  for (const auto& row : doc["benchmarks"]) {
    if (row.value("run_type", "") != "iteration") continue;
    nlohmann::ordered_json id = nlohmann::ordered_json::object();
    for (const auto& f : schema["identity"])
      if (row.contains(f.get<std::string>())) id[f.get<std::string>()] = row[f.get<std::string>()];
    const std::string name = row["run_name"], ident = id.dump();
    EXPECT_EQ(id["suite"], doc["context"]["suite"]) << name;
    auto [n, fresh_name] = identity_of_name.emplace(name, ident);
    EXPECT_EQ(n->second, ident) << name << ": two rows of one case with different identities";
    auto [i, fresh_identity] = name_of_identity.emplace(ident, name);
    EXPECT_EQ(i->second, name) << ident << ": one identity, two names";
  }
  EXPECT_FALSE(identity_of_name.empty());
}

}  // namespace bench::testing
