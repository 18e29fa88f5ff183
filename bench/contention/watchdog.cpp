#include "bench/contention/watchdog.hpp"

#include <chrono>

#include "base/cancel.hpp"
#include "base/clock.hpp"

namespace bench::contention {

case_watchdog::case_watchdog() : thread_([this] { loop(); }) {}

case_watchdog::~case_watchdog() {
  {
    std::lock_guard lk(m_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void case_watchdog::arm(std::uint64_t bound_ns, std::function<void()> on_fire) {
  {
    std::lock_guard lk(m_);
    armed_ = true;
    fired_ = false;
    deadline_ns_ = now_ns() + bound_ns;
    action_ = std::move(on_fire);
    ++generation_;
  }
  cv_.notify_all();
}

void case_watchdog::set_action(std::function<void()> on_fire) {
  std::function<void()> run_now;
  {
    std::lock_guard lk(m_);
    action_ = std::move(on_fire);
    // Already fired (or interrupted) before the action existed: run it at once, on this thread.
    if (armed_ && (fired_ || interrupted())) run_now = action_;
  }
  if (run_now) run_now();
}

bool case_watchdog::disarm() {
  bool fired = false;
  {
    std::lock_guard lk(m_);
    armed_ = false;
    fired = fired_;
    fired_ = false;
    action_ = nullptr;
    ++generation_;
  }
  cv_.notify_all();
  if (fired) clear_abort();
  return fired;
}

void case_watchdog::loop() {
  std::unique_lock lk(m_);
  while (!quit_) {
    if (!armed_ || fired_) {
      // Nothing armed (or already fired): between cases a Ctrl-C is seen by the suite itself.
      cv_.wait(lk);
      continue;
    }
    // Wake at the deadline, and every 50 ms to notice Ctrl-C (the signal handler cannot notify us).
    const std::uint64_t now = now_ns();
    const bool interrupted_now = interrupted();
    if (now >= deadline_ns_ || interrupted_now) {
      fired_ = !interrupted_now;  // an interrupt is not a timeout
      request_abort();
      std::function<void()> action = action_;
      const std::uint64_t gen = generation_;
      lk.unlock();
      if (action) action();
      lk.lock();
      if (interrupted_now) {
        // Stay quiet until the case disarms (the generation changes).
        cv_.wait(lk, [&] { return quit_ || generation_ != gen; });
      }
      continue;
    }
    const std::uint64_t wait_ns = std::min<std::uint64_t>(deadline_ns_ - now, 50'000'000);
    cv_.wait_for(lk, std::chrono::nanoseconds(wait_ns));
  }
}

}  // namespace bench::contention
