// Parsing and printing of the quantities users type and read: sizes, durations, counts, rates.
// Every parser throws usage_error with a message naming the bad text; none clamps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// "64", "64B", "4K", "4KiB", "1M", "1MiB", "1G": binary multiples (K = 1024), as message sizes are
// conventionally given. "4KB" is refused as ambiguous.
std::uint64_t parse_size(std::string_view text);
// "0.2s", "200ms", "10us", "50ns", "1.5m"; a bare number is refused (the unit is required).
// Returns nanoseconds; negative values are refused.
std::uint64_t parse_duration_ns(std::string_view text);
// A non-negative integer, e.g. "--reps 3". Refuses signs, fractions and junk.
std::uint64_t parse_count(std::string_view text, std::string_view what);
// A positive number, e.g. "--rate 10000" or "1e5".
double parse_positive(std::string_view text, std::string_view what);
// Comma-separated list: "a,b,c" -> {"a","b","c"}; empty items are refused.
std::vector<std::string> split_list(std::string_view text, std::string_view what);
// The other way, for messages: {"a", "b"} -> "a, b".
template <class Range>
std::string join_list(const Range& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string format_bytes(std::uint64_t bytes);   // "64 B", "4 KiB", "1 MiB", "1.5 MiB"
std::string format_ns(double ns);                // "850 ns", "12.3 us", "4.10 ms", "1.20 s"
std::string format_rate(double per_s);           // "850", "12.3 k", "1.23 M"
std::string format_bytes_per_s(double bytes_s);  // decimal: "950 MB/s", "9.8 GB/s"

}  // namespace bench
