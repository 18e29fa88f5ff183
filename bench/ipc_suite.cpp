#include "bench/ipc_suite.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "base/registry.hpp"
#include "base/temp_dir.hpp"
#include "base/units.hpp"
#include "bench/console_table.hpp"
#include "bench/contention/contention_suite.hpp"
#include "bench/cores/cores_suite.hpp"
#include "bench/ipc_schema.hpp"
#include "bench/progress.hpp"
#include "bench/python/interpreter.hpp"
#include "bench/python/python_suite.hpp"
#include "harness/floor.hpp"
#include "harness/gil.hpp"
#include "harness/remote.hpp"
#include "harness/stats.hpp"
#include "harness/sysinfo.hpp"
#include "serializers/registry.hpp"
#include "transports/amqp.hpp"
#include "transports/amqp_broker.hpp"

namespace bench {
namespace fs = std::filesystem;
namespace {

struct ipc_defaults {
  std::vector<std::uint64_t> sizes;
  std::uint64_t duration_ns, warmup_ns;
  int reps;
  int max_pairs;  // the sweep goes 1, 2, 4, ... up to this (and while the endpoints fit the requested cores)
};

// Quick: a small matrix for smoke tests and demos (well under 30 s on 2 cores). The lecture matrix takes five
// repetitions: its oversubscribed sweeps vary from round to round, and a median and MAD of five stand firmer than
// of three. The measured time per case is fitted to a budget (below) unless --duration is given.
ipc_defaults defaults_for(const run_request& req) {
  if (req.quick) return {{64, 64 * 1024}, 25'000'000, 5'000'000, 2, 2};
  return {{64, 4096, 64 * 1024, 1024 * 1024}, 200'000'000, 20'000'000, lecture_matrix(req) ? 5 : 3, 1 << 20};
}

// The default run must fit a class's attention span (`bench run ipc --cores 8` within 3 minutes, set-up, the
// contention lessons and the charts included) whatever the number of transports and models: without --duration,
// each case gets an equal share of its matrix's budget, between 30 ms (thousands of round trips even at 40 us
// each) and 200 ms.
std::uint64_t measuring_budget_ns(const run_request& req) {
  return lecture_matrix(req) ? 100'000'000'000ull : 115'000'000'000ull;
}
constexpr std::uint64_t min_fitted_ns = 30'000'000, max_fitted_ns = 200'000'000;
// The window of each contention case the lecture run adds (locks; the convoy runs at least 40 switch intervals).
constexpr std::uint64_t lecture_contention_window_ns = 100'000'000;

// The rows the user named (all available ones by default); an unknown name is a usage error listing the valid
// ones. keep_unavailable: named or not, unavailable rows stay in the plan (skipped there, with the reason).
template <class Row>
std::vector<const Row*> chosen(std::span<const Row> table, const std::vector<std::string>& names, const char* what,
                               bool keep_unavailable) {
  std::vector<const Row*> out;
  if (names.empty()) {
    for (const Row& r : table)
      if (keep_unavailable || r.unavailable_reason().empty()) out.push_back(&r);
    return out;
  }
  for (const auto& name : names) {
    const Row* r = find_row(table, name);
    if (!r) throw usage_error(fmt::format("unknown {} '{}' (valid: {})", what, name, row_names(table)));
    out.push_back(r);
  }
  return out;
}

std::vector<const transport_info*> chosen_transports(const run_request& req) {
  return chosen(transports(), req.transports, "transport", true);
}
std::vector<const model_info*> chosen_models(const run_request& req) {
  return chosen(models(), req.models, "model", false);
}

// --serializers and --shapes (default: small and large, the two ends of the range, for a short lecture run).
std::vector<const ser::serializer_info*> chosen_serializers(const run_request& req) {
  std::vector<const ser::serializer_info*> out;
  for (const std::string& name : req.serializers) {
    const ser::serializer_info* s = ser::find_serializer(name);
    if (!s) throw usage_error(fmt::format("unknown serializer '{}' (valid: {})", name, ser::serializer_names()));
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}
std::vector<ser::shape> chosen_shapes(const run_request& req) {
  if (req.shapes.empty()) return {ser::shape::small, ser::shape::large};
  std::vector<ser::shape> out;
  for (const std::string& name : req.shapes) {
    std::optional<ser::shape> s = ser::parse_shape(name);
    if (!s) throw usage_error(fmt::format("unknown shape '{}' (valid: {})", name, ser::shape_names()));
    if (std::find(out.begin(), out.end(), *s) == out.end()) out.push_back(*s);
  }
  return out;
}

// --lock: the locks the server's work runs under, each a case of its own (so that one run compares them).
std::vector<std::string> chosen_locks(const run_request& req) {
  if (req.server_locks.empty()) return {"none"};
  auto names = work_lock_names();
  std::set<std::string> seen;
  for (const std::string& l : req.server_locks) {
    if (std::find(names.begin(), names.end(), l) == names.end())
      throw usage_error(fmt::format("unknown lock '{}' (valid: {})", l, join_list(names)));
    if (!seen.insert(l).second) throw usage_error(fmt::format("--lock lists '{}' twice", l));
    // Without work the lock would guard nothing: a run named gil-new would measure exactly what none does.
    if (l != "none" && req.work_ns == 0)
      throw usage_error(
          fmt::format("--lock {} needs --work (e.g. --work 10us): the lock guards the server's work per "
                      "message, and without work it guards nothing",
                      l));
  }
  return req.server_locks;
}

}  // namespace

void validate_ipc(const run_request& req) {
  check_python_flag(req.python);  // the lecture's Python lessons
  if (!req.matrix.empty() && req.matrix != "lecture" && req.matrix != "full")
    throw usage_error(fmt::format("unknown matrix '{}' (valid: lecture, full)", req.matrix));
  if (req.matrix == "lecture" && (req.quick || !req.matrix_flags.empty()))
    throw usage_error(
        fmt::format("--matrix lecture runs the lessons' own cases; {} chooses cases of its own (use "
                    "--matrix full, or leave --matrix out)",
                    req.quick ? std::string("--quick") : join_list(req.matrix_flags)));
  if (std::optional<run_request> c = lecture_contention_request(req, "results")) validate_contention(*c);
  if (req.place == placement::smt || req.place == placement::far) {
    const topology t = req.topology.empty() ? read_topology("", allowed_cpus()) : read_topology(req.topology);
    if (std::string why = placement_refusal(req.place, t); !why.empty()) throw usage_error(why);
  } else if (!req.topology.empty()) {
    read_topology(req.topology);  // a spec hwloc cannot read is bad input, before any work
  }
  chosen_transports(req);
  chosen_models(req);
  chosen_locks(req);
  chosen_serializers(req);
  chosen_shapes(req);
  if (!req.shapes.empty() && req.serializers.empty())
    throw usage_error("--shapes needs --serializers: without a serializer the ipc suite sends raw bytes of --sizes");
  if (!req.serializers.empty()) {
    if (!req.sizes.empty())
      throw usage_error(
          "--sizes and --serializers exclude each other: with a serializer the message shape (--shapes) fixes the size "
          "on the wire");
    if (req.rate > 0)
      throw usage_error(
          "--rate and --serializers exclude each other: serialization is measured in the closed-loop ping-pong");
    if (req.work_ns > 0)
      throw usage_error(
          "--work and --serializers exclude each other: the server's work would be counted as transport time");
  }
  for (std::uint64_t s : req.sizes) {
    if (s < min_msg_bytes)
      throw usage_error(
          fmt::format("message size {} is smaller than the {}-byte header every message carries", s, header_bytes));
    if (s > max_msg_bytes)
      throw usage_error(fmt::format("message size {} exceeds the supported maximum of {}", format_bytes(s),
                                    format_bytes(max_msg_bytes)));
  }
  if (req.rate > 0 && req.rate > 1e7)
    throw usage_error(
        fmt::format("--rate {:g} is beyond what any transport here can pace (max 1e7 messages/s)", req.rate));
  if (!req.amqp_url.empty()) {
    // A broker that cannot be reached is bad input, found before any work.
    if (std::string why = amqp_try_login(req.amqp_url, 5000); !why.empty())
      throw usage_error(fmt::format("--amqp-url {}: {}", amqp_url_for_display(req.amqp_url), why));
  }
  if (!req.filter.empty()) {
    try {
      std::regex re(req.filter);
    } catch (const std::regex_error& e) {
      throw usage_error(fmt::format("--filter '{}' is not a valid regular expression: {}", req.filter, e.what()));
    }
  }
}

namespace {

// One block of the plan: a cross product of transports x models x waits x locks, each at one pair for every size
// and, beyond one pair, at the smallest size for every count of `sweep_pairs`. The full matrix is one section made
// from the flags; the lecture matrix is several, one or more per lesson (lecture_sections below).
struct plan_section {
  std::vector<const transport_info*> transports;
  std::vector<const model_info*> models;
  std::vector<workload_kind> kinds{workload_kind::latency, workload_kind::throughput};
  std::vector<std::uint64_t> sizes;
  bool sizes_asked = false;  // sizes the user named stay as asked (a wake-up-only transport is not moved to its own)
  std::vector<int> sweep_pairs;
  std::vector<wait_mode> waits{wait_mode::block};
  std::vector<std::string> locks{"none"};
  std::uint64_t work_ns = 0;
  placement place = placement::cross;
  std::vector<const ser::serializer_info*> serializers;
  std::vector<ser::shape> shapes;
};

std::vector<const transport_info*> transports_named(std::initializer_list<const char*> names) {
  std::vector<const transport_info*> out;
  for (const char* n : names) out.push_back(find_row(transports(), n));
  return out;
}
std::vector<const model_info*> models_named(std::initializer_list<const char*> names) {
  std::vector<const model_info*> out;
  for (const char* n : names)
    if (const model_info* m = find_row(models(), n); m && m->unavailable_reason().empty()) out.push_back(m);
  return out;
}

// The lecture matrix: the cases the lessons of plots/bench_plots/lecture/ draw, and no others. Clients grow to 64
// whatever the CPUs (the lesson is what each model does beyond them); the locks-and-GIL sweep runs with
// --placement same so that on a small machine each pair's server has a CPU of its own for as long as there are
// CPUs (with `cross` every server would share the second CPU).
std::vector<plan_section> lecture_sections() {
  std::vector<plan_section> out;
  constexpr std::uint64_t small = 64;
  auto section = [&](std::vector<const transport_info*> t, std::vector<const model_info*> m,
                     std::vector<workload_kind> kinds, std::vector<std::uint64_t> sizes) -> plan_section& {
    plan_section s;
    s.transports = std::move(t);
    s.models = std::move(m);
    s.kinds = std::move(kinds);
    s.sizes = std::move(sizes);
    return out.emplace_back(std::move(s));
  };
  const std::vector<workload_kind> lat{workload_kind::latency}, thr{workload_kind::throughput},
      both{workload_kind::latency, workload_kind::throughput};
  // The latency ladder, one transport per family (eventfd runs at the 32 B it carries).
  section(transports_named({"shm-spin", "shm", "shm-eventfd", "eventfd", "pipe", "unix", "tcp", "zmq-ipc"}),
          models_named({"process"}), lat, {small});
  // Spinning against sleeping: the kernel transports polled too (the rings wait their own way, run above).
  section(transports_named({"pipe", "unix"}), models_named({"process"}), lat, {small}).waits = {wait_mode::spin};
  // Size: where the per-message cost ends and copying begins.
  section(transports_named({"shm", "pipe", "unix", "tcp"}), models_named({"process"}), thr,
          {64, 1024, 4096, 64 * 1024, 1024 * 1024});
  // Clients: a thread, a process or one event loop (epoll and io_uring) per client, 1 to 64 clients.
  section(transports_named({"unix"}), models_named({"thread", "process", "async", "async-uring"}), both, {small})
      .sweep_pairs = {2, 4, 8, 16, 32, 64};
  // Through a broker: a 64 B request and its reply through RabbitMQ (transient, persistent, persistent and
  // confirmed), beside ZeroMQ over TCP (the ladder has zmq-ipc, unix and tcp). Only where a broker can be had: it
  // takes seconds to start, once.
  if (amqp_unavailable_reason().empty())
    section(transports_named({"zmq-tcp", "amqp", "amqp-durable", "amqp-confirmed"}), models_named({"process"}), lat,
            {small});
  // Serialization against transport, a small and a large message.
  plan_section& ser_section = section(transports_named({"shm"}), models_named({"thread"}), lat, {});
  for (const char* n : {"raw", "protobuf", "capnp", "json"}) ser_section.serializers.push_back(ser::find_serializer(n));
  ser_section.shapes = {ser::shape::small, ser::shape::large};
  // Locks and a GIL in a server: 10 us of work per message; threads without a lock, under a mutex and under the
  // new GIL; processes (a GIL each); one event loop.
  auto worked = [&](const char* model, std::vector<std::string> locks) {
    plan_section& s = section(transports_named({"unix"}), models_named({model}), thr, {small});
    s.sweep_pairs = {2, 4, 8};
    s.work_ns = 10'000;
    s.locks = std::move(locks);
    s.place = placement::same;
  };
  worked("thread", {"none", "mutex", "gil-new"});
  worked("process", {"gil-new"});
  worked("async", {"none"});
  return out;
}

// The full matrix: one section from the flags (every available transport and model by default).
plan_section section_from_flags(const run_request& req, const core_plan& cores) {
  const ipc_defaults d = defaults_for(req);
  plan_section s;
  s.transports = chosen_transports(req);
  s.models = chosen_models(req);
  s.sizes = req.sizes.empty() ? d.sizes : req.sizes;
  s.sizes_asked = !req.sizes.empty();
  // Pairs sweep: 2, 4, ... while two endpoints per pair fit in the requested cores (one per pair for `same`).
  const int per_pair = req.place == placement::same ? 1 : 2;
  for (int p = 2; p * per_pair <= std::max(cores.requested, per_pair) && p <= d.max_pairs; p *= 2)
    s.sweep_pairs.push_back(p);
  s.waits = req.waits;
  s.locks = chosen_locks(req);
  s.work_ns = req.work_ns;
  s.place = req.place;
  if (!req.serializers.empty()) {
    s.serializers = chosen_serializers(req);
    s.shapes = chosen_shapes(req);
  }
  return s;
}

// What the planned cases vary in, for the context and the console: "cross" or "cross,same", the waits, the
// locks, and the server work (one figure: no section of either matrix mixes two).
struct run_shape {
  std::string placements, waits;
  std::vector<std::string> locks;
  std::uint64_t work_ns = 0;
};
run_shape shape_of(const std::vector<ipc_case>& cases) {
  run_shape out;
  std::vector<std::string> places, waits;
  auto add = [](std::vector<std::string>& v, std::string x) {
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(std::move(x));
  };
  for (const ipc_case& c : cases) {
    add(places, to_string(c.place));
    add(waits, to_string(c.wait_as));
    add(out.locks, c.wl.lock);
    out.work_ns = std::max(out.work_ns, c.wl.work_ns);
  }
  out.placements = fmt::format("{}", fmt::join(places, ","));
  out.waits = fmt::format("{}", fmt::join(waits, ","));
  return out;
}

}  // namespace

bool lecture_matrix(const run_request& req) {
  return req.matrix == "lecture" || (req.matrix.empty() && !req.quick && req.matrix_flags.empty());
}

namespace {

// --serializers: the size of every (serializer, shape) on the wire, from one encoding of the case's message.
struct encoding {
  const ser::serializer_info* serializer;
  ser::shape shape;
  std::uint64_t msg_bytes;
};

std::vector<encoding> encodings_of(const plan_section& sec) {
  std::vector<encoding> out;
  for (ser::shape shape : sec.shapes)
    for (const ser::serializer_info* s : sec.serializers)
      out.push_back({s, shape, header_bytes + encoded_bytes(*s, shape)});
  return out;
}

}  // namespace

std::string ipc_skip_reason(const ipc_case& c) {
  const transport_info* t = c.transport;
  const model_info* m = c.model;
  const bool spins = c.wait_as == wait_mode::spin && t->fixed_wait.empty();
  if (std::string why = t->unavailable_reason(); !why.empty()) return why;
  if (std::string why = incompatibility(*m, *t); !why.empty()) return why;
  if (std::string why = workload_incompatibility(*t, c.wl); !why.empty()) return why;
  if (spins && !t->spin_capable) return fmt::format("{} has no spinning mode", t->name);
  if (spins && !m->spins)
    return fmt::format("the {} model's event loop always waits in the kernel (no spinning mode)", m->name);
  if (t->max_msg_bytes && c.wl.msg_bytes > t->max_msg_bytes)
    return fmt::format("{} carries at most {} per message; {} requested", t->name, format_bytes(t->max_msg_bytes),
                       format_bytes(c.wl.msg_bytes));
  return "";
}

namespace {

// One point of a transport and model's matrix: what it measures, at which size, pairs and wait.
struct case_point {
  workload_kind kind;
  std::uint64_t size;
  int pairs;
  wait_mode wait;
  const ser::serializer_info* serializer = nullptr;
  ser::shape shape = ser::shape::small;
};

// Collects the plan's cases, each once (two lessons may ask for one case), in the order they run.
class ipc_planner {
 public:
  ipc_planner(const run_request& req, const ipc_defaults& d) : req_(req), d_(d) {
    if (!req.filter.empty()) filter_.emplace(req.filter);
  }

  void add_section(const plan_section& sec) {
    const std::vector<encoding> encodings = encodings_of(sec);
    for (const transport_info* t : sec.transports)
      for (const model_info* m : sec.models) add_matrix(sec, t, m, encodings);
  }

  std::vector<ipc_case> take() { return std::move(cases_); }

 private:
  void add_matrix(const plan_section& sec, const transport_info* t, const model_info* m,
                  const std::vector<encoding>& encodings) {
    const std::uint64_t sweep_size = sec.sizes.empty() ? 0 : *std::min_element(sec.sizes.begin(), sec.sizes.end());
    // The default sizes all exceed what a wake-up-only transport carries (eventfd: its 32-byte header): it runs
    // at its largest size instead, named so in every row, rather than appearing only as skipped rows. Sizes the
    // user asked for are kept as asked (too large ones are skipped with the reason).
    const bool own_size = !sec.sizes_asked && t->max_msg_bytes && t->max_msg_bytes < sweep_size;
    const std::vector<std::uint64_t> t_sizes = own_size ? std::vector<std::uint64_t>{t->max_msg_bytes} : sec.sizes;
    for (wait_mode w : sec.waits) {
      // A transport that waits its own way (the shm rings) is the same case under every --wait: run it once.
      if (!t->fixed_wait.empty() && w != sec.waits.front()) continue;
      if (!encodings.empty()) {
        // The ping-pong only, one pair: what a round trip costs with each serializer and message shape.
        for (const encoding& e : encodings)
          add(sec, t, m, {workload_kind::latency, e.msg_bytes, 1, w, e.serializer, e.shape});
        continue;
      }
      for (workload_kind kind : sec.kinds) {
        for (std::uint64_t s : t_sizes) add(sec, t, m, {kind, s, 1, w});
        // The pairs sweep runs at the smallest size, which a transport run at its own size cannot carry.
        if (!own_size)
          for (int p : sec.sweep_pairs) add(sec, t, m, {kind, sweep_size, p, w});
      }
    }
  }

  // The locks of one configuration run back to back: their ratio is taken under the same conditions.
  void add(const plan_section& sec, const transport_info* t, const model_info* m, const case_point& p) {
    for (const std::string& lock : sec.locks) add_one(sec, t, m, p, lock);
  }

  void add_one(const plan_section& sec, const transport_info* t, const model_info* m, const case_point& p,
               const std::string& lock) {
    ipc_case c = make_ipc_case(*t, *m, p.kind, p.size, p.wait, p.serializer, p.shape);
    c.pairs = p.pairs;
    c.place = sec.place;
    c.wl.duration_ns = req_.duration_ns ? req_.duration_ns : d_.duration_ns;
    c.wl.warmup_ns = req_.warmup_ns ? req_.warmup_ns : d_.warmup_ns;
    c.wl.rate = p.kind == workload_kind::latency ? req_.rate : 0;
    c.wl.work_ns = sec.work_ns;
    c.wl.lock = lock;
    c.wl.seed = 0x5eed0000 + cases_.size();
    c.name = case_name(c);
    if (filter_ && !std::regex_search(c.name, *filter_)) return;
    if (!planned_.insert(c.name).second) return;
    c.skip_reason = ipc_skip_reason(c);
    cases_.push_back(std::move(c));
  }

  const run_request& req_;
  const ipc_defaults& d_;
  std::optional<std::regex> filter_;
  std::vector<ipc_case> cases_;
  std::set<std::string> planned_;
};

// Without --duration, each runnable case gets an equal share of the matrix's budget (measuring_budget_ns).
void fit_durations(std::vector<ipc_case>& cases, const run_request& req, const ipc_defaults& d) {
  std::uint64_t runnable = 0;
  for (const ipc_case& c : cases) runnable += c.skip_reason.empty() ? 1 : 0;
  int reps = req.reps ? req.reps : d.reps;
  if (!runnable) return;
  std::uint64_t share = measuring_budget_ns(req) / (runnable * static_cast<std::uint64_t>(reps));
  std::uint64_t warm = req.warmup_ns ? req.warmup_ns : d.warmup_ns;
  std::uint64_t fitted = std::clamp(share > warm ? share - warm : 0, min_fitted_ns, max_fitted_ns);
  for (ipc_case& c : cases) c.wl.duration_ns = fitted;
}

}  // namespace

std::vector<ipc_case> plan_ipc(const run_request& req, const core_plan& cores) {
  const ipc_defaults d = defaults_for(req);
  ipc_planner planner(req, d);
  for (const plan_section& sec : lecture_matrix(req) ? lecture_sections() : std::vector{section_from_flags(req, cores)})
    planner.add_section(sec);
  std::vector<ipc_case> cases = planner.take();
  if (!req.duration_ns && !req.quick) fit_durations(cases, req, d);
  return cases;
}

namespace {

// The rows the console reads: each case's median row and its repetitions.
struct console_index {
  std::map<std::string, const json*> medians;
  std::map<std::string, std::vector<const json*>> iterations;
};

console_index index_rows(const std::vector<json>& rows) {
  console_index ix;
  for (const json& r : rows) {
    if (r["run_type"] == "aggregate" && r["aggregate_name"] == "median") ix.medians[r["run_name"]] = &r;
    if (r["run_type"] == "iteration") ix.iterations[r["run_name"]].push_back(&r);
  }
  return ix;
}

// The row's failure when it has no median: the first repetition's error, or "not run".
std::string failure_of(const std::string& name, const std::map<std::string, std::vector<const json*>>& iterations) {
  if (auto it = iterations.find(name); it != iterations.end() && !it->second.empty()) {
    if (std::all_of(it->second.begin(), it->second.end(), [](const json* r) { return r->value("excluded", false); }))
      return "every repetition was left out as disturbed (--drop-disturbed)";
    return it->second.front()->value("error_message", std::string("failed"));
  }
  return "not run";
}

// How many cases the footnotes under the tables speak of.
struct console_marks {
  int unstable = 0, below_floor = 0;
};

// --serializers: per case, the median round trip and its parts.
void print_serializer_table(const std::vector<ipc_case>& cases, const console_index& ix, console_marks& marks) {
  fmt::print(
      "\nSerialization in the round trip (client-measured ping-pong, both directions encoded and decoded; medians\n"
      "per round trip: serialize = 2 encodes, deserialize = 2 decodes with every field read, transport = the rest)\n");
  const console_table table({{"transport", 15, align::left},
                             {"model", 9, align::left},
                             {"serializer", 12, align::left},
                             {"shape", 7, align::left},
                             {"wire", 9},
                             {"rtt p50", 11},
                             {"serialize", 11},
                             {"deserial.", 11},
                             {"transport", 11},
                             {"share", 7},
                             {"spread", 8},
                             {"notes", 0, align::left, 2}});
  table.print_header();
  for (const ipc_case& c : cases) {
    if (!c.wl.serializer) continue;
    std::vector<std::string> cells = {std::string(c.transport->name), std::string(c.model->name),
                                      std::string(c.wl.serializer->name), std::string(ser::to_string(c.wl.shape)),
                                      format_bytes(c.wl.msg_bytes - header_bytes)};
    auto it = ix.medians.find(c.name);
    if (!c.skip_reason.empty() || it == ix.medians.end()) {
      fmt::print("{}  {}: {}\n", table.row(cells), c.skip_reason.empty() ? "FAILED" : "skipped",
                 c.skip_reason.empty() ? failure_of(c.name, ix.iterations) : c.skip_reason);
      continue;
    }
    const json& m = *it->second;
    auto ns = [&m](const char* f) { return format_ns(m.value(f, 0.0)); };
    bool shaky = m.value("unstable", false);
    marks.unstable += shaky ? 1 : 0;
    for (const char* f : {"rtt_p50_ns", "serialize_ns", "deserialize_ns", "transport_ns"}) cells.push_back(ns(f));
    cells.push_back(fmt::format("{:.0f}%", m.value("serialization_pct", 0.0)));
    cells.push_back(fmt::format("{:.0f}%", m.value("spread_pct", 0.0)));
    cells.push_back(fmt::format("{}{}{}",
                                m.value("failed_repetitions", 0) > 0
                                    ? fmt::format("{} rep(s) failed ", m["failed_repetitions"].get<int>())
                                    : "",
                                shaky ? "unstable " : "", m.value("below_floor", false) ? "below floor" : ""));
    table.print_row(cells);
  }
}

// The latency or throughput table's columns; one for the server's work and its lock only when the run has work
// (--work, or the lecture's GIL lesson).
console_table ipc_table(bool latency, bool worked) {
  std::vector<table_column> cols = {{"transport", 15, align::left}, {"model", 12, align::left}};
  if (worked) cols.push_back({"work, lock", 19, align::left});
  cols.insert(cols.end(), {{"wait", 9, align::left}, {"size", 9}, {"pairs", 6}});
  if (latency)
    cols.insert(cols.end(), {{"p50", 11}, {"p99", 11}, {"p99.9", 11}});
  else
    cols.insert(cols.end(), {{"msg/s", 12}, {"MB/s", 12}});
  cols.insert(cols.end(), {{"spread", 8}, {"notes", 0, align::left, 2}});
  return console_table(std::move(cols));
}

// The case's identity cells, up to the pair count: what a skipped or failed case's line shows before its reason.
std::vector<std::string> ipc_head_cells(const ipc_case& c, bool worked) {
  std::vector<std::string> cells = {std::string(c.transport->name), std::string(c.model->name)};
  if (worked)
    cells.push_back(c.wl.work_ns ? fmt::format("{} {}", format_ns(static_cast<double>(c.wl.work_ns)), c.wl.lock)
                                 : std::string("-"));
  cells.insert(cells.end(), {c.wait, format_bytes(c.wl.msg_bytes), std::to_string(c.pairs)});
  return cells;
}

std::string ipc_notes(const json& m, bool latency, console_marks& marks) {
  std::string notes;
  if (m.value("failed_repetitions", 0) > 0)
    notes += fmt::format("{} rep(s) failed ", m["failed_repetitions"].get<int>());
  if (m.value("unstable", false)) {
    notes += "unstable ";
    ++marks.unstable;
  }
  if (m.value("oversubscribed", false)) notes += "oversubscribed ";
  if (m.value("below_floor", false)) {
    notes += "below floor ";
    ++marks.below_floor;
  }
  // --rate: latency counts from the intended send time, so a pacer that left late adds its lateness.
  if (latency && m.contains("send_late_p50_ns") &&
      m["send_late_p50_ns"].get<double>() > 0.1 * m["rtt_p50_ns"].get<double>())
    notes += fmt::format("sent {} late (p50) ", format_ns(m["send_late_p50_ns"].get<double>()));
  return notes;
}

// A measured case's figures after its identity cells.
void add_figures(std::vector<std::string>& cells, const json& m, bool latency) {
  if (latency) {
    // A dash: too few round trips for that percentile in its repetitions (their percentiles_withheld).
    auto pct = [&m](const char* f) {
      return m.contains(f) && m[f].is_number() ? format_ns(m[f].get<double>()) : std::string("-");
    };
    for (const char* f : {"rtt_p50_ns", "rtt_p99_ns", "rtt_p999_ns"}) cells.push_back(pct(f));
  } else {
    cells.push_back(format_rate(m["msgs_per_s"].get<double>()));
    cells.push_back(fmt::format("{:.1f}", m["bytes_per_s"].get<double>() / 1e6));
  }
  cells.push_back(fmt::format("{:.0f}%", m.value("spread_pct", 0.0)));
}

// Skipped cases of one transport and one reason (shm-spin under both event loops, udp at 1 MiB under every model
// and pair count) get one line with their count and models, after the transport's measured rows, not a line each.
class skipped_lines {
 public:
  using key = std::pair<std::string, std::string>;  // transport, reason
  template <class Pred>
  skipped_lines(const std::vector<ipc_case>& cases, Pred in_table) {
    for (const ipc_case& c : cases)
      if (in_table(c) && !c.skip_reason.empty()) {
        auto& [n, models] = skipped_[{std::string(c.transport->name), c.skip_reason}];
        ++n;
        if (std::find(models.begin(), models.end(), c.model->name) == models.end()) models.emplace_back(c.model->name);
      }
  }
  // True when the case is the only one of its kind and goes on a line of its own; else its summary line waits.
  bool alone(const ipc_case& c) {
    key k{std::string(c.transport->name), c.skip_reason};
    if (skipped_[k].first == 1) return true;
    if (std::find(pending_.begin(), pending_.end(), k) == pending_.end()) pending_.push_back(k);
    return false;
  }
  void flush(const console_table& table) {
    for (const key& k : pending_) {
      const auto& [n, models] = skipped_[k];
      fmt::print("{}{} cases ({}) skipped: {}\n", table.row({k.first}), n, join_list(models), k.second);
    }
    pending_.clear();
  }

 private:
  std::map<key, std::pair<int, std::vector<std::string>>> skipped_;
  std::vector<key> pending_;
};

void print_kind_table(workload_kind kind, const std::vector<ipc_case>& cases, const console_index& ix, bool worked,
                      console_marks& marks) {
  // Serialized cases have a table of their own (print_serializer_table).
  auto in_table = [kind](const ipc_case& c) { return c.wl.kind == kind && !c.wl.serializer; };
  const bool lat = kind == workload_kind::latency;
  if (std::none_of(cases.begin(), cases.end(), in_table)) return;
  fmt::print("\n{}\n", lat ? "Round-trip latency (client-measured, median of repetitions; spread = 1.48 x MAD / median "
                             "of p50, msg/s below)"
                           : "Throughput (one way, timed at the receiver, median of repetitions)");
  const console_table table = ipc_table(lat, worked);
  table.print_header();
  skipped_lines skipped(cases, in_table);
  std::string_view last_transport;
  for (const ipc_case& c : cases) {
    if (!in_table(c)) continue;
    if (c.transport->name != last_transport) skipped.flush(table);
    last_transport = c.transport->name;
    std::vector<std::string> cells = ipc_head_cells(c, worked);
    if (!c.skip_reason.empty()) {
      if (skipped.alone(c)) fmt::print("{}  skipped: {}\n", table.row(cells), c.skip_reason);
      continue;
    }
    auto it = ix.medians.find(c.name);
    if (it == ix.medians.end()) {
      fmt::print("{}  FAILED: {}\n", table.row(cells), failure_of(c.name, ix.iterations));
      continue;
    }
    add_figures(cells, *it->second, lat);
    cells.push_back(ipc_notes(*it->second, lat, marks));
    table.print_row(cells);
  }
  skipped.flush(table);
}

void print_table(const std::vector<json>& rows, const std::vector<ipc_case>& cases) {
  const console_index ix = index_rows(rows);
  console_marks marks;
  const bool worked = std::any_of(cases.begin(), cases.end(), [](const ipc_case& c) { return c.wl.work_ns > 0; });
  for (workload_kind kind : {workload_kind::latency, workload_kind::throughput})
    print_kind_table(kind, cases, ix, worked, marks);
  if (std::any_of(cases.begin(), cases.end(), [](const ipc_case& c) { return c.wl.serializer != nullptr; }))
    print_serializer_table(cases, ix, marks);
  if (marks.below_floor)
    fmt::print(
        "\n{} case(s) below floor: a repetition measured beyond what its round's hardware floor allows (the "
        "ends were not where the floor was measured, or the machine changed within the round); "
        "below_floor_reason in results.json says which figure\n",
        marks.below_floor);
  if (marks.unstable)
    fmt::print(
        "\n{} case(s) marked unstable: {}. More repetitions (--reps 5), --placement same, or a quieter "
        "machine help; --drop-disturbed leaves out rounds the canary flagged.\n",
        marks.unstable, unstable_rule());
}

// Rounds whose floor (cache-line round trip, cross-core streaming) ran much faster or slower than the other
// rounds', or that saw the hypervisor steal time, are marked disturbed; with --drop-disturbed they are left out of
// the aggregates, unless every round was (then nothing would be left: all are kept, and flagged). The run-start
// floor, measured the same way, joins the rounds' as a reference. Returns the verdicts, for the console.
std::vector<round_verdict> mark_disturbed(std::vector<json>& rows, const json& context, bool drop) {
  std::vector<round_figures> figures;
  for (const json& r : context["rounds"]) figures.push_back(round_figures_of(r));
  const round_figures start = round_figures_of(json{{"floor", context["floor"]}});
  std::vector<round_verdict> verdicts = judge_rounds(figures, &start);
  if (std::all_of(verdicts.begin(), verdicts.end(), [](const round_verdict& v) { return v.disturbed; })) drop = false;
  std::map<int, const round_verdict*> by_round;
  for (const round_verdict& v : verdicts)
    if (v.disturbed) by_round[v.round] = &v;
  for (json& row : rows) {
    std::string why;
    if (auto it = by_round.find(row.value("round", 0)); it != by_round.end())
      why = "round " + std::to_string(it->first) + ": " + it->second->why;
    else if (row["steal_pct"].is_number() && row["steal_pct"].get<double>() > steal_disturbed_pct)
      why = fmt::format("the hypervisor stole {:.1f}% of the run's CPU time during this case",
                        row["steal_pct"].get<double>());
    row["disturbed"] = !why.empty();
    if (!why.empty()) row["disturbed_reason"] = why;
    row["excluded"] = !why.empty() && drop;
  }
  return verdicts;
}

// A median row is below the floor when any repetition it summarises was (each is judged against its own round).
void mark_below_floor_medians(std::vector<json>& rows) {
  std::map<std::string, std::pair<int, std::string>> below;  // run_name -> (repetitions below, first reason)
  for (const json& r : rows)
    if (r["run_type"] == "iteration" && !r.value("excluded", false) && r.value("below_floor", false)) {
      auto& [n, why] = below[r["run_name"].get<std::string>()];
      if (n++ == 0) why = fmt::format("round {}: {}", r.value("round", 0), r.value("below_floor_reason", ""));
    }
  for (json& r : rows) {
    if (r["run_type"] != "aggregate" || r["aggregate_name"] != "median") continue;
    auto it = below.find(r["run_name"].get<std::string>());
    r["below_floor"] = it != below.end();
    if (it != below.end())
      r["below_floor_reason"] = fmt::format("{} of {} repetition(s) below their round's floor; {}", it->second.first,
                                            r.value("iterations", 0), it->second.second);
  }
}

// The floor measured before each round, and what the round verdicts say in words.
void print_round_floors(const json& rounds, const std::vector<round_verdict>& verdicts, bool drop) {
  const bool all = !verdicts.empty() &&
                   std::all_of(verdicts.begin(), verdicts.end(), [](const round_verdict& v) { return v.disturbed; });
  fmt::print("\nhardware floor per round (measured before its cases; {}):\n",
             "cache-line round trip: median of individual round trips");
  for (const json& r : rounds) {
    const json& f = r["floor"];
    auto ns = [&f](const char* k) { return f[k].is_number() ? format_ns(f[k].get<double>()) : std::string("n/a"); };
    fmt::print("  round {}: cache-line round trip {} (a line each way: {}), cross-core streaming {}, steal {}\n",
               r["round"].get<int>(), ns("c2c_round_trip_ns"), ns("c2c_two_line_round_trip_ns"),
               f["xcore_gbps"].is_number() ? fmt::format("{:.1f} GB/s", f["xcore_gbps"].get<double>()) : "n/a",
               r["steal_pct"].is_number() ? fmt::format("{:.1f}%", r["steal_pct"].get<double>()) : "unknown");
  }
  for (const round_verdict& v : verdicts)
    if (v.disturbed)
      fmt::print("round {}: {}; its rows are marked disturbed{}\n", v.round, v.why,
                 all    ? ""
                 : drop ? " and left out of the medians (--drop-disturbed)"
                        : " (--drop-disturbed leaves them out of the medians)");
  if (all && verdicts.size() > 1)
    fmt::print(
        "every round was disturbed: no round is left out of the medians{}, and none of them is a figure to quote\n",
        drop ? " (--drop-disturbed would leave nothing)" : "");
}

}  // namespace

// The lecture's two lessons of the contention suite: the convoy at CPython's 5 ms switch interval, and spinlocks
// from one thread to the requested cores (oversubscribed beyond the CPUs). Written into DIR/contention/, which
// `bench lecture DIR` reads beside DIR. None with --filter, which narrows the ipc cases.
std::optional<run_request> lecture_contention_request(const run_request& req, const fs::path& dir) {
  if (!lecture_matrix(req) || !req.filter.empty()) return std::nullopt;
  run_request c;
  c.suite = "contention";
  c.command_line = req.command_line;
  c.cores = req.cores;
  c.cores_given = req.cores_given;
  c.out = dir / "contention";
  c.no_plot = true;
  c.reps = req.reps;
  c.duration_ns = req.duration_ns ? req.duration_ns : lecture_contention_window_ns;
  c.switch_intervals_ns = {5'000'000};
  c.locks = {"tas", "ticket", "mutex"};
  c.policies = {"none", "new"};
  c.filter = "experiment:locks/|experiment:gil-convoy/policy:[a-z]+/cpu_threads:[01](/|$)";
  return c;
}

// Where the machine has more than one kind of CPU pair, the deck opens with its core-to-core map: a short one
// (bench run cores --quick) into DIR/cores/. None with --filter, or on a machine whose pairs are alike.
std::optional<run_request> lecture_cores_request(const run_request& req, const fs::path& dir, const topology& topo) {
  if (!lecture_matrix(req) || !req.filter.empty() || !topo.mixed_pairs()) return std::nullopt;
  run_request m = req;
  m.suite = "cores";
  m.quick = true;
  m.out = dir / "cores";
  return m;
}

namespace {

// Charts of the run, then the lecture deck of it (and of DIR/contention/ when the lecture run wrote one).
void draw_lecture(const run_request& req, const fs::path& dir) {
  if (req.no_plot) return;
  std::vector<std::string> dirs = {dir.string()};
  for (const char* sub : {"contention", "cores", "python"})
    if (fs::exists(dir / sub / "results.json")) dirs.push_back((dir / sub).string());
  fmt::print("lecture:\n");
  std::fflush(stdout);
  try {
    if (int rc = run_python_tool("lecture.py", dirs); rc != 0)
      fmt::print(stderr, "warning: the lecture script failed (status {}); the results files are complete\n", rc);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "warning: no lecture deck: {}\n", e.what());
  }
}

// --dry-run: the plan as a run would carry it out, and no measurement. Each runnable case with the CPUs of its
// ends and what they share; with --out (or --json), a results document whose rows carry client_cpus and
// server_cpus as a real run's do.
int print_dry_run(const run_request& req, const core_plan& cores, const std::vector<ipc_case>& cases) {
  const int reps = req.reps ? req.reps : defaults_for(req).reps;
  std::uint64_t measuring_ns = 0;
  run_results res;
  res.context = json{{"suite", "ipc"},
                     {"dry_run", true},
                     {"command_line", req.command_line},
                     {"cores_requested", cores.requested},
                     {"cores_available", cores.available},
                     {"oversubscribed", cores.oversubscribed},
                     {"cpus_used", cores.cpus},
                     {"topology", to_json(cores.topo)},
                     {"matrix", lecture_matrix(req) ? "lecture" : "full"},
                     {"reps", reps}};
  fmt::print(
      "bench run ipc --dry-run: the plan for {} ({}), {} cores requested: CPUs in the order pairs take them: {}\n",
      cores.topo.source, cores.topo.describe(), cores.requested, fmt::join(cores.cpus, ","));
  for (const ipc_case& c : cases) {
    if (!c.skip_reason.empty()) continue;
    const std::vector<pair_cpus> pairs = place_pairs(c.place, c.pairs, cores);
    measuring_ns += (c.wl.warmup_ns + c.wl.duration_ns) * static_cast<std::uint64_t>(reps);
    json row{{"name", c.name},
             {"run_name", c.name},
             {"run_type", "plan"},
             {"transport", c.transport->name},
             {"model", c.model->name},
             {"workload", to_string(c.wl.kind)},
             {"wait", c.wait},
             {"placement", to_string(c.place)},
             {"msg_bytes", c.wl.msg_bytes},
             {"pairs", c.pairs},
             {"work_ns", c.wl.work_ns},
             {"lock", c.wl.lock},
             {"client_cpus", planned_cpus(pairs, true)},
             {"server_cpus", planned_cpus(pairs, false)},
             {"placed", core_sharing(pairs, cores.topo)}};
    fmt::print("  {:<100} client {:<12} server {:<12} {}\n", c.name, row["client_cpus"].get<std::string>(),
               row["server_cpus"].get<std::string>(), row["placed"].get<std::string>());
    res.rows.push_back(std::move(row));
  }
  fmt::print("{} cases x {} repetitions: {:.0f} s of measuring, set-up and charts on top; nothing was measured\n",
             res.rows.size(), reps, static_cast<double>(measuring_ns) / 1e9);
  if (req.out) {
    res.dir = prepare_run_dir(req.out, "ipc");
    write_results(res);
  }
  return 0;
}

// The state of one `bench run ipc`, from the plan to the last chart; the steps below share it.
struct ipc_run {
  const run_request& req;
  core_plan cores;
  std::vector<ipc_case> cases;
  std::unique_ptr<remote_session> remote;
  run_results res;
  int runnable = 0;
  int reps = 0;
  int cpu_a = 0, cpu_b = 0;  // where the floor is measured: the run's first two distinct CPUs
  int failures = 0;
};

// --peer: the handshake with `bench serve` comes before any work; a peer that cannot be used is exit status 2.
void connect_peer(ipc_run& run) {
  if (run.req.peer.empty()) return;
  run.remote =
      std::make_unique<remote_session>(run.req.peer, run.req.timeout_ns ? run.req.timeout_ns : 10'000'000'000ull);
  run.remote->check_plan(run.cases, !run.req.models.empty());
}

// Counts the cases that will run and lists the others with their reason; nothing to run is a usage error.
json sort_out_skipped(ipc_run& run) {
  json skipped = json::array();
  for (const ipc_case& c : run.cases) {
    if (c.skip_reason.empty())
      ++run.runnable;
    else
      skipped.push_back({{"name", c.name}, {"reason", c.skip_reason}});
  }
  if (run.runnable == 0) {
    std::string why = run.cases.empty() ? "--filter matches no case" : run.cases.front().skip_reason;
    throw usage_error(
        fmt::format("no case to run: {}{}", why, run.cases.size() > 1 ? " (and others; see bench list)" : ""));
  }
  return skipped;
}

void describe_peer(ipc_run& run) {
  if (!run.remote) return;
  run.remote->describe(run.res.context);
  std::vector<int> shared = run.remote->cpus_shared_with(run.cores.cpus);
  run.res.context["peer"]["shared_cpus"] = shared;
  if (!shared.empty())
    fmt::print(stderr,
               "warning: bench serve at {} runs on this machine, on CPUs this run uses too ({}): a pair's two "
               "ends may share a CPU, whatever --placement says; start them on separate CPUs (e.g. taskset -c 1 bench "
               "serve, taskset -c 0 bench run ...)\n",
               run.remote->address(), fmt::join(shared, ", "));
}

json server_lock_context() {
  const gil_config gil_defaults;
  return {{"scope",
           "one lock per server process, shared by all its server threads (thread model: every pair's "
           "server thread; process model: each forked server has its own; async models: the one loop thread, "
           "uncontended)"},
          {"work",
           "per message: enter the lock, run work_ns of calibrated CPU work in ticks, leave; the receive and "
           "the send happen outside the lock (as CPython releases the GIL around blocking I/O)"},
          {"tick_ns", gil_defaults.tick_ns},
          {"gil_switch_interval_ns", gil_defaults.switch_interval_ns},
          {"gil_old_check_interval_ticks", gil_defaults.check_interval},
          {"cpu_work_ns_per_iteration", cpu_work::ns_per_iteration()},
          {"cpu_work_ns_per_call", cpu_work::ns_per_call()}};
}

// What each serializer and shape of the run is: the results alone must say what was measured.
void describe_serializers(json& ctx, const std::vector<ipc_case>& cases, bool serializers) {
  if (serializers) {
    json sers = json::object(), shapes = json::object();
    for (const ipc_case& c : cases)
      if (c.wl.serializer) {
        const ser::serializer_info& si = *c.wl.serializer;
        sers[std::string(si.name)] = si.version.empty()
                                         ? std::string(si.description)
                                         : fmt::format("{} ({} {})", si.description, si.library, si.version);
        shapes[std::string(ser::to_string(c.wl.shape))] = ser::describe(c.wl.shape);
      }
    ctx["serializer_descriptions"] = sers;
    ctx["shape_descriptions"] = shapes;
    ctx["message_seed"] = ser::message_seed;
  }
}

// What each transport and model of the run is, as `bench list` says it (ZeroMQ's high-water marks and
// message-size limit, the event loops' mechanisms).
void describe_transports(json& ctx, const std::vector<ipc_case>& cases) {
  json transport_rows = json::object(), model_rows = json::object();
  for (const ipc_case& c : cases) {
    transport_rows[std::string(c.transport->name)] = c.transport->description;
    model_rows[std::string(c.model->name)] = c.model->description;
  }
  ctx["transport_descriptions"] = transport_rows;
  ctx["model_descriptions"] = model_rows;
}

json disturbed_rule_context() {
  return {{"machine_change_factor", machine_change_factor},
          {"steal_disturbed_pct", steal_disturbed_pct},
          {"rule",
           "a round is disturbed when its cache-line round trip or cross-core streaming rate (rounds[i].floor) "
           "differs from the median of all rounds (with two rounds: from the other one) by more than "
           "machine_change_factor, faster or slower, or when steal time exceeds steal_disturbed_pct of the "
           "run's CPUs"}};
}

constexpr const char* below_floor_rule =
    "a latency row whose rtt_p50_ns is below its round's rounds[i].floor.c2c_round_trip_ns, or a one-pair throughput "
    "row whose bytes_per_s exceeds its round's xcore_gbps, the two ends on different CPUs; a median row is below "
    "the floor when any repetition it summarises is";

// The run's settings in context: what a reader of results.json needs to know how the figures were taken.
void describe_run(ipc_run& run, const run_shape& shape, json skipped) {
  json& ctx = run.res.context;
  const workload_params& wl = run.cases.front().wl;
  ctx["matrix"] = lecture_matrix(run.req) ? "lecture" : "full";
  ctx["placement"] = shape.placements;
  ctx["wait"] = shape.waits;
  ctx["reps"] = run.reps;
  ctx["duration_ns"] = wl.duration_ns;
  ctx["warmup_ns"] = wl.warmup_ns;
  ctx["work_ns"] = shape.work_ns;
  ctx["locks"] = shape.locks;
  // Calibrated before anything is measured, whether or not there is --work (every server's lock is built with
  // it; forked servers inherit it): the work is a count of instructions, the same under every lock and model,
  // not a span of wall time that a pre-empted server would "spend" idle.
  cpu_work::calibrate();
  if (shape.work_ns) ctx["server_lock"] = server_lock_context();
  ctx["timeout_ns"] = run.req.timeout_ns ? run.req.timeout_ns : 10'000'000'000ull;
  ctx["schema"] = to_json(ipc_schema(!run.req.serializers.empty()));
  describe_serializers(ctx, run.cases, !run.req.serializers.empty());
  ctx["skipped"] = std::move(skipped);
  describe_transports(ctx, run.cases);
  ctx["rounds"] = json::array();
  ctx["disturbed_rule"] = disturbed_rule_context();
  ctx["below_floor_rule"] = below_floor_rule;
}

void print_header(const ipc_run& run, const run_shape& shape, const hardware_floor& floor, double overhead) {
  const run_request& req = run.req;
  const workload_params& wl = run.cases.front().wl;
  fmt::print("bench run ipc{}: {} cases x {} repetitions on {} (placement {}, wait {}){}\n",
             lecture_matrix(req) ? " (the lecture's cases; --matrix full for every transport and model)" : "",
             run.runnable, run.reps, machine_line(run.res.context), shape.placements, shape.waits,
             run.cores.oversubscribed ? fmt::format(", OVERSUBSCRIBED: {} cores requested, {} available",
                                                    run.cores.requested, run.cores.available)
                                      : "");
  // What the measuring alone will take; case set-up (forking and connecting up to 64 pairs), the floors, the
  // contention lessons and the charts come on top.
  const double measuring_s =
      static_cast<double>(run.runnable) * run.reps * static_cast<double>(wl.warmup_ns + wl.duration_ns) / 1e9;
  fmt::print(
      "each case: {} warm-up, then {} measured{}; measuring takes {:.0f} s ({} cases x {} repetitions), set-up "
      "and charts come on top\n",
      format_ns(static_cast<double>(wl.warmup_ns)), format_ns(static_cast<double>(wl.duration_ns)),
      req.duration_ns || req.quick ? "" : " (fitted to the matrix's time budget; --duration sets it)", measuring_s,
      run.runnable, run.reps);
  // The two-line figure beside the one-line one: what a channel with a line per direction pays at least.
  fmt::print(
      "hardware floor: timer {:.0f} ns, cache-line round trip {}{} (median of {} round trips), memcpy {:.1f} GB/s in "
      "cache / {:.1f} GB/s from memory, cross-core streaming {}; harness cost {:.0f} ns per message\n",
      floor.timer_overhead_ns, floor.c2c_round_trip_ns ? format_ns(*floor.c2c_round_trip_ns) : "n/a",
      floor.c2c_two_line_one_way_ns
          ? fmt::format(" (a line each way: {})", format_ns(2 * *floor.c2c_two_line_one_way_ns))
          : "",
      floor.cross.one_line ? floor.cross.one_line->samples : 0, floor.memcpy_gbps, floor.memcpy_mem_gbps,
      floor.xcore_gbps
          ? fmt::format("{:.1f} GB/s (best of {} methods)", *floor.xcore_gbps, floor.cross.xcore_variants.size())
          : "n/a",
      overhead);
  if (run.remote)
    fmt::print(
        "peer: bench serve at {} on {} ({}): the server side of every pair runs there; round trips are "
        "measured here, throughput by the receiver there\n",
        run.remote->address(), run.remote->peer_host_name(), machine_line(run.res.context["peer"]["context"]));
  std::fflush(stdout);
}

std::string progress_text(const ipc_case& c, int round, int reps) {
  return fmt::format("round {}/{}  {} {}{} {} {}{}{}", round, reps, c.transport->name, c.model->name,
                     c.wl.lock == "none" ? "" : "/" + c.wl.lock, to_string(c.wl.kind), format_bytes(c.wl.msg_bytes),
                     c.pairs > 1 ? fmt::format(" x{} pairs", c.pairs) : "",
                     c.wl.serializer ? fmt::format(" {} {}", c.wl.serializer->name, ser::to_string(c.wl.shape)) : "");
}

// One repetition of one case as a results row: Google Benchmark's fields, the case's own, and the verdict
// against its round's floor.
json measure_repetition(ipc_run& run, const ipc_case& c, const case_environment& env, int round, int family_index,
                        const json& round_floor) {
  json row = run_ipc_case(c, env);
  if (run.remote) run.remote->annotate(row);
  json full;
  full["name"] = c.name;
  full["family_index"] = family_index;
  full["per_family_instance_index"] = 0;
  full["run_name"] = c.name;
  full["run_type"] = "iteration";
  full["repetitions"] = run.reps;
  full["repetition_index"] = round - 1;
  full["threads"] = c.pairs;
  full["round"] = round;
  for (auto it = row.begin(); it != row.end(); ++it) full[it.key()] = it.value();
  std::string below = below_floor_reason(full, round_floor);
  // A stream above its round's ceiling (a throughput row's only way below floor): the host may have given the
  // pair more capacity since the round began, so the ceiling is measured again beside it, and only a figure
  // above both stays below floor.
  if (!below.empty() && c.wl.kind == workload_kind::throughput && !interrupted()) {
    full["xcore_beside_gbps"] = or_null(measure_streaming_ceiling(run.cpu_a, run.cpu_b));
    below = below_floor_reason(full, round_floor);
  }
  full["below_floor"] = !below.empty();
  if (!below.empty()) full["below_floor_reason"] = below;
  return full;
}

// Every case once, after this round's own floor; the results file is written after every round, so Ctrl-C or
// a crash later loses nothing already measured.
void measure_round(ipc_run& run, case_environment& env, const std::map<std::string, int>& family, int round,
                   progress_line& progress) {
  // The floor of this round, beside its cases: the host may have moved the vCPUs since the last one.
  const round_floor rf = measure_round_floor(run.cpu_a, run.cpu_b);
  if (interrupted()) return;  // Ctrl-C during the floor: this round has no case to record
  const json round_floor_json = to_json(rf);
  cpu_times before = read_cpu_times(run.cores.cpus);
  for (const ipc_case& c : run.cases) {
    if (!c.skip_reason.empty()) continue;
    if (interrupted()) break;
    progress.step(progress_text(c, round, run.reps));
    ++env.case_serial;
    json full = measure_repetition(run, c, env, round, family.at(c.name), round_floor_json);
    if (full["error_occurred"].get<bool>() && !interrupted()) {
      ++run.failures;
      progress.note(fmt::format("FAILED {}: {}", c.name, full["error_message"].get<std::string>()));
    }
    if (!interrupted() || !full["error_occurred"].get<bool>()) run.res.rows.push_back(std::move(full));
  }
  // canary_ns: the round's one-line round trip, under the name older results and the report read.
  run.res.context["rounds"].push_back({{"round", round},
                                       {"canary_ns", round_floor_json["c2c_round_trip_ns"]},
                                       {"floor", round_floor_json},
                                       {"load_avg", or_null(load_avg_1min())},
                                       {"steal_pct", or_null(steal_pct(before, read_cpu_times(run.cores.cpus)))}});
  write_results(run.res);
}

void measure_rounds(ipc_run& run) {
  temp_dir scratch;  // FIFOs and socket files of the run
  case_environment env;
  env.cores = &run.cores;
  env.scratch_dir = scratch.path();
  env.timeout_ns = run.res.context["timeout_ns"].get<std::uint64_t>();
  if (run.remote) env.remote_host = [&run](const ipc_case& c) { return run.remote->make_host(c); };
  std::map<std::string, int> family;
  for (const ipc_case& c : run.cases)
    if (c.skip_reason.empty()) family.emplace(c.name, static_cast<int>(family.size()));
  progress_line progress(run.runnable * run.reps);
  for (int round = 1; round <= run.reps && !interrupted(); ++round) measure_round(run, env, family, round, progress);
  progress.finish();
  run.remote.reset();  // bye: the server is free for its next client while the charts are drawn
}

// Verdicts, aggregates and the console's tables, once every round is in.
void summarize(ipc_run& run) {
  const std::vector<round_verdict> verdicts = mark_disturbed(run.res.rows, run.res.context, run.req.drop_disturbed);
  run.res.context["interrupted"] = interrupted();
  add_aggregates(run.res.rows,
                 {"rtt_p50_ns",        "rtt_p90_ns",       "rtt_p99_ns",         "rtt_p999_ns",    "rtt_max_ns",
                  "rtt_mean_ns",       "msgs_per_s",       "bytes_per_s",        "cpu_ns_per_msg", "cpu_ns",
                  "cpu_window_ns",     "cpus_busy",        "measured_window_ns", "messages",       "lost",
                  "duplicated",        "corrupt",          "serialize_ns",       "deserialize_ns", "transport_ns",
                  "serialization_pct", "send_late_p50_ns", "send_late_p99_ns"},
                 ipc_identity_fields());
  mark_below_floor_medians(run.res.rows);
  write_results(run.res);
  print_round_floors(run.res.context["rounds"], verdicts, run.req.drop_disturbed);
  print_table(run.res.rows, run.cases);
  fmt::print("\nresults: {}\n         {}\n", (run.res.dir / "results.json").string(),
             (run.res.dir / "results.csv").string());
}

// The amqp cases' broker: --amqp-url's, or a private one started for all of them (it takes seconds) and stopped
// after the last round, or whenever the run leaves early (an exception, Ctrl-C).
struct amqp_for_run {
  std::optional<amqp_broker> broker;
  std::optional<amqp_url_scope> url;
  void stop() {
    url.reset();
    broker.reset();  // an idle Erlang VM must not run beside the lessons measured next
  }
};

void start_amqp_broker(ipc_run& run, amqp_for_run& amqp) {
  json& ctx = run.res.context;
  // Where no broker can be had the results say so: the lecture's broker lesson is then not for this machine.
  if (std::string why = amqp_unavailable_reason(); !why.empty())
    ctx["amqp_broker"] = {{"kind", "none"}, {"unavailable", why}};
  const bool needed = std::any_of(run.cases.begin(), run.cases.end(), [](const ipc_case& c) {
    return c.skip_reason.empty() && uses_amqp_broker(*c.transport);
  });
  if (!needed) return;
  const std::string& given = run.req.amqp_url;
  if (!given.empty()) {
    amqp.url.emplace(given);
    ctx["amqp_broker"] = {{"kind", "external"}, {"url", amqp_url_for_display(given)}};
    fmt::print("amqp: the broker at {} (--amqp-url)\n", amqp_url_for_display(given));
  } else {
    try {
      amqp.broker.emplace();
      amqp.url.emplace(amqp.broker->url());
      ctx["amqp_broker"] = {{"kind", "private"},
                            {"url", amqp.broker->url_without_credentials()},
                            {"node", amqp.broker->node_name()},
                            {"start_s", amqp.broker->start_seconds()}};
      fmt::print(
          "amqp: a private RabbitMQ broker (node {}, {}) accepted a login {:.1f} s after it was started; it "
          "is stopped after the last round\n",
          amqp.broker->node_name(), amqp.broker->url_without_credentials(), amqp.broker->start_seconds());
    } catch (const std::exception& e) {
      ctx["amqp_broker"] = {{"kind", "private"}, {"error", e.what()}};
      if (!interrupted()) fmt::print(stderr, "warning: no AMQP broker, so the amqp cases fail: {}\n", e.what());
    }
  }
  std::fflush(stdout);
}

// The lecture's lessons from other suites, each into a folder of its own that `bench lecture DIR` reads beside
// DIR, then the charts and the deck. Returns the run's exit status.
int finish_with_lessons(const ipc_run& run) {
  const run_request& req = run.req;
  const fs::path& dir = run.res.dir;
  int status = run.failures ? 1 : 0;
  auto beside = [&](const char* what, const std::optional<run_request>& r, int (*suite)(const run_request&)) {
    if (!r) return 0;
    fmt::print("\n== {} (bench run {}, into {}) ==\n", what, r->suite, r->out->string());
    std::fflush(stdout);
    int rc = suite(*r);
    if (rc != 0 && rc != 130) status = 1;
    return rc;
  };
  if (beside("the contention lessons", lecture_contention_request(req, dir), run_contention) == 130) return 130;
  if (beside("where your threads run", lecture_cores_request(req, dir, run.cores.topo), run_cores) == 130) return 130;
  if (beside("the Python tax (real CPython)", lecture_python_request(req, dir), run_python) == 130) return 130;
  draw_charts(req, dir);
  if (lecture_matrix(req)) draw_lecture(req, dir);
  if (run.failures)
    fmt::print(stderr, "{} case repetition(s) failed; see error_message in results.json\n", run.failures);
  return status;
}

}  // namespace

int run_ipc(const run_request& req) {
  validate_ipc(req);
  set_external_amqp_url(req.amqp_url);  // makes the amqp transports available without rabbitmq-server
  set_external_amqp_url(req.amqp_url);  // makes the amqp transports available without rabbitmq-server
  core_plan cores = req.topology.empty() ? plan_cores(req.cores) : plan_cores(req.cores, read_topology(req.topology));
  std::vector<ipc_case> cases = plan_ipc(req, cores);
  if (req.dry_run) return print_dry_run(req, cores, cases);
  ipc_run run{req, std::move(cores), std::move(cases), nullptr, {}};
  connect_peer(run);
  json skipped = sort_out_skipped(run);
  run.res.dir = prepare_run_dir(req.out, "ipc");
  warn_oversubscribed(run.cores);
  run.reps = req.reps ? req.reps : defaults_for(req).reps;
  run.res.context = suite_context(req, run.cores);
  describe_peer(run);
  for (const std::string& w : machine_warnings(run.res.context)) fmt::print(stderr, "warning: {}\n", w);

  run.cpu_a = run.cores.cpus[0];
  run.cpu_b = run.cores.cpus.size() > 1 ? run.cores.cpus[1] : run.cores.cpus[0];
  const hardware_floor floor = measure_floor(run.cpu_a, run.cpu_b);
  run.res.context["floor"] = to_json(floor);
  const double overhead = measure_harness_overhead_ns();
  run.res.context["harness_overhead_ns"] = overhead;
  const run_shape shape = shape_of(run.cases);
  describe_run(run, shape, std::move(skipped));
  print_header(run, shape, floor, overhead);

  amqp_for_run amqp;
  start_amqp_broker(run, amqp);
  measure_rounds(run);
  amqp.stop();
  summarize(run);
  if (interrupted()) {
    fmt::print(stderr, "interrupted: the {} measurements finished before Ctrl-C are in {}\n", run.res.rows.size(),
               run.res.dir.string());
    return 130;
  }
  return finish_with_lessons(run);
}

}  // namespace bench
