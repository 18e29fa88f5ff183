#include "harness/cpu.hpp"

#include <pthread.h>
#include <sched.h>

#include <stdexcept>
#include <string>

#include "harness/error.hpp"

namespace bench {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) throw_errno("read the CPU affinity mask");
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

void pin_this_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (err != 0) throw_errno("pin thread to CPU " + std::to_string(cpu), err);
}

int current_cpu() noexcept { return sched_getcpu(); }

const char* to_string(placement p) noexcept {
  switch (p) {
    case placement::cross: return "cross";
    case placement::same: return "same";
    case placement::os: return "os";
  }
  return "?";
}

core_plan plan_cores(int requested) {
  std::vector<int> allowed = allowed_cpus();
  core_plan plan;
  plan.requested = requested;
  plan.available = static_cast<int>(allowed.size());
  plan.oversubscribed = requested > plan.available;
  for (int i = 0; i < requested; ++i) plan.cpus.push_back(allowed[static_cast<std::size_t>(i) % allowed.size()]);
  return plan;
}

std::vector<pair_cpus> place_pairs(placement p, int pairs, const core_plan& cores) {
  std::vector<pair_cpus> out;
  auto slot = [&](int i) { return cores.cpus[static_cast<std::size_t>(i) % cores.cpus.size()]; };
  for (int i = 0; i < pairs; ++i) {
    switch (p) {
      case placement::cross: out.push_back({slot(2 * i), slot(2 * i + 1)}); break;
      case placement::same: out.push_back({slot(i), slot(i)}); break;
      case placement::os: out.push_back({-1, -1}); break;
    }
  }
  return out;
}

void cpu_sampler::sample() noexcept {
  int c = sched_getcpu();
  if (c < 0) return;
  if (c < 64) mask_ |= 1ull << c;
  else high_ = true;
}

std::string cpu_sampler::seen() const {
  std::string s;
  for (int c = 0; c < 64; ++c) {
    if (mask_ & (1ull << c)) {
      if (!s.empty()) s += ',';
      s += std::to_string(c);
    }
  }
  if (high_) s += s.empty() ? "64+" : ",64+";
  return s;
}

}  // namespace bench
