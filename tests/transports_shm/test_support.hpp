// Helpers shared by the transport tests of issue 3: a private scratch directory, channel options, a bounded
// guard against hanging, and counts of the process's descriptors and mappings (to prove nothing leaks).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/cancel.hpp"
#include "base/message.hpp"
#include "transports/transport.hpp"

namespace bench::test {

// mkdtemp under the temporary directory; removed (it must be empty by then) when the test ends.
class scratch_dir {
 public:
  scratch_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bench-shm-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a scratch directory");
    path_ = tmpl;
  }
  ~scratch_dir() { std::filesystem::remove_all(path_); }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  bool empty() const { return std::filesystem::is_empty(path_); }

 private:
  std::filesystem::path path_;
};

inline channel_options options(const scratch_dir& dir, std::size_t max_msg, wait_mode wait = wait_mode::block) {
  static int counter = 0;
  channel_options opt;
  opt.max_msg_bytes = max_msg;
  opt.wait = wait;
  opt.scratch_dir = dir.path().string();
  opt.unique_name = "shmtest-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  return opt;
}

// Not a timing assertion: if the code under test hangs, this stops it after `limit` (request_abort makes every
// bench wait loop throw aborted_error), so a bug fails the test instead of hanging the suite.
class hang_guard {
 public:
  explicit hang_guard(std::chrono::seconds limit)
      : thread_([this, limit] {
          std::unique_lock lock(m_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) request_abort();
        }) {}
  ~hang_guard() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
    clear_abort();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

inline std::size_t count_entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

inline std::size_t open_fds() { return count_entries("/proc/self/fd"); }

// Lines of /proc/self/maps that mention `needle` (e.g. a memfd's name).
inline std::size_t mappings_named(const std::string& needle) {
  std::ifstream maps("/proc/self/maps");
  std::size_t n = 0;
  for (std::string line; std::getline(maps, line);)
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

// The server side of a ping-pong: echoes every message until one flagged end (or the peer's goodbye).
inline void echo_until_end(endpoint& ep, std::size_t max_msg) {
  std::vector<std::byte> buf(max_msg);
  for (;;) {
    std::size_t n = ep.recv(buf);
    if (n == 0) return;
    ep.send(std::span(buf).first(n));
    if (read_header(buf).flags & flag_end) return;
  }
}

// The client side: `count` round trips of `size`-byte messages, the last flagged end; every echo verified.
// Throws std::runtime_error on a bad echo (a gtest assertion cannot leave a helper).
inline void ping_pong(endpoint& ep, std::size_t size, std::uint64_t count) {
  message_source src(size, 5);
  std::vector<std::byte> buf(size);
  for (std::uint64_t i = 0; i < count; ++i) {
    ep.send(src.next(i, i + 1 == count ? std::uint32_t{flag_end} : 0u));
    if (ep.recv(buf) != size || !verify_message(buf) || read_header(buf).seq != i) {
      throw std::runtime_error("echo " + std::to_string(i) + " is wrong");
    }
  }
}

// The process model: forks; the child drops the client endpoint, runs `child_side` on the server endpoint and
// exits (status 0, or 1 if it threw) without returning into the test; the parent drops the server endpoint.
inline pid_t fork_server(channel& ch, const std::function<void(endpoint&)>& child_side) {
  pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("cannot fork");
  if (child == 0) {
    ch.client.reset();
    int code = 0;
    try {
      child_side(*ch.server);
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }
  ch.server.reset();
  return child;
}

// Waits for a child and returns its wait status.
inline int reap(pid_t child) {
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return status;
}

}  // namespace bench::test
