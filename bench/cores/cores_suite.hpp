// `bench run cores`: the cache-line round trip between every pair of the allowed CPUs (the core-to-core map), each
// pair labelled with what the two CPUs share (one core's hardware threads, an L3, a NUMA node, a package).
#pragma once

#include "bench/suite.hpp"

namespace bench {

void validate_cores(const run_request& req);
int run_cores(const run_request& req);
// What two CPUs share, as the map's rows name it: "smt siblings", "same L3", "other L3", "other NUMA node",
// "other package" (the closest that applies).
std::string cpu_relation(const topology& t, int cpu_a, int cpu_b);

}  // namespace bench
