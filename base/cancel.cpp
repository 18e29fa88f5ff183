#include "base/cancel.hpp"

#include <signal.h>

#include <cstring>

#include "base/error.hpp"

namespace bench {
namespace {
volatile sig_atomic_t g_interrupt_signal = 0;

extern "C" void on_interrupt(int sig) {
  g_interrupt_signal = sig;
  detail::abort_flag.store(true, std::memory_order_relaxed);
}
extern "C" void on_poke(int) {}
}  // namespace

void request_abort() noexcept { detail::abort_flag.store(true, std::memory_order_relaxed); }

void clear_abort() noexcept {
  // A Ctrl-C stays in force for the rest of the run.
  detail::abort_flag.store(g_interrupt_signal != 0, std::memory_order_relaxed);
}

void check_abort() {
  if (abort_requested()) {
    throw aborted_error(g_interrupt_signal != 0 ? "interrupted" : "stopped by the watchdog");
  }
}

void install_signal_handlers() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocked reads must return EINTR
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = on_poke;
  sigaction(SIGUSR1, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool interrupted() noexcept { return g_interrupt_signal != 0; }
int interrupt_signal() noexcept { return g_interrupt_signal; }

void poke_thread(pthread_t thread) noexcept { pthread_kill(thread, SIGUSR1); }

std::string errno_text(std::string_view what, int err) {
  std::string s = "cannot ";
  s += what;
  s += ": ";
  s += std::strerror(err);
  return s;
}

void throw_errno(std::string_view what, int err) { throw std::runtime_error(errno_text(what, err)); }

}  // namespace bench
