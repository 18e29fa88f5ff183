// `bench run contention`: locks versus threads, false sharing, and an emulated GIL (gil-cpu, gil-convoy,
// gil-placement), measured with Google Benchmark underneath and written through the shared results files.
//
// Flags it reads from the run_request: cores, quick, reps, duration_ns (one window of a lock case; the
// shortest convoy run), cs_ns, switch_intervals_ns, check_interval, locks, policies, filter, out, no_plot.
//
// Result rows (one per case and repetition, then aggregates): experiment (locks, false-sharing, gil-cpu,
// gil-convoy, gil-placement), lock or policy (or layout, for false sharing), threads, model, switch_interval_us;
// convoy and placement rows add rtt_p50_ns, rtt_p99_ns, round_trips_per_s; gil-cpu rows wall_ns and cpu_ns.
// real_time / cpu_time are ns per operation for locks and false sharing, the whole job for gil-cpu, and the
// mean round trip for convoy and placement.
#pragma once

#include "bench/suite.hpp"

namespace bench {

// Throws usage_error (one line, naming the bad value and what is allowed) for anything the contention suite
// cannot run: zero or too long switch intervals, a check interval beyond reason, a critical section over 1 ms,
// unknown lock or policy names, a filter that is not a regex or matches no case. Does no work.
void validate_contention(const run_request& req);

// Validates, then runs the suite into prepare_run_dir(req.out, "contention"). Returns 0 when every case ran,
// 1 if a case failed (its row carries the error), 130 if interrupted.
int run_contention(const run_request& req);

}  // namespace bench
