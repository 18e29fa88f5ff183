// Robust summaries of repetitions: median and spread, never a bare mean.
#pragma once

#include <vector>

namespace bench {

struct summary {
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0;
  double mad = 0;          // median absolute deviation
  double spread_pct = 0;   // (max - min) / median * 100: what the console's "spread" column shows
  std::size_t n = 0;
};

summary summarize(std::vector<double> values);
double median_of(std::vector<double> values);

}  // namespace bench
