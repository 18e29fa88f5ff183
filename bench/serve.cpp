#include "bench/serve.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <thread>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/units.hpp"
#include "harness/build_info.hpp"
#include "harness/control.hpp"
#include "harness/cpu.hpp"
#include "harness/floor.hpp"
#include "harness/model.hpp"
#include "harness/remote.hpp"
#include "harness/sysinfo.hpp"
#include "serializers/messages.hpp"
#include "serializers/registry.hpp"

namespace bench {
namespace {

// A client that says nothing for this long between cases is gone (a run sends its next case within
// milliseconds; only its first hello may wait for the floor measurement on this side).
constexpr int idle_ms = 120'000;
constexpr int hello_ms = 10'000;
// After `listening`, the client has this long to connect and the servers to start.
constexpr std::uint64_t setup_ns = 30'000'000'000ull;
// Beyond the client's own watchdog (warm-up + duration + its timeout), before this side stops a case itself.
constexpr std::uint64_t server_grace_ns = 10'000'000'000ull;

bool stop_requested() { return interrupted(); }

void log(const std::string& line) {
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

// The pairs' report slots, in memory shared with the servers a process model forks.
class slot_array {
 public:
  explicit slot_array(std::size_t n) : n_(n) {
    void* p = ::mmap(nullptr, n * sizeof(pair_slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw_errno("map the pairs' report slots");
    slots_ = static_cast<pair_slot*>(p);
    for (std::size_t i = 0; i < n; ++i) new (&slots_[i]) pair_slot();
  }
  ~slot_array() { ::munmap(slots_, n_ * sizeof(pair_slot)); }
  slot_array(const slot_array&) = delete;
  slot_array& operator=(const slot_array&) = delete;
  pair_slot& operator[](std::size_t i) { return slots_[i]; }

 private:
  std::size_t n_;
  pair_slot* slots_;
};

bool final_state(int s) { return s == pair_slot::done || s == pair_slot::failed; }

json welcome_body() {
  json w;
  w["protocol"] = control_protocol;
  w["bench"] = build_info::git_revision;
  json ctx = machine_context();
  std::vector<int> cpus = allowed_cpus();
  w["host"] = ctx.value("host_name", "");
  w["context"] = std::move(ctx);
  w["cores_available"] = cpus.size();
  w["cpus"] = cpus;
  w["boot_id"] = boot_id();  // lets a client on this same machine see that it shares our CPUs
  w["floor"] = to_json(measure_floor(cpus[0], cpus.size() > 1 ? cpus[1] : cpus[0]));
  w["harness_overhead_ns"] = measure_harness_overhead_ns();
  json models_json = json::object();
  for (const model_info& m : models()) models_json[std::string(m.name)] = m.unavailable_reason();
  w["models"] = models_json;
  json nets = json::array();
  for (const transport_info& t : transports())
    if (t.network && t.unavailable_reason().empty()) nets.push_back(t.name);
  w["transports"] = nets;
  return w;
}

// One line per case, so that whoever watches the server sees what it is running.
std::string case_summary(const remote_case& rc) {
  std::string what = fmt::format("{} {} {} {}, {} pair(s)", rc.transport->name, rc.model->name, to_string(rc.wl.kind),
                                 format_bytes(rc.wl.msg_bytes), rc.pairs);
  if (rc.wl.work_ns) what += fmt::format(", work {} ns under lock {}", rc.wl.work_ns, rc.wl.lock);
  if (rc.wl.serializer)
    what += fmt::format(", serializer {} shape {}", rc.wl.serializer->name, ser::to_string(rc.wl.shape));
  return what;
}

// The server side of one case: its pairs' report slots, channels and ends, and the model's host that runs them
// (declared in the order they must be built; destroyed in reverse).
struct served_case {
  explicit served_case(std::size_t pairs) : n(pairs), slots(pairs), channels(pairs) {}
  std::size_t n;
  slot_array slots;
  std::vector<channel> channels;
  std::vector<server_job> jobs;
  std::vector<std::unique_ptr<remote_server_end>> ends;
  std::unique_ptr<server_host> host;
};

// Starts the servers; returns the ports the client's ends connect to. Throws when the case cannot run here.
json start_servers(served_case& sc, const remote_case& rc, const net_address& local, const net_address& peer,
                   const std::vector<int>& cpus) {
  json ports = json::array();
  channel_options opt;
  opt.max_msg_bytes = rc.wl.msg_bytes;
  opt.wait = rc.wait;
  for (std::size_t i = 0; i < sc.n; ++i) {
    sc.ends.push_back(rc.transport->network->make_server(local, peer, rc.client_ports[i], opt));
    sc.channels[i].server = sc.ends[i]->take_endpoint();
    // cross: each server end on a core of its own, round-robin over this host's CPUs; os: unpinned.
    sc.jobs.push_back({&sc.channels[i], &sc.slots[i], rc.place == placement::os ? -1 : cpus[i % cpus.size()]});
  }
  sc.host = rc.model->make();
  sc.host->start(sc.jobs, rc.wl);
  for (auto& e : sc.ends) ports.push_back(e->ports(now_ns() + setup_ns));
  return ports;
}

// Sends the client each pair's report as it finishes, and ready once every server runs, until every pair is done;
// stops the servers when the client asks, goes away or sends something else, on Ctrl-C, or past the deadline.
// Returns why the case was stopped ("" when it was not).
std::string relay_case(control_channel& ctl, served_case& sc, const remote_case& rc, bool& client_gone) {
  std::string error;
  bool stopped = false, ready_sent = false;
  std::vector<bool> reported(sc.n, false);
  std::uint64_t deadline = now_ns() + setup_ns;
  auto stop = [&](std::string why) {
    if (stopped) return;
    stopped = true;
    if (!why.empty()) error = std::move(why);
    sc.host->interrupt();
  };
  for (;;) {
    // Reports first: what the servers have finished goes to the client as soon as it is known.
    std::size_t finished = 0, started = 0;
    for (std::size_t i = 0; i < sc.n; ++i) {
      int st = sc.slots[i].state.load(std::memory_order_acquire);
      started += st != pair_slot::starting;
      if (!final_state(st)) continue;
      ++finished;
      if (!reported[i] && !client_gone) {
        ctl.send(control_type::pair_done, {{"pair", i}, {"slot", encode_slot(sc.slots[i])}});
        reported[i] = true;
      }
    }
    if (!ready_sent && started == sc.n && !client_gone) {
      ctl.send(control_type::ready);
      ready_sent = true;
      deadline = now_ns() + rc.wl.warmup_ns + rc.wl.duration_ns + rc.timeout_ns + server_grace_ns;
    }
    if (finished == sc.n || (stopped && client_gone)) break;
    if (interrupted()) stop("bench serve was stopped (Ctrl-C) on the server");
    if (now_ns() > deadline && !stopped)
      stop(ready_sent ? "the case overran its time on the server"
                      : "the client did not connect the data channels within 30 s");
    if (stopped) break;  // join() below waits for the servers, and stops any that will not end
    pollfd p{ctl.fd(), POLLIN, 0};
    if (!client_gone && ::poll(&p, 1, 5) > 0) {
      try {
        std::optional<control_frame> f = ctl.receive(0);
        if (f && f->type == control_type::abort)
          stop("stopped by the client: " + f->body.value("reason", std::string("abort")));
        else if (f)
          stop(fmt::format("the client sent {} in the middle of a case", to_string(f->type)));
      } catch (const std::exception& e) {
        client_gone = true;
        stop(fmt::format("the client went away in the middle of the case ({})", e.what()));
      }
    } else if (client_gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return error;
}

// One case, asked for by the client. Returns false when the client is gone (the session ends).
bool serve_case(control_channel& ctl, const json& body, const net_address& local, const net_address& peer,
                int& served) {
  remote_case rc;
  try {
    rc = decode_case(body);
  } catch (const control_error& e) {
    ctl.send(control_type::error, error_body("refused", e.what()));
    return true;
  }
  log(fmt::format("client {}: case {}: {}", peer.host(), served + 1, case_summary(rc)));
  served_case sc(static_cast<std::size_t>(rc.pairs));
  const std::vector<int> cpus = allowed_cpus();
  json ports;
  try {
    ports = start_servers(sc, rc, local, peer, cpus);
  } catch (const std::exception& e) {
    sc.host.reset();  // stops and reaps whatever started
    clear_abort();
    ctl.send(control_type::error, error_body("refused", fmt::format("cannot start the case here: {}", e.what())));
    return !interrupted();
  }
  ctl.send(control_type::listening, {{"ports", ports}});
  ++served;

  bool client_gone = false;
  std::string error = relay_case(ctl, sc, rc, client_gone);
  std::string problems = sc.host->join();
  if (!problems.empty()) error += (error.empty() ? "" : "; ") + problems;
  clear_abort();
  if (client_gone) {
    log(fmt::format("client {}: {}", peer.host(), error));
    return false;
  }
  json all = json::array();
  for (std::size_t i = 0; i < sc.n; ++i) all.push_back(encode_slot(sc.slots[i]));
  ctl.send(control_type::case_end, {{"error", error}, {"slots", all}});
  return !interrupted();
}

// A client's whole session, in its own process.
void run_session(unique_fd sock, bool busy) {
  net_address peer = peer_address(sock.get()), local = local_address(sock.get());
  control_channel ctl(std::move(sock));
  std::string who = peer.host();
  int served = 0;
  try {
    std::optional<control_frame> hello = ctl.receive(hello_ms, 10'000, stop_requested);
    if (!hello) {
      log(fmt::format("client {}: said nothing within {} s; closed", who, hello_ms / 1000));
      return;
    }
    if (hello->type != control_type::hello) {
      ctl.send(control_type::error,
               error_body("malformed", fmt::format("expected hello, got {}", to_string(hello->type))));
      log(fmt::format("client {}: refused: began with {}", who, to_string(hello->type)));
      return;
    }
    const json& v = hello->body.contains("protocol") ? hello->body["protocol"] : json();
    if (!v.is_number_integer() || v.get<std::int64_t>() != control_protocol) {
      ctl.send(control_type::error,
               error_body("version", fmt::format("protocol version {} is not supported: this server speaks {}",
                                                 v.dump().substr(0, 32), control_protocol)));
      log(fmt::format("client {}: refused: protocol version {}", who, v.dump().substr(0, 32)));
      return;
    }
    if (hello->body.contains("host") && hello->body["host"].is_string())
      who = fmt::format("{} ({})", peer.host(), hello->body["host"].get<std::string>().substr(0, 64));
    if (busy) {
      ctl.send(control_type::error, error_body("busy",
                                               "busy: serving another client; try again later "
                                               "(bench serve --clients N serves several at once)"));
      log(fmt::format("client {}: answered busy", who));
      return;
    }
    log(fmt::format("client {}: connected", who));
    ctl.send(control_type::welcome, welcome_body());
    for (;;) {
      std::optional<control_frame> f = ctl.receive(idle_ms, 10'000, stop_requested);
      if (!f) {
        log(fmt::format("client {}: idle for {} s; closed", who, idle_ms / 1000));
        return;
      }
      if (f->type == control_type::bye) break;
      if (f->type == control_type::abort) continue;  // it crossed the case_end of the case it meant to stop
      if (f->type != control_type::run_case) {
        ctl.send(control_type::error,
                 error_body("malformed", fmt::format("unexpected {} between cases", to_string(f->type))));
        continue;
      }
      if (!serve_case(ctl, f->body, local, peer, served)) return;
    }
    log(fmt::format("client {}: done, {} case(s) served", who, served));
  } catch (const control_error& e) {
    // The stream cannot be trusted after a bad frame: say why, and close this connection.
    try {
      ctl.send(control_type::error, error_body("malformed", e.what()), 1'000);
    } catch (const std::exception&) {}
    log(fmt::format("client {}: refused a bad frame: {}", who, e.what()));
  } catch (const aborted_error&) {
    try {
      ctl.send(control_type::error, error_body("stopping", "bench serve is stopping"), 1'000);
    } catch (const std::exception&) {}
  } catch (const std::exception& e) {
    log(fmt::format("client {}: {}", who, e.what()));
  }
}

}  // namespace

namespace {
net_address listen_address(const serve_options& opt) {
  return parse_net_address(opt.listen.empty() ? fmt::format(":{}", default_serve_port) : opt.listen, default_serve_port,
                           "127.0.0.1");
}
}  // namespace

void check_serve_options(const serve_options& opt) {
  listen_address(opt);
  if (opt.max_clients < 1 || opt.max_clients > 64) throw usage_error("--clients must be between 1 and 64");
}

int run_serve(const serve_options& opt) {
  check_serve_options(opt);
  net_address at = listen_address(opt);
  unique_fd listener;
  try {
    listener = listen_tcp(at, 16);
  } catch (const std::exception& e) {
    throw usage_error(e.what());
  }
  net_address bound = local_address(listener.get());
  std::string reach =
      bound.loopback()
          ? "loopback only, other machines cannot reach it: --listen ADDR:PORT serves a network"
          : "reachable from the network, no authentication: whoever reaches this port can make this machine "
            "run benchmark traffic";
  log(fmt::format("bench serve: listening on {} ({}), protocol {}, {} at a time; Ctrl-C stops it", bound.to_string(),
                  reach, control_protocol,
                  opt.max_clients == 1 ? std::string("one client") : fmt::format("{} clients", opt.max_clients)));

  std::map<pid_t, bool> sessions;  // pid -> counts against max_clients (a "busy" answer does not)
  auto active = [&] {
    int n = 0;
    for (auto& [pid, counts] : sessions) n += counts;
    return n;
  };
  auto reap = [&](bool block) {
    for (auto it = sessions.begin(); it != sessions.end();) {
      int status = 0;
      pid_t r = ::waitpid(it->first, &status, block ? 0 : WNOHANG);
      if (r == it->first || (r < 0 && errno == ECHILD)) {
        if (r == it->first && WIFSIGNALED(status) && !interrupted())
          log(fmt::format("a client session (process {}) ended by {}", it->first, strsignal(WTERMSIG(status))));
        it = sessions.erase(it);
      } else {
        ++it;
      }
    }
  };
  while (!interrupted()) {
    reap(false);
    pollfd p{listener.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    unique_fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) continue;
    // A session that has just refused its client may still be exiting: give it a moment before saying busy.
    for (int i = 0; i < 25 && active() >= opt.max_clients; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      reap(false);
    }
    bool busy = active() >= opt.max_clients;
    std::fflush(stdout);
    pid_t pid = ::fork();
    if (pid < 0) {
      log(errno_text("fork a client session", errno));
      continue;
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed server leaves no session behind
      listener.reset();
      run_session(std::move(conn), busy);
      std::fflush(stdout);
      ::_exit(0);
    }
    sessions.emplace(pid, !busy);
  }
  // Stop every session: each ends its case, tells its client, and exits; one that does not is killed.
  for (auto& [pid, counts] : sessions) ::kill(pid, SIGTERM);
  std::uint64_t deadline = now_ns() + 5'000'000'000ull;
  while (!sessions.empty() && now_ns() < deadline) {
    reap(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& [pid, counts] : sessions) ::kill(pid, SIGKILL);
  reap(true);
  log("bench serve: stopped");
  return 0;
}

}  // namespace bench
