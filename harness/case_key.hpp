// One case's identity, said once. A suite builds a case_key from its typed case; the key gives the run_name
// ("ipc/transport:pipe/model:thread/...") and the identity fields every row of the case carries, so the name
// and the fields cannot disagree, and nothing downstream (aggregates, charts, compare) has to parse a name.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

class case_key {
 public:
  using json = nlohmann::ordered_json;

  explicit case_key(std::string suite);

  // A field that is part of the name: `label:text` in the run_name (label defaults to the field, text to the
  // value as written), `value` in the rows.
  case_key& named(std::string field, json value, std::string label = {}, std::string text = {});
  // A field of the identity that the name leaves out (it follows from the named ones, or is a setting of the
  // whole run): in the rows, not in the name.
  case_key& unnamed(std::string field, json value);

  std::string name() const;
  // {"suite": ..., field: value, ...} in the order the fields were added.
  json identity() const;
  // Writes the identity fields onto a row.
  void stamp(json& row) const;

 private:
  struct part {
    std::string field;
    json value;
    std::string name_part;  // "label:text"; empty for an unnamed field
  };
  std::string suite_;
  std::vector<part> parts_;
};

// context.schema: what a results file's rows are, for any reader (plots/, bench compare, a spreadsheet).
// `identity` lists every field that tells cases of the suite apart; `metrics` what each measured field is.
enum class better { lower, higher, neither };
struct metric_def {
  std::string_view field;
  std::string_view unit;  // "ns", "1/s", "B/s", "B", "%", "count", ...
  better direction;
  std::string_view label;  // a column header: "p50", "messages/s"
  std::string_view what;   // one or two sentences: how it is measured
};
struct suite_schema {
  std::vector<std::string> identity;
  std::vector<metric_def> metrics;
};
// {"version": results_schema_version, "identity": [...], "metrics": {field: {unit, better, label, what}}}
nlohmann::ordered_json to_json(const suite_schema& s);

}  // namespace bench
