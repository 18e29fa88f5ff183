#include "bench/python/interpreter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/fd.hpp"
#include "bench/suite.hpp"
#include "harness/build_info.hpp"

extern char** environ;

namespace bench {
namespace fs = std::filesystem;

std::string python_for_cases(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("BENCH_PYTHON"); env && *env) return env;
  if (*build_info::python) return build_info::python;
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  return "python3";
}

void check_python_flag(const run_request& req) {
  if (req.python.empty()) return;
  const bool path = req.python.find('/') != std::string::npos;
  bool found = path && ::access(req.python.c_str(), X_OK) == 0;
  if (const char* p = std::getenv("PATH"); !path && p) {
    std::string_view dirs = p;
    for (std::size_t at = 0; at <= dirs.size() && !found;) {
      const std::size_t colon = std::min(dirs.find(':', at), dirs.size());
      found = ::access((fs::path(dirs.substr(at, colon - at)) / req.python).c_str(), X_OK) == 0;
      at = colon + 1;
    }
  }
  if (!found) throw usage_error(fmt::format("--python {}: no such executable", req.python));
}

fs::path bench_script(const std::string& relative) { return plots_dir().parent_path() / "bench" / relative; }

std::string worker_output::failure(const std::string& what) const {
  std::string last;
  std::size_t end = err.find_last_not_of(" \n\t");
  if (end != std::string::npos) {
    std::size_t begin = err.rfind('\n', end);
    last =
        err.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
  }
  std::string how = overran         ? what + " overran its deadline and was stopped"
                    : status < 0    ? what + " was stopped"
                    : status >= 128 ? fmt::format("{} was killed by signal {}", what, status - 128)
                                    : fmt::format("{} exited with status {}", what, status);
  return last.empty() ? how : how + ": " + last;
}

namespace {

struct spawned {
  pid_t pid = 0;
  unique_fd out, err;
};

spawned spawn_grouped(std::vector<std::string>& argv) {
  int o[2], e[2];
  if (::pipe2(o, O_CLOEXEC) != 0) throw std::runtime_error("pipe for a Python worker");
  unique_fd out_r(o[0]), out_w(o[1]);
  if (::pipe2(e, O_CLOEXEC) != 0) throw std::runtime_error("pipe for a Python worker");
  unique_fd err_r(e[0]), err_w(e[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A group of its own, so that a deadline kills the worker's servers and helpers too; SIGINT stays bench's
  // to handle (the terminal sends it to the foreground group, which the worker has left).
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  spawned s;
  int rc = posix_spawnp(&s.pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  s.out = std::move(out_r);
  s.err = std::move(err_r);
  return s;
}

// Reads both pipes until both close, the deadline passes or bench is interrupted; true when it had to stop.
bool drain(spawned& s, worker_output& w, std::uint64_t deadline) {
  char buf[65536];
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    if (now_ns() > deadline || interrupted()) return true;
    pollfd p[2] = {{out_open ? s.out.get() : -1, POLLIN, 0}, {err_open ? s.err.get() : -1, POLLIN, 0}};
    if (::poll(p, 2, 50) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (p[i].revents == 0) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      std::string& to = i == 0 ? w.out : w.err;
      to.append(buf, static_cast<std::size_t>(n));
      if (i == 1 && to.size() > 8192) to.erase(0, to.size() - 4096);
    }
  }
  return false;
}

}  // namespace

worker_output run_worker(std::vector<std::string> argv, std::uint64_t timeout_ns) {
  spawned s = spawn_grouped(argv);
  worker_output w;
  const bool stopped = drain(s, w, now_ns() + timeout_ns);
  if (stopped) {
    ::kill(-s.pid, SIGKILL);
    w.overran = !interrupted();
  }
  int status = 0;
  while (::waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {}
  ::kill(-s.pid, SIGKILL);  // whatever the worker left behind in its group
  w.status = stopped ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return w;
}

python_probe probe_python(const std::string& interpreter) {
  python_probe p;
  p.interpreter = interpreter;
  const fs::path script = bench_script("python/py_worker.py");
  if (!fs::exists(script)) {
    p.failure = "no " + script.string();
    return p;
  }
  worker_output out;
  try {
    out = run_worker({interpreter, script.string(), "--probe"}, 30'000'000'000ull);
  } catch (const std::exception& e) {
    p.failure = e.what();
    return p;
  }
  if (out.status != 0) {
    p.failure = out.failure(interpreter + " " + script.filename().string() + " --probe");
    return p;
  }
  try {
    nlohmann::json doc = nlohmann::json::parse(out.out);
    p.runtime = doc.at("runtime").get<std::string>();
    p.executable = doc.value("executable", "");
    p.gil = doc.value("gil", true);
    for (const auto& [name, t] : doc.at("transports").items()) {
      p.transport_unavailable[name] = t.value("unavailable", "");
      p.transport_models[name] = t.value("models", std::vector<std::string>{});
    }
    for (const auto& [name, why] : doc.at("serializers").items())
      p.serializer_unavailable[name] = why.get<std::string>();
  } catch (const std::exception& e) {
    p.runtime.clear();
    p.failure = fmt::format("{} --probe printed what bench cannot read: {}", script.filename().string(), e.what());
  }
  return p;
}

}  // namespace bench
