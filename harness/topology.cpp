#include "harness/topology.hpp"

#include <hwloc.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/error.hpp"

namespace bench {
namespace {

// The hwloc topology object, destroyed on every path.
class hwloc_handle {
 public:
  hwloc_handle() {
    if (hwloc_topology_init(&t_) != 0) throw std::runtime_error("hwloc: cannot initialise a topology");
  }
  ~hwloc_handle() { hwloc_topology_destroy(t_); }
  hwloc_handle(const hwloc_handle&) = delete;
  hwloc_handle& operator=(const hwloc_handle&) = delete;
  hwloc_topology_t get() const { return t_; }

 private:
  hwloc_topology_t t_ = nullptr;
};

// x86 guests see the "hypervisor" CPU flag; elsewhere a VM goes unnamed rather than guessed.
bool hypervisor_flag() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return line.find(" hypervisor") != std::string::npos;
  return false;
}

// Which of its core's hardware threads `pu` is: its rank among the PUs inside the core.
int thread_index(hwloc_topology_t t, hwloc_obj_t core, hwloc_obj_t pu) {
  for (int k = 0;; ++k) {
    hwloc_obj_t other = hwloc_get_obj_inside_cpuset_by_type(t, core->cpuset, HWLOC_OBJ_PU, static_cast<unsigned>(k));
    if (!other || other == pu) return other ? k : 0;
  }
}

template <class F>
int distinct(const std::vector<cpu_site>& pus, F field) {
  std::set<int> seen;
  for (const cpu_site& s : pus) seen.insert(field(s));
  return static_cast<int>(seen.size());
}

}  // namespace

int topology::cores() const {
  return distinct(pus, [](const cpu_site& s) { return s.core; });
}
int topology::l3_domains() const {
  return distinct(pus, [](const cpu_site& s) { return s.l3; });
}
int topology::numa_nodes() const {
  return distinct(pus, [](const cpu_site& s) { return s.numa; });
}
int topology::packages() const {
  return distinct(pus, [](const cpu_site& s) { return s.package; });
}
bool topology::smt() const {
  return std::any_of(pus.begin(), pus.end(), [](const cpu_site& s) { return s.thread > 0; });
}
bool topology::mixed_pairs() const { return smt() || l3_domains() > 1 || numa_nodes() > 1 || packages() > 1; }
const cpu_site* topology::site(int cpu) const {
  auto it = std::find_if(pus.begin(), pus.end(), [cpu](const cpu_site& s) { return s.cpu == cpu; });
  return it == pus.end() ? nullptr : &*it;
}

std::string topology::describe() const {
  auto plural = [](int n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); };
  return fmt::format("{} / {}, {}, {}{}", plural(cores(), "core", "cores"),
                     plural(static_cast<int>(pus.size()), "thread", "threads"),
                     plural(l3_domains(), "L3 domain", "L3 domains"), plural(numa_nodes(), "NUMA node", "NUMA nodes"),
                     virtual_machine ? ", virtual" : "");
}

topology read_topology(const std::string& spec, const std::vector<int>& allowed) {
  hwloc_handle h;
  topology out;
  const std::string synthetic = "synthetic:";
  if (spec.empty()) {
    out.source = "this machine";
  } else if (spec.rfind(synthetic, 0) == 0) {
    if (hwloc_topology_set_synthetic(h.get(), spec.c_str() + synthetic.size()) != 0)
      throw usage_error(
          fmt::format("--topology '{}': hwloc cannot read that synthetic description (e.g. "
                      "synthetic:package:1 l3:2 core:4 pu:2)",
                      spec));
    out.source = spec;
  } else {
    if (!std::filesystem::is_regular_file(spec))
      throw usage_error(
          fmt::format("--topology {}: no such file (an XML file from lstopo --of xml, or synthetic:...)", spec));
    if (hwloc_topology_set_xml(h.get(), spec.c_str()) != 0)
      throw usage_error(fmt::format("--topology {}: hwloc cannot read it as a topology XML file", spec));
    out.source = spec;
  }
  if (hwloc_topology_load(h.get()) != 0) throw usage_error(fmt::format("--topology '{}': hwloc cannot load it", spec));
  const int n = hwloc_get_nbobjs_by_type(h.get(), HWLOC_OBJ_PU);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(h.get(), HWLOC_OBJ_PU, static_cast<unsigned>(i));
    cpu_site s;
    s.cpu = static_cast<int>(pu->os_index);
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s.cpu) == allowed.end()) continue;
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(h.get(), HWLOC_OBJ_CORE, pu);
    hwloc_obj_t l3 = hwloc_get_ancestor_obj_by_type(h.get(), HWLOC_OBJ_L3CACHE, pu);
    hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(h.get(), HWLOC_OBJ_PACKAGE, pu);
    s.core = static_cast<int>(core ? core->logical_index : pu->logical_index);
    s.thread = core ? thread_index(h.get(), core, pu) : 0;
    s.package = package ? static_cast<int>(package->logical_index) : 0;
    // No L3 reported: the package is the shared-cache domain, rather than calling every core a domain.
    s.l3 = l3 ? static_cast<int>(l3->logical_index) : s.package;
    const int node = pu->nodeset ? hwloc_bitmap_first(pu->nodeset) : -1;
    s.numa = node < 0 ? 0 : node;
    out.pus.push_back(s);
  }
  if (out.pus.empty()) throw usage_error(fmt::format("--topology '{}': no CPU of it is allowed here", spec));
  std::sort(out.pus.begin(), out.pus.end(), [](const cpu_site& a, const cpu_site& b) { return a.cpu < b.cpu; });
  out.virtual_machine = spec.empty() && hypervisor_flag();
  return out;
}

std::vector<int> cross_order(const topology& t) {
  std::vector<cpu_site> sites = t.pus;
  std::stable_sort(sites.begin(), sites.end(), [](const cpu_site& a, const cpu_site& b) {
    return std::tie(a.thread, a.l3, a.core) < std::tie(b.thread, b.l3, b.core);
  });
  std::vector<int> out;
  for (const cpu_site& s : sites) out.push_back(s.cpu);
  return out;
}

std::optional<int> far_domain(const topology& t, const cpu_site& s) {
  if (t.l3_domains() > 1) return s.l3;
  if (t.numa_nodes() > 1) return s.numa;
  return std::nullopt;
}

std::string far_refusal(const topology& t) {
  if (t.l3_domains() > 1 || t.numa_nodes() > 1) return "";
  return fmt::format("--placement far needs two L3 domains or NUMA nodes, and this machine ({}) has one", t.describe());
}

nlohmann::ordered_json to_json(const topology& t) {
  nlohmann::ordered_json j;
  j["source"] = t.source;
  j["describe"] = t.describe();
  j["cores"] = t.cores();
  j["pus"] = t.pus.size();
  j["l3_domains"] = t.l3_domains();
  j["numa_nodes"] = t.numa_nodes();
  j["packages"] = t.packages();
  j["smt"] = t.smt();
  j["virtual"] = t.virtual_machine;
  nlohmann::ordered_json cpus = nlohmann::ordered_json::array();
  for (const cpu_site& s : t.pus)
    cpus.push_back({{"cpu", s.cpu},
                    {"core", s.core},
                    {"thread", s.thread},
                    {"l3", s.l3},
                    {"numa", s.numa},
                    {"package", s.package}});
  j["cpus"] = cpus;
  return j;
}

}  // namespace bench
