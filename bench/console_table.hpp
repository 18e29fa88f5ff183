// One console table for every suite: columns with a header, a width and an alignment; rows of text cells padded
// to them. A row may stop early, so that a line can go on with free text after its first cells (a skipped case's
// reason in place of its figures).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

enum class align { left, right };

struct table_column {
  std::string header;
  std::size_t width = 0;  // at least this many characters; a longer cell is printed whole
  align side = align::right;
  std::size_t gap = 0;  // spaces before the cell, the first column's included (an indent)
};

class console_table {
 public:
  explicit console_table(std::vector<table_column> columns);

  // The header line, without its newline.
  std::string header() const;
  // The cells padded to their columns, without a newline; fewer cells than columns end the line after the last.
  std::string row(const std::vector<std::string>& cells) const;

  void print_header(std::FILE* out = stdout) const;
  void print_row(const std::vector<std::string>& cells, std::FILE* out = stdout) const;

 private:
  std::vector<table_column> columns_;
};

}  // namespace bench
