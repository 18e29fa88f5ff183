#include "harness/event_loop.hpp"

#include <pthread.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"

namespace bench {

void event_loop_host::start(std::span<server_job> jobs, const workload_params& wl) {
  wl_ = wl;  // the sessions refer to this copy
  lock_ = make_server_lock(wl_);
  for (server_job& j : jobs)
    pairs_.push_back(std::make_unique<loop_pair>(std::move(j.ch->server), wl_, *j.slot, *lock_));
  cpu_ = jobs.empty() ? -1 : jobs.front().cpu;
  left_ = pairs_.size();
  thread_ = std::thread([this] { thread_main(); });
}

// The loop is a thread of the harness process: its CPU is in the harness's process clock, which the case reads
// around the clients' measured windows (each session also reads it, as every server does).
void event_loop_host::thread_main() noexcept {
  std::string error;
  bool stopped = false;
  pthread_setname_np(pthread_self(), "bench-loop");  // tells the loop apart in top, perf and gdb
  try {
    pin_this_thread(cpu_);
    where_.sample();
    for (auto& p : pairs_) p->buf.resize(wl_.msg_bytes);
    run_loop();
  } catch (const aborted_error& e) {
    error = e.what();
    stopped = true;
  } catch (const std::exception& e) {
    error = e.what();
  }
  where_.sample();
  if (error.empty()) {
    try {
      check_abort();
      error = "the event loop ended before this pair did";
    } catch (const aborted_error& e) {
      error = e.what();
      stopped = true;
    }
  }
  for (auto& p : pairs_)
    if (!p->over) fail_pair(*p, error, stopped);
}

void event_loop_host::finish_pair(loop_pair& p) noexcept {
  if (p.over) return;
  where_.sample();
  p.session.finish(where_.seen());
  p.over = true;
  --left_;
}

void event_loop_host::fail_pair(loop_pair& p, std::string_view what, bool stopped) noexcept {
  if (p.over) return;
  p.session.fail(what, where_.seen(), stopped);
  p.over = true;
  --left_;
}

std::string event_loop_host::join() {
  if (thread_.joinable()) {
    // A loop stuck in a handler (a --work of up to 1 s) is given its time; interrupt() has already woken it.
    thread_.join();
  }
  pairs_.clear();
  return {};
}

void event_loop_host::stop_and_join() noexcept {
  if (thread_.joinable()) {
    interrupt();
    thread_.join();
  }
  pairs_.clear();
}

}  // namespace bench
