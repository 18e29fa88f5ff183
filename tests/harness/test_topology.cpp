// Placement on machines that are not this one: hwloc synthetic topologies drive the planner, and every placement
// must give the pairs what its definition promises (cross: distinct physical cores sharing an L3; smt: the two
// threads of one core; far: two L3 domains or NUMA nodes; same: one thread).
#include <gtest/gtest.h>

#include <hwloc.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "base/error.hpp"
#include "harness/cpu.hpp"
#include "harness/topology.hpp"

namespace bench {
namespace {

topology synthetic(const std::string& desc, const std::vector<int>& allowed = {}) {
  return read_topology("synthetic:" + desc, allowed);
}

std::vector<pair_cpus> place(const topology& t, placement p, int cores, int pairs) {
  return place_pairs(p, pairs, plan_cores(cores, t));
}

TEST(Topology, CountsWhatHwlocDescribes) {
  topology t = synthetic("package:1 l3:2 core:4 pu:2");
  EXPECT_EQ(t.pus.size(), 16u);
  EXPECT_EQ(t.cores(), 8);
  EXPECT_EQ(t.l3_domains(), 2);
  EXPECT_EQ(t.numa_nodes(), 1);
  EXPECT_TRUE(t.smt());
  EXPECT_FALSE(t.virtual_machine);  // a synthetic machine is no VM of this host
  EXPECT_EQ(t.describe(), "8 cores / 16 threads, 2 L3 domains, 1 NUMA node");
  auto j = to_json(t);
  for (const char* f : {"cores", "pus", "l3_domains", "numa_nodes", "smt", "virtual"}) EXPECT_TRUE(j.contains(f)) << f;
}

TEST(Topology, AnXmlFileAsLstopoWritesIt) {
  // The instructor's path: `lstopo --of xml` on the class machine, then --topology FILE here. hwloc writes the XML
  // of a synthetic 2-NUMA machine, as lstopo would of a real one.
  hwloc_topology_t h;
  ASSERT_EQ(hwloc_topology_init(&h), 0);
  ASSERT_EQ(hwloc_topology_set_synthetic(h, "package:2 numa:1 l3:1 core:4 pu:2"), 0);
  ASSERT_EQ(hwloc_topology_load(h), 0);
  const std::string path = ::testing::TempDir() + "bench-topology-" + std::to_string(::getpid()) + ".xml";
  ASSERT_EQ(hwloc_topology_export_xml(h, path.c_str(), 0), 0);
  hwloc_topology_destroy(h);
  topology t = read_topology(path);
  std::remove(path.c_str());
  EXPECT_EQ(t.source, path);
  EXPECT_EQ(t.describe(), "8 cores / 16 threads, 2 L3 domains, 2 NUMA nodes");
  EXPECT_EQ(t.packages(), 2);
  for (const pair_cpus& p : place(t, placement::far, 16, 2))
    EXPECT_NE(t.site(p.client)->package, t.site(p.server)->package);
}

TEST(Topology, SpecsHwlocCannotReadAreBadInput) {
  EXPECT_THROW(read_topology("synthetic:bogus:3"), usage_error);
  EXPECT_THROW(read_topology("/no/such/topology.xml"), usage_error);
}

// Both numberings of SMT siblings: side by side (P#0 and P#1 on core 0) and apart (P#0 and P#4).
class CrossPlacement : public ::testing::TestWithParam<const char*> {};

TEST_P(CrossPlacement, PairsGetDistinctCoresWhileThereAreEnough) {
  topology t = synthetic(GetParam());
  for (int pairs = 1; pairs <= 4; pairs *= 2) {
    std::vector<pair_cpus> placed = place(t, placement::cross, 8, pairs);
    std::set<int> cores;
    for (const pair_cpus& p : placed) {
      const cpu_site *c = t.site(p.client), *s = t.site(p.server);
      ASSERT_TRUE(c && s);
      EXPECT_NE(c->core, s->core) << "a cross pair on one core: " << p.client << "," << p.server;
      EXPECT_EQ(c->l3, s->l3) << "a cross pair across L3 domains";
      cores.insert(c->core);
      cores.insert(s->core);
    }
    EXPECT_EQ(cores.size(), static_cast<std::size_t>(2 * pairs)) << GetParam() << ", " << pairs << " pairs";
  }
}

INSTANTIATE_TEST_SUITE_P(Numberings, CrossPlacement,
                         ::testing::Values("package:1 l3:2 core:4 pu:2",
                                           "package:1 l3:2 core:4 pu:2(indexes=0,8,1,9,2,10,3,11,4,12,5,13,6,14,7,15)",
                                           "package:1 core:8 pu:2"));

TEST(Placement, SmtPairsAreTheTwoThreadsOfOneCore) {
  topology t = synthetic("package:1 l3:2 core:4 pu:2(indexes=0,8,1,9,2,10,3,11,4,12,5,13,6,14,7,15)");
  std::set<int> cores;
  for (const pair_cpus& p : place(t, placement::smt, 8, 4)) {
    EXPECT_EQ(t.site(p.client)->core, t.site(p.server)->core);
    EXPECT_NE(p.client, p.server);
    cores.insert(t.site(p.client)->core);
  }
  EXPECT_EQ(cores.size(), 4u);  // four pairs, four cores
  EXPECT_FALSE(placement_refusal(placement::smt, synthetic("package:1 core:4 pu:1")).empty());
  EXPECT_THROW(place(synthetic("package:1 core:4 pu:1"), placement::smt, 4, 1), usage_error);
}

TEST(Placement, FarPairsCrossL3DomainsOrNumaNodes) {
  for (const char* desc : {"package:1 l3:2 core:4 pu:2", "numa:2 core:4 pu:1", "package:1 l3:4 core:1 pu:1"}) {
    topology t = synthetic(desc);
    ASSERT_TRUE(placement_refusal(placement::far, t).empty()) << desc;
    for (const pair_cpus& p : place(t, placement::far, 8, 2)) {
      const cpu_site *c = t.site(p.client), *s = t.site(p.server);
      EXPECT_NE(far_domain(t, *c), far_domain(t, *s)) << desc;
    }
  }
  // One domain: refused, with the machine named.
  std::string why = placement_refusal(placement::far, synthetic("package:1 core:8 pu:2"));
  EXPECT_NE(why.find("8 cores / 16 threads"), std::string::npos) << why;
}

TEST(Placement, SameIsOneThreadAndOsIsUnpinned) {
  topology t = synthetic("package:1 core:4 pu:2");
  for (const pair_cpus& p : place(t, placement::same, 4, 2)) EXPECT_EQ(p.client, p.server);
  for (const pair_cpus& p : place(t, placement::os, 4, 2)) EXPECT_TRUE(p.client < 0 && p.server < 0);
}

TEST(Placement, AnAffinityMaskThatHidesCpusIsHonoured) {
  // CPUs 0-3 allowed of a 4-core, 2-thread machine numbered side by side: cores 0 and 1, both threads.
  topology t = synthetic("package:1 core:4 pu:2", {0, 1, 2, 3});
  EXPECT_EQ(t.pus.size(), 4u);
  EXPECT_EQ(t.cores(), 2);
  core_plan plan = plan_cores(4, t);
  EXPECT_FALSE(plan.oversubscribed);
  // cross takes the first thread of each core first: the one pair sits on two cores, not on two siblings.
  std::vector<pair_cpus> one = place_pairs(placement::cross, 1, plan);
  EXPECT_NE(t.site(one[0].client)->core, t.site(one[0].server)->core);
  for (int cpu : plan.cpus) EXPECT_LT(cpu, 4);
}

TEST(Placement, WhatThePairsShareIsSaid) {
  topology t = synthetic("package:1 core:4 pu:2");
  EXPECT_EQ(core_sharing(place(t, placement::cross, 8, 2), t), "4 endpoints on 4 distinct cores");
  EXPECT_EQ(core_sharing(place(t, placement::smt, 8, 2), t), "4 endpoints on 2 cores (4 hardware threads)");
  EXPECT_EQ(planned_cpus(place(t, placement::os, 8, 2), true), "any;any");
}

}  // namespace
}  // namespace bench
