#include "bench/python/python_cases.hpp"

#include <algorithm>
#include <array>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/message.hpp"
#include "base/registry.hpp"
#include "base/units.hpp"
#include "bench/ipc_suite.hpp"
#include "harness/model.hpp"
#include "harness/workload.hpp"
#include "serializers/registry.hpp"
#include "transports/transport.hpp"

namespace bench::py {
namespace {

// mp.Pipe is a socketpair, mp.Queue a pipe with a feeder thread and pickle: the C++ transport each is built on.
constexpr std::array transport_table = {
    py_transport_info{"py-pipe", "os.pipe", "pipe", "two os.pipe() pipes, os.read/os.write of length-prefixed frames"},
    py_transport_info{"py-unix", "socket AF_UNIX", "unix", "a UNIX stream socket bound to a path, length-prefixed"},
    py_transport_info{"py-tcp", "socket AF_INET", "tcp", "TCP over 127.0.0.1 with TCP_NODELAY, length-prefixed"},
    py_transport_info{"py-udp", "socket SOCK_DGRAM", "udp", "UDP over 127.0.0.1, connected, a datagram a message",
                      65507},
    py_transport_info{"py-mp-pipe", "multiprocessing.Pipe", "unix",
                      "multiprocessing.Pipe() (a socketpair), send_bytes/recv_bytes"},
    py_transport_info{"py-mp-queue", "multiprocessing.Queue", "pipe",
                      "two multiprocessing.Queue (a pipe, a feeder thread, pickle), put/get of bytes"},
    py_transport_info{"py-shm", "multiprocessing.shared_memory", "shm",
                      "a ring in multiprocessing.shared_memory per direction, polled briefly, then a wake-up"},
    py_transport_info{"py-mmap", "mmap", "mmap", "the same ring in an mmap of a file in a private directory"},
    py_transport_info{"py-zmq", "zmq (pyzmq)", "zmq-ipc", "ZeroMQ PAIR sockets over ipc:// (python3-zmq)"},
};

// struct packs a fixed layout: the raw C++ struct's kind. pickle and marshal have no C++ counterpart here.
constexpr std::array serializer_table = {
    py_serializer_info{"pickle5", "pickle.dumps(protocol=5)", ""},
    py_serializer_info{"pickle0", "pickle.dumps(protocol=0)", ""},
    py_serializer_info{"marshal", "marshal.dumps", ""},
    py_serializer_info{"json", "json.dumps(...).encode()", "json"},
    py_serializer_info{"struct", "struct.Struct.pack", "raw"},
    py_serializer_info{"msgpack", "msgpack.packb (python3-msgpack)", "msgpack"},
};

struct python_defaults {
  std::uint64_t warmup_ns, duration_ns;
  std::vector<std::uint64_t> pingpong_sizes, stream_sizes;
  std::uint64_t cpu_iterations;
};

python_defaults defaults_for(const run_request& req) {
  python_defaults d{req.quick ? 20'000'000ull : 100'000'000ull,
                    req.quick ? 100'000'000ull : 500'000'000ull,
                    {64},
                    {4096},
                    req.quick ? 3'000'000ull : 20'000'000ull};
  if (req.warmup_ns) d.warmup_ns = req.warmup_ns;
  if (req.duration_ns) d.duration_ns = req.duration_ns;
  if (!req.sizes.empty()) d.pingpong_sizes = d.stream_sizes = req.sizes;
  return d;
}

bool wanted(const std::vector<std::string>& list, std::string_view name) {
  return list.empty() || std::find(list.begin(), list.end(), name) != list.end();
}

class python_planner {
 public:
  python_planner(const run_request& req, const core_plan& cores, python_probe probe)
      : req_(req), cores_(cores), d_(defaults_for(req)) {
    plan_.probe = std::move(probe);
    if (!req.filter.empty()) filter_.emplace(req.filter);
  }

  python_plan take() {
    add_transport_cases();
    add_serializer_cases();
    if (req_.transports.empty() && req_.models.empty()) add_cpu_and_switch_cases();
    std::stable_partition(plan_.cases.begin(), plan_.cases.end(), [](const py_case& c) { return !c.cpp(); });
    return std::move(plan_);
  }

 private:
  py_case base(std::string experiment) const {
    py_case c;
    c.experiment = std::move(experiment);
    c.runtime = plan_.probe.runtime.empty() ? "cpython" : plan_.probe.runtime;
    c.warmup_ns = d_.warmup_ns;
    c.duration_ns = d_.duration_ns;
    c.skip_reason = plan_.probe.failure;
    return c;
  }

  std::string transport_skip(const py_transport_info& t, const std::string& model, std::uint64_t bytes) const {
    if (!plan_.probe.failure.empty()) return plan_.probe.failure;
    auto why = plan_.probe.transport_unavailable.find(std::string(t.name));
    if (why == plan_.probe.transport_unavailable.end()) return "the worker does not know " + std::string(t.name);
    if (!why->second.empty()) return why->second;
    const auto& models = plan_.probe.transport_models.at(std::string(t.name));
    if (std::find(models.begin(), models.end(), model) == models.end())
      return fmt::format("the worker has no {} server for this transport", model);
    if (t.max_bytes && bytes > t.max_bytes)
      return fmt::format("{} carries at most {} per message", t.name, format_bytes(t.max_bytes));
    return "";
  }

  void add_transport_cases() {
    for (const py_transport_info& t : transport_table) {
      if (!wanted(req_.transports, t.name)) continue;
      for (std::string_view m : py_models)
        if (wanted(req_.models, m))
          for (std::uint64_t s : d_.pingpong_sizes) add_transport_case("pingpong", t, std::string(m), s, "none");
      // The stream from a server process: what a producer and a consumer process exchange.
      if (wanted(req_.models, "process"))
        for (std::uint64_t s : d_.stream_sizes) add_transport_case("stream", t, "process", s, "none");
    }
  }

  // A serializer's round trip rides the plainest channel (os.pipe to a server process), beside bench's pipe with
  // the C++ serializer of the same kind.
  void add_serializer_cases() {
    const py_transport_info& pipe = transport_table[0];
    for (const py_serializer_info& s : serializer_table) {
      if (!wanted(req_.serializers, s.name)) continue;
      py_case c = base("serialize");
      c.serializer = s.name;
      if (c.skip_reason.empty()) c.skip_reason = plan_.probe.serializer_unavailable[std::string(s.name)];
      const ser::serializer_info* cpp = ser::find_serializer(s.cpp_serializer);
      if (!filtered_out(c) && c.skip_reason.empty() && cpp) {
        py_case k = base("serialize");
        k.runtime = "cpp";
        k.skip_reason.clear();
        k.serializer = cpp->name;
        k.cpp_codec = cpp;
        c.counterpart = add(std::move(k));
        c.counterpart_label = cpp->name;
      }
      add(std::move(c));
      if (wanted(req_.transports, pipe.name) && wanted(req_.models, "process"))
        add_transport_case("pingpong", pipe, "process", 0, std::string(s.name));
    }
  }

  void add_transport_case(const char* experiment, const py_transport_info& t, const std::string& model,
                          std::uint64_t bytes, const std::string& serializer) {
    py_case c = base(experiment);
    c.transport = t.name;
    c.model = model;
    c.serializer = serializer;
    c.msg_bytes = bytes;
    if (c.skip_reason.empty()) c.skip_reason = transport_skip(t, model, bytes);
    if (c.skip_reason.empty() && serializer != "none") c.skip_reason = plan_.probe.serializer_unavailable[serializer];
    if (filtered_out(c)) return;
    // A C++ row beside a Python case that cannot run here would stand beside nothing.
    if (c.skip_reason.empty()) c.counterpart = add_ipc_counterpart(c, t);
    if (!c.counterpart.empty())
      c.counterpart_label = fmt::format("{} {}{}", t.cpp_transport, cpp_model_of(model),
                                        serializer == "none" ? "" : " " + plan_.cases.back().serializer);
    add(std::move(c));
  }

  // The ipc case measuring the C++ side of a Python transport case, planned as `bench run ipc` would.
  std::string add_ipc_counterpart(const py_case& p, const py_transport_info& t) {
    const transport_info* ct = find_transport(t.cpp_transport);
    const model_info* cm = find_model(cpp_model_of(p.model));
    const py_serializer_info* ps = find_row(std::span<const py_serializer_info>(serializer_table), p.serializer);
    const ser::serializer_info* cs = ps ? ser::find_serializer(ps->cpp_serializer) : nullptr;
    if (!ct || !cm || (p.serializer != "none" && !cs)) return "";
    const workload_kind kind = p.experiment == "stream" ? workload_kind::throughput : workload_kind::latency;
    const std::uint64_t bytes =
        cs ? header_bytes + encoded_bytes(*cs, ser::shape::small) : std::max(p.msg_bytes, min_msg_bytes);
    ipc_case ic = make_ipc_case(*ct, *cm, kind, bytes, wait_mode::block, cs);
    ic.wl.warmup_ns = d_.warmup_ns;
    ic.wl.duration_ns = d_.duration_ns;
    ic.wl.seed = 0x5eed0000 + plan_.cases.size();
    ic.name = case_name(ic);
    ic.skip_reason = ipc_skip_reason(ic);
    py_case k = base(p.experiment);
    k.runtime = "cpp";
    k.skip_reason = ic.skip_reason;
    k.transport = ct->name;
    k.model = cm->name;
    k.serializer = cs ? std::string(cs->name) : "none";
    k.msg_bytes = p.msg_bytes;
    k.ipc = std::move(ic);
    return add(std::move(k));
  }

  void add_cpu_and_switch_cases() {
    // CPU-bound Python: one thread, as many threads as cores, as many processes.
    const int n = std::max(2, cores_.requested);
    const std::pair<const char*, int> cpu[] = {{"thread", 1}, {"thread", n}, {"process", n}};
    for (const auto& [kind, workers] : cpu) {
      py_case c = base("cpu");
      c.kind = kind;
      c.workers = workers;
      c.iterations = d_.cpu_iterations;
      add(std::move(c));
    }
    for (std::string_view kind : switch_kinds) {
      py_case c = base("switch");
      c.kind = kind;
      add(std::move(c));
    }
  }

  // Adds a case once (C++ counterparts are shared by several Python cases); returns its name. A case --filter
  // leaves out is not planned, and a Python case's counterpart is kept only with it.
  bool filtered_out(const py_case& c) const { return filter_ && !std::regex_search(c.name(), *filter_); }

  std::string add(py_case c) {
    const std::string name = c.name();
    if (!c.cpp() && filtered_out(c)) return name;
    if (planned_.insert(name).second) plan_.cases.push_back(std::move(c));
    return name;
  }

  const run_request& req_;
  const core_plan& cores_;
  python_defaults d_;
  python_plan plan_;
  std::optional<std::regex> filter_;
  std::set<std::string> planned_;
};

}  // namespace

std::span<const py_transport_info> py_transports() { return transport_table; }
std::span<const py_serializer_info> py_serializers() { return serializer_table; }

std::string_view cpp_model_of(std::string_view py_model) { return py_model == "asyncio" ? "async" : py_model; }

case_key py_case::key() const {
  case_key k("python");
  k.named("experiment", experiment);
  if (!transport.empty()) k.named("transport", transport).named("model", model);
  if (!serializer.empty()) k.named("serializer", serializer);
  if (msg_bytes) k.named("msg_bytes", msg_bytes, "size", size_label(msg_bytes));
  if (!kind.empty()) k.named("kind", kind);
  if (workers) k.named("workers", workers);
  k.named("runtime", runtime);
  return k;
}

const std::vector<std::string>& python_identity_fields() {
  static const std::vector<std::string> fields = {"suite",     "experiment", "transport", "model",  "serializer",
                                                  "msg_bytes", "kind",       "workers",   "runtime"};
  return fields;
}

void validate_python_names(const run_request& req) {
  for (const std::string& t : req.transports)
    if (!find_row(py_transports(), t))
      throw usage_error(fmt::format("unknown Python transport '{}' (valid: {})", t, row_names(py_transports())));
  for (const std::string& m : req.models)
    if (std::find(std::begin(py_models), std::end(py_models), m) == std::end(py_models))
      throw usage_error(fmt::format("unknown Python server model '{}' (valid: thread, process, asyncio)", m));
  for (const std::string& s : req.serializers)
    if (!find_row(py_serializers(), s))
      throw usage_error(fmt::format("unknown Python serializer '{}' (valid: {})", s, row_names(py_serializers())));
  for (std::uint64_t s : req.sizes)
    if (s > 64ull << 20) throw usage_error(fmt::format("--sizes {}: at most 64 MiB per message", format_bytes(s)));
}

python_plan plan_python(const run_request& req, const core_plan& cores, python_probe probe) {
  return python_planner(req, cores, std::move(probe)).take();
}

}  // namespace bench::py
