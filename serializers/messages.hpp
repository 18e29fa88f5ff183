// The three message shapes every serializer carries, as plain C++ structs, generated deterministically from a
// seed, with equality and a checksum that every serializer's traverse() must reproduce.
//
//   small  `tick`: a market tick (a few integers, a double, a short string); 48 bytes as a raw struct.
//   medium `book`: an order-book snapshot: a nested header and two repeated lists of nested levels; ~1 KiB raw.
//   large  `bulk`: 1000 int64 and 100 strings of 80-100 characters: the record of thekvs/cpp-serializers, the
//                  comparison most C++ serializer benchmarks quote, so our figures can be set beside theirs.
//                  Like theirs, the integers mix magnitudes (a quarter each fits 8, 16, 32 and 64 bits, signed),
//                  which decides the size of every varint format (protobuf, msgpack) and of JSON.
//
// Generation uses its own PRNG (splitmix64), not <random>'s distributions, whose results differ between
// standard libraries: the same seed gives the same message everywhere.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace bench::ser {

enum class shape : std::uint8_t { small, medium, large };
inline constexpr std::array<shape, 3> all_shapes = {shape::small, shape::medium, shape::large};

std::string_view to_string(shape s) noexcept;
std::optional<shape> parse_shape(std::string_view name) noexcept;
std::string shape_names();                    // "small, medium, large": for error messages
std::string_view describe(shape s) noexcept;  // one line, for the console and the results' context

// Bounds every message in this suite respects (generated or edge case); raw's fixed layout is sized from them,
// and raw's build() refuses a message that exceeds them. Strings are valid UTF-8 without NUL bytes (JSON and
// proto3 require valid UTF-8; Cap'n Proto Text is NUL-terminated).
namespace limits {
inline constexpr std::size_t short_string = 15;  // tick.symbol, book_header.venue and .symbol (bytes)
inline constexpr std::size_t book_levels = 20;   // book.bids and book.asks, each
inline constexpr std::size_t bulk_ints = 1000;
inline constexpr std::size_t bulk_strings = 100;
inline constexpr std::size_t bulk_string = 103;  // bytes; generated strings are 80-100 long
}  // namespace limits

struct tick {
  std::uint64_t seq = 0;
  std::int64_t timestamp_ns = 0;
  std::uint32_t instrument = 0;
  std::int32_t quantity = 0;  // negative: sell
  double price = 0;
  std::string symbol;
  bool operator==(const tick&) const = default;
};

struct level {
  double price = 0;
  std::int64_t quantity = 0;
  std::uint32_t orders = 0;
  bool operator==(const level&) const = default;
};

struct book_header {
  std::uint64_t seq = 0;
  std::int64_t timestamp_ns = 0;
  std::string venue;
  std::string symbol;
  bool operator==(const book_header&) const = default;
};

struct book {
  book_header header;
  std::vector<level> bids;
  std::vector<level> asks;
  bool operator==(const book&) const = default;
};

struct bulk {
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
  bool operator==(const bulk&) const = default;
};

// One message of any shape; the alternative's index is the shape's value.
using message = std::variant<tick, book, bulk>;

shape shape_of(const message& m) noexcept;
template <class Plain>
inline constexpr shape shape_v = std::is_same_v<Plain, tick>   ? shape::small
                                 : std::is_same_v<Plain, book> ? shape::medium
                                                               : shape::large;

// The benchmark's message: a function of (shape, seed) only.
message make_message(shape s, std::uint64_t seed);
// The seed of the message both suites measure (`bench run serialize`, `bench run ipc --serializers`), so that
// their figures are about the same bytes.
inline constexpr std::uint64_t message_seed = 1;
// Messages at the edges of every type: integer minima and maxima, a denormal, the largest double and -0.0,
// strings that JSON must escape (quote, backslash, control characters) and multi-byte UTF-8, empty strings and
// empty lists, strings at their length limit. `variant` 0, 1, 2 pick different mixes.
message make_edge_message(shape s, int variant);
inline constexpr int edge_variants = 3;
// Whether m stays within `limits` (raw can carry it).
bool fits_limits(const message& m) noexcept;

// The value traverse() returns: every field in declaration order, integers by value, doubles by bit pattern
// (zeros of either sign alike: operator== calls them equal, and FlatBuffers, which leaves out fields equal to
// their default, gives -0.0 back as 0.0), list lengths, and for strings their length plus first and last byte (traverse
// proves every string is reachable and in bounds without paying for a byte-wise hash, which would swamp the differences
// being shown).
class checksum {
 public:
  template <class T>
  void add(T v) noexcept {
    if constexpr (std::is_floating_point_v<T>) {
      double d = static_cast<double>(v);
      mix(d == 0 ? 0 : std::bit_cast<std::uint64_t>(d));  // -0.0 as 0.0: FlatBuffers drops a zero's sign
    } else {
      mix(static_cast<std::uint64_t>(v));
    }
  }
  void add(std::string_view s) noexcept {
    std::uint64_t v = s.size();
    if (!s.empty())
      v ^= static_cast<std::uint64_t>(static_cast<unsigned char>(s.front())) << 48 |
           static_cast<std::uint64_t>(static_cast<unsigned char>(s.back())) << 56;
    mix(v);
  }
  void add_count(std::size_t n) noexcept { mix(n ^ 0xC0C0C0C0C0C0C0C0ULL); }
  std::uint64_t value() const noexcept { return finalize(h_); }

 private:
  // Rotate-and-add: a dependency chain of two one-cycle instructions per value, so that the checksum costs less
  // than the reads it proves (a multiply per value would dominate traverse for the large shape). Position-
  // dependent, so a swapped or shifted field changes it; value() mixes the result (splitmix64's finalizer).
  void mix(std::uint64_t v) noexcept { h_ = std::rotl(h_, 7) + v; }
  static std::uint64_t finalize(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t h_ = 0xCBF29CE484222325ULL;
};

std::uint64_t checksum_of(const message& m) noexcept;

}  // namespace bench::ser
