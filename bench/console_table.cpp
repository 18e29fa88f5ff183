#include "bench/console_table.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <utility>

namespace bench {

console_table::console_table(std::vector<table_column> columns) : columns_(std::move(columns)) {}

std::string console_table::header() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const table_column& c : columns_) names.push_back(c.header);
  return row(names);
}

std::string console_table::row(const std::vector<std::string>& cells) const {
  if (cells.size() > columns_.size())
    throw std::logic_error(fmt::format("a table row of {} cells for {} columns", cells.size(), columns_.size()));
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const table_column& c = columns_[i];
    line.append(c.gap, ' ');
    if (c.side == align::left)
      line += fmt::format("{:<{}}", cells[i], c.width);
    else
      line += fmt::format("{:>{}}", cells[i], c.width);
  }
  return line;
}

void console_table::print_header(std::FILE* out) const { fmt::print(out, "{}\n", header()); }

void console_table::print_row(const std::vector<std::string>& cells, std::FILE* out) const {
  fmt::print(out, "{}\n", row(cells));
}

}  // namespace bench
