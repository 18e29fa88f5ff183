#include <gtest/gtest.h>

#include "base/error.hpp"
#include "base/units.hpp"

namespace bench {
namespace {

TEST(ParseSize, BinaryMultiples) {
  EXPECT_EQ(parse_size("64"), 64u);
  EXPECT_EQ(parse_size("64B"), 64u);
  EXPECT_EQ(parse_size("4K"), 4096u);
  EXPECT_EQ(parse_size("4KiB"), 4096u);
  EXPECT_EQ(parse_size("64k"), 65536u);
  EXPECT_EQ(parse_size("1M"), 1048576u);
  EXPECT_EQ(parse_size("1.5M"), 1572864u);
  EXPECT_EQ(parse_size("1G"), 1073741824u);
}

TEST(ParseSize, RefusesBadInput) {
  for (const char* bad : {"", "-1", "abc", "4KB", "12X", "0.5", "1e30"}) {
    EXPECT_THROW(parse_size(bad), usage_error) << bad;
  }
  try {
    parse_size("4KB");
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("ambiguous"), std::string::npos);
  }
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration_ns("0.2s"), 200'000'000u);
  EXPECT_EQ(parse_duration_ns("200ms"), 200'000'000u);
  EXPECT_EQ(parse_duration_ns("10us"), 10'000u);
  EXPECT_EQ(parse_duration_ns("50ns"), 50u);
  EXPECT_EQ(parse_duration_ns("1.5m"), 90'000'000'000u);
}

TEST(ParseDuration, RefusesBadInput) {
  for (const char* bad : {"", "10", "-1s", "abc", "5 parsecs", "1e20s"})
    EXPECT_THROW(parse_duration_ns(bad), usage_error) << bad;
}

TEST(ParseCount, WholeNonNegative) {
  EXPECT_EQ(parse_count("3", "--reps"), 3u);
  EXPECT_THROW(parse_count("-3", "--reps"), usage_error);
  EXPECT_THROW(parse_count("3.5", "--reps"), usage_error);
  EXPECT_THROW(parse_count("x", "--reps"), usage_error);
  EXPECT_THROW(parse_count("", "--reps"), usage_error);
}

TEST(SplitList, Items) {
  EXPECT_EQ(split_list("a,b, c", "x"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_THROW(split_list("a,,b", "x"), usage_error);
  EXPECT_THROW(split_list("", "x"), usage_error);
  EXPECT_THROW(split_list("a,b, a", "x"), usage_error);  // a name twice
}

TEST(Format, ReadableUnits) {
  EXPECT_EQ(format_bytes(64), "64 B");
  EXPECT_EQ(format_bytes(4096), "4 KiB");
  EXPECT_EQ(format_bytes(1 << 20), "1 MiB");
  EXPECT_EQ(format_ns(850), "850 ns");
  EXPECT_EQ(format_ns(12'300), "12.3 us");
  EXPECT_EQ(format_bytes_per_s(9.8e9), "9.80 GB/s");
}

}  // namespace
}  // namespace bench
