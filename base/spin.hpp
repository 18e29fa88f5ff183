// Busy-waiting that stays polite: a pause instruction per poll, an abort check, and a sched_yield() every so
// often so that a spinning endpoint whose peer is not running (more endpoints than cores) lets it run instead
// of burning its whole time slice. Without the yield an oversubscribed spinning case can stall for whole
// scheduler ticks per message.
#pragma once

#include <sched.h>

#include <cstdint>

#include "base/cancel.hpp"

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
  // yield_every must be a power of two. Polls that are themselves system calls (a non-blocking read returning
  // EAGAIN) yield sooner than pause-only polls of shared memory, which cost far less each: with both ends of a
  // spinning pipe on one core, a rare yield makes every handoff wait for it (docs/MEASURED.md).
  explicit spinner(std::uint32_t yield_every = 1024) noexcept : mask_(yield_every - 1) {}

  // One poll that found nothing: pause; every yield_every polls, check for abort and yield the CPU.
  void once() {
    cpu_relax();
    if ((++polls_ & mask_) == 0) {
      check_abort();
      sched_yield();
    }
  }
  std::uint64_t polls() const noexcept { return polls_; }

 private:
  std::uint64_t polls_ = 0;
  std::uint64_t mask_;
};

}  // namespace bench
