#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "base/error.hpp"
#include "bench/suite.hpp"
#include "harness/build_info.hpp"
#include "harness/sysinfo.hpp"

extern char** environ;

namespace bench {
namespace fs = std::filesystem;

json suite_context(const run_request& req, const core_plan& cores) {
  json c = machine_context();
  c["command_line"] = req.command_line;
  c["suite"] = req.suite;
  c["cores_requested"] = cores.requested;
  c["cores_available"] = cores.available;
  c["oversubscribed"] = cores.oversubscribed;
  c["cpus_used"] = cores.cpus;
  c["topology"] = to_json(cores.topo);
  c["quick"] = req.quick;
  c["sanitized"] = build_info::sanitized;
  // Measured before the suite's own work, while nothing of bench runs: what machine_warnings calls busy.
  c["busy_at_start"] = to_json(measure_busy(cores.cpus));
  return c;
}

void warn_oversubscribed(const core_plan& cores) {
  if (cores.oversubscribed)
    fmt::print(stderr,
               "warning: {} cores requested but {} available: endpoints share CPUs round-robin "
               "(oversubscribed; recorded in the results)\n",
               cores.requested, cores.available);
}

namespace {

int run_quiet(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string find_python() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("BENCH_PYTHON")) candidates.push_back(env);
  if (*build_info::python) candidates.push_back(build_info::python);
  // Debian's matplotlib is importable only by the system interpreter; a pyenv python3 first on PATH is not.
  candidates.push_back("/usr/bin/python3");
  candidates.push_back("python3");
  for (const auto& py : candidates)
    if (run_quiet({py, "-c", "import matplotlib"}) == 0) return py;
  return {};
}

fs::path plots_dir() {
  if (const char* env = std::getenv("BENCH_PLOTS_DIR")) return env;
  fs::path p = build_info::plots_dir;
  if (fs::exists(p / "plot.py")) return p;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (fs::path d = exe.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path())
    if (fs::exists(d / "plots" / "plot.py")) return d / "plots";
  return p;
}

int run_python_tool(const std::string& script, const std::vector<std::string>& args) {
  std::string py = find_python();
  if (py.empty())
    throw std::runtime_error(
        fmt::format("cannot run plots/{}: no Python that can import matplotlib was found "
                    "(install python3-matplotlib, or set BENCH_PYTHON)",
                    script));
  std::vector<std::string> all = {py, (plots_dir() / script).string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid;
  if (int err = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ); err != 0)
    throw std::runtime_error(errno_text("start " + py, err));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_plot_script(const fs::path& dir) {
  int rc = 1;
  try {
    rc = run_python_tool("plot.py", {dir.string()});
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "warning: no charts: {}\n", e.what());
    return 1;
  }
  if (rc != 0) fmt::print(stderr, "warning: the chart script failed (status {}); the results files are complete\n", rc);
  return rc;
}

void draw_charts(const run_request& req, const fs::path& dir) {
  if (req.no_plot) return;
  fmt::print("charts:\n");
  run_plot_script(dir);
}

}  // namespace bench
