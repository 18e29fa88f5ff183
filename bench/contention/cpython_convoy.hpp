// The real GIL beside the emulated one: the convoy run by CPython itself (bench/contention/cpython_compare.py
// --convoy-worker: an I/O thread's socketpair echoes beside one CPU-bound thread), its raw round trips turned into
// rows by bench's own statistics, named and shaped like the emulation's rows plus runtime: cpython-X.Y.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench::contention {

struct cpython_convoy_case {
  std::string emulated_name;  // the emulated case it stands beside; the row's name appends /runtime:cpython-X.Y
  int cpu_threads = 0;        // 0 (the I/O thread alone) or 1
  std::uint64_t switch_interval_ns = 0;
  std::uint64_t duration_ns = 0;
  bool oversubscribed = false;
  std::uint64_t timeout_ns = 0;  // the worker's deadline; 0: the duration and 30 s more
};

// `reps` repetitions of every case, interleaved; a worker that fails, hangs past its deadline or prints no samples
// gives a failed row with the reason (and leaves no process: the worker runs in a process group of its own, killed
// whole). Empty, with `why` set, where no interpreter or worker script is found.
std::vector<nlohmann::ordered_json> cpython_convoy_rows(const std::vector<cpython_convoy_case>& cases, int reps,
                                                        std::string& why);

}  // namespace bench::contention
