#include "harness/model.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/registry.hpp"
#include "harness/model_async.hpp"
#include "harness/model_uring.hpp"

namespace bench {
namespace {

// Servers as threads of the harness process, all doing their --work under one lock (the process's).
class thread_host final : public server_host {
 public:
  ~thread_host() override {
    if (!threads_.empty()) {
      interrupt();
      join();
    }
  }
  void start(std::span<server_job> jobs, const workload_params& wl) override {
    lock_ = make_server_lock(wl);
    for (server_job& j : jobs) {
      endpoints_.push_back(std::move(j.ch->server));
      finished_.push_back(std::make_unique<std::atomic<bool>>(false));
      endpoint* ep = endpoints_.back().get();
      std::atomic<bool>* finished = finished_.back().get();
      pair_slot* slot = j.slot;
      int cpu = j.cpu;
      work_lock* lock = lock_.get();
      threads_.emplace_back([ep, slot, cpu, wl, finished, lock] {
        serve(*ep, wl, *slot, cpu, *lock);
        finished->store(true, std::memory_order_release);
      });
    }
  }
  void interrupt() noexcept override {
    request_abort();
    for (std::size_t i = 0; i < threads_.size(); ++i)
      if (!finished_[i]->load()) poke_thread(threads_[i].native_handle());
  }
  std::string join() override {
    // A server blocked in a system call when the case was stopped needs repeated pokes: a signal that lands
    // just before it enters read() would otherwise be lost.
    std::uint64_t deadline = now_ns() + 2'000'000'000ull;
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      while (!finished_[i]->load(std::memory_order_acquire)) {
        if (!abort_requested() && now_ns() > deadline) request_abort();  // a server that will not end is stopped
        if (abort_requested()) poke_thread(threads_[i].native_handle());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      threads_[i].join();
    }
    threads_.clear();
    finished_.clear();
    endpoints_.clear();
    return {};
  }

 private:
  std::unique_ptr<work_lock> lock_;  // declared first: outlives the threads that use it
  std::vector<std::unique_ptr<endpoint>> endpoints_;
  std::vector<std::unique_ptr<std::atomic<bool>>> finished_;
  std::vector<std::thread> threads_;
};

// Servers as forked child processes. Each child: its own process group (so the terminal's Ctrl-C reaches only
// the harness, which then stops the children itself), a parent-death signal (a killed harness never leaves a
// child spinning on a core), and only its own endpoint open. Each child builds its own lock after the fork (as
// each Python process has its own GIL): processes never share one.
class process_host final : public server_host {
 public:
  ~process_host() override {
    if (!pids_.empty()) {
      interrupt();
      join();
    }
  }
  void start(std::span<server_job> jobs, const workload_params& wl) override {
    pid_t parent = ::getpid();
    // Calibrated once here (the locks use it, even without --work), inherited by every child: not 10 ms of
    // calibration in each one, per case.
    cpu_work::calibrate();
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      pid_t pid = ::fork();
      if (pid < 0) throw_errno("fork a server process");
      if (pid == 0) run_child(jobs, i, wl, parent);
      pids_.push_back(pid);
      jobs[i].ch->server.reset();  // the child has it; our copy would hide the child's exit from the client
    }
  }
  void interrupt() noexcept override {
    for (pid_t p : pids_) ::kill(p, SIGKILL);
  }
  std::string join() override {
    std::string problems;
    std::uint64_t deadline = now_ns() + 2'000'000'000ull;
    for (pid_t p : pids_) {
      int status = 0;
      for (;;) {
        pid_t r = ::waitpid(p, &status, WNOHANG);
        if (r == p || (r < 0 && errno != EINTR)) break;
        if (now_ns() > deadline) ::kill(p, SIGKILL);  // a server that will not end: it does not get to linger
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (WIFSIGNALED(status) && !abort_requested()) {
        problems += fmt::format("{}server process {} killed by {}", problems.empty() ? "" : "; ", p,
                                strsignal(WTERMSIG(status)));
      } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        problems += fmt::format("{}server process {} exited with status {}", problems.empty() ? "" : "; ", p,
                                WEXITSTATUS(status));
      }
    }
    pids_.clear();
    return problems;
  }

 private:
  [[noreturn]] static void run_child(std::span<server_job> jobs, std::size_t mine, const workload_params& wl,
                                     pid_t parent) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(3);  // the harness died before prctl took effect
    ::signal(SIGINT, SIG_IGN);              // the harness handles Ctrl-C and stops us
    ::signal(SIGTERM, SIG_DFL);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      if (jobs[j].ch->client) jobs[j].ch->client.reset();
      if (j != mine && jobs[j].ch->server) jobs[j].ch->server.reset();
    }
    std::unique_ptr<work_lock> lock;
    try {
      lock = make_server_lock(wl);
    } catch (const std::exception& e) {
      report_server_failure(*jobs[mine].slot, e.what());
      ::_exit(1);
    }
    serve(*jobs[mine].ch->server, wl, *jobs[mine].slot, jobs[mine].cpu, *lock);
    // Closed properly before _exit: an endpoint that queues in user space (ZeroMQ's I/O thread) hands over
    // what it still holds, e.g. the echo of the last message, instead of dying with it.
    jobs[mine].ch->server.reset();
    lock.reset();
    // _exit: no atexit handlers, no destructors of the parent's objects, no flushing of copied stdio buffers.
    ::_exit(jobs[mine].slot->state.load() == pair_slot::done ? 0 : 1);
  }
  std::vector<pid_t> pids_;
};

std::string available() { return {}; }

const std::array table = {
    model_info{.name = "thread",
               .description = "server side of each pair in its own thread of the harness process",
               .unavailable_reason = available,
               .make = [] { return std::unique_ptr<server_host>(new thread_host); }},
    model_info{.name = "process",
               .description = "server side of each pair in its own forked process",
               .needs_cross_process = true,
               .unavailable_reason = available,
               .make = [] { return std::unique_ptr<server_host>(new process_host); }},
    model_info{.name = "async",
               .description = "server side of every pair in ONE event-loop thread: Boost.Asio on epoll, "
                              "a C++20 coroutine per connection",
               .needs_pollable = true,
               .spins = false,
               .unavailable_reason = available,
               .make = make_async_host},
    model_info{.name = "async-uring",
               .description = "server side of every pair in ONE event-loop thread on io_uring: batched "
                              "submissions, completions reaped in bulk, registered files",
               .needs_pollable = true,
               .spins = false,
               .unavailable_reason = uring_unavailable_reason,
               .make = make_uring_host},
};

}  // namespace

std::span<const model_info> models() { return table; }

const model_info* find_model(std::string_view name) { return find_row(models(), name); }

std::string incompatibility(const model_info& m, const transport_info& t) {
  if (m.needs_cross_process && !t.cross_process) return fmt::format("{} works within one process only", t.name);
  if (m.needs_pollable && !t.pollable) return fmt::format("{} has no pollable descriptor for an event loop", t.name);
  if (m.needs_pollable && !t.event_loop)
    return fmt::format("{} does not hand its descriptors to an event loop yet (endpoint::native)", t.name);
  return {};
}

}  // namespace bench
