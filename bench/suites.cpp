// The table of suites `bench run` and `bench list suites` read.
#include <array>

#include "base/registry.hpp"
#include "bench/contention/contention_suite.hpp"
#include "bench/cores/cores_suite.hpp"
#include "bench/ipc_suite.hpp"
#include "bench/python/python_suite.hpp"
#include "bench/serialize/serialize_suite.hpp"
#include "bench/suite.hpp"

namespace bench {
namespace {
const std::array table = {
    suite_info{"ipc", "latency, throughput and pairs scaling of every transport under every model", validate_ipc,
               run_ipc},
    suite_info{"contention", "locks vs threads, false sharing, and an emulated GIL (CPU-bound, convoy, placement)",
               validate_contention, run_contention},
    suite_info{"cores", "the cache-line round trip between every pair of CPUs: where your threads run", validate_cores,
               run_cores},
    suite_info{"serialize", "build, encode, decode, traverse and round trip of 7 serializers over 3 message shapes",
               validate_serialize, run_serialize},
    suite_info{"python",
               "the course's own Python (os.pipe, sockets, multiprocessing, pickle, the GIL) on real CPython, beside "
               "the same in C++",
               validate_python, run_python},
};
}  // namespace

std::span<const suite_info> suites() { return table; }

const suite_info* find_suite(std::string_view name) { return find_row(suites(), name); }

}  // namespace bench
