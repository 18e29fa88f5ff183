// `bench run serialize`: what it costs to turn a message into bytes and back, per serializer, message shape and
// phase (build, encode, decode, traverse, and the whole round trip), with the bytes on the wire.
//
// Built on Google Benchmark: one registered benchmark per serializer x shape x phase, run with repetitions in
// random interleaved order on one pinned CPU, captured by a reporter and written through the same results
// files as the ipc suite. Rows are named serialize/serializer:<name>/shape:<shape>/phase:<phase>.
#pragma once

#include "bench/suite.hpp"

namespace bench {

// Checks the serialize-specific parts of a request (serializer and shape names, the filter) and throws
// usage_error naming the valid choices; does no work. The CLI calls it before anything runs.
void validate_serialize(const run_request& req);

// Runs the suite; returns 0 when every case ran, 1 when some failed (rows with error_occurred), 130 when
// interrupted (what finished is written).
int run_serialize(const run_request& req);

}  // namespace bench
