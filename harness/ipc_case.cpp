#include "harness/ipc_case.hpp"

#include <sys/mman.h>

#include <atomic>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "harness/cancel.hpp"
#include "harness/clock.hpp"
#include "harness/error.hpp"
#include "harness/sysinfo.hpp"
#include "harness/units.hpp"

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

void append_error(std::string& all, const std::string& e) {
  if (e.empty() || all.find(e) != std::string::npos) return;
  if (!all.empty()) all += "; ";
  all += e;
}

}  // namespace

std::string case_name(const ipc_case& c) {
  std::string ser = c.wl.serializer ? fmt::format("{}/shape:{}", c.wl.serializer->name, ser::to_string(c.wl.shape)) : "none";
  std::string n = fmt::format("ipc/transport:{}/model:{}/serializer:{}/workload:{}/wait:{}/placement:{}/size:{}/pairs:{}",
                              c.transport->name, c.model->name, ser, to_string(c.wl.kind), c.wait,
                              to_string(c.place), size_label(c.wl.msg_bytes), c.pairs);
  if (c.wl.rate > 0) n += fmt::format("/rate:{:g}", c.wl.rate);
  if (c.wl.work_ns > 0) n += "/work:" + duration_label(c.wl.work_ns);
  if (c.wl.lock != "none") n += "/lock:" + c.wl.lock;
  return n;
}

json run_ipc_case(const ipc_case& c, const case_environment& env) {
  json row;
  row["suite"] = "ipc";
  row["transport"] = c.transport->name;
  row["model"] = c.model->name;
  row["serializer"] = c.wl.serializer ? c.wl.serializer->name : "none";
  if (c.wl.serializer) {
    row["shape"] = ser::to_string(c.wl.shape);
    row["wire_bytes"] = c.wl.msg_bytes - header_bytes;
  }
  row["workload"] = to_string(c.wl.kind);
  row["wait"] = c.wait;
  row["placement"] = to_string(c.place);
  row["msg_bytes"] = c.wl.msg_bytes;
  row["pairs"] = c.pairs;
  row["rate"] = c.wl.rate;
  row["work_ns"] = c.wl.work_ns;
  row["lock"] = c.wl.lock;

  std::vector<pair_cpus> cpus = place_pairs(c.place, c.pairs, *env.cores);
  // Oversubscribed when the endpoints that want a core of their own outnumber the CPUs.
  int endpoints = c.place == placement::same ? c.pairs : 2 * c.pairs;
  row["oversubscribed"] = endpoints > env.cores->available;

  std::string error;
  std::vector<client_report> reports(static_cast<std::size_t>(c.pairs));
  shared_slots slots(c.pairs);
  cpu_times cpu_before = read_cpu_times(env.cores->cpus);
  std::uint64_t t_begin = now_ns();
  bool timed_out = false;
  try {
    std::vector<channel> channels;
    std::vector<server_job> jobs;
    channel_options opt;
    opt.max_msg_bytes = c.wl.msg_bytes;
    opt.wait = c.wait_as;
    opt.scratch_dir = env.scratch_dir;
    channels.reserve(static_cast<std::size_t>(c.pairs));
    for (int i = 0; i < c.pairs; ++i) {
      opt.unique_name = fmt::format("c{}-p{}", env.case_serial, i);
      channels.push_back(env.remote_host ? channel{} : c.transport->make(opt));
    }
    for (int i = 0; i < c.pairs; ++i) {
      auto ui = static_cast<std::size_t>(i);
      jobs.push_back({&channels[ui], &slots[ui], cpus[ui].server});
    }
    // A remote host (bench serve on the peer) fills in each channel's client end, connected to it.
    std::unique_ptr<server_host> host = env.remote_host ? env.remote_host(c) : c.model->make();
    host->start(jobs, c.wl);

    std::atomic<int> running{c.pairs};
    std::vector<std::thread> clients;
    for (int i = 0; i < c.pairs; ++i) {
      auto ui = static_cast<std::size_t>(i);
      clients.emplace_back([&, ui] {
        try {
          pin_this_thread(cpus[ui].client);
          drive(*channels[ui].client, c.wl, slots[ui], reports[ui]);
        } catch (const std::exception& e) {
          reports[ui].error = std::string("client: ") + e.what();
        }
        running.fetch_sub(1);
      });
    }
    // The watchdog: the case gets warm-up + duration + the timeout; then it is stopped and reported as failed.
    std::uint64_t deadline = t_begin + c.wl.warmup_ns + c.wl.duration_ns + env.timeout_ns;
    while (running.load() > 0) {
      if (abort_requested() || now_ns() > deadline) {
        timed_out = !interrupted();
        request_abort();
        host->interrupt();
        for (auto& t : clients) poke_thread(t.native_handle());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(timed_out || abort_requested() ? 1 : 5));
    }
    for (auto& t : clients) t.join();
    // A client that failed leaves its server waiting for messages that will never come.
    for (const auto& r : reports)
      if (!r.error.empty()) host->interrupt();
    append_error(error, host->join());
    channels.clear();
  } catch (const std::exception& e) {
    append_error(error, e.what());
  }
  std::uint64_t t_end = now_ns();
  if (timed_out) {
    error = fmt::format("timed out: no progress within {} (watchdog){}", format_ns(static_cast<double>(env.timeout_ns)),
                        error.empty() ? std::string() : fmt::format("; then: {}", error));
  } else if (interrupted()) {
    error = "interrupted";
  }

  // Gather what every pair saw.
  histogram rtt, serialize, deserialize, transport, send_late;
  std::uint64_t messages = 0, lost = 0, duplicated = 0, corrupt = 0, sent = 0, cpu_ns = 0;
  double msgs_per_s = 0;
  std::string client_cpus, server_cpus;
  for (int i = 0; i < c.pairs; ++i) {
    auto ui = static_cast<std::size_t>(i);
    client_report& r = reports[ui];
    pair_slot& s = slots[ui];
    if (!timed_out && !interrupted()) {
      append_error(error, r.error);
      append_error(error, s.error);
    }
    rtt.merge(r.rtt);
    serialize.merge(r.serialize);
    deserialize.merge(r.deserialize);
    transport.merge(r.transport);
    send_late.merge(r.send_late);
    lost += r.lost + s.lost;
    duplicated += r.duplicated + s.duplicated;
    corrupt += r.corrupt + s.corrupt;
    sent += r.sent;
    cpu_ns += r.cpu_ns + s.cpu_ns;
    if (c.wl.kind == workload_kind::latency) {
      messages += r.measured;
    } else {
      messages += s.measured;
      if (s.t_last_ns > s.t_first_ns) msgs_per_s += static_cast<double>(s.measured) * 1e9 / static_cast<double>(s.t_last_ns - s.t_first_ns);
    }
    client_cpus += (i ? ";" : "");
    client_cpus += r.cpus;
    server_cpus += (i ? ";" : "");
    server_cpus += s.cpus;
  }
  if (error.empty() && (lost || duplicated || corrupt)) {
    error = fmt::format("{} lost, {} duplicated or out of order, {} corrupt messages", lost, duplicated, corrupt);
  }
  if (error.empty() && messages == 0) error = "no message was measured (duration too short?)";

  row["messages"] = messages;
  row["lost"] = lost;
  row["duplicated"] = duplicated;
  row["corrupt"] = corrupt;
  row["error_occurred"] = !error.empty();
  row["error_message"] = error;
  if (c.wl.kind == workload_kind::latency) {
    row["real_time"] = static_cast<double>(rtt.percentile(50));
    row["rtt_p50_ns"] = rtt.percentile(50);
    row["rtt_p90_ns"] = rtt.percentile(90);
    row["rtt_p99_ns"] = rtt.percentile(99);
    row["rtt_p999_ns"] = rtt.percentile(99.9);
    row["rtt_max_ns"] = rtt.max();
    row["rtt_mean_ns"] = rtt.mean();
    if (c.wl.rate > 0) {
      row["send_late_p50_ns"] = send_late.percentile(50);
      row["send_late_p99_ns"] = send_late.percentile(99);
    }
    if (c.wl.serializer) {
      // Medians per round trip of each part (see workload.hpp); their sum is close to, not exactly, rtt_p50_ns.
      row["serialize_ns"] = serialize.percentile(50);
      row["deserialize_ns"] = deserialize.percentile(50);
      row["transport_ns"] = transport.percentile(50);
      double parts = static_cast<double>(serialize.percentile(50) + deserialize.percentile(50) + transport.percentile(50));
      row["serialization_pct"] = parts > 0 ? 100.0 * static_cast<double>(serialize.percentile(50) + deserialize.percentile(50)) / parts : 0.0;
    }
  } else {
    row["real_time"] = msgs_per_s > 0 ? 1e9 / msgs_per_s : 0.0;
    row["msgs_per_s"] = msgs_per_s;
    row["bytes_per_s"] = msgs_per_s * static_cast<double>(c.wl.msg_bytes);
  }
  // CPU time of both ends (all pairs) per message crossed, warm-up included on both sides of the division.
  row["cpu_ns_per_msg"] = sent ? static_cast<double>(cpu_ns) / static_cast<double>(sent) : 0.0;
  row["cpu_time"] = row["cpu_ns_per_msg"];
  row["time_unit"] = "ns";
  row["iterations"] = messages;
  row["client_cpus"] = client_cpus;
  row["server_cpus"] = server_cpus;
  row["wall_ns"] = t_end - t_begin;
  row["load_avg"] = or_null(load_avg_1min());
  row["steal_pct"] = or_null(steal_pct(cpu_before, read_cpu_times(env.cores->cpus)));  // the run's CPUs; null if unreadable
  clear_abort();
  return row;
}

}  // namespace bench
