// The three shared helpers the CLI defines in bench/run_common.cpp. This test binary links only the
// contention suite, so it brings its own: a context with the fields every suite writes, no charts, and the
// oversubscription warning.
#include <cstdio>

#include "bench/suite.hpp"
#include "harness/sysinfo.hpp"

namespace bench {

nlohmann::ordered_json suite_context(const run_request& req, const core_plan& cores) {
  json c = machine_context();
  c["command_line"] = req.command_line;
  c["suite"] = req.suite;
  c["cores_requested"] = cores.requested;
  c["cores_available"] = cores.available;
  c["oversubscribed"] = cores.oversubscribed;
  c["cpus_used"] = cores.cpus;
  return c;
}

void draw_charts(const run_request&, const std::filesystem::path&) {}

void warn_oversubscribed(const core_plan& cores) {
  std::fprintf(stderr, "warning: %d cores requested, %d available: oversubscribed\n", cores.requested,
               cores.available);
}

}  // namespace bench
