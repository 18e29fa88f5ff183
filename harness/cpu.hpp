// Which CPUs exist, where each endpoint runs, and checking where it actually ran.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/topology.hpp"

namespace bench {

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();
// Pins the calling thread to one CPU; throws with the CPU number on failure. cpu < 0 leaves it unpinned.
void pin_this_thread(int cpu);
int current_cpu() noexcept;

// --placement: where the two ends of a pair run. cross: two distinct physical cores sharing an L3; smt: the two
// hardware threads of one core; far: different L3 domains (or NUMA nodes); same: one hardware thread; os: left
// to the scheduler.
enum class placement { cross, same, os, smt, far };
const char* to_string(placement p) noexcept;
std::optional<placement> parse_placement(std::string_view name) noexcept;

// The CPUs a run uses: the first `requested` in the topology's cross order (the first hardware thread of every
// core, one L3 domain at a time, then the second threads), or all of them round-robin when more are requested
// than exist (oversubscribed: warned about and recorded, never refused).
struct core_plan {
  int requested = 0;
  int available = 0;
  bool oversubscribed = false;
  std::vector<int> cpus;  // `requested` entries, possibly repeating
  topology topo;          // the machine planned for (this one, unless --topology names another)
};
core_plan plan_cores(int requested);
core_plan plan_cores(int requested, topology topo);

// Why `p` cannot be planned on this topology ("" where it can): smt without two threads per core, far with one
// domain.
std::string placement_refusal(placement p, const topology& t);

struct pair_cpus {
  int client = -1;  // -1: not pinned
  int server = -1;
};
// cross: pair i takes slots 2i (client) and 2i+1 (server) of the plan's CPUs, so pairs get disjoint physical
// cores while there are enough, then share them in the same order; same: slot i for both ends; smt: the first
// two threads of the i-th core of the plan that has two; far: the i-th core of the first domain and of the second.
// Throws usage_error where placement_refusal says why.
std::vector<pair_cpus> place_pairs(placement p, int pairs, const core_plan& cores);

// The planned CPUs of the pairs' ends, as rows write the CPUs seen ("2;4" for two pairs, "any" unpinned), and what
// they share: "4 endpoints on 4 distinct cores", or "8 endpoints on 4 cores (2 hardware threads of each)".
std::string planned_cpus(const std::vector<pair_cpus>& pairs, bool client);
std::string core_sharing(const std::vector<pair_cpus>& pairs, const topology& t);

// Records the CPUs a thread was seen on, e.g. "1" or "0,1" if the scheduler moved it.
class cpu_sampler {
 public:
  void sample() noexcept;
  std::string seen() const;

 private:
  unsigned long long mask_ = 0;  // CPUs 0..63; beyond that only "64+" is recorded
  bool high_ = false;
};

}  // namespace bench
