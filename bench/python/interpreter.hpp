// The CPython lane: which interpreter runs the Python cases, what it can import, and one worker run under a
// deadline. Shared by `bench run python` and the contention suite's real-GIL rows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bench {

struct run_request;

// --python, where given, names an executable (a path, or a name found on $PATH); else usage_error, one line.
void check_python_flag(const run_request& req);

// The interpreter the Python cases run on: `given` (--python) if not empty, else $BENCH_PYTHON, the configured
// one, Debian's /usr/bin/python3 (the one that imports Debian's python3-zmq and python3-msgpack), python3.
// Unlike find_python() it need not import matplotlib.
std::string python_for_cases(const std::string& given);

// bench/python/py_worker.py (or another script of the source tree's bench/ folder, beside plots/).
std::filesystem::path bench_script(const std::string& relative);

// What a worker printed and how it ended.
struct worker_output {
  int status = -1;       // exit status; 128 + signal; -1 when it was killed at its deadline or on Ctrl-C
  std::string out, err;  // stdout (the worker's JSON), the last 4 KiB of stderr
  bool overran = false;  // killed at its deadline
  // One line for a results row: the worker's own last stderr line where it left one.
  std::string failure(const std::string& what) const;
};

// Runs argv in a process group of its own with stdout and stderr captured, and kills the whole group (the worker
// and every process it forked: servers, multiprocessing's helpers) when it outlives `timeout_ns`, when bench is
// interrupted, and after it exits (a server a dying worker left behind).
worker_output run_worker(std::vector<std::string> argv, std::uint64_t timeout_ns);

// What `py_worker.py --probe` said: the runtime's name ("cpython-3.11"), and for every Python transport and
// serializer why it is unavailable ("" where it is available) and, for transports, the server models it supports.
struct python_probe {
  std::string interpreter;  // as given
  std::string runtime;      // "cpython-3.11"; empty when the probe failed
  std::string executable;
  bool gil = true;
  std::string failure;  // why the probe failed (no interpreter, no script, a crash)
  std::map<std::string, std::string> transport_unavailable, serializer_unavailable;
  std::map<std::string, std::vector<std::string>> transport_models;
};
python_probe probe_python(const std::string& interpreter);

}  // namespace bench
