// Processes for the two-host tests: bench serve and bench run as children that cannot outlive the test (a
// parent-death signal, and a destructor that stops and reaps them), and the serve's address from its first line.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench::test {
namespace fs = std::filesystem;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline fs::path fresh_dir(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("bench-remote-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

class child_process {
 public:
  // Runs argv[0] (a path) with stdout and stderr into files under `io`.
  // `env`: NAME=VALUE pairs added to the child's environment.
  child_process(std::vector<std::string> argv, const fs::path& io, const std::vector<std::string>& env = {})
      : out_(io / "out"), err_(io / "err") {
    pid_ = ::fork();
    if (pid_ == 0) {
      for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // survives exec (ip netns exec too): a killed test leaves no child
      if (!std::freopen(out_.c_str(), "w", stdout) || !std::freopen(err_.c_str(), "w", stderr)) ::_exit(126);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~child_process() { stop(SIGTERM); }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }
  // Waits for the exit status (128 + signal for a signal); nullopt if still running after `seconds`.
  std::optional<int> wait(double seconds) {
    if (status_) return status_;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      if (r < 0 || std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // Sends sig, waits up to 5 s, then SIGKILL; returns the status.
  int stop(int sig) {
    if (status_ || pid_ <= 0) return status_.value_or(-1);
    ::kill(pid_, sig);
    if (auto s = wait(5)) return *s;
    ::kill(pid_, SIGKILL);
    return wait(5).value_or(-1);
  }

 private:
  pid_t pid_ = -1;
  fs::path out_, err_;
  std::optional<int> status_;
};

// Waits for bench serve's first line and returns the "ADDR:PORT" it listens on ("" if it never said).
inline std::string serve_address(const child_process& serve, double seconds = 20) {
  std::regex re("listening on ([0-9.]+:[0-9]+)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string out = serve.out();
    if (std::regex_search(out, m, re)) return m[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

// Processes whose environment holds `marker` (a test's children carry it through every fork and exec).
inline int processes_with(const std::string& marker) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == ::getpid()) continue;
    std::string env = slurp(e.path() / "environ");
    if (env.find(marker) != std::string::npos) ++n;
  }
  return n;
}

// The results contract of a run against a peer: every row measured, the peer's figures in it, both hosts named.
inline void check_results(const fs::path& file, const std::string& workloads_expected) {
  nlohmann::json doc = nlohmann::json::parse(slurp(file));
  const auto& ctx = doc["context"];
  ASSERT_TRUE(ctx.contains("peer")) << ctx.dump();
  EXPECT_FALSE(ctx["host_name"].get<std::string>().empty());
  EXPECT_FALSE(ctx["peer"]["host_name"].get<std::string>().empty());
  EXPECT_TRUE(ctx["peer"]["context"].contains("kernel"));
  EXPECT_TRUE(ctx["peer"]["floor"].contains("memcpy_gbps"));
  EXPECT_GE(ctx["peer"]["cores_available"].get<int>(), 1);
  int rows = 0;
  for (const auto& r : doc["benchmarks"]) {
    if (r["run_type"] != "iteration") continue;
    ++rows;
    EXPECT_FALSE(r["error_occurred"].get<bool>()) << r["name"] << ": " << r["error_message"];
    EXPECT_EQ(r["peer"], ctx["peer"]["host_name"]);
    EXPECT_FALSE(r["server_cpus"].get<std::string>().empty()) << r["name"];
    EXPECT_GT(r["server_cpu_ns_per_msg"].get<double>(), 0) << r["name"];
    EXPECT_EQ(r["lost"], 0);
    EXPECT_EQ(r["corrupt"], 0);
    if (r["workload"] == "latency")
      EXPECT_GT(r["rtt_p50_ns"].get<double>(), 0);
    else
      EXPECT_GT(r["msgs_per_s"].get<double>(), 0);
  }
  EXPECT_GT(rows, 0) << workloads_expected;
}

}  // namespace bench::test
