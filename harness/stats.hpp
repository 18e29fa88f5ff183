// Robust summaries of repetitions: median and spread, never a bare mean.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// The spread every suite reports and flags on: a robust coefficient of variation, c_n x 1.4826 x MAD / |median|
// in percent. 1.4826 x MAD estimates the standard deviation of normally distributed values, so this reads like
// stddev / mean without letting one disturbed repetition decide it; c_n (mad_small_sample_factor) removes the
// MAD's bias at few repetitions (of 3 values it is the smaller gap to the median). So its expected value does not
// change as repetitions of the same distribution are added, where the range (max - min) of n values widens with
// n (by 1.5x from 3 to 9 normal values).
inline constexpr double mad_to_sigma = 1.4826;
// A case whose spread exceeds this is marked unstable (results files, console, charts); written into every
// results file's context.statistics.
inline constexpr double unstable_above_pct = 10.0;
// Text for context.statistics: what spread_pct is.
inline constexpr std::string_view spread_definition =
    "c_n x 1.4826 x MAD / |median| x 100 of the case's primary metric over its n successful repetitions (MAD: the "
    "median of the absolute deviations from the median; c_n: Croux and Rousseeuw's small-sample factor, 1.196 for "
    "n=2, 1.495 for 3, 1.363 for 4, 1.206 for 5, ..., n/(n-0.8) above 9): a robust coefficient of variation whose "
    "expected value does not depend on n; 0 with a single repetition";

struct summary {
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0;
  double mad = 0;         // median absolute deviation
  double spread_pct = 0;  // c_n * mad_to_sigma * mad / |median| * 100: what the "spread" columns show
  std::size_t n = 0;
};

summary summarize(std::vector<double> values);
// c_n: makes c_n x 1.4826 x MAD of n normal values an unbiased estimate of their standard deviation (Croux and
// Rousseeuw 1992, "Time-efficient algorithms for two highly robust estimators of scale"; checked by simulation).
double mad_small_sample_factor(std::size_t n);
double median_of(std::vector<double> values);
// More than one repetition, and a spread above unstable_above_pct.
bool is_unstable(const summary& s);
// "spread (robust: 1.48 x MAD / median) above 10%": what the consoles' footers say marked a case unstable.
std::string unstable_rule();

}  // namespace bench
