// The hardware floor: what the machine allows before any transport is involved. Measured at the start of every
// run (well under a second) and drawn on the charts as reference lines.
#pragma once

#include <optional>

#include "harness/results.hpp"

namespace bench {

struct hardware_floor {
  double timer_overhead_ns = 0;               // one now_ns() call
  std::optional<double> c2c_one_way_ns;       // half of a cache-line ping-pong round trip between two pinned cores
  std::optional<double> c2c_round_trip_ns;    // the measured round trip itself
  // Half the round trip when the request and the reply each have a line of their own (A writes x and polls y, B
  // polls x and writes y): what any channel with one ring per direction pays at least. Not the floor figure
  // (c2c_one_way_ns stays that); shown beside it, because a single line written back by the responder can move
  // in one step, which no two-ring protocol can use.
  std::optional<double> c2c_two_line_one_way_ns;
  double memcpy_gbps = 0;                     // 64 KiB buffers, in cache (decimal GB/s)
  double memcpy_mem_gbps = 0;                 // 64 MiB buffers, from memory
  std::optional<double> xcore_gbps;           // one core copies 64 KiB buffers into a 4-slot ring, another reads every word
  int cpu_a = -1, cpu_b = -1;
  std::string note;                           // why a figure is missing
};

// cpu_a and cpu_b are the two cores the cross-core figures use; equal (one CPU) skips them with a note.
hardware_floor measure_floor(int cpu_a, int cpu_b);
// The per-round canary: a short cache-line ping-pong (round trip ns), to see a disturbed round.
std::optional<double> measure_canary(int cpu_a, int cpu_b);

json to_json(const hardware_floor& f);

}  // namespace bench
