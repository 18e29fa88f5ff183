#include "harness/sysinfo.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/build_info.hpp"

namespace bench {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        return v;
      }
    }
  }
  return {};
}

json caches() {
  json out = json::array();
  for (int i = 0; i < 8; ++i) {
    std::string base = fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/", i);
    std::string level = read_first_line(base + "level");
    if (level.empty()) break;
    std::string size = read_first_line(base + "size");
    long bytes = 0;
    if (!size.empty()) {
      bytes = std::stol(size);
      if (size.back() == 'K') bytes *= 1024;
      if (size.back() == 'M') bytes *= 1024 * 1024;
    }
    std::string shared = read_first_line(base + "shared_cpu_list");
    int sharing = 1;
    for (char c : shared) sharing += c == ',' ? 1 : 0;
    json c;
    c["type"] = read_first_line(base + "type");
    c["level"] = std::stoi(level);
    c["size"] = bytes;
    c["num_sharing"] = sharing;
    out.push_back(c);
  }
  return out;
}

// What an idle CPU does decides how long waking a blocked peer on another core takes.
std::string idle_policy() {
  std::string driver = read_first_line("/sys/devices/system/cpu/cpuidle/current_driver");
  std::string governor = read_first_line("/sys/devices/system/cpu/cpuidle/current_governor_ro");
  if (governor.empty()) governor = read_first_line("/sys/devices/system/cpu/cpuidle/current_governor");
  std::string s = driver.empty() ? "cpuidle driver unknown" : "cpuidle driver " + driver;
  if (!governor.empty()) s += ", governor " + governor;
  std::string poll = read_first_line("/sys/module/haltpoll/parameters/guest_halt_poll_ns");
  std::string cmdline = read_first_line("/proc/cmdline");
  std::istringstream words(cmdline);
  std::string w;
  while (words >> w)
    if (w.find("haltpoll") != std::string::npos || w.rfind("idle=", 0) == 0 || w.find("max_cstate") != std::string::npos)
      s += ", " + w;
  if (!poll.empty()) s += ", guest_halt_poll_ns=" + poll;
  return s;
}

}  // namespace

std::string boot_id() { return read_first_line("/proc/sys/kernel/random/boot_id"); }

json machine_context() {
  json c;
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", &tm);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  utsname u{};
  uname(&u);

  c["date"] = date;
  c["host_name"] = host;
  c["executable"] = "bench";
  c["num_cpus"] = static_cast<int>(std::thread::hardware_concurrency());
  std::string mhz = cpuinfo_field("cpu MHz");
  c["mhz_per_cpu"] = mhz.empty() ? 0 : static_cast<int>(std::stod(mhz));
  std::string gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  c["cpu_scaling_enabled"] = !gov.empty() && gov != "performance";
  c["caches"] = caches();
  double la[3] = {0, 0, 0};
  getloadavg(la, 3);
  c["load_avg"] = {la[0], la[1], la[2]};
  // Debian's libbenchmark is a debug build; that is the library's, not ours (see build_type).
  c["library_build_type"] = BENCH_BENCHMARK_LIBRARY_BUILD_TYPE;
  c["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  c["cpu_model"] = cpuinfo_field("model name");
  c["compiler"] = build_info::compiler;
  c["compiler_flags"] = build_info::flags;
  c["build_type"] = build_info::build_type;
  c["git_revision"] = build_info::git_revision;
  c["libraries"] = build_info::libraries();
  c["governor"] = gov.empty() ? "not readable (no cpufreq: a VM?)" : gov;
  c["idle_policy"] = idle_policy();
  return c;
}

std::string machine_line(const json& c) {
  return fmt::format("{}, {} CPUs, {}", c.value("cpu_model", "?"), c.value("num_cpus", 0), c.value("kernel", "?"));
}

cpu_times read_cpu_times() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long v[10] = {};
  in >> cpu;
  for (auto& x : v) in >> x;
  cpu_times t;
  for (auto x : v) t.total += x;
  t.steal = v[7];
  return t;
}

double steal_pct(const cpu_times& a, const cpu_times& b) {
  unsigned long long dt = b.total - a.total;
  return dt ? 100.0 * static_cast<double>(b.steal - a.steal) / static_cast<double>(dt) : 0.0;
}

double load_avg_1min() {
  double la[1] = {0};
  getloadavg(la, 1);
  return la[0];
}

std::vector<std::string> machine_warnings(const json& c) {
  std::vector<std::string> w;
  std::string bt = c.value("build_type", "");
  if (bt != "Release" && bt != "RelWithDebInfo")
    w.push_back(fmt::format("bench was built as {}: figures will be slower than the hardware allows; build with -DCMAKE_BUILD_TYPE=Release", bt.empty() ? "an unoptimised build" : bt));
  if (c.value("sanitized", false)) w.push_back("bench was built with sanitizers: figures are not meaningful");
  std::string gov = c.value("governor", "");
  if (gov == "powersave" || gov == "ondemand" || gov == "schedutil")
    w.push_back(fmt::format("CPU frequency governor is '{}': set 'performance' for stable figures (cpupower frequency-set -g performance)", gov));
  double la = c["load_avg"][0].get<double>();
  if (la > 0.5 * c.value("num_cpus", 1))
    w.push_back(fmt::format("the machine is busy (load average {:.1f} on {} CPUs): figures will be noisy", la, c.value("num_cpus", 1)));
  return w;
}

}  // namespace bench
