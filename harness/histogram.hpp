// Latency histogram with bounded relative error, recorded without allocation in the measured loop.
//
// Log-linear buckets (the HdrHistogram idea): values below 128 ns are exact; above, each power of two is split
// into 128 equal buckets. A reported percentile is the middle of its bucket, so its relative error is at most
// 1/256 (0.4%), inside the 1% the results promise. Covers the whole uint64 range in 7424 buckets (58 KiB).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

namespace bench {

class histogram {
 public:
  static constexpr unsigned sub_bits = 7;
  static constexpr std::uint64_t sub_count = 1u << sub_bits;
  static constexpr std::size_t bucket_count = sub_count + (64 - sub_bits) * sub_count;

  histogram();
  histogram(const histogram& o);
  histogram& operator=(const histogram& o);
  histogram(histogram&&) noexcept = default;
  histogram& operator=(histogram&&) noexcept = default;

  void record(std::uint64_t v) noexcept {
    ++(*counts_)[index(v)];
    ++count_;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
    sum_ += static_cast<double>(v);
  }
  void merge(const histogram& o) noexcept;
  void clear() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  // p in [0, 100]; the value at or below which p percent of the recorded values lie.
  std::uint64_t percentile(double p) const noexcept;

  static std::size_t index(std::uint64_t v) noexcept {
    if (v < sub_count) return static_cast<std::size_t>(v);
    unsigned e = 63u - static_cast<unsigned>(__builtin_clzll(v));  // e >= sub_bits
    unsigned shift = e - sub_bits;
    return static_cast<std::size_t>(sub_count + shift * sub_count + ((v >> shift) - sub_count));
  }
  // Lowest value and width of bucket i.
  static std::uint64_t bucket_low(std::size_t i) noexcept;
  static std::uint64_t bucket_width(std::size_t i) noexcept;

 private:
  std::unique_ptr<std::array<std::uint64_t, bucket_count>> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace bench
