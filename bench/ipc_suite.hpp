// `bench run ipc`: latency, throughput and the pairs sweep over every transport and model.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "bench/suite.hpp"
#include "harness/ipc_case.hpp"

namespace bench {

// Every check on the request that does not need a measurement (names, sizes against each transport's limits,
// values). Throws usage_error: the CLI calls it before any work.
void validate_ipc(const run_request& req);
// The lecture matrix (the cases the lecture deck's lessons draw) is the default of `bench run ipc`; --matrix full,
// --quick or any flag that chooses cases (--transports, --sizes, --lock, ...) plans the cross product instead.
bool lecture_matrix(const run_request& req);
// The contention suite's run that a lecture run adds into DIR/contention/ (the convoy, spinlocks oversubscribed);
// none for the full matrix or with --filter.
std::optional<run_request> lecture_contention_request(const run_request& req, const std::filesystem::path& dir);
// The core-to-core map (bench run cores --quick) a lecture run adds into DIR/cores/ on a machine with more than
// one kind of CPU pair; none otherwise, for the full matrix or with --filter.
std::optional<run_request> lecture_cores_request(const run_request& req, const std::filesystem::path& dir,
                                                 const topology& topo);
// Why the case cannot run here (the transport unavailable, the model or workload incompatible), or "".
std::string ipc_skip_reason(const ipc_case& c);
// The cases of a run, in the order each round runs them; skipped ones carry their reason.
std::vector<ipc_case> plan_ipc(const run_request& req, const core_plan& cores);
int run_ipc(const run_request& req);

}  // namespace bench
