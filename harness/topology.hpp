// The machine's CPUs as hwloc sees them (hardware threads, cores, L3 domains, NUMA nodes, packages), and the
// order in which the planner hands them to the ends of a pair.
//
// A topology is read from this machine (restricted to the CPUs this process may run on), or, for planning a
// machine that is not this one, from hwloc's synthetic description or an XML file written by `lstopo --of xml`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

// One hardware thread (hwloc's PU) and where it sits. Indices are hwloc's logical ones, dense from 0.
struct cpu_site {
  int cpu = 0;      // the OS's CPU number, what sched_setaffinity takes
  int core = 0;     // the physical core
  int thread = 0;   // which of its core's hardware threads (0 for the first)
  int l3 = 0;       // the L3 cache it shares (its package when the machine reports no L3)
  int numa = 0;     // the NUMA node
  int package = 0;  // the socket
};

struct topology {
  std::vector<cpu_site> pus;  // ascending by CPU number
  bool virtual_machine = false;
  std::string source;  // "this machine", "synthetic:...", or the XML file

  int cores() const;
  int l3_domains() const;
  int numa_nodes() const;
  int packages() const;
  bool smt() const;  // some core has more than one hardware thread
  // More than one kind of CPU pair (SMT siblings, two L3 domains, NUMA nodes or packages): a core-to-core map
  // shows something.
  bool mixed_pairs() const;
  const cpu_site* site(int cpu) const;
  // "8 cores / 16 threads, 2 L3 domains, 1 NUMA node" (and ", virtual" for a VM)
  std::string describe() const;
};

// spec "": this machine, its PUs restricted to `allowed` (the affinity mask; every PU hwloc sees when empty).
// "synthetic:DESCRIPTION" (hwloc's synthetic format, e.g. "package:1 l3:2 core:4 pu:2") or a path to an XML
// file: a machine that is not this one, for planning only. Throws usage_error for a spec hwloc cannot read.
topology read_topology(const std::string& spec = "", const std::vector<int>& allowed = {});

// The order in which `cross` hands out CPUs, two per pair: the first hardware thread of every core, the cores
// of one L3 domain together (so that pair i gets two distinct cores of one L3 while there are enough), then
// the second threads in the same order, and so on.
std::vector<int> cross_order(const topology& t);

// The domain `far` puts the two ends of a pair in: the L3 domain, or the NUMA node on a machine of one L3 and
// several nodes; nullopt where the machine has a single domain (the reason for the refusal is in far_refusal).
std::optional<int> far_domain(const topology& t, const cpu_site& s);
std::string far_refusal(const topology& t);  // "" where `far` applies

nlohmann::ordered_json to_json(const topology& t);

}  // namespace bench
