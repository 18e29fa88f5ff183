// How `bench run` drives the suites of the table: `--json FILE` / `--csv FILE` (with "-", stdout carries the
// document and nothing else) and `bench run all` (every suite with its defaults, then one report of them all).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "bench/suite.hpp"
#include "harness/results.hpp"

namespace bench {
namespace fs = std::filesystem;
namespace {

// While a suite runs with `--json -` or `--csv -`, descriptor 1 is a copy of stderr: everything printed for a
// person (the console table, progress, chart paths, whatever a library or a child process prints) stays off the
// document. Done on the descriptor, not in each suite's printing, so it holds for every suite there will be.
class stdout_set_aside {
 public:
  stdout_set_aside() {
    std::fflush(stdout);
    saved_.reset(::fcntl(1, F_DUPFD_CLOEXEC, 3));
    if (!saved_) throw_errno("duplicate standard output");
    if (::dup2(2, 1) < 0) throw_errno("point standard output at standard error");
  }
  ~stdout_set_aside() {
    std::fflush(stdout);
    ::dup2(saved_.get(), 1);
  }
  stdout_set_aside(const stdout_set_aside&) = delete;
  stdout_set_aside& operator=(const stdout_set_aside&) = delete;

 private:
  unique_fd saved_;
};

void check_copies(const result_copies& copies, bool all) {
  if (copies.json.empty() && copies.csv.empty()) return;
  if (all) throw usage_error("--json and --csv copy one suite's results; `bench run all` writes a directory per suite");
  if (copies.json == "-" && copies.csv == "-") throw usage_error("--json - and --csv - cannot both print on stdout");
  for (const std::string& to : {copies.json, copies.csv}) {
    if (to.empty() || to == "-") continue;
    fs::path dir = fs::path(to).parent_path();
    if (!fs::is_directory(dir.empty() ? fs::path(".") : dir))
      throw usage_error(fmt::format("cannot write {}: no such directory {}", to, dir.string()));
  }
}

// The file as written by the suite, byte for byte, to `to` ("-": stdout).
void copy_result(const fs::path& from, const std::string& to) {
  if (to.empty()) return;
  std::ifstream in(from, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}: the run wrote no results", from.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (to != "-") {
    write_text_atomic(to, text.str());
    return;
  }
  std::string s = text.str();
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0)
    throw_errno("write the results to standard output");
}

int run_one(const suite_info& si, run_request req, const result_copies& copies) {
  bool copied = !copies.json.empty() || !copies.csv.empty();
  if (copied) req.out = prepare_run_dir(req.out, si.name);  // the suite writes where the copies are read from
  int rc = 0;
  {
    std::optional<stdout_set_aside> aside;
    if (copies.json == "-" || copies.csv == "-") aside.emplace();
    rc = si.run(req);
  }
  if (copied && rc != 2) {  // 2: refused before measuring anything, no results to copy
    copy_result(*req.out / "results.json", copies.json);
    copy_result(*req.out / "results.csv", copies.csv);
  }
  return rc;
}

// Every suite with the flags that apply to all (--cores, --quick, --duration, --reps, ...), each into
// DIR/<suite>/, then DIR/report.html of them all. Exit status: 130 as soon as one is interrupted, else 1 if any
// case of any suite failed. Like the charts, a report that cannot be drawn is a warning.
int run_all(run_request req) {
  fs::path base = prepare_run_dir(req.out, "all");
  std::vector<std::pair<const suite_info*, run_request>> plan;
  for (const suite_info& si : suites()) {
    run_request r = req;
    r.suite = std::string(si.name);
    r.out = base / si.name;
    si.validate(r);  // all of them before any work
    plan.emplace_back(&si, std::move(r));
  }
  int status = 0;
  std::vector<std::string> dirs;
  for (const auto& [si, r] : plan) {
    fmt::print("\n== bench run {} ==\n", r.suite);
    std::fflush(stdout);
    int rc = si->run(r);
    if (rc == 130) return rc;
    if (rc != 0) status = 1;
    if (fs::exists(*r.out / "results.json")) dirs.push_back(r.out->string());
  }
  if (req.no_plot || dirs.empty()) return status;
  std::vector<std::string> args = dirs;
  args.insert(args.end(), {"--out", (base / "report.html").string()});
  fmt::print("\nreport:\n");
  try {
    if (int rc = run_python_tool("report.py", args); rc != 0)
      fmt::print(stderr, "warning: the report script failed (status {}); the results files are complete\n", rc);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "warning: no report: {}\n", e.what());
  }
  return status;
}

}  // namespace

int run_command(const suite_info* si, run_request req, const result_copies& copies) {
  check_copies(copies, si == nullptr);
  return si ? run_one(*si, std::move(req), copies) : run_all(std::move(req));
}

}  // namespace bench
