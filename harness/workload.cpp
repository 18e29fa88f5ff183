#include "harness/workload.hpp"

#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "base/spin.hpp"

namespace bench {

const char* to_string(workload_kind k) noexcept { return k == workload_kind::latency ? "latency" : "throughput"; }

namespace {

void copy_text(char* dst, std::size_t cap, const std::string& s) noexcept {
  std::size_t n = std::min(cap - 1, s.size());
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

// The pacer sleeps to an absolute deadline (timer slack set to 1 ns) and spins only the last stretch before it.
// A sleep alone wakes late, by tens of microseconds at the median and more at p99 (a timer interrupt and a
// wake-up; docs/MEASURED.md), and open-loop latency counts from the intended time, so that lateness would be charged to
// the transport. Spinning the whole interval is no better: the pacer shares the client's core with the receiving thread
// and would keep it off that core. So it sleeps until `spin_ns` before the deadline, long enough to cover a late
// wake-up, and spins from there. The spin is capped at a quarter of the interval, so at high rates the receiver keeps
// most of the core; what lateness is left is measured and reported (send_late_*), never hidden.
constexpr std::uint64_t pacer_spin_ns = 100'000;

// Messages larger than this are read where they lie when the transport allows it (serve()).
constexpr std::size_t in_place_min_bytes = 4096;

void wait_until(std::uint64_t t, std::uint64_t spin_ns) {
  if (t > spin_ns) {
    std::uint64_t wake = t - spin_ns;
    timespec ts{static_cast<time_t>(wake / 1'000'000'000u), static_cast<long>(wake % 1'000'000'000u)};
    while (now_ns() < wake && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) check_abort();
  }
  for (std::uint64_t polls = 1; now_ns() < t; ++polls) {
    cpu_relax();
    if ((polls & 0xFFFF) == 0) check_abort();
  }
}

// The kernel charges a queued datagram its buffer's true size, not its payload: about 1 KiB more for a small
// one. A window of 64 KiB of 64-byte datagrams counted by payload (1024 in flight) overflowed loopback UDP's
// 208 KiB receive buffer and lost thousands; counted with the overhead (60 in flight) it lost none.
constexpr std::size_t datagram_overhead_bytes = 1024;

std::uint64_t window_messages(const workload_params& wl) {
  return std::max<std::uint64_t>(1, wl.flow_window_bytes / (wl.msg_bytes + datagram_overhead_bytes));
}

// --- client behaviours -------------------------------------------------------------------------------------

// A case runs for its duration and, however slow each message is (1 MiB under a sanitizer), until at least this
// many messages were measured: a figure from zero samples is no figure.
constexpr std::uint64_t min_measured = 3;

// The client's readings of the harness process's CPU around its measured window. Exact (every thread brought up
// to date, see open_cpu_reading): taken where no measured message waits for them.
std::uint64_t begin_window(client_report& out) {
  out.window.begin = open_cpu_reading(true);
  return now_ns();
}
void end_window(client_report& out) { out.window.end = close_cpu_reading(true); }

// The echo of message `seq`; a wrong sequence number is counted by the tally as a gap or duplicate.
void receive_echo(endpoint& ep, std::vector<std::byte>& buf, const workload_params& wl, sequence_tally& tally) {
  std::size_t n = ep.recv(buf);
  if (n == 0) throw peer_gone_error("the server closed the connection");
  check_message(std::span<const std::byte>(buf.data(), n), wl.msg_bytes, tally);
}

void drive_closed_loop(endpoint& ep, const workload_params& wl, client_report& out, sequence_tally& tally,
                       std::uint64_t start) {
  message_source src(wl.msg_bytes, wl.seed);
  std::vector<std::byte> buf(wl.msg_bytes);
  std::uint64_t warm_end = start + wl.warmup_ns, end = warm_end + wl.duration_ns;
  std::uint64_t seq = 0;
  for (std::uint64_t now = now_ns(); now < end || out.measured < min_measured; ++seq) {
    bool warm = now < warm_end;
    if (!warm && out.measured == 0) now = out.t_first_ns = begin_window(out);
    ep.send(src.next(seq, warm ? flag_warmup : 0));
    receive_echo(ep, buf, wl, tally);
    std::uint64_t t = now_ns();
    if (!warm) {
      out.rtt.record(t - now);
      ++out.measured;
      out.t_last_ns = t;
    }
    now = t;
  }
  end_window(out);
  ep.send(src.next(seq, flag_end));
  receive_echo(ep, buf, wl, tally);
  out.sent = seq + 1;
}

// The intended send times of an open loop (--rate): message seq is due at start + seq x interval; those due
// before warm_end are warm-up, and the one due at or after end is the last (flagged end).
struct open_loop_schedule {
  std::uint64_t interval, start, warm_end, end;
  open_loop_schedule(const workload_params& wl, std::uint64_t at)
      : interval(static_cast<std::uint64_t>(1e9 / wl.rate)),
        start(at),
        warm_end(start + wl.warmup_ns),
        end(warm_end + wl.duration_ns) {}
  std::uint64_t due(std::uint64_t seq) const noexcept { return start + seq * interval; }
};

// One echo of an open loop, received at t: checked, and its latency from the intended send time in its stamp
// recorded. Returns true for the echo of the last message.
bool take_open_loop_echo(std::size_t n, std::span<const std::byte> buf, std::uint64_t t, const workload_params& wl,
                         client_report& out, sequence_tally& tally) {
  if (n == 0) throw peer_gone_error("the server closed the connection");
  std::span<const std::byte> msg = buf.first(n);
  if (!check_message(msg, wl.msg_bytes, tally)) return false;
  frame_header h = read_header(msg);
  if (h.flags & flag_end) return true;
  if (!(h.flags & flag_warmup)) {
    out.rtt.record(t - h.stamp);
    ++out.measured;
    out.t_last_ns = t;
  }
  return false;
}

// Open loop: a pacer thread sends at the intended times, this thread receives. Latency is counted from the
// intended send time carried in the header, so a stall delays every later message and is not hidden. A pacer that
// cannot send stops the case with its own error, which is the case's error (not the stop it causes).
void drive_open_loop(endpoint& ep, const workload_params& wl, client_report& out, sequence_tally& tally, int cpu,
                     std::uint64_t start) {
  const open_loop_schedule at(wl, start);
  std::atomic<std::uint64_t> total{0};
  std::string pacer_error;
  pthread_t self = pthread_self();
  std::thread pacer([&] {
    try {
      pin_this_thread(cpu);
      prctl(PR_SET_TIMERSLACK, 1UL);
      message_source src(wl.msg_bytes, wl.seed);
      std::uint64_t spin_ns = std::min(pacer_spin_ns, at.interval / 4);
      std::uint64_t seq = 0;
      for (std::uint64_t due = at.start; due < at.end; due = at.due(++seq)) {
        bool warmup = due < at.warm_end;
        if (!warmup && !out.window.begin.pid) {  // before waiting for the first measured send: it is not delayed
          begin_window(out);
          out.t_first_ns = due;
        }
        wait_until(due, spin_ns);
        if (!warmup) out.send_late.record(now_ns() - due);  // the receiving thread does not touch it until join
        ep.send(src.next(seq, warmup ? flag_warmup : 0, due));
      }
      ep.send(src.next(seq, flag_end, at.end));
      total = seq + 1;
    } catch (const std::exception& e) {
      pacer_error = std::string("the pacer (--rate) could not send: ") + e.what();
      request_abort();  // the receiving thread waits for echoes that will not come
      poke_thread(self);
    }
  });
  std::vector<std::byte> buf(wl.msg_bytes);
  try {
    for (;;) {
      std::size_t n = ep.recv(buf);
      if (take_open_loop_echo(n, buf, now_ns(), wl, out, tally)) break;
    }
    end_window(out);
  } catch (...) {
    pacer.join();
    if (!pacer_error.empty()) throw std::runtime_error(pacer_error);
    throw;
  }
  pacer.join();
  if (!pacer_error.empty()) throw std::runtime_error(pacer_error);
  out.sent = total;
}

// Open loop over a receiver that spins anyway (shm-spin): one thread sends at the intended times and polls for
// the echoes in between. With a pacer thread beside a spinning receiver on one core, every echo waited for the
// receiver to be switched back in after a send (a 64 B round trip read 12 us at 1000/s, against 0.4 us closed).
// The same intended times, the same stamps, the same lateness record as drive_open_loop.
void drive_open_loop_polled(endpoint& ep, const workload_params& wl, client_report& out, sequence_tally& tally,
                            std::uint64_t start) {
  const open_loop_schedule at(wl, start);
  message_source src(wl.msg_bytes, wl.seed);
  std::vector<std::byte> buf(wl.msg_bytes);
  std::uint64_t seq = 0, due = at.start;
  bool sent_end = false;
  spinner spin;  // a pause per empty poll; a yield now and then, for a server that shares this CPU
  for (;;) {
    std::uint64_t now = now_ns();
    if (!sent_end && now >= due) {
      if (due >= at.end) {
        ep.send(src.next(seq, flag_end, at.end));
        sent_end = true;
        out.sent = seq + 1;
      } else {
        bool warmup = due < at.warm_end;
        if (!warmup) out.send_late.record(now - due);
        if (!warmup && !out.window.begin.pid) {
          begin_window(out);  // after this send's lateness was taken: the reading is not charged to it
          out.t_first_ns = due;
        }
        ep.send(src.next(seq, warmup ? flag_warmup : 0, due));
        due = at.due(++seq);
      }
      continue;
    }
    std::optional<std::size_t> n = ep.poll_recv(buf);
    if (!n) {
      spin.once();
      continue;
    }
    if (take_open_loop_echo(*n, buf, now_ns(), wl, out, tally)) break;
  }
  end_window(out);
}

// --serializers: the closed loop with every message encoded before it is sent and decoded after it arrives, in
// both directions (see workload.hpp). Clock reads: t0 before encoding, t1 after, t2 once the reply is in and its
// frame checked, t3 after decoding it; the server's two times come back in the reply's stamp.
void drive_serialized(endpoint& ep, const workload_params& wl, client_report& out, sequence_tally& tally,
                      std::uint64_t start) {
  message_codec codec(wl);
  std::vector<std::byte> buf(wl.msg_bytes);
  const char* decode_error = nullptr;
  std::uint64_t warm_end = start + wl.warmup_ns, end = warm_end + wl.duration_ns;
  std::uint64_t seq = 0;
  auto round_trip = [&](std::uint32_t flags) {
    std::uint64_t t0 = now_ns();
    std::span<const std::byte> payload = codec.encode();
    std::uint64_t t1 = now_ns();
    if (payload.size() + header_bytes != wl.msg_bytes)
      throw protocol_error(fmt::format("{} encoded the message into {} bytes, {} when the case was planned",
                                       codec.name(), payload.size(), wl.msg_bytes - header_bytes));
    ep.send(codec.frame(payload, seq, flags, 0));
    std::size_t n = ep.recv(buf);
    if (n == 0) throw peer_gone_error("the server closed the connection");
    std::span<const std::byte> reply(buf.data(), n);
    bool framed = check_message(reply, wl.msg_bytes, tally);
    std::uint64_t t2 = now_ns();
    const char* why = framed ? codec.decode(reply) : nullptr;
    std::uint64_t t3 = now_ns();
    if (why) {
      ++tally.corrupt;
      if (!decode_error) decode_error = why;
    }
    if (!(flags & (flag_warmup | flag_end)) && framed && !why) {
      std::uint64_t server_decode = 0, server_encode = 0;
      unpack_server_times(read_header(reply).stamp, server_decode, server_encode);
      std::uint64_t ser = (t1 - t0) + server_encode, deser = (t3 - t2) + server_decode, rtt = t3 - t0;
      out.rtt.record(rtt);
      out.serialize.record(ser);
      out.deserialize.record(deser);
      out.transport.record(rtt > ser + deser ? rtt - ser - deser : 0);
      ++out.measured;
      out.t_last_ns = t3;
    }
    return t3;
  };
  for (std::uint64_t now = now_ns(); now < end || out.measured < min_measured; ++seq) {
    bool warm = now < warm_end;
    if (!warm && !out.window.begin.pid) out.t_first_ns = begin_window(out);
    now = round_trip(warm ? flag_warmup : 0);
    // A decoder that refuses every reply would never measure a round trip: give up after the warm-up.
    if (decode_error && now >= warm_end && out.measured == 0) break;
  }
  end_window(out);
  round_trip(flag_end);
  out.sent = seq + 1;
  if (decode_error)
    out.error = fmt::format("client: {} could not read the server's reply: {}", codec.name(), decode_error);
}

void drive_stream(endpoint& ep, const workload_params& wl, const pair_slot& slot, client_report& out,
                  std::uint64_t start) {
  message_source src(wl.msg_bytes, wl.seed);
  std::uint64_t warm_end = start + wl.warmup_ns, end = warm_end + wl.duration_ns;
  std::uint64_t seq = 0;
  // The clock is read every 16 messages: the sender's pace is not what is measured, the receiver's is.
  std::uint64_t measured = 0;
  std::uint64_t acked = 0, window = window_messages(wl);
  std::vector<std::byte> ack(header_bytes);
  auto await_credit = [&] {
    while (wl.flow_window_bytes && seq - acked >= window) {
      std::size_t n = ep.recv(ack);
      if (n == 0) throw peer_gone_error("the receiver closed the connection");
      frame_header h = read_header(std::span<const std::byte>(ack.data(), n));
      if (n != header_bytes || !verify_message(std::span<const std::byte>(ack.data(), n)) || !(h.flags & flag_ack))
        throw protocol_error("bad flow-control credit from the receiver");
      acked = std::max(acked, h.seq);
    }
  };
  for (std::uint64_t now = now_ns(); now < end || measured < min_measured + 1; ++seq) {
    bool warm = now < warm_end;
    if (!warm && measured == 0) begin_window(out);
    await_credit();
    ep.send(src.next(seq, warm ? flag_warmup : 0));
    measured += warm ? 0 : 1;
    if ((seq & 15) == 15 || measured <= min_measured) now = now_ns();
  }
  await_credit();
  ep.send(src.next(seq, flag_end));
  out.sent = seq + 1;
  // The sink reports when it has seen the end; its figures are in the slot.
  std::uint64_t deadline = now_ns() + 10'000'000'000ull;
  while (slot.state.load(std::memory_order_acquire) == pair_slot::ready) {
    check_abort();
    if (now_ns() > deadline)
      throw std::runtime_error("the receiver did not finish within 10 s of the end of the stream");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  // After the receiver's last measured message (a receiver in this process is then done with it too).
  end_window(out);
}

}  // namespace

std::string workload_incompatibility(const transport_info& t, const workload_params& wl) {
  if (t.ping_pong_only.empty()) return {};
  if (wl.kind == workload_kind::throughput)
    return fmt::format("the one-way stream does not apply to {}: {}", t.name, t.ping_pong_only);
  if (wl.rate > 0)
    return fmt::format("the open-loop sender (--rate) does not apply to {}: {}", t.name, t.ping_pong_only);
  return {};
}

bool check_message(std::span<const std::byte> msg, std::size_t expected_bytes, sequence_tally& tally) noexcept {
  if (msg.size() != expected_bytes || !verify_message(msg)) {
    ++tally.corrupt;
    return false;
  }
  tally.observe(read_header(msg).seq);
  return true;
}

// --- server behaviours -------------------------------------------------------------------------------------

std::unique_ptr<work_lock> make_server_lock(const workload_params& wl) {
  return wl.make_lock ? wl.make_lock(wl.lock) : make_work_lock(wl.lock);
}

void report_server_failure(pair_slot& slot, std::string_view what) noexcept {
  copy_text(slot.error, sizeof slot.error, "server: " + std::string(what));
  slot.state.store(pair_slot::failed, std::memory_order_release);
}

server_session::server_session(const workload_params& wl, pair_slot& slot, work_lock& lock)
    : wl_(wl), slot_(slot), lock_(lock), acks_(header_bytes, wl.seed + 1), ack_every_(window_messages(wl) / 4 + 1) {
  if (wl.serializer) {
    try {
      codec_ = std::make_unique<message_codec>(wl);
    } catch (const std::exception& e) {
      setup_error_ = fmt::format("cannot set up {}: {}", wl.serializer->name, e.what());
    }
  }
}

void server_session::ready() {
  if (!setup_error_.empty()) throw std::runtime_error(setup_error_);
  slot_.state.store(pair_slot::ready, std::memory_order_release);
}

std::span<const std::byte> server_session::answer(std::span<const std::byte> msg, const frame_header& h) {
  std::uint64_t t0 = now_ns();
  const char* why = codec_->decode(msg);
  std::uint64_t t1 = now_ns();
  // The reply is sent whatever the request held, so that the client goes on and the case ends normally; a
  // request that could not be read counts as corrupt and its reason fails the case.
  if (why) {
    ++tally_.corrupt;
    if (!decode_error_) decode_error_ = why;
  }
  std::span<const std::byte> payload = codec_->encode();
  std::uint64_t t2 = now_ns();
  return codec_->frame(payload, h.seq, h.flags, pack_server_times(t1 - t0, t2 - t1));
}

const char* server_session::closed_message() const noexcept {
  return wl_.kind == workload_kind::latency ? "the client closed the connection before the end of the case"
                                            : "the sender closed the connection before the end of the stream";
}

void server_session::end_window() noexcept {
  if (slot_.window.begin.pid && !slot_.window.end.pid) slot_.window.end = close_cpu_reading(true);
}

void server_session::write_tallies(const std::string& cpus) noexcept {
  end_window();  // a session that failed mid-way: its window ends here
  const cpu_span& w = slot_.window;
  slot_.cpu_ns = w.end.cpu_ns > w.begin.cpu_ns ? w.end.cpu_ns - w.begin.cpu_ns : 0;
  slot_.lost = tally_.lost;
  slot_.duplicated = tally_.duplicated;
  slot_.corrupt = tally_.corrupt;
  copy_text(slot_.cpus, sizeof slot_.cpus, cpus);
  if (decode_error_ && codec_)
    copy_text(slot_.error, sizeof slot_.error,
              fmt::format("server: {} could not read a request: {}", codec_->name(), decode_error_));
}

void server_session::finish(const std::string& cpus) noexcept {
  slot_.received = tally_.received;
  write_tallies(cpus);
  slot_.state.store(pair_slot::done, std::memory_order_release);
}

void server_session::fail(std::string_view what, const std::string& cpus, bool stopped) noexcept {
  write_tallies(cpus);
  slot_.stopped = stopped;
  report_server_failure(slot_, what);
}

void serve(endpoint& ep, const workload_params& wl, pair_slot& slot, int cpu, work_lock& lock) noexcept {
  cpu_sampler where;
  server_session session(wl, slot, lock);
  try {
    pin_this_thread(cpu);
    std::vector<std::byte> buf(wl.msg_bytes);
    where.sample();
    session.ready();
    auto send = [&ep](std::span<const std::byte> reply) { ep.send(reply); };
    // Where the transport allows it (the shared rings), a message larger than a page is checked, and echoed,
    // where it lies, as the floor's streaming consumer reads it; elsewhere it is copied into buf first. (Small
    // ones are copied: holding their room until they are checked made 64-byte streams 30% slower.)
    const bool in_place = ep.receives_in_place() && wl.msg_bytes > in_place_min_bytes;
    for (;;) {
      std::span<const std::byte> msg;
      if (in_place) {
        msg = ep.recv_in_place();
      } else {
        msg = std::span<const std::byte>(buf.data(), ep.recv(buf));
      }
      if (msg.empty()) throw peer_gone_error(session.closed_message());
      bool last = session.on_message(msg, send);
      if (in_place) ep.release_in_place();
      if (last) break;
    }
    where.sample();
    session.finish(where.seen());
  } catch (const aborted_error& e) {
    session.fail(e.what(), where.seen(), true);
  } catch (const std::exception& e) {
    session.fail(e.what(), where.seen());
  }
}

void wait_ready(const pair_slot& slot) {
  std::uint64_t deadline = now_ns() + 10'000'000'000ull;
  for (;;) {
    int s = slot.state.load(std::memory_order_acquire);
    if (s == pair_slot::ready) return;
    if (s == pair_slot::failed) throw std::runtime_error(std::string("server failed to start: ") + slot.error);
    if (now_ns() > deadline) throw std::runtime_error("server did not become ready within 10 s");
    check_abort();
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

void drive(endpoint& ep, const workload_params& wl, const pair_slot& slot, client_report& out,
           std::uint64_t start_ns) noexcept {
  cpu_sampler where;
  sequence_tally tally;
  try {
    wait_ready(slot);
    wait_until(start_ns, 0);
    std::uint64_t start = std::max(start_ns, now_ns());
    where.sample();
    if (wl.kind == workload_kind::throughput)
      drive_stream(ep, wl, slot, out, start);
    else if (wl.serializer)
      drive_serialized(ep, wl, out, tally, start);
    else if (wl.rate > 0 && ep.spin_receiver())
      drive_open_loop_polled(ep, wl, out, tally, start);
    else if (wl.rate > 0)
      drive_open_loop(ep, wl, out, tally, current_cpu(), start);
    else
      drive_closed_loop(ep, wl, out, tally, start);
  } catch (const aborted_error& e) {
    out.error = std::string("client: ") + e.what();
    out.stopped = true;
  } catch (const std::exception& e) {
    out.error = std::string("client: ") + e.what();
  }
  where.sample();
  out.lost = tally.lost;
  out.duplicated = tally.duplicated;
  out.corrupt = tally.corrupt;
  out.cpus = where.seen();
}

message_codec::message_codec(const workload_params& wl)
    : codec_(wl.serializer->make(wl.shape)),
      msg_(ser::make_message(wl.shape, ser::message_seed)),
      expected_(ser::checksum_of(msg_)),
      name_(wl.serializer->name) {}

const char* message_codec::decode(std::span<const std::byte> msg) noexcept {
  std::uint64_t sum = 0;
  ser::status s = codec_->deserialize(msg.subspan(header_bytes), sum);
  if (!s) return s.error;
  return sum == expected_ ? nullptr : "decoded, but not into the message that was sent (checksum differs)";
}

std::size_t encoded_bytes(const ser::serializer_info& s, ser::shape shape) {
  return s.make(shape)->serialize(ser::make_message(shape, ser::message_seed)).size();
}

std::uint64_t pack_server_times(std::uint64_t decode_ns, std::uint64_t encode_ns) noexcept {
  constexpr std::uint64_t max32 = 0xFFFF'FFFFull;
  return std::min(encode_ns, max32) << 32 | std::min(decode_ns, max32);
}

void unpack_server_times(std::uint64_t stamp, std::uint64_t& decode_ns, std::uint64_t& encode_ns) noexcept {
  decode_ns = stamp & 0xFFFF'FFFFull;
  encode_ns = stamp >> 32;
}

double measure_harness_overhead_ns() {
  message_source src(64, 7);
  histogram h;
  sequence_tally tally;
  constexpr int n = 200'000;
  std::uint64_t t0 = now_ns();
  std::uint64_t prev = t0;
  for (int i = 0; i < n; ++i) {
    auto msg = src.next(static_cast<std::uint64_t>(i), 0);
    check_message(msg, 64, tally);
    std::uint64_t t = now_ns();
    h.record(t - prev);
    prev = t;
  }
  std::uint64_t t1 = now_ns();
  return static_cast<double>(t1 - t0) / n;
}

}  // namespace bench
