// `bench run python`'s cases: what the course's Python programs do (bench/python/py_worker.py runs each on real
// CPython), and the C++ case each stands beside in the same run.
//
// Experiments:
//   pingpong   a round trip of one message (64 B of bytes, or the `tick` record through a serializer)
//   stream     a one-way stream, timed at the receiver
//   serialize  encode + decode of the tick record, no transport
//   cpu        a countdown loop split over threads (one GIL) or processes
//   switch     one hand-over between a generator, an asyncio task or a thread and its partner
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/python/interpreter.hpp"
#include "bench/suite.hpp"
#include "harness/case_key.hpp"
#include "harness/ipc_case.hpp"

namespace bench::py {

struct py_transport_info {
  std::string_view name;
  std::string_view api;            // what a Python program calls: "os.pipe", "multiprocessing.Queue"
  std::string_view cpp_transport;  // bench's own transport it stands beside
  std::string_view description;
  std::uint64_t max_bytes = 0;  // 0: no limit
};
std::span<const py_transport_info> py_transports();

struct py_serializer_info {
  std::string_view name;
  std::string_view api;             // "pickle.dumps(protocol=5)"
  std::string_view cpp_serializer;  // bench's serializer of the same kind ("" where C++ has none)
};
std::span<const py_serializer_info> py_serializers();

// The Python server models and the ipc models they stand beside.
std::string_view cpp_model_of(std::string_view py_model);
inline constexpr std::string_view py_models[] = {"thread", "process", "asyncio"};
inline constexpr std::string_view switch_kinds[] = {"generator", "coroutine", "thread"};

struct py_case {
  std::string experiment;
  std::string transport;   // pingpong, stream: a py-* name, or the C++ transport for a cpp row
  std::string model;       // pingpong, stream: thread, process, asyncio (cpp: thread, process, async)
  std::string serializer;  // pingpong, serialize: none or a py_serializers() name (cpp: bench's serializer)
  std::uint64_t msg_bytes = 0;
  std::string kind;               // cpu: thread | process; switch: generator | coroutine | thread
  int workers = 0;                // cpu
  std::uint64_t iterations = 0;   // cpu: the countdown's total length
  std::string runtime;            // "cpython-3.11" or "cpp"
  std::string counterpart;        // a Python row: the name of the C++ row it stands beside ("" if none)
  std::string counterpart_label;  // and that row in a few words: "pipe process", "json"
  std::uint64_t warmup_ns = 0, duration_ns = 0;
  std::string skip_reason;
  std::optional<ipc_case> ipc;                      // a cpp pingpong or stream row: the ipc case that measures it
  const ser::serializer_info* cpp_codec = nullptr;  // a cpp serialize row

  bool cpp() const { return runtime == "cpp"; }
  case_key key() const;
  std::string name() const { return key().name(); }
};

const std::vector<std::string>& python_identity_fields();
suite_schema python_schema();

struct python_plan {
  python_probe probe;
  std::vector<py_case> cases;  // every Python case followed by the C++ cases they stand beside, each once
};
// Throws usage_error for names that are not Python transports, models or serializers.
void validate_python_names(const run_request& req);
python_plan plan_python(const run_request& req, const core_plan& cores, python_probe probe);

}  // namespace bench::py
