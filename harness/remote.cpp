#include "harness/remote.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/registry.hpp"
#include "base/units.hpp"
#include "harness/build_info.hpp"
#include "harness/sysinfo.hpp"
#include "serializers/messages.hpp"
#include "serializers/registry.hpp"

namespace bench {

// --- run_case ----------------------------------------------------------------------------------------------------

json encode_case(const ipc_case& c, std::uint64_t timeout_ns,
                 const std::vector<std::vector<std::uint16_t>>& client_ports) {
  return {{"transport", c.transport->name},
          {"model", c.model->name},
          {"workload", to_string(c.wl.kind)},
          {"msg_bytes", c.wl.msg_bytes},
          {"warmup_ns", c.wl.warmup_ns},
          {"duration_ns", c.wl.duration_ns},
          {"rate", c.wl.rate},
          {"work_ns", c.wl.work_ns},
          {"lock", c.wl.lock},
          {"serializer", c.wl.serializer ? std::string(c.wl.serializer->name) : std::string("none")},
          {"shape", ser::to_string(c.wl.shape)},
          {"seed", c.wl.seed},
          {"flow_window_bytes", c.wl.flow_window_bytes},
          {"pairs", c.pairs},
          {"placement", to_string(c.place)},
          {"wait", to_string(c.wait_as)},
          {"timeout_ns", timeout_ns},
          {"client_ports", client_ports}};
}

namespace {

const json& field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end()) throw control_error(fmt::format("run_case: missing field '{}'", key));
  return *it;
}

std::string text_field(const json& body, const char* key) {
  const json& v = field(body, key);
  if (!v.is_string() || v.get_ref<const std::string&>().size() > 64)
    throw control_error(fmt::format("run_case: '{}' must be a short string", key));
  return v.get<std::string>();
}

std::uint64_t count_field(const json& body, const char* key, std::uint64_t lo, std::uint64_t hi) {
  const json& v = field(body, key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    throw control_error(fmt::format("run_case: '{}' must be a non-negative integer", key));
  std::uint64_t n = v.get<std::uint64_t>();
  if (n < lo || n > hi) throw control_error(fmt::format("run_case: '{}' = {} is outside {}..{}", key, n, lo, hi));
  return n;
}

// The transport and the model, known and usable together on this server.
void decode_plugins(const json& body, remote_case& rc) {
  const std::string t = text_field(body, "transport"), m = text_field(body, "model");
  rc.transport = find_transport(t);
  if (!rc.transport) throw control_error(fmt::format("run_case: unknown transport '{}'", t));
  if (!rc.transport->network) throw control_error(fmt::format("run_case: transport '{}' cannot cross machines", t));
  if (std::string why = rc.transport->unavailable_reason(); !why.empty())
    throw control_error(fmt::format("transport {} is unavailable on this server: {}", t, why));
  rc.model = find_model(m);
  if (!rc.model) throw control_error(fmt::format("run_case: unknown model '{}'", m));
  if (std::string why = rc.model->unavailable_reason(); !why.empty())
    throw control_error(fmt::format("model {} is unavailable on this server: {}", m, why));
  if (std::string why = incompatibility(*rc.model, *rc.transport); !why.empty())
    throw control_error(fmt::format("model {} cannot use {}: {}", m, t, why));
}

// What the client sends: workload, sizes, phases, work, serializer, rate.
void decode_workload(const json& body, remote_case& rc) {
  std::string kind = text_field(body, "workload");
  if (kind == "latency")
    rc.wl.kind = workload_kind::latency;
  else if (kind == "throughput")
    rc.wl.kind = workload_kind::throughput;
  else
    throw control_error(fmt::format("run_case: unknown workload '{}'", kind));
  std::uint64_t limit =
      rc.transport->max_msg_bytes ? std::min(rc.transport->max_msg_bytes, max_msg_bytes) : max_msg_bytes;
  rc.wl.msg_bytes = count_field(body, "msg_bytes", min_msg_bytes, limit);
  rc.wl.warmup_ns = count_field(body, "warmup_ns", 0, max_remote_phase_ns);
  rc.wl.duration_ns = count_field(body, "duration_ns", 1, max_remote_phase_ns);
  rc.timeout_ns = count_field(body, "timeout_ns", 1, max_remote_phase_ns);
  rc.wl.work_ns = count_field(body, "work_ns", 0, 1'000'000'000ull);
  rc.wl.lock = text_field(body, "lock");
  auto locks = work_lock_names();
  if (std::find(locks.begin(), locks.end(), rc.wl.lock) == locks.end())
    throw control_error(fmt::format("run_case: unknown lock '{}'", rc.wl.lock));
  if (std::string name = text_field(body, "serializer"); name != "none") {
    rc.wl.serializer = ser::find_serializer(name);
    if (!rc.wl.serializer) throw control_error(fmt::format("run_case: unknown serializer '{}'", name));
  }
  std::string shape = text_field(body, "shape");
  std::optional<ser::shape> sh = ser::parse_shape(shape);
  if (!sh) throw control_error(fmt::format("run_case: unknown shape '{}'", shape));
  rc.wl.shape = *sh;
  rc.wl.seed = count_field(body, "seed", 0, UINT64_MAX);
  rc.wl.flow_window_bytes = count_field(body, "flow_window_bytes", 0, 64ull << 20);
  if (rc.transport->lossy && rc.wl.kind == workload_kind::throughput && rc.wl.flow_window_bytes == 0)
    throw control_error("run_case: a lossy transport's stream needs a flow window");
  const json& rate = field(body, "rate");
  if (!rate.is_number() || !(rate.get<double>() >= 0) || rate.get<double>() > 1e7)
    throw control_error("run_case: 'rate' must be a number from 0 to 1e7");
  rc.wl.rate = rc.wl.kind == workload_kind::latency ? rate.get<double>() : 0;
}

// One list of client ports per pair, as many as the transport's connections need.
void decode_client_ports(const json& body, remote_case& rc) {
  const std::string_view t = rc.transport->name;
  const json& ports = field(body, "client_ports");
  if (!ports.is_array() || ports.size() != static_cast<std::size_t>(rc.pairs))
    throw control_error("run_case: 'client_ports' must hold one list per pair");
  for (const json& p : ports) {
    if (!p.is_array() || p.size() != rc.transport->network->client_ports)
      throw control_error(
          fmt::format("run_case: {} needs {} client port(s) per pair", t, rc.transport->network->client_ports));
    std::vector<std::uint16_t>& out = rc.client_ports.emplace_back();
    for (const json& n : p) {
      if (!n.is_number_integer() || n.get<std::int64_t>() < 1 || n.get<std::int64_t>() > 65535)
        throw control_error("run_case: a client port must be a number from 1 to 65535");
      out.push_back(n.get<std::uint16_t>());
    }
  }
}

}  // namespace

remote_case decode_case(const json& body) {
  static const std::set<std::string> known = {
      "transport", "model", "workload",   "msg_bytes",   "warmup_ns", "duration_ns",       "rate",
      "work_ns",   "lock",  "serializer", "shape",       "seed",      "flow_window_bytes", "pairs",
      "placement", "wait",  "timeout_ns", "client_ports"};
  for (auto it = body.begin(); it != body.end(); ++it)
    if (!known.count(it.key()))
      throw control_error(fmt::format("run_case: unknown field '{}'", it.key().substr(0, 64)));
  remote_case rc;
  decode_plugins(body, rc);
  decode_workload(body, rc);
  rc.pairs = static_cast<int>(count_field(body, "pairs", 1, max_remote_pairs));
  std::string place = text_field(body, "placement");
  if (place == "cross")
    rc.place = placement::cross;
  else if (place == "os")
    rc.place = placement::os;
  else
    throw control_error(fmt::format("run_case: placement '{}' cannot apply across machines (cross or os)", place));
  std::string wait = text_field(body, "wait");
  if (wait == "block")
    rc.wait = wait_mode::block;
  else if (wait == "spin")
    rc.wait = wait_mode::spin;
  else
    throw control_error(fmt::format("run_case: unknown wait '{}'", wait));
  if (rc.wait == wait_mode::spin && (!rc.transport->spin_capable || !rc.model->spins))
    throw control_error(fmt::format("run_case: {} with the {} model cannot spin", rc.transport->name, rc.model->name));
  decode_client_ports(body, rc);
  return rc;
}

json encode_slot(const pair_slot& s) {
  return {{"state", s.state.load(std::memory_order_acquire)},
          {"received", s.received},
          {"lost", s.lost},
          {"duplicated", s.duplicated},
          {"corrupt", s.corrupt},
          {"measured", s.measured},
          {"t_first_ns", s.t_first_ns},
          {"t_last_ns", s.t_last_ns},
          {"cpu_ns", s.cpu_ns},
          {"cpus", std::string(s.cpus, strnlen(s.cpus, sizeof s.cpus))},
          {"error", std::string(s.error, strnlen(s.error, sizeof s.error))}};
}

namespace {
void copy_into(char* dst, std::size_t cap, const std::string& s) {
  std::size_t n = std::min(cap - 1, s.size());
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}
}  // namespace

void decode_slot(const json& j, pair_slot& s) {
  s.received = j.value("received", std::uint64_t{0});
  s.lost = j.value("lost", std::uint64_t{0});
  s.duplicated = j.value("duplicated", std::uint64_t{0});
  s.corrupt = j.value("corrupt", std::uint64_t{0});
  s.measured = j.value("measured", std::uint64_t{0});
  s.t_first_ns = j.value("t_first_ns", std::uint64_t{0});
  s.t_last_ns = j.value("t_last_ns", std::uint64_t{0});
  s.cpu_ns = j.value("cpu_ns", std::uint64_t{0});
  copy_into(s.cpus, sizeof s.cpus, j.value("cpus", std::string()));
  copy_into(s.error, sizeof s.error, j.value("error", std::string()));
  int state = j.value("state", int{pair_slot::failed});
  s.state.store(state == pair_slot::done ? pair_slot::done : pair_slot::failed, std::memory_order_release);
}

// --- the client --------------------------------------------------------------------------------------------------

void check_peer_request(const std::string& peer, std::vector<std::string>& names, placement place) {
  parse_net_address(peer, default_serve_port);
  std::vector<std::string> network;
  for (const transport_info& t : transports())
    if (t.network) network.emplace_back(t.name);
  if (names.empty()) names = network;
  for (const std::string& n : names) {
    const transport_info* t = find_transport(n);
    if (!t) throw usage_error(fmt::format("unknown transport '{}' (valid with --peer: {})", n, join_list(network)));
    if (!t->network)
      throw usage_error(
          fmt::format("--peer: transport '{}' cannot cross machines (network transports: {})", n, join_list(network)));
  }
  if (place == placement::same || place == placement::smt || place == placement::far)
    throw usage_error(fmt::format("--peer: --placement {} cannot apply: the two ends of a pair are on two machines",
                                  to_string(place)));
}

namespace {
bool abort_now() { return abort_requested(); }
constexpr int connect_timeout_ms = 5'000;
// How long a client waits for the server's answer to a request (the server measures its floor on hello).
constexpr int answer_timeout_ms = 30'000;
}  // namespace

remote_session::remote_session(const std::string& peer, std::uint64_t timeout_ns) : timeout_ns_(timeout_ns) {
  server_ = parse_net_address(peer, default_serve_port);
  address_text_ = server_.to_string();
  auto refuse = [&](const std::string& why) { return usage_error(fmt::format("--peer {}: {}", address_text_, why)); };
  try {
    unique_fd s = connect_tcp(server_, connect_timeout_ms);
    local_ = local_address(s.get());
    control_ = std::make_unique<control_channel>(std::move(s));
    json me = machine_context();
    control_->send(
        control_type::hello,
        {{"protocol", control_protocol}, {"host", me.value("host_name", "")}, {"bench", build_info::git_revision}});
    std::optional<control_frame> f = control_->receive(answer_timeout_ms, 10'000, abort_now);
    if (!f) throw std::runtime_error("no answer to hello within 30 s: is it a bench serve?");
    if (f->type == control_type::error) throw std::runtime_error(f->body.value("message", std::string("refused")));
    if (f->type != control_type::welcome)
      throw std::runtime_error(fmt::format("answered hello with {}", to_string(f->type)));
    if (f->body.value("protocol", 0) != control_protocol)
      throw std::runtime_error(
          fmt::format("speaks protocol {}, this bench {}", f->body.value("protocol", 0), control_protocol));
    welcome_ = std::move(f->body);
    if (!welcome_.contains("context") || !welcome_["context"].is_object())
      throw std::runtime_error("its welcome holds no machine context");
    peer_host_ = welcome_["context"].value("host_name", server_.host());
  } catch (const usage_error&) {
    throw;
  } catch (const aborted_error&) {
    throw;
  } catch (const std::exception& e) {
    control_.reset();
    throw refuse(e.what());
  }
}

remote_session::~remote_session() {
  if (!control_) return;
  try {
    if (!broken_) control_->send(control_type::bye, json::object(), 2'000);
  } catch (const std::exception&) {}
  control_->close();
}

void remote_session::check_plan(std::vector<ipc_case>& cases, bool models_named) const {
  const json& avail = welcome_.contains("models") ? welcome_["models"] : json::object();
  for (ipc_case& c : cases) {
    if (!c.skip_reason.empty()) continue;
    std::string name(c.model->name);
    std::string why;
    if (!avail.contains(name))
      why = fmt::format("the server at {} has no model {}", address_text_, name);
    else if (avail[name].is_string() && !avail[name].get<std::string>().empty())
      why = fmt::format("model {} is unavailable on {}: {}", name, peer_host_, avail[name].get<std::string>());
    if (why.empty()) continue;
    if (models_named) throw usage_error(why);
    c.skip_reason = why;
  }
}

void remote_session::describe(json& context) const {
  json peer = json::object();
  peer["address"] = address_text_;
  peer["host_name"] = peer_host_;
  peer["protocol"] = control_protocol;
  peer["bench"] = welcome_.value("bench", "");
  peer["context"] = welcome_["context"];
  for (const char* k : {"floor", "harness_overhead_ns", "cores_available", "cpus"})
    if (welcome_.contains(k)) peer[k] = welcome_[k];
  peer["note"] =
      "the server's own machine, as it reported it over the control connection; every round trip is "
      "measured by this client, and no one-way time is reported across hosts (unsynchronized clocks)";
  peer["data"] = fmt::format(
      "every data connection runs between this host's address {} and the server's {} "
      "(ports the server's kernel picked), not over loopback as transport_descriptions say "
      "of a local run",
      local_.host(), server_.host());
  context["peer"] = std::move(peer);
}

std::vector<int> remote_session::cpus_shared_with(const std::vector<int>& ours) const {
  std::string id = boot_id();
  if (id.empty() || welcome_.value("boot_id", std::string()) != id || !welcome_.contains("cpus")) return {};
  std::set<int> theirs;
  for (const json& c : welcome_["cpus"])
    if (c.is_number_integer()) theirs.insert(c.get<int>());
  std::set<int> shared;
  for (int c : ours)
    if (theirs.count(c)) shared.insert(c);
  return {shared.begin(), shared.end()};
}

void remote_session::annotate(json& row) const {
  row["peer"] = peer_host_;
  row["server_cpu_ns_per_msg"] = last_server_msgs_ ? last_server_cpu_ns_ / static_cast<double>(last_server_msgs_) : 0.0;
}

// The server side of one case, on the peer. start() asks for the case and connects the client ends; a reader
// thread turns the server's reports into the pairs' slots, where the clients (drive()) look for them.
class remote_host final : public server_host {
 public:
  remote_host(remote_session& s, const ipc_case& c) : s_(s), c_(c) {}
  ~remote_host() override {
    if (reader_.joinable()) {
      interrupt();
      join();
    }
  }

  void start(std::span<server_job> jobs, const workload_params&) override {
    if (s_.broken_ || !s_.control_)
      throw std::runtime_error("the control connection to the server is out of step after an earlier failure");
    jobs_.assign(jobs.begin(), jobs.end());
    const network_seam& seam = *c_.transport->network;
    channel_options opt;
    opt.max_msg_bytes = c_.wl.msg_bytes;
    opt.wait = c_.wait_as;
    std::vector<std::unique_ptr<remote_client_end>> ends;
    std::vector<std::vector<std::uint16_t>> client_ports;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      ends.push_back(seam.make_client(s_.local_, opt));
      client_ports.push_back(ends.back()->ports());
    }
    control_channel& ctl = *s_.control_;
    ctl.send(control_type::run_case, encode_case(c_, s_.timeout_ns_, client_ports));
    std::optional<control_frame> f = receive_or_break(answer_timeout_ms);
    if (f->type == control_type::error) {
      throw std::runtime_error(
          fmt::format("server {} refused the case: {}", s_.peer_host_, f->body.value("message", std::string("?"))));
    }
    if (f->type != control_type::listening) out_of_step(f->type);
    const json& ports = f->body.value("ports", json::array());
    if (!ports.is_array() || ports.size() != jobs.size()) out_of_step(f->type);
    // From here on the server runs the case: its end of the conversation must be read to the end (case_end).
    reader_ = std::thread([this] { read_reports(); });
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      std::vector<std::uint16_t> p;
      for (const json& n : ports[i])
        if (n.is_number_integer() && n.get<std::int64_t>() >= 1 && n.get<std::int64_t>() <= 65535)
          p.push_back(n.get<std::uint16_t>());
      if (p.size() != seam.server_ports) throw std::runtime_error("the server sent a malformed list of ports");
      jobs[i].ch->client = ends[i]->connect(s_.server_, p, connect_timeout_ms);
    }
  }

  void interrupt() noexcept override {
    if (!reader_.joinable() || finished_.load(std::memory_order_acquire) || abort_sent_.exchange(true)) return;
    try {
      std::lock_guard lock(send_mu_);
      s_.control_->send(control_type::abort, {{"reason", interrupted() ? "interrupted" : "stopped by the client"}},
                        2'000);
    } catch (const std::exception&) {}
  }

  std::string join() override {
    if (!reader_.joinable()) return {};
    // The server ends its case on the last message, or at the abort; give it the time a case's end takes.
    std::uint64_t deadline = now_ns() + 15'000'000'000ull;
    while (!finished_.load(std::memory_order_acquire)) {
      if (now_ns() > deadline) {
        if (!abort_sent_) {
          interrupt();
          deadline = now_ns() + 5'000'000'000ull;
          continue;
        }
        s_.broken_ = true;  // the conversation is lost: close it, so the reader ends
        ::shutdown(s_.control_->fd(), SHUT_RDWR);
        deadline = UINT64_MAX;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    reader_.join();
    return error_;
  }

 private:
  std::optional<control_frame> receive_or_break(int idle_ms) {
    try {
      std::optional<control_frame> f = s_.control_->receive(idle_ms, 10'000, abort_now);
      if (!f)
        throw std::runtime_error(
            fmt::format("the server at {} did not answer within {} s", s_.address_text_, idle_ms / 1000));
      return f;
    } catch (const aborted_error&) {
      s_.broken_ = true;
      throw;
    } catch (const std::exception& e) {
      s_.broken_ = true;
      throw std::runtime_error(fmt::format("control connection to {}: {}", s_.address_text_, e.what()));
    }
  }

  [[noreturn]] void out_of_step(control_type t) {
    s_.broken_ = true;
    throw std::runtime_error(
        fmt::format("the server answered run_case with {}: the conversation is out of step", to_string(t)));
  }

  void fail_all(const std::string& why) {
    for (server_job& j : jobs_) {
      int st = j.slot->state.load(std::memory_order_acquire);
      if (st == pair_slot::done || st == pair_slot::failed) continue;
      copy_into(j.slot->error, sizeof j.slot->error, "server: " + why);
      j.slot->state.store(pair_slot::failed, std::memory_order_release);
    }
  }

  // The server's reports, until case_end. Reads in slices so that a lost connection is seen; never throws.
  void read_reports() {
    double cpu = 0;
    std::uint64_t sent = 0;
    try {
      for (;;) {
        std::optional<control_frame> f = s_.control_->receive(200, 10'000);
        if (!f) continue;
        const json& b = f->body;
        if (f->type == control_type::ready) {
          for (server_job& j : jobs_) {
            int expected = pair_slot::starting;
            j.slot->state.compare_exchange_strong(expected, pair_slot::ready, std::memory_order_acq_rel);
          }
        } else if (f->type == control_type::pair_done) {
          std::size_t i = b.value("pair", jobs_.size());
          if (i < jobs_.size() && b.contains("slot") && b["slot"].is_object()) decode_slot(b["slot"], *jobs_[i].slot);
        } else if (f->type == control_type::case_end) {
          const json& slots = b.value("slots", json::array());
          for (std::size_t i = 0; i < jobs_.size() && i < slots.size(); ++i) {
            int st = jobs_[i].slot->state.load(std::memory_order_acquire);
            if (st != pair_slot::done && st != pair_slot::failed && slots[i].is_object())
              decode_slot(slots[i], *jobs_[i].slot);
            cpu += static_cast<double>(slots[i].value("cpu_ns", std::uint64_t{0}));
            sent += slots[i].value("received", std::uint64_t{0});
          }
          error_ = b.value("error", std::string());
          if (!error_.empty()) error_ = "server " + s_.peer_host_ + ": " + error_;
          fail_all(error_.empty() ? "ended without a report for this pair" : error_);
          break;
        } else if (f->type == control_type::error) {
          error_ = fmt::format("server {}: {}", s_.peer_host_, b.value("message", std::string("error")));
          fail_all(error_);
          s_.broken_ = true;
          break;
        } else {
          throw control_error(fmt::format("unexpected {} during a case", to_string(f->type)));
        }
      }
    } catch (const std::exception& e) {
      error_ = fmt::format("control connection to {} lost mid-case: {}", s_.address_text_, e.what());
      fail_all(error_);
      s_.broken_ = true;
    }
    s_.last_server_cpu_ns_ = cpu;
    s_.last_server_msgs_ = sent;
    finished_.store(true, std::memory_order_release);
  }

  remote_session& s_;
  const ipc_case& c_;
  std::vector<server_job> jobs_;
  std::thread reader_;
  std::mutex send_mu_;
  std::atomic<bool> abort_sent_{false};
  std::atomic<bool> finished_{false};
  std::string error_;
};

std::unique_ptr<server_host> remote_session::make_host(const ipc_case& c) {
  last_server_cpu_ns_ = 0;
  last_server_msgs_ = 0;
  return std::make_unique<remote_host>(*this, c);
}

}  // namespace bench
