#include "base/units.hpp"
#include <algorithm>

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>

#include "base/error.hpp"

namespace bench {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "12.5ms" into 12.5 and "ms". Refuses signs and empty numbers.
std::pair<double, std::string_view> number_and_unit(std::string_view text, std::string_view what) {
  std::string_view s = trim(text);
  if (s.empty()) throw usage_error(fmt::format("{}: empty value", what));
  if (s.front() == '-') throw usage_error(fmt::format("{} '{}' is negative", what, text));
  if (s.front() == '+') s.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end == s.data() || !std::isfinite(value)) {
    throw usage_error(fmt::format("{} '{}' is not a number", what, text));
  }
  return {value, trim(std::string_view(end, static_cast<std::size_t>(s.data() + s.size() - end)))};
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  auto [value, unit] = number_and_unit(text, "size");
  std::string u = lower(unit);
  double mult = 0;
  if (u.empty() || u == "b")
    mult = 1;
  else if (u == "k" || u == "kib")
    mult = 1024.0;
  else if (u == "m" || u == "mib")
    mult = 1024.0 * 1024;
  else if (u == "g" || u == "gib")
    mult = 1024.0 * 1024 * 1024;
  else if (u == "kb" || u == "mb" || u == "gb")
    throw usage_error(fmt::format("size '{}' is ambiguous: write 4K or 4KiB (1024 bytes) or the byte count", text));
  else
    throw usage_error(fmt::format("size '{}' has an unknown unit '{}' (use B, K, M or G)", text, unit));
  double bytes = value * mult;
  if (bytes != std::floor(bytes)) throw usage_error(fmt::format("size '{}' is not a whole number of bytes", text));
  if (bytes > 1e18) throw usage_error(fmt::format("size '{}' is too large", text));
  return static_cast<std::uint64_t>(bytes);
}

std::uint64_t parse_duration_ns(std::string_view text) {
  auto [value, unit] = number_and_unit(text, "duration");
  std::string u = lower(unit);
  double mult = 0;
  if (u == "ns")
    mult = 1;
  else if (u == "us" || u == "µs")
    mult = 1e3;
  else if (u == "ms")
    mult = 1e6;
  else if (u == "s")
    mult = 1e9;
  else if (u == "m" || u == "min")
    mult = 60e9;
  else if (u.empty())
    throw usage_error(fmt::format("duration '{}' needs a unit (ns, us, ms, s)", text));
  else
    throw usage_error(fmt::format("duration '{}' has an unknown unit '{}' (use ns, us, ms, s)", text, unit));
  double ns = value * mult;
  if (ns > 1e15) throw usage_error(fmt::format("duration '{}' is too long", text));
  return static_cast<std::uint64_t>(std::llround(ns));
}

std::uint64_t parse_count(std::string_view text, std::string_view what) {
  std::string_view s = trim(text);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    if (!s.empty() && s.front() == '-') throw usage_error(fmt::format("{} '{}' is negative", what, text));
    throw usage_error(fmt::format("{} '{}' is not a whole number", what, text));
  }
  return v;
}

double parse_positive(std::string_view text, std::string_view what) {
  auto [value, unit] = number_and_unit(text, what);
  if (!unit.empty()) throw usage_error(fmt::format("{} '{}' is not a number", what, text));
  if (value <= 0) throw usage_error(fmt::format("{} '{}' must be positive", what, text));
  return value;
}

std::vector<std::string> split_list(std::string_view text, std::string_view what) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = trim(text.substr(start, comma - start));
    if (item.empty()) throw usage_error(fmt::format("{} list '{}' has an empty item", what, text));
    // A name given twice would run (or be meant to run) its cases twice: a typo the user should hear about.
    if (std::find(out.begin(), out.end(), item) != out.end())
      throw usage_error(fmt::format("{} lists '{}' twice", what, item));
    out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

std::string format_bytes(std::uint64_t b) {
  // Below 1 MiB a size that is not a whole number of KiB is printed exactly: 65507 B is not "64.0 KiB".
  if (b < 1024 || (b < (1u << 20) && b % 1024 != 0)) return fmt::format("{} B", b);
  const char* units[] = {"KiB", "MiB", "GiB"};
  double v = static_cast<double>(b);
  int i = -1;
  while (v >= 1024 && i < 2) {
    v /= 1024;
    ++i;
  }
  if (v == std::floor(v)) return fmt::format("{:.0f} {}", v, units[i]);
  return fmt::format("{:.1f} {}", v, units[i]);
}

std::string format_ns(double ns) {
  if (ns < 1e3) return fmt::format("{:.0f} ns", ns);
  if (ns < 1e4) return fmt::format("{:.2f} us", ns / 1e3);
  if (ns < 1e6) return fmt::format("{:.1f} us", ns / 1e3);
  if (ns < 1e7) return fmt::format("{:.2f} ms", ns / 1e6);
  if (ns < 1e9) return fmt::format("{:.1f} ms", ns / 1e6);
  return fmt::format("{:.2f} s", ns / 1e9);
}

std::string format_rate(double r) {
  if (r < 1e3) return fmt::format("{:.0f}", r);
  if (r < 1e6) return fmt::format("{:.1f} k", r / 1e3);
  if (r < 1e9) return fmt::format("{:.2f} M", r / 1e6);
  return fmt::format("{:.2f} G", r / 1e9);
}

std::string format_bytes_per_s(double r) {
  if (r < 1e6) return fmt::format("{:.0f} kB/s", r / 1e3);
  if (r < 1e9) return fmt::format("{:.0f} MB/s", r / 1e6);
  return fmt::format("{:.2f} GB/s", r / 1e9);
}

}  // namespace bench
