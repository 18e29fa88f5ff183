// The two things every registry table (transports, models, suites, serializers, ...) answers: a row by name,
// and the list of valid names for an error message.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace bench {

template <class Row>
const Row* find_row(std::span<const Row> table, std::string_view name) {
  for (const Row& r : table)
    if (r.name == name) return &r;
  return nullptr;
}

template <class Row>
std::string row_names(std::span<const Row> table) {
  std::string s;
  for (const Row& r : table) {
    if (!s.empty()) s += ", ";
    s += r.name;
  }
  return s;
}

}  // namespace bench
