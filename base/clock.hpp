// The one clock every measurement uses: CLOCK_MONOTONIC through the vDSO (cheap: tens of ns a call, see
// docs/MEASURED.md; system-wide, so a time taken in one process can be compared with one taken in another).
#pragma once

#include <time.h>

#include <cstdint>

namespace bench {

inline std::uint64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// CPU time of the calling thread, for cpu_ns_per_msg (what waiting costs: a spinning endpoint burns its core).
inline std::uint64_t thread_cpu_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace bench
