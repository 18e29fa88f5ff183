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
//   serialization (--serializers, latency only): every message's payload is a serializer's encoding of the case's
//               message (ser::make_message(shape, ser::message_seed)), the same message in both directions.
//               The client builds and encodes the request, the server decodes it and reads every field (checked
//               against the message's checksum), builds and encodes its reply, the client decodes and reads that.
//               Each of the four steps is timed with the wall clock (the round trip's own clock, so the parts
//               add up to it); per round trip: serialize = the two encodes, deserialize = the two decodes,
//               transport = the round trip minus both, which includes bench's framing (header, a copy of the
//               encoding into the frame, the frame checksum at both ends) and the clock reads.
// Warm-up messages (flag_warmup) cross the transport like any other but are excluded from every figure: the
// first messages pay for page faults, cold caches and the scheduler learning where the threads run.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/message.hpp"
#include "harness/accounting.hpp"
#include "harness/cpu.hpp"
#include "harness/gil.hpp"
#include "harness/histogram.hpp"
#include "serializers/registry.hpp"
#include "transports/transport.hpp"

namespace bench {

enum class workload_kind { latency, throughput };
const char* to_string(workload_kind k) noexcept;

// Builds the lock of one server process from its name (--lock). Tests pass an instrumented one.
using work_lock_factory = std::function<std::unique_ptr<work_lock>(std::string_view name)>;

struct workload_params {
  workload_kind kind = workload_kind::latency;
  std::size_t msg_bytes = 64;
  std::uint64_t warmup_ns = 50'000'000;
  std::uint64_t duration_ns = 200'000'000;
  double rate = 0;            // open-loop messages per second (latency only); 0 = closed loop
  std::uint64_t work_ns = 0;  // server CPU work per message (calibrated busy loop, not a sleep)
  // The lock the server's work runs under (work_lock_names(): none, mutex, gil-old, gil-new, gil-priority). One
  // instance per server PROCESS, shared by all its server threads: the hosts call make_server_lock() once in
  // the harness (thread model, event loops) or once in each forked server, after the fork (process model).
  std::string lock = "none";
  work_lock_factory make_lock;  // empty: make_work_lock(lock)
  std::uint64_t seed = 1;
  // Lossy transports (UDP) drop what overflows the receiver's buffer instead of blocking the sender, so their
  // streams get credit flow control: at most flow_window_bytes (and at least one message) unacknowledged, the
  // receiver acknowledging every quarter window. 0: the transport's own back-pressure (pipes, sockets, rings).
  std::size_t flow_window_bytes = 0;
  // --serializers: the serializer and message shape of every message (latency only); nullptr: raw bytes.
  // msg_bytes is then the header plus the size of that message's encoding.
  const ser::serializer_info* serializer = nullptr;
  ser::shape shape = ser::shape::small;
};

// One end's serializer for a case (--serializers): a codec made once and reused for every message, as each
// library's file says it should be used, the case's message, its checksum, and the frame its encodings travel in.
class message_codec {
 public:
  explicit message_codec(const workload_params& wl);  // throws if the codec cannot be made
  // Builds and encodes the case's message; the bytes are valid until the next call.
  std::span<const std::byte> encode() { return codec_->serialize(msg_); }
  // The encoding in a sealed frame; valid until the next call.
  std::span<const std::byte> frame(std::span<const std::byte> payload, std::uint64_t seq, std::uint32_t flags,
                                   std::uint64_t stamp) {
    return frame_.write(payload, seq, flags, stamp);
  }
  // Decodes a received frame's payload and reads every field: nullptr when that gave back the case's message
  // (its checksum), else why not (static text). Never throws, whatever the bytes.
  const char* decode(std::span<const std::byte> msg) noexcept;
  std::string_view name() const noexcept { return name_; }

 private:
  std::unique_ptr<ser::codec> codec_;
  ser::message msg_;
  std::uint64_t expected_ = 0;
  frame_writer frame_;
  std::string_view name_;
};

// The encoded size of the case's message (its payload on the wire) for a serializer and shape.
std::size_t encoded_bytes(const ser::serializer_info& s, ser::shape shape);

// The server's decode and encode times of a serialized reply, carried in the reply's stamp (32 bits each, in ns;
// longer than 4.29 s is clamped).
std::uint64_t pack_server_times(std::uint64_t decode_ns, std::uint64_t encode_ns) noexcept;
void unpack_server_times(std::uint64_t stamp, std::uint64_t& decode_ns, std::uint64_t& encode_ns) noexcept;

// What the server side reports. Lives in shared memory (MAP_SHARED) so a forked server can fill it in.
struct alignas(64) pair_slot {
  enum : int { starting = 0, ready = 1, done = 2, failed = 3 };
  std::atomic<int> state{starting};
  std::uint64_t received = 0;  // every message, warm-up included
  std::uint64_t lost = 0, duplicated = 0, corrupt = 0;
  std::uint64_t measured = 0;  // sink: messages after the first measured one
  std::uint64_t t_first_ns = 0, t_last_ns = 0;
  // CPU of the server's whole process (all its threads: ZeroMQ's I/O threads too) over the server's measured
  // window, from its first measured message to the end of the case's messages. For a server in the harness
  // process (threads, event loops) that is the harness's clock, which the case reads from the clients' readings;
  // window.begin/end are the readings (pid 0 from another machine: --peer sends cpu_ns only).
  std::uint64_t cpu_ns = 0;
  cpu_span window;
  bool stopped = false;  // its error is only that the case was stopped (by the watchdog, or another end failing)
  char cpus[48] = {};    // CPUs the server was seen on
  char error[200] = {};  // a failure, or the first message it could not decode
};
static_assert(std::atomic<int>::is_always_lock_free, "pair_slot::state is shared between processes");

struct client_report {
  histogram rtt;  // measured round trips (latency)
  // --serializers, per measured round trip: both encodes, both decodes, and the rest (rtt minus those two).
  histogram serialize, deserialize, transport;
  // --rate: how late the pacer started each measured send after its intended time (its own wake-up, a CPU it
  // waited for, or an earlier send that blocked). Part of rtt, which counts from the intended time.
  histogram send_late;
  std::uint64_t sent = 0;      // every message, warm-up included
  std::uint64_t measured = 0;  // round trips recorded
  // Latency: the measured window, from the first measured send (its intended time, --rate) to the arrival of the
  // last measured echo.
  std::uint64_t t_first_ns = 0, t_last_ns = 0;
  std::uint64_t lost = 0, duplicated = 0, corrupt = 0;
  // The harness process's CPU (every thread of it) read just before the first measured message and after the
  // last (throughput: once its receiver has finished), with every thread brought up to date.
  cpu_span window;
  std::string cpus;
  std::string error;
  bool stopped = false;  // error is only that the case was stopped (aborted_error), not a cause
};

// Why this workload cannot run over this transport (its messaging pattern forbids it: see
// transport_info::ping_pong_only), or "" if it can. The planner skips such cases with this reason.
std::string workload_incompatibility(const transport_info& t, const workload_params& wl);

// Checks one received message: size, checksum, sequence. Counts problems instead of throwing: a case with any
// is reported as failed, with the counts.
bool check_message(std::span<const std::byte> msg, std::size_t expected_bytes, sequence_tally& tally) noexcept;

// The lock of one server process: wl.make_lock(wl.lock), or make_work_lock(wl.lock). Its run(work_ns) is the
// server's per-message work: calibrated CPU work (cpu_work, the same ticks under every lock, so that policies
// compare equal work) entered and left under the lock.
std::unique_ptr<work_lock> make_server_lock(const workload_params& wl);

// Marks a server that could not start (before its session exists) as failed, with the reason.
void report_server_failure(pair_slot& slot, std::string_view what) noexcept;

// The server's part of one pair, one message at a time: verifying and counting what arrives, echoing (latency)
// or timing the stream (throughput), --work, and flow-control credits. The blocking servers (serve()) and the
// event loops of the async models all call it, so every model treats every message exactly alike.
class server_session {
 public:
  // `lock` is the server process's work_lock, shared with the other sessions of the process; it must outlive
  // the session.
  server_session(const workload_params& wl, pair_slot& slot, work_lock& lock);

  // Handles one whole message (header included) that has just been received. Calls send(bytes) for what goes
  // back to the peer (the echo, or a credit), at the point where a blocking server sends it; `bytes` is the
  // message itself or a buffer of the session's that stays valid until the next call. Returns true after the
  // case's last message (flag_end). Throws aborted_error when the case is stopped during the --work.
  template <class Send>
  bool on_message(std::span<const std::byte> msg, Send&& send);

  // The peer closed its end between messages, before the last one: what that means for this behaviour.
  const char* closed_message() const noexcept;
  // Throws if the session could not be set up (its serializer), which the caller reports as the server's failure.
  void ready();
  // Writes the tallies, the CPU time of the measured window and CPUs into the slot; then the state (done or
  // failed) that lets the client go on. `stopped`: the failure is only that the case was being stopped.
  void finish(const std::string& cpus) noexcept;
  void fail(std::string_view what, const std::string& cpus, bool stopped = false) noexcept;
  bool ended() const noexcept { return ended_; }

 private:
  void write_tallies(const std::string& cpus) noexcept;
  // The process's CPU at the first measured message (cheap: the serving thread is the one that counts, and a
  // measured round trip may be waiting) and at the end (exact: nothing measured waits any more).
  void begin_window() noexcept {
    if (!slot_.window.begin.pid) slot_.window.begin = open_cpu_reading(false);
  }
  void end_window() noexcept;

  // --serializers: decodes the request, encodes the reply (the same message) and returns it, framed.
  std::span<const std::byte> answer(std::span<const std::byte> msg, const frame_header& h);

  const workload_params& wl_;
  pair_slot& slot_;
  work_lock& lock_;
  sequence_tally tally_;
  bool ended_ = false;
  // serializer
  std::unique_ptr<message_codec> codec_;
  std::string setup_error_;
  const char* decode_error_ = nullptr;
  // sink
  bool started_ = false;
  message_source acks_;
  std::uint64_t ack_every_, acked_at_ = 0;
};

template <class Send>
bool server_session::on_message(std::span<const std::byte> msg, Send&& send) {
  if (wl_.kind == workload_kind::latency) {
    bool ok = check_message(msg, wl_.msg_bytes, tally_);
    std::uint32_t flags = ok ? read_header(msg).flags : 0;
    if (wl_.work_ns && !(flags & flag_end)) lock_.run(wl_.work_ns);
    // Echo exactly what arrived (a corrupt message comes back corrupt and the client sees it), or answer it.
    send(ok && codec_ ? answer(msg, read_header(msg)) : msg);
    ended_ = (flags & flag_end) != 0;
    if (ok && !(flags & (flag_warmup | flag_end))) begin_window();  // after the echo: its round trip does not wait
    if (ended_) end_window();
    return ended_;
  }
  std::uint64_t t = now_ns();
  bool ok = check_message(msg, wl_.msg_bytes, tally_);
  // The credit names the highest sequence number seen, so a lost message does not stall the sender.
  if (wl_.flow_window_bytes && tally_.received - acked_at_ >= ack_every_) {
    send(acks_.next(tally_.expected, flag_ack));
    acked_at_ = tally_.received;
  }
  if (!ok) return false;
  std::uint32_t flags = read_header(msg).flags;
  if (flags & flag_end) {
    end_window();
    return ended_ = true;
  }
  if (wl_.work_ns) lock_.run(wl_.work_ns);
  if (flags & flag_warmup) return false;
  if (!started_) {
    started_ = true;
    begin_window();
    slot_.t_first_ns = t;
  } else {
    ++slot_.measured;
  }
  slot_.t_last_ns = t;
  return false;
}

// Server side (thread and process models), its work under `lock` (the process's, see make_server_lock). Never
// throws: an error ends the loop and is written into the slot (state failed).
void serve(endpoint& ep, const workload_params& wl, pair_slot& slot, int cpu, work_lock& lock) noexcept;

// Waits (at most 10 s, abortable) for the server to be ready; throws if it failed or did not come.
void wait_ready(const pair_slot& slot);

// Client side. Waits (bounded, abortable) for the server to be ready, then drives the case. Never throws.
// `start_ns`: when its warm-up begins (CLOCK_MONOTONIC), the same for every pair of a case so that their measured
// windows coincide; 0: as soon as the server is ready.
void drive(endpoint& ep, const workload_params& wl, const pair_slot& slot, client_report& out,
           std::uint64_t start_ns = 0) noexcept;

// The harness's own cost per message: a clock read, composing and verifying a 64-byte message and recording
// one histogram sample, measured in a loop with no transport. Reported in every ipc result's context.
double measure_harness_overhead_ns();

}  // namespace bench
