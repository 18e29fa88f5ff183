#include "harness/stats.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>

#include <fmt/format.h>

namespace bench {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double mad_small_sample_factor(std::size_t n) {
  static constexpr double small[] = {1.0, 1.0, 1.196, 1.495, 1.363, 1.206, 1.200, 1.140, 1.129, 1.107};
  if (n < std::size(small)) return small[n];
  return static_cast<double>(n) / (static_cast<double>(n) - 0.8);
}

summary summarize(std::vector<double> v) {
  summary s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = median_of(v);
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) dev.push_back(std::fabs(x - s.median));
  s.mad = median_of(dev);
  s.spread_pct = s.median != 0 ? mad_small_sample_factor(s.n) * mad_to_sigma * s.mad / std::fabs(s.median) * 100 : 0;
  return s;
}

bool is_unstable(const summary& s) { return s.n > 1 && s.spread_pct > unstable_above_pct; }

std::string unstable_rule() {
  return fmt::format("spread (robust: 1.48 x MAD / median of the repetitions) above {:g}%", unstable_above_pct);
}

}  // namespace bench
