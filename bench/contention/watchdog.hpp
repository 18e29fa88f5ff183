// A per-case time bound for the contention suite: one thread that, when a case outlives its bound (or the run
// is interrupted), asks the case to stop (request_abort) and runs the case's own unblocking action (shut a
// socket down, kill child processes). Spinning and GIL-waiting code notices the abort flag; blocking calls
// are ended by the action. The case then reports itself as failed, and the run goes on.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace bench::contention {

class case_watchdog {
 public:
  case_watchdog();
  ~case_watchdog();
  case_watchdog(const case_watchdog&) = delete;
  case_watchdog& operator=(const case_watchdog&) = delete;

  // Starts watching a case that must end within `bound_ns`. `on_fire` runs once (on the watchdog thread) when
  // the bound passes or on Ctrl-C, after the abort flag is set.
  void arm(std::uint64_t bound_ns, std::function<void()> on_fire = {});
  // Replaces the action of the armed case (e.g. once its sockets exist).
  void set_action(std::function<void()> on_fire);
  // Stops watching. Returns true if the bound passed (the case timed out); clears the abort flag the
  // watchdog set (a Ctrl-C stays in force).
  bool disarm();

 private:
  void loop();

  std::mutex m_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool fired_ = false;
  bool quit_ = false;
  std::uint64_t deadline_ns_ = 0;
  std::uint64_t generation_ = 0;
  std::function<void()> action_;
  std::thread thread_;
};

}  // namespace bench::contention
