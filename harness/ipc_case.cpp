#include "harness/ipc_case.hpp"

#include <sys/mman.h>

#include <atomic>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/units.hpp"
#include "harness/accounting.hpp"
#include "harness/case_key.hpp"
#include "harness/sysinfo.hpp"

namespace bench {
namespace {

// The pairs' report slots, in memory shared with forked servers.
class shared_slots {
 public:
  explicit shared_slots(int n) : n_(static_cast<std::size_t>(n)) {
    void* p = ::mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw_errno("map shared report slots");
    slots_ = static_cast<pair_slot*>(p);
    for (std::size_t i = 0; i < n_; ++i) new (&slots_[i]) pair_slot();
  }
  ~shared_slots() { ::munmap(slots_, bytes()); }
  shared_slots(const shared_slots&) = delete;
  shared_slots& operator=(const shared_slots&) = delete;
  pair_slot& operator[](std::size_t i) { return slots_[i]; }

 private:
  std::size_t bytes() const { return sizeof(pair_slot) * n_; }
  std::size_t n_;
  pair_slot* slots_ = nullptr;
};

void append_error(std::string& all, const std::string& e) {
  if (e.empty() || all.find(e) != std::string::npos) return;
  if (!all.empty()) all += "; ";
  all += e;
}

// Every server ready (or failed), the watchdog's deadline, or a stop, whichever comes first; then a start time a
// little ahead, the same for every pair: their warm-ups end together, so the measured windows of the pairs
// coincide and the case's window (the CPU's, the throughput's) holds all of them at once. A server that is
// not ready is left to its client, which reports it.
std::uint64_t common_start(shared_slots& slots, int pairs, std::uint64_t deadline) {
  for (int i = 0; i < pairs; ++i) {
    const pair_slot& s = slots[static_cast<std::size_t>(i)];
    while (s.state.load(std::memory_order_acquire) == pair_slot::starting && now_ns() < deadline && !abort_requested())
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  constexpr std::uint64_t threads_start_ns = 2'000'000;  // the clients are created and pinned meanwhile
  return now_ns() + threads_start_ns;
}

// Percentiles of the round trips, each withheld (null) when too few samples lie beyond it; the reason in the row.
void write_latency_fields(json& row, const workload_params& wl, const histogram& rtt, const histogram& send_late) {
  constexpr double reported[] = {50, 90, 99, 99.9};
  constexpr const char* fields[] = {"rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns"};
  for (std::size_t i = 0; i < std::size(reported); ++i)
    row[fields[i]] = percentile_supported(rtt.count(), reported[i]) ? json(rtt.percentile(reported[i])) : json(nullptr);
  std::string withheld = withheld_reason(rtt.count(), reported);
  if (wl.rate > 0) {
    row["send_late_p50_ns"] =
        percentile_supported(send_late.count(), 50) ? json(send_late.percentile(50)) : json(nullptr);
    row["send_late_p99_ns"] =
        percentile_supported(send_late.count(), 99) ? json(send_late.percentile(99)) : json(nullptr);
    constexpr double late[] = {99};
    if (std::string w = withheld_reason(send_late.count(), late); !w.empty())
      withheld += (withheld.empty() ? "send_late_" : "; send_late_") + w;
  }
  if (!withheld.empty()) row["percentiles_withheld"] = withheld;
  row["rtt_max_ns"] = rtt.max();
  row["rtt_mean_ns"] = rtt.mean();
}

// --serializers: medians per round trip of each part (see workload.hpp); their sum is close to, not exactly,
// rtt_p50_ns.
void write_serializer_fields(json& row, const histogram& serialize, const histogram& deserialize,
                             const histogram& transport) {
  std::uint64_t ser = serialize.percentile(50), deser = deserialize.percentile(50), rest = transport.percentile(50);
  row["serialize_ns"] = ser;
  row["deserialize_ns"] = deser;
  row["transport_ns"] = rest;
  double parts = static_cast<double>(ser + deser + rest);
  row["serialization_pct"] = parts > 0 ? 100.0 * static_cast<double>(ser + deser) / parts : 0.0;
}

// CPU of every process of the case on this machine over the measured window, per message measured (Google
// Benchmark's cpu_time), and the window itself, so that CPUs busy = cpu_ns / cpu_window_ns can be checked.
void write_cpu_fields(json& row, const cpu_total& cpu, std::uint64_t messages) {
  bool known = cpu.processes > 0 && messages > 0;
  row["cpu_ns"] = known ? json(cpu.cpu_ns) : json(nullptr);
  row["cpu_window_ns"] = known ? json(cpu.window_ns) : json(nullptr);
  row["cpu_processes"] = cpu.processes;
  row["cpus_busy"] = known ? json(cpus_busy(cpu)) : json(nullptr);
  row["cpu_ns_per_msg"] = known ? json(per_iteration(cpu.cpu_ns, messages)) : json(nullptr);
  row["cpu_time"] = row["cpu_ns_per_msg"];
}

}  // namespace

std::string size_label(std::size_t b) {
  if (b % (1u << 20) == 0) return fmt::format("{}M", b >> 20);
  if (b % 1024 == 0) return fmt::format("{}K", b >> 10);
  return std::to_string(b);
}

std::string duration_label(std::uint64_t ns) {
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

case_key ipc_case_key(const ipc_case& c) {
  case_key k("ipc");
  k.named("transport", c.transport->name).named("model", c.model->name);
  if (c.wl.serializer)
    k.named("serializer", c.wl.serializer->name).named("shape", ser::to_string(c.wl.shape));
  else
    k.named("serializer", "none");
  k.named("workload", to_string(c.wl.kind))
      .named("wait", c.wait)
      .named("placement", to_string(c.place))
      .named("msg_bytes", c.wl.msg_bytes, "size", size_label(c.wl.msg_bytes))
      .named("pairs", c.pairs);
  // Closed loop, no server work and no lock are the usual case: the name says only what differs from it.
  if (c.wl.rate > 0)
    k.named("rate", c.wl.rate, "rate", fmt::format("{:g}", c.wl.rate));
  else
    k.unnamed("rate", c.wl.rate);
  if (c.wl.work_ns > 0)
    k.named("work_ns", c.wl.work_ns, "work", duration_label(c.wl.work_ns));
  else
    k.unnamed("work_ns", c.wl.work_ns);
  if (c.wl.lock != "none")
    k.named("lock", c.wl.lock);
  else
    k.unnamed("lock", c.wl.lock);
  if (c.wl.serializer) k.unnamed("wire_bytes", c.wl.msg_bytes - header_bytes);
  k.unnamed("runtime", "cpp");
  return k;
}

std::string case_name(const ipc_case& c) { return ipc_case_key(c).name(); }

ipc_case make_ipc_case(const transport_info& t, const model_info& m, workload_kind kind, std::uint64_t msg_bytes,
                       wait_mode wait, const ser::serializer_info* serializer, ser::shape shape) {
  ipc_case c;
  c.transport = &t;
  c.model = &m;
  c.wl.kind = kind;
  c.wl.msg_bytes = msg_bytes;
  c.wl.serializer = serializer;
  c.wl.shape = shape;
  // Loopback UDP's default receive buffer is 208 KiB of kernel memory, a 64-byte datagram taking about
  // 1 KiB of it: 64 KiB of credit keeps the receiver's queue well inside it.
  c.wl.flow_window_bytes = t.credit_window_bytes;  // UDP, a broker: see transport_info
  c.wait = t.fixed_wait.empty() ? to_string(wait) : std::string(t.fixed_wait);
  c.wait_as = wait;
  return c;
}

const std::vector<std::string>& ipc_identity_fields() {
  static const std::vector<std::string> fields = {"suite",    "transport", "model",     "serializer", "shape",
                                                  "workload", "wait",      "placement", "msg_bytes",  "pairs",
                                                  "rate",     "work_ns",   "lock",      "wire_bytes", "runtime"};
  return fields;
}

namespace {

// The case's parameters and placement, known before it runs.
json case_row(const ipc_case& c, const std::vector<pair_cpus>& cpus, const core_plan& cores) {
  json row;
  ipc_case_key(c).stamp(row);
  row["placed"] = core_sharing(cpus, cores.topo);
  // Oversubscribed when the endpoints that want a core of their own outnumber the CPUs.
  int endpoints = c.place == placement::same ? c.pairs : 2 * c.pairs;
  row["oversubscribed"] = endpoints > cores.available;
  return row;
}

std::vector<channel> make_channels(const ipc_case& c, const case_environment& env) {
  std::vector<channel> channels;
  channel_options opt;
  opt.max_msg_bytes = c.wl.msg_bytes;
  opt.wait = c.wait_as;
  opt.scratch_dir = env.scratch_dir;
  channels.reserve(static_cast<std::size_t>(c.pairs));
  for (int i = 0; i < c.pairs; ++i) {
    opt.unique_name = fmt::format("c{}-p{}", env.case_serial, i);
    channels.push_back(env.remote_host ? channel{} : c.transport->make(opt));
  }
  return channels;
}

// Waits for the clients to end, stopping the case at the watchdog's deadline or on a stop. True when the watchdog
// is what stopped it: an end that failed (a pacer that could not send) stops it too, and its own error is then the
// case's. This thread sleeps between its checks: its CPU, in the process clock the case reads, is a few
// microseconds per 5 ms, far below what the case's own threads use.
bool watch_clients(const std::atomic<int>& running, std::uint64_t deadline, server_host& host,
                   std::vector<std::thread>& clients) {
  bool timed_out = false;
  while (running.load() > 0) {
    bool overdue = now_ns() > deadline;
    if (overdue && !abort_requested()) timed_out = !interrupted();
    if (abort_requested() || overdue) {
      request_abort();
      host.interrupt();
      for (auto& t : clients) poke_thread(t.native_handle());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(timed_out || abort_requested() ? 1 : 5));
  }
  return timed_out;
}

// Starts the servers and the clients, and waits for every end; the pairs' reports and slots hold what they saw.
// Returns true when the watchdog stopped the case; errors of the set-up and of the servers go to `error`.
bool run_pairs(const ipc_case& c, const case_environment& env, const std::vector<pair_cpus>& cpus,
               std::vector<client_report>& reports, shared_slots& slots, std::uint64_t t_begin, std::string& error) {
  bool timed_out = false;
  try {
    std::vector<channel> channels = make_channels(c, env);
    std::vector<server_job> jobs;
    for (int i = 0; i < c.pairs; ++i) {
      auto ui = static_cast<std::size_t>(i);
      jobs.push_back({&channels[ui], &slots[ui], cpus[ui].server});
    }
    // A remote host (bench serve on the peer) fills in each channel's client end, connected to it.
    std::unique_ptr<server_host> host = env.remote_host ? env.remote_host(c) : c.model->make();
    host->start(jobs, c.wl);

    // The watchdog: the case gets warm-up + duration + the timeout; then it is stopped and reported as failed.
    std::uint64_t deadline = t_begin + c.wl.warmup_ns + c.wl.duration_ns + env.timeout_ns;
    std::uint64_t start = common_start(slots, c.pairs, deadline);
    std::atomic<int> running{c.pairs};
    std::vector<std::thread> clients;
    for (int i = 0; i < c.pairs; ++i) {
      auto ui = static_cast<std::size_t>(i);
      clients.emplace_back([&, ui] {
        try {
          pin_this_thread(cpus[ui].client);
          drive(*channels[ui].client, c.wl, slots[ui], reports[ui], start);
        } catch (const std::exception& e) {
          reports[ui].error = std::string("client: ") + e.what();
        }
        running.fetch_sub(1);
      });
    }
    timed_out = watch_clients(running, deadline, *host, clients);
    for (auto& t : clients) t.join();
    // A client that failed leaves its server waiting for messages that will never come.
    for (const auto& r : reports)
      if (!r.error.empty()) host->interrupt();
    append_error(error, host->join());
    channels.clear();
  } catch (const std::exception& e) {
    append_error(error, e.what());
  }
  return timed_out;
}

// What every pair saw, summed over the pairs.
struct pair_totals {
  histogram rtt, serialize, deserialize, transport, send_late;
  std::uint64_t lost = 0, duplicated = 0, corrupt = 0, latency_iterations = 0;
  std::vector<cpu_span> cpu_spans;
  std::vector<stream_span> streams, round_trips;
  std::string client_cpus, server_cpus;
  std::string stops;  // the errors of ends that were only stopped: consequences, whose cause is another end's error
};

pair_totals gather_pairs(int pairs, std::vector<client_report>& reports, shared_slots& slots, bool errors_count,
                         std::string& error) {
  pair_totals t;
  for (int i = 0; i < pairs; ++i) {
    auto ui = static_cast<std::size_t>(i);
    client_report& r = reports[ui];
    pair_slot& s = slots[ui];
    if (errors_count) {
      append_error(r.stopped ? t.stops : error, r.error);
      append_error(s.stopped ? t.stops : error, s.error);
    }
    t.rtt.merge(r.rtt);
    t.serialize.merge(r.serialize);
    t.deserialize.merge(r.deserialize);
    t.transport.merge(r.transport);
    t.send_late.merge(r.send_late);
    t.lost += r.lost + s.lost;
    t.duplicated += r.duplicated + s.duplicated;
    t.corrupt += r.corrupt + s.corrupt;
    t.latency_iterations += r.measured;
    t.cpu_spans.push_back(r.window);
    t.cpu_spans.push_back(s.window);
    t.streams.push_back({s.t_first_ns, s.t_last_ns, s.measured});
    t.round_trips.push_back({r.t_first_ns, r.t_last_ns, 0});
    t.client_cpus += (i ? ";" : "");
    t.client_cpus += r.cpus;
    t.server_cpus += (i ? ";" : "");
    t.server_cpus += s.cpus;
  }
  return t;
}

// The figures of a finished case: counts, its error, the measured window, latency or throughput, CPU.
void write_measurement(json& row, const ipc_case& c, const pair_totals& t, std::string error) {
  if (error.empty()) error = t.stops;
  bool lat = c.wl.kind == workload_kind::latency;
  stream_total stream = combine_streams(t.streams);
  std::uint64_t messages = lat ? t.latency_iterations : stream.messages;
  if (error.empty() && (t.lost || t.duplicated || t.corrupt)) {
    error = fmt::format("{} lost, {} duplicated or out of order, {} corrupt messages", t.lost, t.duplicated, t.corrupt);
  }
  if (error.empty() && messages == 0) error = "no message was measured (duration too short?)";

  row["messages"] = messages;
  row["lost"] = t.lost;
  row["duplicated"] = t.duplicated;
  row["corrupt"] = t.corrupt;
  row["error_occurred"] = !error.empty();
  row["error_message"] = error;
  // Google Benchmark's real_time: the measured window per iteration (per message measured, all pairs).
  std::uint64_t window_ns = lat ? combine_streams(t.round_trips).window_ns : stream.window_ns;
  row["real_time"] = per_iteration(window_ns, messages);
  row["measured_window_ns"] = window_ns;
  if (lat) {
    write_latency_fields(row, c.wl, t.rtt, t.send_late);
    if (c.wl.serializer) write_serializer_fields(row, t.serialize, t.deserialize, t.transport);
  } else {
    row["msgs_per_s"] = stream.msgs_per_s;
    row["bytes_per_s"] = stream.msgs_per_s * static_cast<double>(c.wl.msg_bytes);
  }
  write_cpu_fields(row, combine_cpu(t.cpu_spans), messages);
  row["time_unit"] = "ns";
  row["iterations"] = messages;
  row["client_cpus"] = t.client_cpus;
  row["server_cpus"] = t.server_cpus;
}

}  // namespace

json run_ipc_case(const ipc_case& c, const case_environment& env) {
  std::vector<pair_cpus> cpus = place_pairs(c.place, c.pairs, *env.cores);
  json row = case_row(c, cpus, *env.cores);

  std::string error;
  std::vector<client_report> reports(static_cast<std::size_t>(c.pairs));
  shared_slots slots(c.pairs);
  cpu_times cpu_before = read_cpu_times(env.cores->cpus);
  std::uint64_t t_begin = now_ns();
  const bool timed_out = run_pairs(c, env, cpus, reports, slots, t_begin, error);
  std::uint64_t t_end = now_ns();
  if (timed_out) {
    error = fmt::format("timed out: no progress within {} (watchdog){}", format_ns(static_cast<double>(env.timeout_ns)),
                        error.empty() ? std::string() : fmt::format("; then: {}", error));
  } else if (interrupted()) {
    error = "interrupted";
  }
  const pair_totals totals = gather_pairs(c.pairs, reports, slots, !timed_out && !interrupted(), error);
  write_measurement(row, c, totals, error);
  row["wall_ns"] = t_end - t_begin;
  row["load_avg"] = or_null(load_avg_1min());
  row["steal_pct"] =
      or_null(steal_pct(cpu_before, read_cpu_times(env.cores->cpus)));  // the run's CPUs; null if unreadable
  clear_abort();
  return row;
}

}  // namespace bench
