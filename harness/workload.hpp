// What the two ends of a pair do during one case: the client drives (ping-pong or stream), the server echoes
// or sinks. Both run the same code under every model and transport, so every transport gets the same wake-up
// discipline within a case.
//
// Metrics, defined once for every transport:
//   latency     round-trip time per message, measured by the client from just before send() to just after the
//               echo has been received and verified (closed loop), or from the message's intended send time
//               (open loop, --rate: a stall delays every later message and shows up, no coordinated omission).
//               Half a round trip is NOT a measured one-way time and is never reported as one.
//   (a case lasts its duration, and at least until 3 messages were measured)
//   throughput  one-way stream, timed at the receiver: messages received between the first and the last measured
//               message's arrival, divided by the time between them. The sender's write returning proves nothing.
//   msg_bytes   bytes per message on the wire, bench's 32-byte header included.
// Warm-up messages (flag_warmup) cross the transport like any other but are excluded from every figure: the
// first messages pay for page faults, cold caches and the scheduler learning where the threads run.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "harness/cpu.hpp"
#include "harness/histogram.hpp"
#include "transports/transport.hpp"

namespace bench {

enum class workload_kind { latency, throughput };
const char* to_string(workload_kind k) noexcept;

struct workload_params {
  workload_kind kind = workload_kind::latency;
  std::size_t msg_bytes = 64;
  std::uint64_t warmup_ns = 50'000'000;
  std::uint64_t duration_ns = 200'000'000;
  double rate = 0;              // open-loop messages per second (latency only); 0 = closed loop
  std::uint64_t work_ns = 0;    // server CPU work per message (calibrated busy loop, not a sleep)
  std::uint64_t seed = 1;
  // Lossy transports (UDP) drop what overflows the receiver's buffer instead of blocking the sender, so their
  // streams get credit flow control: at most flow_window_bytes (and at least one message) unacknowledged, the
  // receiver acknowledging every quarter window. 0: the transport's own back-pressure (pipes, sockets, rings).
  std::size_t flow_window_bytes = 0;
};

// What the server side reports. Lives in shared memory (MAP_SHARED) so a forked server can fill it in.
struct alignas(64) pair_slot {
  enum : int { starting = 0, ready = 1, done = 2, failed = 3 };
  std::atomic<int> state{starting};
  std::uint64_t received = 0;   // every message, warm-up included
  std::uint64_t lost = 0, duplicated = 0, corrupt = 0;
  std::uint64_t measured = 0;   // sink: messages after the first measured one
  std::uint64_t t_first_ns = 0, t_last_ns = 0;
  std::uint64_t cpu_ns = 0;     // CPU time of the server loop
  char cpus[48] = {};           // CPUs the server was seen on
  char error[200] = {};
};
static_assert(std::atomic<int>::is_always_lock_free, "pair_slot::state is shared between processes");

struct client_report {
  histogram rtt;                // measured round trips (latency)
  std::uint64_t sent = 0;       // every message, warm-up included
  std::uint64_t measured = 0;   // round trips recorded
  std::uint64_t lost = 0, duplicated = 0, corrupt = 0;
  std::uint64_t cpu_ns = 0;
  std::string cpus;
  std::string error;
};

// Server side. Never throws: an error ends the loop and is written into the slot (state failed).
void serve(endpoint& ep, const workload_params& wl, pair_slot& slot, int cpu) noexcept;

// Client side. Waits (bounded, abortable) for the server to be ready, then drives the case. Never throws.
void drive(endpoint& ep, const workload_params& wl, const pair_slot& slot, client_report& out) noexcept;

// Busy loop calibrated to take about `ns` of CPU time (--work): models a server doing real work per message.
void spin_work(std::uint64_t ns) noexcept;

// The harness's own cost per message: a clock read, composing and verifying a 64-byte message and recording
// one histogram sample, measured in a loop with no transport. Reported in every ipc result's context.
double measure_harness_overhead_ns();

}  // namespace bench
