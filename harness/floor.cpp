#include "harness/floor.hpp"

#include <atomic>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "harness/clock.hpp"
#include "harness/cpu.hpp"
#include "harness/spin.hpp"
#include "harness/stats.hpp"

namespace bench {
namespace {

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
  return median_of(batches);
}

struct alignas(64) line {
  std::atomic<std::uint64_t> v{0};
};

// Round trip of one cache line between two pinned threads: A writes an odd value, B answers with the next even.
// two_lines: B answers on a second line (one line per direction, as a channel of two rings has).
std::optional<double> ping_pong(int cpu_a, int cpu_b, int round_trips, int batches, bool two_lines = false) {
  if (cpu_a == cpu_b) return std::nullopt;
  line l, reply;
  line& back = two_lines ? reply : l;
  std::atomic<bool> stop{false};
  std::thread responder([&] {
    pin_this_thread(cpu_b);
    spinner spin;
    std::uint64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      std::uint64_t v = l.v.load(std::memory_order_acquire);
      if (v != last && (v & 1)) {
        last = v + 1;
        back.v.store(last, std::memory_order_release);
      } else {
        cpu_relax();
      }
    }
    (void)spin;
  });
  pin_this_thread(cpu_a);
  std::vector<double> results;
  std::uint64_t v = 0;
  for (int b = 0; b < batches; ++b) {
    std::uint64_t t0 = now_ns();
    for (int i = 0; i < round_trips; ++i) {
      l.v.store(v + 1, std::memory_order_release);
      spinner spin;
      std::uint64_t deadline = 0;
      while (back.v.load(std::memory_order_acquire) != v + 2) {
        spin.once();
        // The responder may not be running (the host took its vCPU): give up rather than hang.
        if ((spin.polls() & 0xFFFF) == 0) {
          if (deadline == 0) deadline = now_ns() + 1'000'000'000;
          else if (now_ns() > deadline) {
            stop = true;
            responder.join();
            return std::nullopt;
          }
        }
      }
      v += 2;
    }
    results.push_back(static_cast<double>(now_ns() - t0) / round_trips);
  }
  stop = true;
  responder.join();
  return median_of(results);
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

// One core copies 64 KiB buffers into a small ring, the other reads every word: the ceiling for any
// shared-memory transport that hands data from one core to another.
std::optional<double> xcore_gbps(int cpu_a, int cpu_b, std::uint64_t budget_ns) {
  if (cpu_a == cpu_b) return std::nullopt;
  constexpr std::size_t slot_bytes = 64 * 1024, slots = 4;
  struct alignas(64) slot_state {
    std::atomic<std::uint64_t> seq{0};
  };
  std::vector<std::uint64_t> ring(slot_bytes / 8 * slots);
  std::vector<slot_state> state(slots);
  std::vector<std::uint64_t> source(slot_bytes / 8, 0x0123456789abcdefull);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> consumed_bytes{0};
  std::uint64_t t_start = 0, t_end = 0;
  std::thread consumer([&] {
    pin_this_thread(cpu_b);
    std::uint64_t n = 0, sum = 0;
    for (;;) {
      slot_state& s = state[n % slots];
      spinner spin;
      while (s.seq.load(std::memory_order_acquire) != 2 * n + 1) {
        if (stop.load(std::memory_order_relaxed)) goto done;
        spin.once();
      }
      {
        const std::uint64_t* p = ring.data() + (n % slots) * (slot_bytes / 8);
        for (std::size_t i = 0; i < slot_bytes / 8; ++i) sum += p[i];
      }
      if (n == 16) t_start = now_ns();  // after warm-up
      s.seq.store(2 * n + 2, std::memory_order_release);
      ++n;
      if (n > 16) consumed_bytes.store((n - 17) * slot_bytes, std::memory_order_relaxed);
      t_end = now_ns();
    }
  done:
    asm volatile("" ::"r"(sum));
  });
  pin_this_thread(cpu_a);
  std::uint64_t end = now_ns() + budget_ns;
  for (std::uint64_t n = 0; now_ns() < end; ++n) {
    slot_state& s = state[n % slots];
    spinner spin;
    // Slot free once the consumer finished the lap before (seq == 2(n - slots) + 2), or never used.
    std::uint64_t want = n < slots ? 0 : 2 * (n - slots) + 2;
    while (s.seq.load(std::memory_order_acquire) != want) {
      if (now_ns() > end + 1'000'000'000) break;
      spin.once();
    }
    std::memcpy(ring.data() + (n % slots) * (slot_bytes / 8), source.data(), slot_bytes);
    s.seq.store(2 * n + 1, std::memory_order_release);
  }
  stop = true;
  consumer.join();
  std::uint64_t bytes = consumed_bytes.load();
  if (bytes == 0 || t_end <= t_start) return std::nullopt;
  return static_cast<double>(bytes) / static_cast<double>(t_end - t_start);
}

}  // namespace

namespace {
// The measuring side pins itself, so it runs on a thread of its own: the caller's affinity is left alone.
template <class F>
auto on_own_thread(F&& fn) {
  decltype(fn()) result{};
  std::thread([&] { result = fn(); }).join();
  return result;
}
}  // namespace

hardware_floor measure_floor(int cpu_a, int cpu_b) {
  return on_own_thread([&] {
  hardware_floor f;
  f.cpu_a = cpu_a;
  f.cpu_b = cpu_b;
  f.timer_overhead_ns = timer_overhead();
  f.c2c_round_trip_ns = ping_pong(cpu_a, cpu_b, 5000, 9);
  if (f.c2c_round_trip_ns) f.c2c_one_way_ns = *f.c2c_round_trip_ns / 2;
  if (auto rt = ping_pong(cpu_a, cpu_b, 5000, 9, true)) f.c2c_two_line_one_way_ns = *rt / 2;
  f.memcpy_gbps = memcpy_gbps(64 * 1024, 30'000'000);
  f.memcpy_mem_gbps = memcpy_gbps(64u << 20, 60'000'000);
  f.xcore_gbps = xcore_gbps(cpu_a, cpu_b, 60'000'000);
  if (cpu_a == cpu_b) f.note = "one CPU only: no cross-core figures";
  return f;
  });
}

std::optional<double> measure_canary(int cpu_a, int cpu_b) {
  return on_own_thread([&] { return ping_pong(cpu_a, cpu_b, 2000, 1); });
}

json to_json(const hardware_floor& f) {
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json j;
  j["timer_overhead_ns"] = f.timer_overhead_ns;
  j["c2c_one_way_ns"] = opt(f.c2c_one_way_ns);
  j["c2c_round_trip_ns"] = opt(f.c2c_round_trip_ns);
  j["c2c_note"] = "one way = half of the measured cache-line round trip (not a measured one-way time)";
  j["c2c_two_line_one_way_ns"] = opt(f.c2c_two_line_one_way_ns);
  j["c2c_two_line_note"] = "half the round trip with a line per direction (request line, reply line): what a channel "
                           "of two rings pays at least; c2c_one_way_ns stays the floor";
  j["memcpy_gbps"] = f.memcpy_gbps;
  j["memcpy_mem_gbps"] = f.memcpy_mem_gbps;
  j["xcore_gbps"] = opt(f.xcore_gbps);
  j["cpus"] = {f.cpu_a, f.cpu_b};
  if (!f.note.empty()) j["note"] = f.note;
  return j;
}

}  // namespace bench
