#include "harness/results.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "harness/stats.hpp"

namespace bench {
namespace fs = std::filesystem;

fs::path prepare_run_dir(const std::optional<fs::path>& out, std::string_view suite) {
  fs::path dir;
  if (out) {
    dir = *out;
  } else {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    dir = fs::path("results") / fmt::format("{}-{}", stamp, suite);
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw usage_error(fmt::format("cannot create output directory {}: {}", dir.string(), ec.message()));
  // Probe writability now, so a bad --out fails before anything is measured.
  fs::path probe = dir / ".bench-write-probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw usage_error(errno_text("write to output directory " + dir.string(), errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return dir;
}

namespace {
double as_double(const json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }

// The successful, not excluded iteration rows of every run_name (first-seen order), and the failed count.
struct case_groups {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const json*>> rows;
  std::map<std::string, int> failed;
};

case_groups group_iterations(const std::vector<json>& rows) {
  case_groups g;
  for (const json& r : rows) {
    if (r.value("run_type", "") != "iteration") continue;
    std::string rn = r.value("run_name", r.value("name", ""));
    if (!g.rows.count(rn)) g.order.push_back(rn);
    auto& mine = g.rows[rn];
    if (r.value("error_occurred", false))
      ++g.failed[rn];
    else if (!r.value("excluded", false))
      mine.push_back(&r);
  }
  return g;
}

double statistic(const summary& s, std::string_view stat) {
  if (stat == "median") return s.median;
  if (stat == "mean") return s.mean;
  if (stat == "stddev") return s.stddev;
  if (stat == "cv") return s.mean != 0 ? s.stddev / s.mean : 0;  // a fraction, as Google Benchmark writes it
  if (stat == "min") return s.min;
  return s.max;
}
}  // namespace

primary_metric ipc_primary_metric(const json& row) {
  const std::string workload = row.value("workload", "");
  if (workload == "latency") return {"rtt_p50_ns", false};
  if (workload == "throughput") return {"msgs_per_s", true};
  return {"real_time", false};
}

json statistics_context() {
  return {{"spread", spread_definition},
          {"unstable_above_pct", unstable_above_pct},
          {"primary_metric",
           "each median row's primary_metric names the field that its spread_pct, mad and "
           "unstable describe and that bench compare compares (higher_is_better gives the "
           "direction)"}};
}

void add_aggregates(std::vector<json>& rows, const std::vector<std::string>& fields,
                    const std::vector<std::string>& identity, const primary_metric_fn& primary_of) {
  const case_groups groups = group_iterations(rows);
  std::vector<json> aggs;
  for (const std::string& rn : groups.order) {
    const auto& g = groups.rows.at(rn);
    if (g.empty()) continue;
    const json& first = *g.front();
    primary_metric primary = primary_of(first);
    std::vector<std::string> all = {"real_time", "cpu_time"};
    all.insert(all.end(), fields.begin(), fields.end());
    if (std::find(all.begin(), all.end(), primary.field) == all.end()) all.push_back(primary.field);
    std::map<std::string, summary> sums;
    for (const std::string& f : all) {
      std::vector<double> v;
      for (const json* r : g)
        if (r->contains(f) && (*r)[f].is_number()) v.push_back(as_double((*r)[f]));
      if (!v.empty()) sums[f] = summarize(v);
    }
    if (!sums.count(primary.field)) primary = {"real_time", false};  // e.g. every repetition starved
    const summary& spread = sums[primary.field];
    for (const char* stat : {"median", "mean", "stddev", "cv", "min", "max"}) {
      json a;
      a["name"] = rn + "_" + stat;
      a["family_index"] = first.value("family_index", 0);
      a["per_family_instance_index"] = first.value("per_family_instance_index", 0);
      a["run_name"] = rn;
      a["run_type"] = "aggregate";
      a["repetitions"] = first.value("repetitions", 0);
      a["threads"] = first.value("threads", 1);
      a["aggregate_name"] = stat;
      a["aggregate_unit"] = std::string_view(stat) == "cv" ? "percentage" : "time";
      // Google Benchmark's meaning: the iterations of a repetition (its first), not how many repetitions.
      a["iterations"] = first.value("iterations", json(0));
      a["repetitions_used"] = g.size();
      for (const std::string& f : identity)
        if (first.contains(f)) a[f] = first[f];
      if (first.contains("oversubscribed")) a["oversubscribed"] = first["oversubscribed"];
      for (const std::string& f : all)
        if (auto it = sums.find(f); it != sums.end()) a[f] = statistic(it->second, stat);
      a["time_unit"] = first.value("time_unit", "ns");
      if (std::string_view(stat) == "median") {
        a["primary_metric"] = primary.field;
        a["higher_is_better"] = primary.higher_is_better;
        a["spread_pct"] = spread.spread_pct;
        a["mad"] = spread.mad;
        // Repetitions that disagree: flagged, with the console suggesting what would help.
        a["unstable"] = is_unstable(spread);
        a["failed_repetitions"] = groups.failed.count(rn) ? groups.failed.at(rn) : 0;
      }
      aggs.push_back(std::move(a));
    }
  }
  for (json& a : aggs) rows.push_back(std::move(a));
}

json to_document(const run_results& r) {
  json doc;
  // The version first, so a reader can refuse a file it does not know before reading anything else.
  doc["context"] = {{"schema_version", results_schema_version}, {"statistics", statistics_context()}};
  doc["context"].update(r.context);
  doc["benchmarks"] = json::array();
  for (const json& row : r.rows) doc["benchmarks"].push_back(row);
  return doc;
}

void write_text_atomic(const fs::path& path, std::string_view text) {
  fs::path tmp = path;
  tmp += fmt::format(".tmp-{}", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("create " + tmp.string());
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw_errno("write " + tmp.string(), err);
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_errno("rename " + tmp.string() + " to " + path.string(), err);
  }
}

std::string to_csv(const std::vector<json>& rows) {
  // Columns: the union of every row's keys, in first-seen order.
  std::vector<std::string> cols;
  std::map<std::string, bool> seen;
  for (const json& r : rows)
    for (auto it = r.begin(); it != r.end(); ++it)
      if (!seen[it.key()]) {
        seen[it.key()] = true;
        cols.push_back(it.key());
      }
  auto cell = [](const json& v) -> std::string {
    if (v.is_null()) return "";
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (s.find_first_of(",\"\n") == std::string::npos) return s;
      std::string q = "\"";
      for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    }
    if (v.is_number_float()) return fmt::format("{}", v.get<double>());
    return v.dump();
  };
  std::ostringstream out;
  for (std::size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << cols[i];
  out << "\n";
  for (const json& r : rows) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) out << ",";
      if (r.contains(cols[i])) out << cell(r[cols[i]]);
    }
    out << "\n";
  }
  return out.str();
}

void write_results(const run_results& r) {
  // nlohmann writes doubles with full round-trip precision.
  write_text_atomic(r.dir / "results.json", to_document(r).dump(2) + "\n");
  write_text_atomic(r.dir / "results.csv", to_csv(r.rows));
}

json read_results(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string() + ": no such file or not readable");
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot parse " + file.string() + ": " + e.what());
  }
}

}  // namespace bench
