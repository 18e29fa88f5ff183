#include "harness/results.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "harness/error.hpp"
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
const std::vector<std::string> identity_fields = {
    "suite", "transport", "model", "serializer", "workload", "wait", "placement", "msg_bytes", "pairs", "rate",
    "work_ns", "shape", "wire_bytes", "phase", "experiment", "lock", "policy", "switch_interval_us", "oversubscribed"};

double as_double(const json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }
}  // namespace

void add_aggregates(std::vector<json>& rows, const std::vector<std::string>& fields) {
  // Group iteration rows by run_name, keeping first-seen order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const json*>> groups;
  std::map<std::string, int> failed;
  for (const json& r : rows) {
    if (r.value("run_type", "") != "iteration") continue;
    std::string rn = r.value("run_name", r.value("name", ""));
    if (!groups.count(rn) && !failed.count(rn)) order.push_back(rn);
    if (r.value("error_occurred", false)) {
      ++failed[rn];
      groups[rn];
      continue;
    }
    if (r.value("excluded", false)) {
      groups[rn];
      continue;
    }
    groups[rn].push_back(&r);
  }
  std::vector<json> aggs;
  for (const std::string& rn : order) {
    const auto& g = groups[rn];
    if (g.empty()) continue;
    const json& first = *g.front();
    std::vector<std::string> all = {"real_time", "cpu_time"};
    all.insert(all.end(), fields.begin(), fields.end());
    std::map<std::string, summary> sums;
    for (const std::string& f : all) {
      std::vector<double> v;
      for (const json* r : g)
        if (r->contains(f) && (*r)[f].is_number()) v.push_back(as_double((*r)[f]));
      if (!v.empty()) sums[f] = summarize(v);
    }
    // The spread of the row's headline figure (an ipc latency row's is rtt_p50_ns: its real_time is a mean).
    const summary& rt = sums[first.value("spread_of", std::string("real_time"))];
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
      a["iterations"] = g.size();
      for (const std::string& f : identity_fields)
        if (first.contains(f)) a[f] = first[f];
      for (const std::string& f : all) {
        auto it = sums.find(f);
        if (it == sums.end()) continue;
        const summary& s = it->second;
        double v = 0;
        std::string_view st(stat);
        if (st == "median") v = s.median;
        else if (st == "mean") v = s.mean;
        else if (st == "stddev") v = s.stddev;
        else if (st == "cv") v = s.mean != 0 ? s.stddev / s.mean : 0;
        else if (st == "min") v = s.min;
        else v = s.max;
        a[f] = v;
      }
      a["time_unit"] = first.value("time_unit", "ns");
      if (std::string_view(stat) == "median") {
        a["spread_pct"] = rt.spread_pct;
        a["mad"] = rt.mad;
        // Wide spread between repetitions: flagged, with the console suggesting what would help.
        a["unstable"] = g.size() > 1 && rt.spread_pct > 20.0;
        a["failed_repetitions"] = failed.count(rn) ? failed[rn] : 0;
      }
      aggs.push_back(std::move(a));
    }
  }
  for (json& a : aggs) rows.push_back(std::move(a));
}

json to_document(const run_results& r) {
  json doc;
  doc["context"] = r.context;
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
