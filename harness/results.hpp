// Results files: results.json in Google Benchmark's JSON shape (name, run_type, iterations, real_time and
// cpu_time per iteration in time_unit, aggregates with aggregate_name and aggregate_unit) and
// results.csv, both written atomically (temporary file, fsync, rename): an interrupted run never leaves a
// truncated file. Every suite (ipc, serialize, contention) writes through here.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using json = nlohmann::ordered_json;

// context.schema_version of every results file: raised when a field changes meaning or goes (1: spread_pct was
// (max - min) / median of real_time; 2: a robust spread of each case's primary metric, context.statistics,
// aggregates' iterations as Google Benchmark counts them).
inline constexpr int results_schema_version = 2;

// The figure that stands for a case: the spread and the unstable flag describe it, bench compare compares it.
struct primary_metric {
  std::string field;
  bool higher_is_better = false;
};
using primary_metric_fn = std::function<primary_metric(const nlohmann::ordered_json& first_iteration_row)>;
// ipc rows: rtt_p50_ns for latency, msgs_per_s for throughput; anything else real_time.
primary_metric ipc_primary_metric(const json& row);
// context.statistics: the spread's definition and the unstable threshold (harness/stats.hpp).
json statistics_context();

// One run of one suite: the context block and one row per case and repetition (run_type "iteration"), plus
// the aggregate rows that add_aggregates() appends.
struct run_results {
  std::filesystem::path dir;
  json context = json::object();
  std::vector<json> rows;
};

// Creates results/<yyyymmdd-hhmmss>-<suite>/ (or `out` as given) and checks that it is writable.
// Throws usage_error (exit status 2) if it cannot be created or written, before any work is done.
std::filesystem::path prepare_run_dir(const std::optional<std::filesystem::path>& out, std::string_view suite);

// Appends Google Benchmark-style aggregate rows (median, mean, stddev, cv, min, max) for every run_name that
// has at least one successful iteration row. `fields` are the numeric fields aggregated besides real_time and
// cpu_time; `identity` the fields copied from the case's first row (its suite_schema's identity). Rows with
// error_occurred are left out of the aggregates (and counted in `failed_repetitions`), as are rows marked "excluded":
// true (e.g. a disturbed round dropped on request). The median row also carries primary_metric (from `primary_of` on
// the case's first row), higher_is_better, and that metric's spread_pct, mad and unstable flag.
void add_aggregates(std::vector<json>& rows, const std::vector<std::string>& fields,
                    const std::vector<std::string>& identity, const primary_metric_fn& primary_of = ipc_primary_metric);

json to_document(const run_results& r);
void write_text_atomic(const std::filesystem::path& path, std::string_view text);
// results.json and results.csv in r.dir.
void write_results(const run_results& r);
std::string to_csv(const std::vector<json>& rows);

// Reads a results.json back (bench plot, bench compare); throws std::runtime_error with the path on failure.
json read_results(const std::filesystem::path& file);

}  // namespace bench
