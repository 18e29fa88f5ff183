// libFuzzer target for the decoders of one serializer, named by BENCH_FUZZ_SERIALIZER in the environment (one
// fuzzing run per registry row, each with its own corpus): the first byte of an input picks the shape, the rest
// is the message. Whatever the bytes, decode must return a status; when it accepts them, traverse and to_plain
// must return too, and when both succeed they must agree (they may differ in success: Cap'n Proto reads under
// a traversal budget, and to_plain, which copies, gets a tighter one). Crashes, sanitizer reports, timeouts and
// oversized allocations are what libFuzzer reports. Built only with -DBENCH_FUZZ=ON and clang;
// tests/serializers/run_fuzz.sh builds it and runs it once per serializer.
//
// Other modes, chosen by the environment, so that the registry stays the only list of serializers:
//   BENCH_FUZZ_LIST=1           prints the serializer names, one a line, and exits;
//   BENCH_FUZZ_WRITE_SEEDS=DIR  writes a seed corpus into DIR (valid encodings of generated and edge-case
//                               messages of every shape) and exits: coverage-guided fuzzing of formats with
//                               length fields gets nowhere from random bytes alone.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "serializers/protobuf.hpp"
#include "serializers/registry.hpp"

namespace {
using namespace bench::ser;

const serializer_info& target() {
  static const serializer_info* info = [] {
    const char* name = std::getenv("BENCH_FUZZ_SERIALIZER");
    const serializer_info* found = name != nullptr ? find_serializer(name) : nullptr;
    if (found == nullptr) {
      std::fprintf(stderr, "fuzz_decode: set BENCH_FUZZ_SERIALIZER to one of: %s\n", serializer_names().c_str());
      std::exit(2);
    }
    return found;
  }();
  return *info;
}

codec& codec_for(shape s) {
  static std::unique_ptr<codec> codecs[] = {target().make(shape::small), target().make(shape::medium),
                                            target().make(shape::large)};
  return *codecs[static_cast<int>(s)];
}

void write_seeds(const char* dir) {
  int n = 0;
  for (shape s : all_shapes) {
    std::vector<message> seeds = {make_message(s, 1), make_message(s, 2)};
    for (int v = 0; v < edge_variants; ++v) seeds.push_back(make_edge_message(s, v));
    for (const message& m : seeds) {
      std::span<const std::byte> wire = codec_for(s).serialize(m);
      std::ofstream out(std::string(dir) + "/seed-" + std::to_string(n++), std::ios::binary);
      out.put(static_cast<char>(s));
      out.write(reinterpret_cast<const char*>(wire.data()), static_cast<std::streamsize>(wire.size()));
    }
  }
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  silence_protobuf_logs();
  if (std::getenv("BENCH_FUZZ_LIST") != nullptr) {
    for (const serializer_info& s : serializers()) std::printf("%s\n", std::string(s.name).c_str());
    std::exit(0);
  }
  if (const char* dir = std::getenv("BENCH_FUZZ_WRITE_SEEDS")) write_seeds(dir);
  (void)target();  // refuse a missing or unknown name before fuzzing starts
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto s = static_cast<shape>(data[0] % all_shapes.size());
  codec& c = codec_for(s);
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  if (!c.decode(bytes)) return 0;
  std::uint64_t sum = 0;
  const bool read = c.traverse(sum).ok();
  message m;
  const bool plain = c.to_plain(m).ok();
  // The two readers share one walker per format: what both could read, they must read alike.
  if (read && plain && sum != checksum_of(m)) __builtin_trap();
  return 0;
}
