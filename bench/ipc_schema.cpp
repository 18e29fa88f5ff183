#include "bench/ipc_schema.hpp"

#include "harness/ipc_case.hpp"

namespace bench {
namespace {

const metric_def timing_metrics[] = {
    {"real_time", "ns", better::lower, "time",
     "Google Benchmark's meaning: the measured window per iteration, an iteration being a message measured (all "
     "pairs): latency rows, from the first measured send to the last measured echo, over the round trips (one "
     "pair: the mean round trip, not the median, which is rtt_p50_ns); throughput rows, the receivers' first to "
     "last measured arrival over the messages (1e9 / msgs_per_s)"},
    {"cpu_time", "ns", better::lower, "CPU time",
     "Google Benchmark's meaning: CPU over the measured window per iteration, i.e. cpu_ns_per_msg"},
    {"measured_window_ns", "ns", better::neither, "window",
     "the window real_time divides: latency, first measured send to last measured echo of any pair; throughput, "
     "first to last measured arrival of any pair"},
    {"rtt_p50_ns", "ns", better::lower, "p50",
     "median round trip, measured by the client from send to verified echo; half of it is not a one-way time"},
    {"rtt_p90_ns", "ns", better::lower, "p90", "90th percentile of the round trips"},
    {"rtt_p99_ns", "ns", better::lower, "p99", "99th percentile of the round trips"},
    {"rtt_p999_ns", "ns", better::lower, "p99.9", "99.9th percentile of the round trips"},
    {"rtt_max_ns", "ns", better::lower, "max", "the longest round trip"},
    {"rtt_mean_ns", "ns", better::lower, "mean", "the mean round trip (the charts quote percentiles)"},
    {"percentiles_withheld", "", better::neither, "withheld",
     "latency rows: which percentiles are null and why: a tail percentile p is given only when at least 10 "
     "samples lie beyond it (p90 from 100 round trips, p99 from 1000, p99.9 from 10000)"},
    {"msgs_per_s", "1/s", better::higher, "messages/s",
     "one way, timed at the receiver between the first and last measured arrivals; the receiver checks every "
     "byte of every message: where it lies in a shared-memory ring (thread and process servers, messages above "
     "4 KiB), after copying it out everywhere else"},
    {"bytes_per_s", "B/s", better::higher, "bytes/s", "msgs_per_s x msg_bytes, decimal (1 MB/s = 1e6 bytes/s)"},
    {"msg_bytes", "B", better::neither, "size", "bytes per message on the wire, including bench's 32-byte header"},
    {"cpu_ns_per_msg", "ns", better::lower, "CPU/msg",
     "CPU time (user + system) over the measured window only, of every thread of every process of the case on "
     "this machine (clients, servers, the --rate pacer, an event loop, ZeroMQ's I/O threads, forked servers; the "
     "harness's watchdog thread too, which sleeps), per message measured: per round trip for latency rows, per "
     "message for throughput rows; null when it could not be read. With --peer, this machine only (the server's "
     "is server_cpu_ns_per_msg)"},
    {"cpu_ns", "ns", better::neither, "CPU",
     "that CPU time in all: per process, from its first reading (just before the first measured message) to its "
     "last (after the last one)"},
    {"cpu_window_ns", "ns", better::neither, "CPU window",
     "the window the CPU was read over: the earliest reading to the latest, of every process; it holds each "
     "process's own span"},
    {"cpus_busy", "CPUs", better::neither, "CPUs busy",
     "cpu_ns / cpu_window_ns: CPUs busy on average over the window; at most the CPUs the case's threads ran on"},
    {"send_late_p50_ns", "ns", better::lower, "late p50",
     "--rate: median of how late the pacer started a measured send after its intended time (its own wake-up, a "
     "CPU it waited for, or an earlier send that blocked); rtt counts from the intended time, so this is part of "
     "it"},
    {"send_late_p99_ns", "ns", better::lower, "late p99", "--rate: the same, 99th percentile"},
};

const metric_def serializer_metrics[] = {
    {"serialize_ns", "ns", better::lower, "serialize",
     "--serializers: median per round trip of the two encodes (build + encode of the client's request and of the "
     "server's reply), wall clock"},
    {"deserialize_ns", "ns", better::lower, "deserialize",
     "--serializers: median per round trip of the two decodes, each reading every field and checking it against "
     "the message's checksum, wall clock"},
    {"transport_ns", "ns", better::lower, "transport",
     "--serializers: median per round trip of the round trip minus both encodes and both decodes: the transport, "
     "bench's framing (header, copy, frame checksum) and the clock reads; it includes waking a reader that fell "
     "asleep while its peer serialized, so it grows with a slow serializer on a transport that sleeps"},
    {"serialization_pct", "%", better::lower, "serializing",
     "--serializers: (serialize_ns + deserialize_ns) as a share of serialize_ns + deserialize_ns + transport_ns"},
    {"wire_bytes", "B", better::lower, "wire bytes",
     "--serializers: the encoded message (the payload; msg_bytes adds the 32-byte header)"},
};

}  // namespace

suite_schema ipc_schema(bool serializers) {
  suite_schema s{ipc_identity_fields(), {std::begin(timing_metrics), std::end(timing_metrics)}};
  if (serializers) s.metrics.insert(s.metrics.end(), std::begin(serializer_metrics), std::end(serializer_metrics));
  return s;
}

}  // namespace bench
