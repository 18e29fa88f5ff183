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

// The stated bound (histogram.hpp): every reported percentile within 1/256 of the exact one, nearest rank of an
// exact sort, for each percentile the results report and the extremes, on distributions shaped like round trips.
void expect_within_stated_bound(const std::vector<std::uint64_t>& values, const char* what) {
  histogram h;
  for (std::uint64_t v : values) h.record(v);
  for (double p : {0.0, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    double exact = static_cast<double>(exact_percentile(values, p));
    double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::fabs(got - exact), exact / 256.0) << what << " p" << p << " exact " << exact << " got " << got;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
}

template <class Draw>
std::vector<std::uint64_t> draw(int n, Draw&& d) {
  std::vector<std::uint64_t> v;
  v.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v.push_back(d());
  return v;
}

TEST(Histogram, WithinTheStatedBoundOnUniformValues) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> u(200, 2'000'000);
  expect_within_stated_bound(draw(200'000, [&] { return u(rng); }), "uniform");
}

TEST(Histogram, WithinTheStatedBoundOnLogNormalValues) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> ln(std::log(40'000.0), 0.8);  // a kernel round trip of about 40 us
  expect_within_stated_bound(draw(200'000, [&] { return static_cast<std::uint64_t>(ln(rng)) + 1; }), "log-normal");
}

TEST(Histogram, WithinTheStatedBoundOnBimodalValues) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> fast(400.0, 20.0), slow(60'000.0, 5'000.0);  // a spin hit and a wake-up
  std::bernoulli_distribution woken(0.03);
  expect_within_stated_bound(
      draw(200'000, [&] { return static_cast<std::uint64_t>(std::max(1.0, woken(rng) ? slow(rng) : fast(rng))); }),
      "bimodal");
}

TEST(Histogram, WithinTheStatedBoundOnAHeavyTail) {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  // Pareto, alpha 1.1, from 1 us: a tail of preemptions reaching seconds.
  expect_within_stated_bound(
      draw(200'000, [&] { return static_cast<std::uint64_t>(1'000.0 / std::pow(1.0 - u(rng), 1.0 / 1.1)); }),
      "heavy tail");
}

// Values at the low and the top edges of their buckets: the worst cases for a bucket's middle, still in bound; a
// histogram that reported a bucket's low edge, or its top, would be off by up to 1/128 and fail here.
TEST(Histogram, WithinTheStatedBoundAtBucketEdges) {
  std::vector<std::uint64_t> lows, tops;
  for (std::size_t i = histogram::sub_count; i < histogram::index(1ull << 40); i += 3) {
    lows.push_back(histogram::bucket_low(i));
    tops.push_back(histogram::bucket_low(i) + histogram::bucket_width(i) - 1);
  }
  expect_within_stated_bound(lows, "bucket lows");
  expect_within_stated_bound(tops, "bucket tops");
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
