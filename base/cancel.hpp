// Stopping a case from outside: the watchdog (a hung peer) and Ctrl-C.
//
// Blocking loops retry EINTR through check_abort(); spinning loops call it every iteration. The watchdog sets
// the flag and then keeps poking the case's threads with SIGUSR1 (installed without SA_RESTART) until they have
// left their system calls, so a signal that lands just before a read() cannot be lost.
#pragma once

#include <pthread.h>

#include <atomic>

namespace bench {

namespace detail {
inline std::atomic<bool> abort_flag{false};
}

inline bool abort_requested() noexcept { return detail::abort_flag.load(std::memory_order_relaxed); }
void request_abort() noexcept;
void clear_abort() noexcept;
// Throws aborted_error if the current case is being stopped.
void check_abort();

// SIGINT/SIGTERM set interrupted() and request_abort(); SIGUSR1 only interrupts system calls; SIGPIPE is
// ignored (a dead peer shows up as EPIPE instead of killing the harness).
void install_signal_handlers();
bool interrupted() noexcept;
int interrupt_signal() noexcept;  // the signal that interrupted the run, 0 if none
// Interrupts a blocking system call in the given thread (EINTR).
void poke_thread(pthread_t thread) noexcept;

}  // namespace bench
