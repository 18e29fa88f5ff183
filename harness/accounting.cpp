#include "harness/accounting.hpp"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "base/clock.hpp"

namespace bench {
namespace {

std::uint64_t read_clock(clockid_t id) noexcept {
  timespec ts{};
  if (clock_gettime(id, &ts) != 0) return 0;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The CPU clock of thread `tid` of this process, as glibc's pthread_getcpuclockid builds it (the kernel's
// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)): for threads bench did not create, ZeroMQ's among them.
clockid_t thread_clock(pid_t tid) noexcept {
  constexpr clockid_t sched = 2, per_thread = 4;
  return static_cast<clockid_t>((~static_cast<clockid_t>(tid) << 3) | sched | per_thread);
}

// Reading a running thread's clock makes the kernel account its time up to now, which the process clock
// read afterwards then includes.
void bring_threads_up_to_date() noexcept {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/task"), ::closedir);
  if (!dir) return;
  while (dirent* e = ::readdir(dir.get())) {
    char* end = nullptr;
    long tid = std::strtol(e->d_name, &end, 10);
    if (tid > 0 && end && *end == '\0') (void)read_clock(thread_clock(static_cast<pid_t>(tid)));
  }
}

}  // namespace

namespace {
std::uint64_t process_cpu_ns(bool exact) noexcept {
  if (exact) bring_threads_up_to_date();
  return read_clock(CLOCK_PROCESS_CPUTIME_ID);
}
}  // namespace

cpu_mark open_cpu_reading(bool exact) noexcept {
  cpu_mark m;
  m.t_ns = now_ns();
  m.cpu_ns = process_cpu_ns(exact);
  m.pid = ::getpid();
  return m;
}

cpu_mark close_cpu_reading(bool exact) noexcept {
  cpu_mark m;
  m.cpu_ns = process_cpu_ns(exact);
  m.t_ns = now_ns();
  m.pid = ::getpid();
  return m;
}

cpu_total combine_cpu(std::span<const cpu_span> spans) {
  std::map<pid_t, cpu_span> per_process;  // earliest begin, latest end
  for (const cpu_span& s : spans) {
    if (s.begin.pid == 0 || s.begin.pid != s.end.pid || s.end.t_ns < s.begin.t_ns) continue;
    auto [it, fresh] = per_process.try_emplace(s.begin.pid, s);
    if (fresh) continue;
    if (s.begin.t_ns < it->second.begin.t_ns) it->second.begin = s.begin;
    if (s.end.t_ns > it->second.end.t_ns) it->second.end = s.end;
  }
  cpu_total t;
  std::uint64_t first = UINT64_MAX, last = 0;
  for (const auto& [pid, s] : per_process) {
    t.cpu_ns += s.end.cpu_ns > s.begin.cpu_ns ? s.end.cpu_ns - s.begin.cpu_ns : 0;
    first = std::min(first, s.begin.t_ns);
    last = std::max(last, s.end.t_ns);
    ++t.processes;
  }
  t.window_ns = t.processes ? last - first : 0;
  return t;
}

stream_total combine_streams(std::span<const stream_span> pairs) {
  stream_total t;
  std::uint64_t first = UINT64_MAX, last = 0, arrivals = 0;
  for (const stream_span& p : pairs) {
    if (p.first_ns == 0) continue;  // nothing measured arrived
    first = std::min(first, p.first_ns);
    last = std::max(last, p.last_ns);
    arrivals += p.measured + 1;
  }
  if (arrivals == 0) return t;
  t.messages = arrivals - 1;  // the very first arrival opens the window
  t.window_ns = last - first;
  if (t.window_ns > 0) t.msgs_per_s = static_cast<double>(t.messages) * 1e9 / static_cast<double>(t.window_ns);
  return t;
}

double per_iteration(std::uint64_t total_ns, std::uint64_t iterations) noexcept {
  return iterations ? static_cast<double>(total_ns) / static_cast<double>(iterations) : 0.0;
}

double cpus_busy(const cpu_total& t) noexcept {
  return t.window_ns ? static_cast<double>(t.cpu_ns) / static_cast<double>(t.window_ns) : 0.0;
}

namespace {
// Samples a tail percentile needs: min_samples_beyond / (1 - p/100), rounded to the integer the rule means.
std::uint64_t samples_needed(double p) noexcept {
  return static_cast<std::uint64_t>(std::ceil(min_samples_beyond / (1.0 - p / 100.0) - 1e-6));
}
}  // namespace

bool percentile_supported(std::uint64_t samples, double p) noexcept {
  if (samples == 0) return false;
  if (p <= 50) return true;
  if (p >= 100) return false;
  return samples >= samples_needed(p);
}

std::string withheld_reason(std::uint64_t samples, std::span<const double> ps) {
  std::vector<std::string> names;
  std::string first_need;
  for (double p : ps) {
    if (percentile_supported(samples, p)) continue;
    names.push_back(fmt::format("p{:g}", p));
    if (first_need.empty() && p > 50 && p < 100)
      first_need = fmt::format(", p{:g} needs {} ({:g} beyond it)", p, samples_needed(p), min_samples_beyond);
  }
  if (names.empty()) return {};
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i)
    list += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return fmt::format("{} withheld: {} samples{}", list, samples, first_need);
}

}  // namespace bench
