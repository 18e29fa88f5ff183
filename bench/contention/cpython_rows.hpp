// The real GIL beside the emulated one: the contention suite's GIL experiments run by CPython itself
// (bench/contention/cpython_compare.py), each worker's raw figures turned into rows named and shaped like the
// emulation's rows plus runtime: cpython-X.Y.
//   gil-convoy (--convoy-worker): an I/O thread's socketpair echoes beside one CPU-bound thread; bench's own
//              statistics of its raw round trips.
//   gil-cpu    (--cpu-worker): a countdown loop split over threads under one GIL, or over processes, sized by a
//              calibration so that one thread does as much CPU work as the emulated job.
// Every worker runs through run_worker (bench/python/interpreter.hpp): a process group of its own, killed whole at
// its deadline or on Ctrl-C; a worker that fails or overruns gives a failed row with the reason.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench::contention {

// The interpreter and the worker script, and the runtime's name as the interpreter says it ("cpython-3.11").
struct cpython_lane {
  std::string python;
  std::filesystem::path script;
  std::string runtime;
};

// `python`: as python_for_cases gives it. Empty, with `why` set, where the script or the interpreter is missing.
std::optional<cpython_lane> open_cpython_lane(const std::string& python, std::string& why);

struct cpython_convoy_case {
  std::string emulated_name;  // the emulated case it stands beside; the row's name appends /runtime:cpython-X.Y
  int cpu_threads = 0;        // 0 (the I/O thread alone) or 1
  std::uint64_t switch_interval_ns = 0;
  std::uint64_t duration_ns = 0;
  bool oversubscribed = false;
  std::uint64_t timeout_ns = 0;  // the worker's deadline; 0: the duration and 30 s more
};

// `reps` repetitions of every case, interleaved.
std::vector<nlohmann::ordered_json> cpython_convoy_rows(const cpython_lane& lane,
                                                        const std::vector<cpython_convoy_case>& cases, int reps);

// CPython's cost of one countdown step (`n -= 1` in a while loop) in CPU time, measured once per run.
struct cpython_calibration {
  double ns_per_iteration = 0;   // 0 where it failed
  std::uint64_t iterations = 0;  // the countdown it timed
  std::uint64_t wall_ns = 0, cpu_ns = 0;
  std::string failure;
};
cpython_calibration calibrate_cpython_cpu(const cpython_lane& lane, const std::vector<int>& cpus,
                                          std::uint64_t target_ns);

struct cpython_cpu_case {
  std::string emulated_name;
  std::string policy;  // the emulated twin's policy (CPython's GIL is the new one)
  bool processes = false;
  int workers = 1;
  std::uint64_t switch_interval_ns = 0;
  std::uint64_t work_ns = 0;  // the emulated job: what one thread's countdown is sized to take
  std::vector<int> cpus;      // worker i on cpus[i % size], as the emulation pins
  bool oversubscribed = false;
  std::uint64_t timeout_ns = 0;  // 0: twenty times the work and 30 s more
};

// `reps` repetitions of every case, interleaved; every row says its countdown length and the calibration.
std::vector<nlohmann::ordered_json> cpython_cpu_rows(const cpython_lane& lane,
                                                     const std::vector<cpython_cpu_case>& cases, int reps,
                                                     const cpython_calibration& cal);

}  // namespace bench::contention
