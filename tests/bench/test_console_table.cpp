// The console table every suite prints with: headers and cells padded to their columns' widths and alignments,
// gaps before columns, rows that stop early, and cells wider than their column printed whole.
#include <gtest/gtest.h>

#include <stdexcept>

#include "bench/console_table.hpp"

namespace bench {
namespace {

TEST(ConsoleTable, PadsHeaderAndCellsToTheirColumns) {
  console_table t({{"name", 6, align::left}, {"n", 4}, {"notes", 0, align::left, 2}});
  EXPECT_EQ(t.header(), "name     n  notes");
  EXPECT_EQ(t.row({"ab", "12", "x"}), "ab      12  x");
  EXPECT_EQ(t.row({"ab", "12", ""}), "ab      12  ");
}

TEST(ConsoleTable, GapsIndentAndSeparate) {
  console_table t({{"lock", 5, align::left, 2}, {"ops/s", 6, align::right, 1}});
  EXPECT_EQ(t.header(), "  lock   ops/s");
  EXPECT_EQ(t.row({"tas", "1.2M"}), "  tas     1.2M");
}

TEST(ConsoleTable, ARowMayStopEarly) {
  console_table t({{"transport", 10, align::left}, {"p50", 8}, {"p99", 8}});
  EXPECT_EQ(t.row({"pipe"}) + "  skipped: why", "pipe        skipped: why");
  EXPECT_EQ(t.row({}), "");
  EXPECT_THROW(t.row({"a", "b", "c", "d"}), std::logic_error);
}

TEST(ConsoleTable, AWideCellIsPrintedWhole) {
  console_table t({{"x", 3, align::left}, {"y", 3}});
  EXPECT_EQ(t.row({"abcdef", "123456"}), "abcdef123456");
}

}  // namespace
}  // namespace bench
