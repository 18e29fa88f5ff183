// The hardware floor: what the machine allows before any transport is involved. Measured at the start of every
// run and again before every round (beside that round's cases: the host may move the vCPUs or change the clock
// mid-run), and drawn on the charts as reference lines.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "harness/results.hpp"

namespace bench {

// Individual round trips of one cache-line ping-pong, each timed with now_ns() as the transports' round trips are.
// The median, not a mean of batches: a batch that held one preemption of the responder (milliseconds on a busy
// machine) moved the mean of its batch by more than the round trip itself.
struct round_trip_summary {
  double median_ns = 0;
  double p10_ns = 0, p90_ns = 0;
  int samples = 0;
  // Share of the ping-pong's wall time spent in round trips longer than stall_factor x the median: time the
  // peer was not running (another program, or the host, had its CPU). 0 on a quiet machine.
  double stalled_pct = 0;
};
inline constexpr double stall_factor = 10;
// Summarises round-trip samples (ns, in any order; at least one).
round_trip_summary summarize_round_trips(std::vector<double> samples_ns);

// One cross-core streaming method and the rate it reached.
struct streaming_variant {
  std::string method;
  double gbps = 0;
};

// What one round's floor measurement found on the two CPUs.
struct round_floor {
  int cpu_a = -1, cpu_b = -1;
  std::optional<round_trip_summary> one_line;   // one line, written back by the responder
  std::optional<round_trip_summary> two_lines;  // a request line and a reply line (what a channel of two rings pays)
  // The best of several streaming methods (the rings' own technique among them): a ceiling, so the highest.
  std::optional<double> xcore_gbps;
  std::string xcore_method;
  std::vector<streaming_variant> xcore_variants;
};

struct hardware_floor {
  double timer_overhead_ns = 0;             // one now_ns() call
  std::optional<double> c2c_one_way_ns;     // half of a cache-line ping-pong round trip between two pinned cores
  std::optional<double> c2c_round_trip_ns;  // the measured round trip itself (median of individual round trips)
  // Half the round trip when the request and the reply each have a line of their own (A writes x and polls y, B
  // polls x and writes y): what any channel with one ring per direction pays at least. Not the floor figure
  // (c2c_one_way_ns stays that); shown beside it, because a single line written back by the responder can move
  // in one step, which no two-ring protocol can use.
  std::optional<double> c2c_two_line_one_way_ns;
  double memcpy_gbps = 0;            // 64 KiB buffers, in cache (decimal GB/s)
  double memcpy_mem_gbps = 0;        // 64 MiB buffers, from memory
  std::optional<double> xcore_gbps;  // the best of the streaming methods of round_floor
  round_floor cross;                 // the cross-core figures above, as measured (samples, variants)
  int cpu_a = -1, cpu_b = -1;
  std::string note;  // why a figure is missing
};

// cpu_a and cpu_b are the two cores the cross-core figures use; equal (one CPU) skips them with a note.
hardware_floor measure_floor(int cpu_a, int cpu_b);
// The cross-core part alone (well under a second on a quiet machine), measured before every round.
round_floor measure_round_floor(int cpu_a, int cpu_b);
// The cross-core streaming ceiling alone, measured now (the round's methods and windows): for a stream that came out
// above its round's ceiling, the ceiling again right beside it, since the host moves a VM's capacity within a round.
std::optional<double> measure_streaming_ceiling(int cpu_a, int cpu_b);
// A short one-line ping-pong only (median of individual round trips): the busy check at start.
std::optional<round_trip_summary> measure_canary(int cpu_a, int cpu_b);

json to_json(const hardware_floor& f);
// rounds[i].floor: c2c_round_trip_ns, c2c_two_line_round_trip_ns, xcore_gbps, xcore_method, samples, ...
json to_json(const round_floor& f);

// --- what a round's floor says about the round and its rows (pure functions, tested on synthetic data) -------

// A round whose cache-line round trip or streaming rate differs from the other rounds' by more than this factor,
// faster or slower, ran on a changed machine (vCPUs moved, frequency changed, a neighbour took the CPUs).
inline constexpr double machine_change_factor = 1.5;
// A round in which the hypervisor stole more than this share of the run's CPUs is disturbed.
inline constexpr double steal_disturbed_pct = 5.0;

struct round_figures {
  int round = 0;
  std::optional<double> c2c_round_trip_ns;
  std::optional<double> xcore_gbps;
  std::optional<double> steal_pct;  // unknown (a failed read) is never taken for 0
};
struct round_verdict {
  int round = 0;
  bool disturbed = false;
  std::string why;  // in words, e.g. "the cache-line round trip was 2.7x faster than in the other rounds (...)"
};
// One verdict per round, in order. Each round is compared with the median of all rounds' figures and the run
// start's (`start`, measured the same way; optional): with two figures in all, with the other one, and both
// rounds are flagged when they disagree, since neither can be told to be the odd one. A round that no other
// round can be compared with is judged by its steal time alone.
std::vector<round_verdict> judge_rounds(std::span<const round_figures> rounds, const round_figures* start = nullptr);
// The figures of one entry of context.rounds (as the run writes it).
round_figures round_figures_of(const json& round);

// Why an iteration row lies beyond its own round's floor ("" when it does not, or when the floor does not apply:
// the two ends shared a CPU, the server ran on another host, the round has no cross-core figure). A latency row
// below the one-line round trip; a one-pair throughput row above the streaming ceiling.
std::string below_floor_reason(const json& row, const json& round_floor);

}  // namespace bench
