// What the two event-loop models (`async` on Boost.Asio, `async-uring` on io_uring) share: ONE thread serves the
// server side of every pair of a case, pinned to the first server CPU of the placement. Each pair keeps the
// same server_session the blocking servers use, so verification, tallies, --work and credits are identical;
// only how the loop waits for the descriptors differs. The --work runs under the harness process's lock (--lock),
// which the loop alone uses: uncontended, but applied, so that its cost is in the figures as in the other models.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/model.hpp"

namespace bench {

struct loop_pair {
  loop_pair(std::unique_ptr<endpoint> e, const workload_params& wl, pair_slot& s, work_lock& lock)
      : ep(std::move(e)), slot(&s), session(wl, s, lock) {}
  std::unique_ptr<endpoint> ep;
  endpoint::native_io io;  // filled by the loop (ep->native()), in the loop's thread
  pair_slot* slot;
  server_session session;
  std::vector<std::byte> buf;  // one message
  bool over = false;           // finished or failed: the slot's state is final
};

class event_loop_host : public server_host {
 public:
  void start(std::span<server_job> jobs, const workload_params& wl) final;
  // The loop's own failure (it could not be set up) is reported through every pair's slot; join returns "".
  std::string join() final;

 protected:
  // Runs in the loop thread: sets every pair up (native(), buffers), calls ready() on each session, and serves
  // them until each is over (finish_pair/fail_pair) or the case is stopped (abort_requested()).
  virtual void run_loop() = 0;
  void finish_pair(loop_pair& p) noexcept;
  void fail_pair(loop_pair& p, std::string_view what, bool stopped = false) noexcept;
  // Derived destructors call this first: the loop must not outlive what it uses.
  void stop_and_join() noexcept;
  std::size_t pairs_left() const noexcept { return left_; }

  std::unique_ptr<work_lock> lock_;  // before pairs_: their sessions refer to it
  std::vector<std::unique_ptr<loop_pair>> pairs_;

 private:
  void thread_main() noexcept;
  workload_params wl_;
  int cpu_ = -1;
  std::size_t left_ = 0;
  cpu_sampler where_;
  std::thread thread_;
};

}  // namespace bench
