#include "harness/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

histogram::histogram() : counts_(std::make_unique<std::array<std::uint64_t, bucket_count>>()) { clear(); }

histogram::histogram(const histogram& o)
    : counts_(std::make_unique<std::array<std::uint64_t, bucket_count>>(*o.counts_)),
      count_(o.count_),
      min_(o.min_),
      max_(o.max_),
      sum_(o.sum_) {}

histogram& histogram::operator=(const histogram& o) {
  if (this != &o) {
    *counts_ = *o.counts_;
    count_ = o.count_;
    min_ = o.min_;
    max_ = o.max_;
    sum_ = o.sum_;
  }
  return *this;
}

void histogram::clear() noexcept {
  counts_->fill(0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

void histogram::merge(const histogram& o) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) (*counts_)[i] += (*o.counts_)[i];
  count_ += o.count_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  sum_ += o.sum_;
}

std::uint64_t histogram::bucket_low(std::size_t i) noexcept {
  if (i < sub_count) return i;
  std::size_t shift = (i - sub_count) / sub_count;
  std::uint64_t mantissa = sub_count + (i - sub_count) % sub_count;
  return mantissa << shift;
}

std::uint64_t histogram::bucket_width(std::size_t i) noexcept {
  if (i < sub_count) return 1;
  return std::uint64_t{1} << ((i - sub_count) / sub_count);
}

std::uint64_t histogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Nearest-rank: the smallest value with at least ceil(p% of n) values at or below it.
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += (*counts_)[i];
    if (seen >= rank) {
      std::uint64_t mid = bucket_low(i) + (bucket_width(i) - 1) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace bench
