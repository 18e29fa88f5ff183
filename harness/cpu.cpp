#include "harness/cpu.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "base/error.hpp"

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
    case placement::smt: return "smt";
    case placement::far: return "far";
  }
  return "?";
}

std::optional<placement> parse_placement(std::string_view name) noexcept {
  for (placement p : {placement::cross, placement::same, placement::os, placement::smt, placement::far})
    if (name == to_string(p)) return p;
  return std::nullopt;
}

core_plan plan_cores(int requested) { return plan_cores(requested, read_topology("", allowed_cpus())); }

core_plan plan_cores(int requested, topology topo) {
  const std::vector<int> order = cross_order(topo);
  core_plan plan;
  plan.requested = requested;
  plan.available = static_cast<int>(order.size());
  plan.oversubscribed = requested > plan.available;
  for (int i = 0; i < requested; ++i) plan.cpus.push_back(order[static_cast<std::size_t>(i) % order.size()]);
  plan.topo = std::move(topo);
  return plan;
}

std::string placement_refusal(placement p, const topology& t) {
  if (p == placement::smt && !t.smt())
    return fmt::format("--placement smt needs two hardware threads per core, and this machine ({}) has one",
                       t.describe());
  if (p == placement::far) return far_refusal(t);
  return "";
}

namespace {

// smt: every core of the plan (in the plan's order) with its first two hardware threads.
std::vector<pair_cpus> smt_pairs(const core_plan& cores) {
  std::vector<pair_cpus> out;
  for (int cpu : cores.cpus) {
    const cpu_site* s = cores.topo.site(cpu);
    if (!s || std::any_of(out.begin(), out.end(),
                          [&](const pair_cpus& p) { return cores.topo.site(p.client)->core == s->core; }))
      continue;
    pair_cpus p{-1, -1};
    for (const cpu_site& other : cores.topo.pus)
      if (other.core == s->core && other.thread == 0)
        p.client = other.cpu;
      else if (other.core == s->core && other.thread == 1)
        p.server = other.cpu;
    if (p.client >= 0 && p.server >= 0) out.push_back(p);
  }
  return out;
}

// far: the first hardware thread of every core, split by domain; pair i takes the i-th core of the first domain
// and the i-th of the second (round-robin within each).
std::vector<pair_cpus> far_pairs(const core_plan& cores, int pairs) {
  std::map<int, std::vector<int>> by_domain;
  for (int cpu : cross_order(cores.topo)) {
    const cpu_site* s = cores.topo.site(cpu);
    if (std::optional<int> d = far_domain(cores.topo, *s); d && s->thread == 0) by_domain[*d].push_back(cpu);
  }
  const std::vector<int>& a = by_domain.begin()->second;
  const std::vector<int>& b = std::next(by_domain.begin())->second;
  std::vector<pair_cpus> out;
  for (int i = 0; i < pairs; ++i)
    out.push_back({a[static_cast<std::size_t>(i) % a.size()], b[static_cast<std::size_t>(i) % b.size()]});
  return out;
}

}  // namespace

std::vector<pair_cpus> place_pairs(placement p, int pairs, const core_plan& cores) {
  if (std::string why = placement_refusal(p, cores.topo); !why.empty()) throw usage_error(why);
  if (p == placement::far) return far_pairs(cores, pairs);
  std::vector<pair_cpus> out;
  auto slot = [&](int i) { return cores.cpus[static_cast<std::size_t>(i) % cores.cpus.size()]; };
  const std::vector<pair_cpus> siblings = p == placement::smt ? smt_pairs(cores) : std::vector<pair_cpus>{};
  if (p == placement::smt && siblings.empty())
    throw usage_error("--placement smt: no core among the run's CPUs has two hardware threads here");
  for (int i = 0; i < pairs; ++i) {
    switch (p) {
      case placement::cross: out.push_back({slot(2 * i), slot(2 * i + 1)}); break;
      case placement::same: out.push_back({slot(i), slot(i)}); break;
      case placement::os: out.push_back({-1, -1}); break;
      case placement::smt: out.push_back(siblings[static_cast<std::size_t>(i) % siblings.size()]); break;
      case placement::far: break;  // placed above
    }
  }
  return out;
}

std::string planned_cpus(const std::vector<pair_cpus>& pairs, bool client) {
  std::string out;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    int cpu = client ? pairs[i].client : pairs[i].server;
    out += (i ? ";" : "") + (cpu < 0 ? std::string("any") : std::to_string(cpu));
  }
  return out;
}

std::string core_sharing(const std::vector<pair_cpus>& pairs, const topology& t) {
  std::map<int, std::set<int>> cores;  // core -> the CPUs (hardware threads) of it that ends use
  int endpoints = 0;
  for (const pair_cpus& p : pairs)
    for (int cpu : {p.client, p.server}) {
      const cpu_site* s = t.site(cpu);
      if (!s) return "unpinned";
      ++endpoints;
      cores[s->core].insert(cpu);
    }
  if (static_cast<std::size_t>(endpoints) == cores.size())
    return fmt::format("{} endpoints on {} distinct cores", endpoints, cores.size());
  std::size_t threads = 0;
  for (const auto& [core, cpus] : cores) threads += cpus.size();
  return fmt::format("{} endpoints on {} core{} ({} hardware thread{})", endpoints, cores.size(),
                     cores.size() == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
}

void cpu_sampler::sample() noexcept {
  int c = sched_getcpu();
  if (c < 0) return;
  if (c < 64)
    mask_ |= 1ull << c;
  else
    high_ = true;
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
