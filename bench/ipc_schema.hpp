// The ipc suite's context.schema: the fields that tell its cases apart (the ones ipc_case_key writes) and what
// each measured field is, as data that the results file, the console and plots/report.py share.
#pragma once

#include "harness/case_key.hpp"

namespace bench {

// `serializers`: the run has --serializers cases, whose rows carry the split of the round trip.
suite_schema ipc_schema(bool serializers);

}  // namespace bench
