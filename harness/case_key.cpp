#include "harness/case_key.hpp"

#include "harness/results.hpp"

namespace bench {

case_key::case_key(std::string suite) : suite_(std::move(suite)) {}

case_key& case_key::named(std::string field, json value, std::string label, std::string text) {
  if (label.empty()) label = field;
  if (text.empty()) text = value.is_string() ? value.get<std::string>() : value.dump();
  parts_.push_back({std::move(field), std::move(value), label + ":" + text});
  return *this;
}

case_key& case_key::unnamed(std::string field, json value) {
  parts_.push_back({std::move(field), std::move(value), {}});
  return *this;
}

std::string case_key::name() const {
  std::string n = suite_;
  for (const part& p : parts_)
    if (!p.name_part.empty()) n += "/" + p.name_part;
  return n;
}

case_key::json case_key::identity() const {
  json id = json::object();
  id["suite"] = suite_;
  for (const part& p : parts_) id[p.field] = p.value;
  return id;
}

void case_key::stamp(json& row) const {
  row["suite"] = suite_;
  for (const part& p : parts_) row[p.field] = p.value;
}

nlohmann::ordered_json to_json(const suite_schema& s) {
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  for (const metric_def& m : s.metrics)
    metrics[std::string(m.field)] = {{"unit", m.unit},
                                     {"better", m.direction == better::lower    ? "lower"
                                                : m.direction == better::higher ? "higher"
                                                                                : "neither"},
                                     {"label", m.label},
                                     {"what", m.what}};
  nlohmann::ordered_json identity = nlohmann::ordered_json::array();
  identity.push_back("suite");
  for (const std::string& f : s.identity)
    if (f != "suite") identity.push_back(f);
  return {{"version", results_schema_version}, {"identity", identity}, {"metrics", metrics}};
}

}  // namespace bench
