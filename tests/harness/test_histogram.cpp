#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "harness/histogram.hpp"

namespace bench {
namespace {

std::uint64_t exact_percentile(std::vector<std::uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

TEST(Histogram, PercentilesWithinOnePercentOfExactSort) {
  std::mt19937_64 rng(42);
  // Log-uniform over 10 ns .. 100 ms: the range ipc latencies span.
  std::uniform_real_distribution<double> exp10(1.0, 8.0);
  std::vector<std::uint64_t> values;
  histogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<std::uint64_t>(std::pow(10.0, exp10(rng)));
    values.push_back(v);
    h.record(v);
  }
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    double exact = static_cast<double>(exact_percentile(values, p));
    double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::fabs(got - exact) / exact, 0.01) << "p" << p << " exact " << exact << " got " << got;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
}

TEST(Histogram, SmallValuesAreExact) {
  histogram h;
  for (std::uint64_t v = 0; v < 128; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 63u);
  EXPECT_EQ(h.percentile(100), 127u);
}

TEST(Histogram, BucketsCoverEveryValueOnce) {
  for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 255ull, 256ull, 1000ull, 123456789ull, ~0ull}) {
    std::size_t i = histogram::index(v);
    ASSERT_LT(i, histogram::bucket_count);
    EXPECT_LE(histogram::bucket_low(i), v);
    EXPECT_LT(v - histogram::bucket_low(i), histogram::bucket_width(i));
  }
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  histogram a, b, all;
  for (std::uint64_t v = 1; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  for (double p : {50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p));
  EXPECT_EQ(a.count(), all.count());
}

TEST(Histogram, EmptyReportsZero) {
  histogram h;
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.count(), 0u);
}

}  // namespace
}  // namespace bench
