// Which CPUs exist, where each endpoint runs, and checking where it actually ran.
#pragma once

#include <string>
#include <vector>

namespace bench {

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();
// Pins the calling thread to one CPU; throws with the CPU number on failure. cpu < 0 leaves it unpinned.
void pin_this_thread(int cpu);
int current_cpu() noexcept;

// --placement: the two ends of a pair on different cores, on the same core, or left to the scheduler.
enum class placement { cross, same, os };
const char* to_string(placement p) noexcept;

// The CPUs a run uses: the first `requested` of the allowed ones, or all of them round-robin when more are
// requested than exist (oversubscribed: warned about and recorded, never refused).
struct core_plan {
  int requested = 0;
  int available = 0;
  bool oversubscribed = false;
  std::vector<int> cpus;  // `requested` entries, possibly repeating
};
core_plan plan_cores(int requested);

struct pair_cpus {
  int client = -1;  // -1: not pinned
  int server = -1;
};
// Endpoint slots are filled in order: pair i takes slots 2i (client) and 2i+1 (server) for `cross`, slot i for
// both ends for `same`.
std::vector<pair_cpus> place_pairs(placement p, int pairs, const core_plan& cores);

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
