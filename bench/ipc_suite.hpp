// `bench run ipc`: latency, throughput and the pairs sweep over every transport and model.
#pragma once

#include <vector>

#include "bench/suite.hpp"
#include "harness/ipc_case.hpp"

namespace bench {

// Every check on the request that does not need a measurement (names, sizes against each transport's limits,
// values). Throws usage_error: the CLI calls it before any work.
void validate_ipc(const run_request& req);
// The cases of a run, in the order each round runs them; skipped ones carry their reason.
std::vector<ipc_case> plan_ipc(const run_request& req, const core_plan& cores);
int run_ipc(const run_request& req);

}  // namespace bench
