// Results files: results.json in Google Benchmark's shape (so tools/compare.py can diff two runs) and
// results.csv, both written atomically (temporary file, fsync, rename): an interrupted run never leaves a
// truncated file. Every suite (ipc, serialize, contention) writes through here.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using json = nlohmann::ordered_json;

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
// cpu_time. Rows with error_occurred are left out of the aggregates (and counted in `failed_repetitions`), as
// are rows marked "excluded": true (e.g. a disturbed round dropped on request).
void add_aggregates(std::vector<json>& rows, const std::vector<std::string>& fields);

json to_document(const run_results& r);
void write_text_atomic(const std::filesystem::path& path, std::string_view text);
// results.json and results.csv in r.dir.
void write_results(const run_results& r);
std::string to_csv(const std::vector<json>& rows);

// Reads a results.json back (bench plot, bench compare); throws std::runtime_error with the path on failure.
json read_results(const std::filesystem::path& file);

}  // namespace bench
