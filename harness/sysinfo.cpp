#include "harness/sysinfo.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/clock.hpp"
#include "harness/build_info.hpp"
#include "harness/floor.hpp"
#include "harness/stats.hpp"

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
    if (w.find("haltpoll") != std::string::npos || w.rfind("idle=", 0) == 0 ||
        w.find("max_cstate") != std::string::npos)
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
  // Google Benchmark's field, kept for its tools; an unreadable load average is an empty list, not zeros.
  c["load_avg"] = getloadavg(la, 3) == 3 ? json{la[0], la[1], la[2]} : json::array();
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

json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

namespace {

std::string read_all(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Adds one "cpu..." line's counters (user nice system idle iowait irq softirq steal; guest and guest_nice are
// already counted in user and nice, so they are left out of the total). False if the line has no steal field.
bool add_cpu_line(std::string_view fields, cpu_times& t) {
  std::istringstream in{std::string(fields)};
  unsigned long long v[8];
  for (auto& x : v)
    if (!(in >> x)) return false;
  for (auto x : v) t.total += x;
  t.idle += v[3] + v[4];
  t.steal += v[7];
  return true;
}

}  // namespace

cpu_times parse_cpu_times(std::string_view text, std::span<const int> cpus) {
  std::vector<std::string> wanted;
  if (cpus.empty()) wanted.push_back("cpu");
  for (int c : cpus) {
    std::string name = fmt::format("cpu{}", c);
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) wanted.push_back(name);
  }
  cpu_times t;
  std::size_t found = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::string_view name = line.substr(0, space);
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    if (!add_cpu_line(line.substr(space), t)) return {};
    ++found;
  }
  t.ok = found == wanted.size();
  return t.ok ? t : cpu_times{};
}

cpu_times read_cpu_times(std::span<const int> cpus) { return parse_cpu_times(read_all("/proc/stat"), cpus); }

std::optional<double> steal_pct(const cpu_times& a, const cpu_times& b) {
  if (!a.ok || !b.ok || b.total <= a.total || b.steal < a.steal) return std::nullopt;
  return 100.0 * static_cast<double>(b.steal - a.steal) / static_cast<double>(b.total - a.total);
}

std::optional<double> busy_pct(const cpu_times& a, const cpu_times& b) {
  if (!a.ok || !b.ok || b.total <= a.total || b.idle < a.idle) return std::nullopt;
  double dt = static_cast<double>(b.total - a.total);
  return 100.0 * (dt - static_cast<double>(b.idle - a.idle)) / dt;
}

std::optional<int> parse_procs_running(std::string_view text) {
  constexpr std::string_view key = "\nprocs_running ";
  std::size_t at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  try {
    return std::stoi(std::string(text.substr(at + key.size(), 12)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> load_avg_1min() {
  double la[1] = {0};
  if (getloadavg(la, 1) != 1) return std::nullopt;
  return la[0];
}

namespace {
// Beyond these the start-of-run check calls the machine busy. Other runnable tasks count only beyond the CPUs the
// run leaves free (they can run there without touching the run's).
constexpr double busy_cpus_pct = 25, busy_steal_pct = 5, busy_stalled_pct = 5;
constexpr int busy_samples = 20;
constexpr auto busy_sample_period = std::chrono::milliseconds(10);

std::vector<int> distinct_in_order(std::span<const int> cpus) {
  std::vector<int> out;
  for (int c : cpus)
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  return out;
}
}  // namespace

void judge_busy(busy_check& b) {
  b.reasons.clear();
  if (b.others_runnable_median && *b.others_runnable_median > b.spare_cpus)
    b.reasons.push_back(
        fmt::format("{:g} other task(s) runnable (median of {} samples over {:.1f} s), more than the {} "
                    "CPU(s) the run leaves free",
                    *b.others_runnable_median, b.samples, b.window_s, b.spare_cpus));
  if (b.cpus_busy_pct && *b.cpus_busy_pct > busy_cpus_pct)
    b.reasons.push_back(
        fmt::format("the run's CPUs were {:.0f}% busy with other work while bench waited", *b.cpus_busy_pct));
  if (b.steal_pct && *b.steal_pct > busy_steal_pct)
    b.reasons.push_back(fmt::format("the hypervisor stole {:.1f}% of the run's CPU time", *b.steal_pct));
  if (b.canary_stalled_pct && *b.canary_stalled_pct > busy_stalled_pct)
    b.reasons.push_back(
        fmt::format("a cache-line ping-pong on the run's first two CPUs spent {:.0f}% of its time "
                    "waiting for a peer that was not running",
                    *b.canary_stalled_pct));
}

busy_check measure_busy(std::span<const int> cpus) {
  busy_check b;
  std::vector<int> used = distinct_in_order(cpus);
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  b.spare_cpus = std::max(0, static_cast<int>(online) - static_cast<int>(used.size()));
  const cpu_times before = read_cpu_times(used);
  const std::uint64_t t0 = now_ns();
  std::vector<double> others;
  for (int i = 0; i < busy_samples; ++i) {
    std::this_thread::sleep_for(busy_sample_period);
    // The reading thread is itself running: the rest are other programs' tasks.
    if (std::optional<int> n = parse_procs_running(read_all("/proc/stat"))) others.push_back(std::max(0, *n - 1));
  }
  const cpu_times after = read_cpu_times(used);
  b.window_s = static_cast<double>(now_ns() - t0) / 1e9;
  b.samples = static_cast<int>(others.size());
  if (!others.empty()) {
    b.others_runnable_median = median_of(others);
    b.others_runnable_max = *std::max_element(others.begin(), others.end());
  }
  b.cpus_busy_pct = busy_pct(before, after);
  b.steal_pct = steal_pct(before, after);
  if (used.size() >= 2)
    if (std::optional<round_trip_summary> c = measure_canary(used[0], used[1])) {
      b.canary_stalled_pct = c->stalled_pct;
      b.canary_round_trip_ns = c->median_ns;
    }
  judge_busy(b);
  return b;
}

json to_json(const busy_check& b) {
  return {{"window_s", b.window_s},
          {"samples", b.samples},
          {"others_runnable_median", or_null(b.others_runnable_median)},
          {"others_runnable_max", or_null(b.others_runnable_max)},
          {"spare_cpus", b.spare_cpus},
          {"cpus_busy_pct", or_null(b.cpus_busy_pct)},
          {"steal_pct", or_null(b.steal_pct)},
          {"canary_stalled_pct", or_null(b.canary_stalled_pct)},
          {"canary_round_trip_ns", or_null(b.canary_round_trip_ns)},
          {"busy", !b.reasons.empty()},
          {"reasons", b.reasons},
          {"method",
           "measured at the start: procs_running of /proc/stat sampled while bench slept, the run's CPUs' "
           "busy and steal time from their own /proc/stat lines over the same window, then a cache-line "
           "ping-pong's time lost to a peer that was not running; the load average is not used"}};
}

std::vector<std::string> machine_warnings(const json& c) {
  std::vector<std::string> w;
  std::string bt = c.value("build_type", "");
  if (bt != "Release" && bt != "RelWithDebInfo")
    w.push_back(fmt::format(
        "bench was built as {}: figures will be slower than the hardware allows; build with -DCMAKE_BUILD_TYPE=Release",
        bt.empty() ? "an unoptimised build" : bt));
  if (c.value("sanitized", false)) w.push_back("bench was built with sanitizers: figures are not meaningful");
  std::string gov = c.value("governor", "");
  if (gov == "powersave" || gov == "ondemand" || gov == "schedutil")
    w.push_back(fmt::format(
        "CPU frequency governor is '{}': set 'performance' for stable figures (cpupower frequency-set -g performance)",
        gov));
  if (c.contains("busy_at_start") && c["busy_at_start"].value("busy", false)) {
    std::vector<std::string> reasons = c["busy_at_start"]["reasons"].get<std::vector<std::string>>();
    w.push_back(fmt::format("the machine is busy ({}): figures will be noisy", fmt::join(reasons, "; ")));
  }
  return w;
}

}  // namespace bench
