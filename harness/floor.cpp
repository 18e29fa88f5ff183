#include "harness/floor.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/spin.hpp"
#include "base/units.hpp"
#include "harness/cpu.hpp"
#include "harness/stats.hpp"
#include "harness/sysinfo.hpp"

namespace bench {
namespace {

// The cost of one clock read: the lowest of 7 batches, since a batch can only be lengthened by a preemption (a
// median of them read several times the cost on a machine whose CPUs were shared), and the clock here may tick
// too coarsely to time a single call.
double timer_overhead() {
  std::vector<double> batches;
  for (int b = 0; b < 7; ++b) {
    constexpr int n = 20000;
    std::uint64_t t0 = now_ns();
    std::uint64_t sink = 0;
    for (int i = 0; i < n; ++i) sink += now_ns();
    std::uint64_t t1 = now_ns();
    asm volatile("" ::"r"(sink));
    batches.push_back(static_cast<double>(t1 - t0) / n);
  }
  return *std::min_element(batches.begin(), batches.end());
}

struct alignas(64) line {
  std::atomic<std::uint64_t> v{0};
};
// The stop flag, polled by the other thread on every poll, on a line of its own: on the stack beside the
// measuring thread's locals, each of their stores would take the line from the poller (measured: the round trip
// doubled).
struct alignas(64) stop_line {
  std::atomic<bool> v{false};
};

// The peer thread of a measurement, told to stop and joined however the measuring side leaves (an abort from
// Ctrl-C arrives as an exception out of its spinner).
class peer_thread {
 public:
  template <class F>
  explicit peer_thread(F&& body) : thread_(std::forward<F>(body)) {}
  ~peer_thread() { stop(); }
  peer_thread(const peer_thread&) = delete;
  peer_thread& operator=(const peer_thread&) = delete;
  void stop() {
    stop_.v = true;
    if (thread_.joinable()) thread_.join();
  }
  bool stopping() const noexcept { return stop_.v.load(std::memory_order_relaxed); }

 private:
  stop_line stop_;
  std::thread thread_;
};

// 20,000 round trips (about 10 ms at 500 ns each) after 1,000 unrecorded ones; at most 300 ms on a machine so
// busy that the responder rarely runs (then fewer samples, their count recorded).
constexpr int round_trip_samples = 20000, round_trip_warmup = 1000;
constexpr std::uint64_t round_trip_budget_ns = 300'000'000;

// Round trips of one cache line between two pinned threads: A writes an odd value, B answers with the next even.
// two_lines: B answers on a second line (one line per direction, as a channel of two rings has). Each round trip
// is one sample: the time between two consecutive clock reads of the requester, so the samples add up to the
// wall time and a stall of the responder lands in the one round trip it delayed. Empty if the responder stopped
// answering for a second.
std::optional<std::vector<double>> ping_pong(int cpu_a, int cpu_b, bool two_lines) {
  if (cpu_a == cpu_b) return std::nullopt;
  line l, reply;
  line& back = two_lines ? reply : l;
  peer_thread responder([&] {
    pin_this_thread(cpu_b);
    std::uint64_t last = 0;
    while (!responder.stopping()) {
      std::uint64_t v = l.v.load(std::memory_order_acquire);
      if (v != last && (v & 1)) {
        last = v + 1;
        back.v.store(last, std::memory_order_release);
      } else {
        cpu_relax();
      }
    }
  });
  pin_this_thread(cpu_a);
  std::vector<double> samples;
  samples.reserve(round_trip_samples);
  const std::uint64_t budget_end = now_ns() + round_trip_budget_ns;
  std::uint64_t v = 0, prev = now_ns();
  for (int i = 0; i < round_trip_warmup + round_trip_samples; ++i) {
    l.v.store(v + 1, std::memory_order_release);
    spinner spin;
    std::uint64_t deadline = 0;
    while (back.v.load(std::memory_order_acquire) != v + 2) {
      spin.once();
      // The responder may not be running (the host took its vCPU): give up rather than hang.
      if ((spin.polls() & 0xFFFF) == 0) {
        if (deadline == 0)
          deadline = now_ns() + 1'000'000'000;
        else if (now_ns() > deadline)
          return std::nullopt;
      }
    }
    v += 2;
    std::uint64_t t = now_ns();
    if (i >= round_trip_warmup) samples.push_back(static_cast<double>(t - prev));
    prev = t;
    if (t > budget_end && samples.size() >= 100) break;
  }
  return samples;
}

std::optional<round_trip_summary> round_trips(int cpu_a, int cpu_b, bool two_lines) {
  auto s = ping_pong(cpu_a, cpu_b, two_lines);
  if (!s || s->empty()) return std::nullopt;
  return summarize_round_trips(std::move(*s));
}

double memcpy_gbps(std::size_t bytes, std::uint64_t budget_ns) {
  std::vector<char> a(bytes, 1), b(bytes, 2);
  std::vector<double> rates;
  std::uint64_t end = now_ns() + budget_ns;
  while (now_ns() < end || rates.size() < 3) {
    std::uint64_t t0 = now_ns();
    int reps = bytes >= (1u << 20) ? 2 : 200;
    for (int i = 0; i < reps; ++i) {
      std::memcpy(b.data(), a.data(), bytes);
      asm volatile("" ::"r"(b.data()) : "memory");
    }
    rates.push_back(static_cast<double>(bytes) * reps / static_cast<double>(now_ns() - t0));
  }
  return median_of(rates);  // bytes per ns == GB/s
}

// The streaming buffer: on the heap, or a shared mapping (MAP_SHARED | MAP_ANONYMOUS, shmem pages, as the rings'
// memfd segments are), touched in full before any timing so that no page fault is measured.
class stream_buffer {
 public:
  stream_buffer(std::size_t bytes, bool shared) : bytes_(bytes) {
    if (shared) {
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw_errno("map the cross-core streaming buffer");
      data_ = static_cast<std::uint64_t*>(p);
      mapped_ = true;
    } else {
      data_ = new std::uint64_t[bytes / 8];
    }
    std::memset(data_, 0, bytes);
  }
  ~stream_buffer() {
    if (mapped_)
      ::munmap(data_, bytes_);
    else
      delete[] data_;
  }
  stream_buffer(const stream_buffer&) = delete;
  stream_buffer& operator=(const stream_buffer&) = delete;
  std::uint64_t* data() const noexcept { return data_; }

 private:
  std::uint64_t* data_ = nullptr;
  std::size_t bytes_;
  bool mapped_ = false;
};

struct stream_method {
  std::size_t slots;
  bool shared;    // a shared mapping (the rings') or the heap
  bool copy_out;  // the consumer copies each buffer out and reads the copy, instead of reading it in place
  std::size_t slot_kib = 64;
  std::string name() const {
    return fmt::format("{} x {} slots, {}, {}", slots,
                       slot_kib >= 1024 ? fmt::format("{} MiB", slot_kib / 1024) : fmt::format("{} KiB", slot_kib),
                       shared ? "shared mapping" : "heap", copy_out ? "copied out then read" : "read in place");
  }
};

// One core copies buffers (64 KiB or 1 MiB) into a ring of slots, the other reads every word of each (in place, or
// after copying it out) and frees the slot. GB/s at the consumer between the end of its 16th buffer and its last.
std::optional<double> stream_gbps(int cpu_a, int cpu_b, const stream_method& m, std::uint64_t budget_ns) {
  if (cpu_a == cpu_b) return std::nullopt;
  const std::size_t slot_bytes = m.slot_kib * 1024;
  constexpr std::size_t warm = 16;
  const std::size_t slots = m.slots;
  struct alignas(64) slot_state {
    std::atomic<std::uint64_t> seq{0};
  };
  stream_buffer ring(slot_bytes * slots, m.shared);
  std::vector<slot_state> state(slots);
  std::vector<std::uint64_t> source(slot_bytes / 8, 0x0123456789abcdefull), copy(slot_bytes / 8);
  // Written by the consumer on every buffer: a line of its own, away from the producer's locals.
  struct alignas(64) {
    std::uint64_t t_start = 0, t_end = 0, bytes = 0;
  } seen;
  peer_thread consumer([&] {
    pin_this_thread(cpu_b);
    std::uint64_t sum = 0, polls = 0;
    for (std::uint64_t n = 0;; ++n) {
      slot_state& s = state[n % slots];
      // Polled without an abort check (it would throw on this thread): the producer stops it.
      while (s.seq.load(std::memory_order_acquire) != 2 * n + 1) {
        if (consumer.stopping()) {
          asm volatile("" ::"r"(sum));
          return;
        }
        cpu_relax();
        if ((++polls & 1023) == 0) sched_yield();
      }
      const std::uint64_t* p = ring.data() + (n % slots) * (slot_bytes / 8);
      if (m.copy_out) {
        std::memcpy(copy.data(), p, slot_bytes);
        p = copy.data();
      }
      for (std::size_t i = 0; i < slot_bytes / 8; ++i) sum += p[i];
      s.seq.store(2 * n + 2, std::memory_order_release);
      seen.t_end = now_ns();
      if (n == warm) seen.t_start = seen.t_end;
      if (n > warm) seen.bytes += slot_bytes;
    }
  });
  pin_this_thread(cpu_a);
  const std::uint64_t end = now_ns() + budget_ns;
  for (std::uint64_t n = 0; now_ns() < end; ++n) {
    slot_state& s = state[n % slots];
    spinner spin;
    // Slot free once the consumer finished the lap before (seq == 2(n - slots) + 2), or never used.
    std::uint64_t want = n < slots ? 0 : 2 * (n - slots) + 2;
    bool stalled = false;
    while (s.seq.load(std::memory_order_acquire) != want) {
      if (now_ns() > end + 1'000'000'000) {
        stalled = true;
        break;
      }
      spin.once();
    }
    if (stalled) break;
    std::memcpy(ring.data() + (n % slots) * (slot_bytes / 8), source.data(), slot_bytes);
    s.seq.store(2 * n + 1, std::memory_order_release);
  }
  consumer.stop();
  if (seen.bytes == 0 || seen.t_end <= seen.t_start) return std::nullopt;
  return static_cast<double>(seen.bytes) / static_cast<double>(seen.t_end - seen.t_start);
}

// The methods tried every round: the rings' own (16 records of 64 KiB in a 1 MiB shared segment, read in place),
// the floor's earlier 4 heap slots, and variants of slot count, memory and consumer. The best is the ceiling:
// whichever suits this machine's caches, no transport of bench does better than all of them.
// Larger buffers too: a ring streaming 1 MiB messages hands off less often per byte than one of 64 KiB slots, and a
// ceiling a transport crosses is no ceiling.
constexpr stream_method stream_methods[] = {{16, true, false},     {4, true, false},  {4, false, false},
                                            {16, false, false},    {64, true, false}, {16, true, true},
                                            {4, true, false, 1024}};

void measure_streaming(round_floor& f, std::uint64_t budget_per_method_ns) {
  const stream_method* best = nullptr;
  for (const stream_method& m : stream_methods) {
    std::optional<double> g = stream_gbps(f.cpu_a, f.cpu_b, m, budget_per_method_ns);
    if (!g) continue;
    f.xcore_variants.push_back({m.name(), *g});
    if (!f.xcore_gbps || *g > *f.xcore_gbps) {
      f.xcore_gbps = *g;
      f.xcore_method = m.name();
      best = &m;
    }
  }
  // A ceiling is the most the hardware did: one short window of a shared vCPU can read low, and a transport
  // streaming for longer then crosses it. The best method gets eight more windows; the fastest of its nine stands.
  constexpr int extra_windows = 8;
  for (int i = 0; best && i < extra_windows; ++i)
    if (std::optional<double> g = stream_gbps(f.cpu_a, f.cpu_b, *best, budget_per_method_ns); g && *g > *f.xcore_gbps)
      f.xcore_gbps = *g;
}

round_floor cross_core(int cpu_a, int cpu_b, std::uint64_t budget_per_method_ns) {
  round_floor f;
  f.cpu_a = cpu_a;
  f.cpu_b = cpu_b;
  if (cpu_a == cpu_b) return f;
  try {
    f.one_line = round_trips(cpu_a, cpu_b, false);
    f.two_lines = round_trips(cpu_a, cpu_b, true);
    measure_streaming(f, budget_per_method_ns);
  } catch (const aborted_error&) {
    // Ctrl-C: what was measured stands, the rest is unknown; the caller sees interrupted() and stops.
  }
  return f;
}

// The measuring side pins itself, so it runs on a thread of its own: the caller's affinity is left alone.
// Whatever it throws (a CPU that cannot be pinned) is rethrown to the caller, not std::terminate.
template <class F>
auto on_own_thread(F&& fn) {
  decltype(fn()) result{};
  std::exception_ptr error;
  std::thread([&] {
    try {
      result = fn();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
  return result;
}

}  // namespace

round_trip_summary summarize_round_trips(std::vector<double> s) {
  if (s.empty()) throw std::invalid_argument("summarize_round_trips: no samples");
  round_trip_summary r;
  r.samples = static_cast<int>(s.size());
  double total = 0;
  for (double x : s) total += x;
  std::sort(s.begin(), s.end());
  // Nearest rank: the smallest sample that at least q of the samples do not exceed.
  auto rank = [&](double q) {
    return s[static_cast<std::size_t>(std::max(0.0, std::ceil(q * static_cast<double>(s.size())) - 1))];
  };
  r.median_ns = s.size() % 2 ? s[s.size() / 2] : (s[s.size() / 2 - 1] + s[s.size() / 2]) / 2;
  r.p10_ns = rank(0.10);
  r.p90_ns = rank(0.90);
  double stalled = 0;
  for (double x : s)
    if (x > stall_factor * r.median_ns) stalled += x;
  r.stalled_pct = total > 0 ? 100.0 * stalled / total : 0.0;
  return r;
}

hardware_floor measure_floor(int cpu_a, int cpu_b) {
  return on_own_thread([&] {
    hardware_floor f;
    f.cpu_a = cpu_a;
    f.cpu_b = cpu_b;
    f.timer_overhead_ns = timer_overhead();
    f.cross = cross_core(cpu_a, cpu_b, 30'000'000);
    if (f.cross.one_line) {
      f.c2c_round_trip_ns = f.cross.one_line->median_ns;
      f.c2c_one_way_ns = f.cross.one_line->median_ns / 2;
    }
    if (f.cross.two_lines) f.c2c_two_line_one_way_ns = f.cross.two_lines->median_ns / 2;
    f.xcore_gbps = f.cross.xcore_gbps;
    f.memcpy_gbps = memcpy_gbps(64 * 1024, 30'000'000);
    f.memcpy_mem_gbps = memcpy_gbps(64u << 20, 60'000'000);
    if (cpu_a == cpu_b) f.note = "one CPU only: no cross-core figures";
    return f;
  });
}

// Each streaming method's window in a round's floor (and in the ceiling measured again beside a stream).
constexpr std::uint64_t round_window_ns = 15'000'000;

round_floor measure_round_floor(int cpu_a, int cpu_b) {
  return on_own_thread([&] { return cross_core(cpu_a, cpu_b, round_window_ns); });
}

std::optional<double> measure_streaming_ceiling(int cpu_a, int cpu_b) {
  return on_own_thread([&]() -> std::optional<double> {
    round_floor f;
    f.cpu_a = cpu_a;
    f.cpu_b = cpu_b;
    if (cpu_a == cpu_b) return std::nullopt;
    try {
      measure_streaming(f, round_window_ns);
    } catch (const aborted_error&) {
      return std::nullopt;
    }
    return f.xcore_gbps;
  });
}

std::optional<round_trip_summary> measure_canary(int cpu_a, int cpu_b) {
  return on_own_thread([&]() -> std::optional<round_trip_summary> {
    try {
      return round_trips(cpu_a, cpu_b, false);
    } catch (const aborted_error&) {
      return std::nullopt;
    }
  });
}

namespace {
json to_json(const round_trip_summary& s) {
  return {{"median_ns", s.median_ns},
          {"p10_ns", s.p10_ns},
          {"p90_ns", s.p90_ns},
          {"samples", s.samples},
          {"stalled_pct", s.stalled_pct}};
}
constexpr const char* c2c_method =
    "median of individual round trips (each timed with the clock the transports' round trips use), after 1000 "
    "unrecorded ones";
}  // namespace

json to_json(const round_floor& f) {
  json j;
  j["c2c_round_trip_ns"] = f.one_line ? json(f.one_line->median_ns) : json(nullptr);
  j["c2c_two_line_round_trip_ns"] = f.two_lines ? json(f.two_lines->median_ns) : json(nullptr);
  j["xcore_gbps"] = or_null(f.xcore_gbps);
  j["xcore_method"] = f.xcore_method;
  j["c2c_one_line"] = f.one_line ? to_json(*f.one_line) : json(nullptr);
  j["c2c_two_lines"] = f.two_lines ? to_json(*f.two_lines) : json(nullptr);
  json variants = json::object();
  for (const streaming_variant& v : f.xcore_variants) variants[v.method] = v.gbps;
  j["xcore_variants"] = variants;
  j["cpus"] = {f.cpu_a, f.cpu_b};
  return j;
}

json to_json(const hardware_floor& f) {
  json j;
  j["timer_overhead_ns"] = f.timer_overhead_ns;
  j["c2c_one_way_ns"] = or_null(f.c2c_one_way_ns);
  j["c2c_round_trip_ns"] = or_null(f.c2c_round_trip_ns);
  j["c2c_method"] = c2c_method;
  j["c2c_note"] = "one way = half of the measured cache-line round trip (not a measured one-way time)";
  j["c2c_two_line_one_way_ns"] = or_null(f.c2c_two_line_one_way_ns);
  j["c2c_two_line_round_trip_ns"] = f.cross.two_lines ? json(f.cross.two_lines->median_ns) : json(nullptr);
  j["c2c_two_line_note"] =
      "half the round trip with a line per direction (request line, reply line): what a channel "
      "of two rings pays at least; c2c_one_way_ns stays the floor";
  j["memcpy_gbps"] = f.memcpy_gbps;
  j["memcpy_mem_gbps"] = f.memcpy_mem_gbps;
  j["xcore_gbps"] = or_null(f.xcore_gbps);
  json cross = to_json(f.cross);
  for (const char* k : {"xcore_method", "xcore_variants", "c2c_one_line", "c2c_two_lines"}) j[k] = cross[k];
  j["xcore_note"] = "the best of the streaming methods in xcore_variants, the shared rings' own among them: a ceiling";
  j["cpus"] = {f.cpu_a, f.cpu_b};
  if (!f.note.empty()) j["note"] = f.note;
  return j;
}

// --- judging rounds and rows ------------------------------------------------------------------------------------
namespace {

std::optional<double> number(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

// What each figure's deviation means, in the words the console prints.
struct judged_metric {
  std::optional<double> round_figures::*field;
  const char* what;
  bool higher_is_faster;
};
constexpr judged_metric judged_metrics[] = {
    {&round_figures::c2c_round_trip_ns, "the cache-line round trip", false},
    {&round_figures::xcore_gbps, "cross-core streaming", true},
};

// The figure round i is compared with: the median of all rounds' and the start's (three or more figures), the
// other one (two). None when no other round has the figure: the start alone does not judge a round.
std::optional<double> reference_for(std::span<const round_figures> rounds, std::size_t i, const round_figures* start,
                                    std::optional<double> round_figures::*field) {
  std::vector<double> all, others;
  int other_rounds = 0;
  for (std::size_t k = 0; k < rounds.size(); ++k)
    if (rounds[k].*field) {
      all.push_back(*(rounds[k].*field));
      if (k != i) {
        others.push_back(*(rounds[k].*field));
        ++other_rounds;
      }
    }
  if (start && start->*field) {
    all.push_back(*(start->*field));
    others.push_back(*(start->*field));
  }
  if (other_rounds == 0 || !(rounds[i].*field)) return std::nullopt;
  if (all.size() >= 3) return median_of(all);
  return others.front();
}

}  // namespace

std::vector<round_verdict> judge_rounds(std::span<const round_figures> rounds, const round_figures* start) {
  std::vector<round_verdict> out;
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    round_verdict v;
    v.round = rounds[i].round;
    std::vector<std::string> why;
    for (const judged_metric& m : judged_metrics) {
      std::optional<double> x = rounds[i].*m.field, ref = reference_for(rounds, i, start, m.field);
      if (!x || !ref || *x <= 0 || *ref <= 0) continue;
      double ratio = *x / *ref;  // > 1: a larger figure than the others'
      if (ratio <= machine_change_factor && ratio >= 1 / machine_change_factor) continue;
      bool faster = (ratio > 1) == m.higher_is_faster;
      why.push_back(fmt::format("{} was {:.1f}x {} than in the other round{}{} ({})", m.what,
                                std::max(ratio, 1 / ratio), faster ? "faster" : "slower", rounds.size() == 2 ? "" : "s",
                                start && start->*m.field ? " and at the start" : "",
                                faster
                                    ? "vCPUs moved or frequency changed, or the others were disturbed"
                                    : "the CPUs were taken by another program or the host, or the frequency dropped"));
    }
    if (rounds[i].steal_pct && *rounds[i].steal_pct > steal_disturbed_pct)
      why.push_back(fmt::format("the hypervisor stole {:.1f}% of the run's CPU time", *rounds[i].steal_pct));
    v.disturbed = !why.empty();
    v.why = fmt::format("{}", fmt::join(why, "; "));
    out.push_back(std::move(v));
  }
  return out;
}

round_figures round_figures_of(const json& r) {
  round_figures f;
  f.round = r.value("round", 0);
  const json floor = r.contains("floor") ? r["floor"] : json::object();
  f.c2c_round_trip_ns = number(floor, "c2c_round_trip_ns");
  if (!f.c2c_round_trip_ns) f.c2c_round_trip_ns = number(r, "canary_ns");  // results of runs before per-round floors
  f.xcore_gbps = number(floor, "xcore_gbps");
  f.steal_pct = number(r, "steal_pct");
  return f;
}

namespace {
// "0", "0,1": the CPUs an end was seen on.
std::vector<int> cpu_list(const json& row, const char* key) {
  std::vector<int> out;
  if (!row.contains(key) || !row[key].is_string()) return out;
  std::string s = row[key].get<std::string>();
  for (std::size_t pos = 0; pos < s.size();) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    try {
      out.push_back(std::stoi(s.substr(pos, end - pos)));
    } catch (const std::exception&) {
      return {};  // "64+" or anything else unreadable: the floor's CPUs cannot be compared with it
    }
    pos = end + 1;
  }
  return out;
}
}  // namespace

std::string below_floor_reason(const json& row, const json& floor) {
  if (row.value("error_occurred", false) || (row.contains("peer") && !row["peer"].is_null())) return "";
  std::vector<int> client = cpu_list(row, "client_cpus"), server = cpu_list(row, "server_cpus");
  if (client.empty() || server.empty()) return "";
  for (int c : client)
    if (std::find(server.begin(), server.end(), c) != server.end()) return "";  // one CPU: no cross-core floor
  const std::string workload = row.value("workload", "");
  if (workload == "latency") {
    std::optional<double> p50 = number(row, "rtt_p50_ns"), c2c = number(floor, "c2c_round_trip_ns");
    if (p50 && c2c && *p50 > 0 && *p50 < *c2c)
      return fmt::format("rtt p50 {} is below this round's cache-line round trip {}", format_ns(*p50), format_ns(*c2c));
  } else if (workload == "throughput" && row.value("pairs", 1) == 1) {
    std::optional<double> bps = number(row, "bytes_per_s"), xcore = number(floor, "xcore_gbps");
    std::optional<double> beside = number(row, "xcore_beside_gbps");
    if (bps && xcore && *bps / 1e9 > *xcore && (!beside || *bps / 1e9 > *beside))
      return fmt::format(
          "{} is above this round's cross-core streaming ceiling {}{}", format_bytes_per_s(*bps),
          format_bytes_per_s(*xcore * 1e9),
          beside ? fmt::format(" and the ceiling measured again right after it, {}", format_bytes_per_s(*beside * 1e9))
                 : std::string());
  }
  return "";
}

}  // namespace bench
