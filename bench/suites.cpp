// The table of suites `bench run` and `bench list suites` read.
#include <array>

#include "bench/ipc_suite.hpp"
#include "bench/suite.hpp"

namespace bench {
namespace {
const std::array table = {
    suite_info{"ipc", "latency, throughput and pairs scaling of every transport under every model", validate_ipc,
               run_ipc},
};
}  // namespace

std::span<const suite_info> suites() { return table; }

const suite_info* find_suite(std::string_view name) {
  for (const auto& s : table)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace bench
