// Busy-waiting that stays polite: a pause instruction per poll, an abort check, and a sched_yield() every so
// often so that a spinning endpoint whose peer is not running (more endpoints than cores) lets it run instead
// of burning its whole time slice. Without the yield an oversubscribed spinning case can stall for whole
// scheduler ticks per message.
#pragma once

#include <sched.h>

#include <cstdint>

#include "harness/cancel.hpp"

namespace bench {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class spinner {
 public:
  // One poll that found nothing: pause; every 1024 polls, check for abort and yield the CPU.
  void once() {
    cpu_relax();
    if ((++polls_ & 1023u) == 0) {
      check_abort();
      sched_yield();
    }
  }
  std::uint64_t polls() const noexcept { return polls_; }

 private:
  std::uint64_t polls_ = 0;
};

}  // namespace bench
