#include "serializers/messages.hpp"

#include <limits>

#include "serializers/serializer.hpp"

namespace bench::ser {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on every platform.
class rng {
 public:
  explicit rng(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform enough for test data (the modulo bias of n << 2^64 is negligible) and deterministic.
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  std::string letters(std::size_t n, char first, int count) {
    std::string s(n, ' ');
    for (char& c : s) c = static_cast<char>(first + static_cast<int>(below(static_cast<std::uint64_t>(count))));
    return s;
  }

 private:
  std::uint64_t state_;
};

constexpr std::int64_t epoch_2023_ns = 1'700'000'000'000'000'000;

tick make_tick(rng& r) {
  tick t;
  t.seq = 1'000'000 + r.below(1'000'000'000);
  t.timestamp_ns = epoch_2023_ns + static_cast<std::int64_t>(r.below(1'000'000'000'000'000));
  t.instrument = static_cast<std::uint32_t>(r.below(100'000));
  t.quantity = static_cast<std::int32_t>(r.between(1, 10'000)) * (r.below(2) ? 1 : -1);
  t.price = static_cast<double>(r.between(100, 1'000'000)) / 100.0;  // cents
  t.symbol = r.letters(3 + r.below(6), 'A', 26);
  return t;
}

book make_book(rng& r) {
  book b;
  b.header.seq = 1'000'000 + r.below(1'000'000'000);
  b.header.timestamp_ns = epoch_2023_ns + static_cast<std::int64_t>(r.below(1'000'000'000'000'000));
  b.header.venue = r.letters(4, 'A', 26);
  b.header.symbol = r.letters(3 + r.below(6), 'A', 26);
  const std::int64_t mid = r.between(10'000, 100'000);  // cents
  const std::int64_t step = r.between(1, 5);
  for (std::size_t i = 0; i < limits::book_levels; ++i) {
    const auto offset = static_cast<std::int64_t>(i + 1) * step;
    b.bids.push_back(
        {static_cast<double>(mid - offset) / 100.0, r.between(1, 5'000), static_cast<std::uint32_t>(r.between(1, 40))});
    b.asks.push_back(
        {static_cast<double>(mid + offset) / 100.0, r.between(1, 5'000), static_cast<std::uint32_t>(r.between(1, 40))});
  }
  return b;
}

bulk make_bulk(rng& r) {
  bulk b;
  b.ints.reserve(limits::bulk_ints);
  for (std::size_t i = 0; i < limits::bulk_ints; ++i) {
    switch (r.below(4)) {  // as in cpp-serializers' data.hpp: 8-, 16-, 32- and 64-bit magnitudes, signed
      case 0: b.ints.push_back(r.between(-128, 127)); break;
      case 1: b.ints.push_back(r.between(-32'768, 32'767)); break;
      case 2:
        b.ints.push_back(r.between(std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
        break;
      default: b.ints.push_back(static_cast<std::int64_t>(r.next())); break;
    }
  }
  b.strings.reserve(limits::bulk_strings);
  for (std::size_t i = 0; i < limits::bulk_strings; ++i) b.strings.push_back(r.letters(80 + r.below(21), 'a', 26));
  return b;
}

// Strings JSON must escape, and multi-byte UTF-8 (2-, 3- and 4-byte sequences), within 15 bytes.
const std::string escapes = "q\"b\\\x01\t\n/";                       // 8 bytes
const std::string unicode = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x99\x82";  // e-acute, euro sign, a smiley: 9 bytes

template <class Out>
void walk(const tick& m, tick& d, Out& out) {
  out.set(d.seq, m.seq);
  out.set(d.timestamp_ns, m.timestamp_ns);
  out.set(d.instrument, m.instrument);
  out.set(d.quantity, m.quantity);
  out.set(d.price, m.price);
  out.set(d.symbol, m.symbol);
}

template <class Out>
void walk(const book& m, book& d, Out& out) {
  out.set(d.header.seq, m.header.seq);
  out.set(d.header.timestamp_ns, m.header.timestamp_ns);
  out.set(d.header.venue, m.header.venue);
  out.set(d.header.symbol, m.header.symbol);
  walk_level_array(m.bids.data(), m.bids.size(), d.bids, out);
  walk_level_array(m.asks.data(), m.asks.size(), d.asks, out);
}

template <class Out>
void walk(const bulk& m, bulk& d, Out& out) {
  out.resize(d.ints, m.ints.size());
  for (std::size_t i = 0; i < m.ints.size(); ++i) out.set(out.elem(d.ints, i), m.ints[i]);
  out.resize(d.strings, m.strings.size());
  for (std::size_t i = 0; i < m.strings.size(); ++i) {
    auto&& s = out.elem(d.strings, i);
    out.set(s, std::string_view(m.strings[i]));
  }
}

}  // namespace

std::string_view to_string(shape s) noexcept {
  switch (s) {
    case shape::small: return "small";
    case shape::medium: return "medium";
    case shape::large: return "large";
  }
  return "?";
}

std::optional<shape> parse_shape(std::string_view name) noexcept {
  for (shape s : all_shapes)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

std::string shape_names() {
  std::string out;
  for (shape s : all_shapes) out += (out.empty() ? "" : ", ") + std::string(to_string(s));
  return out;
}

std::string_view describe(shape s) noexcept {
  switch (s) {
    case shape::small: return "market tick: 4 integers, a double, a 3-8 character symbol (48 bytes raw)";
    case shape::medium: return "order book: nested header and 2 x 20 nested price levels (~1 KiB raw)";
    case shape::large: return "1000 int64 of mixed magnitude + 100 strings of 80-100 chars (cpp-serializers' record)";
  }
  return "?";
}

shape shape_of(const message& m) noexcept { return static_cast<shape>(m.index()); }

message make_message(shape s, std::uint64_t seed) {
  rng r(seed * 0x100000001B3ULL + static_cast<std::uint64_t>(s) + 1);
  switch (s) {
    case shape::small: return make_tick(r);
    case shape::medium: return make_book(r);
    case shape::large: return make_bulk(r);
  }
  return make_tick(r);
}

message make_edge_message(shape s, int variant) {
  using i64 = std::numeric_limits<std::int64_t>;
  const bool extreme = variant % edge_variants == 0;
  const bool empty = variant % edge_variants == 1;
  switch (s) {
    case shape::small: {
      tick t;
      if (extreme) {
        t = {std::numeric_limits<std::uint64_t>::max(), i64::min(),
             std::numeric_limits<std::uint32_t>::max(), std::numeric_limits<std::int32_t>::min(),
             std::numeric_limits<double>::max(),        escapes + "1234567"};
      } else if (empty) {
        t = {0, 0, 0, 0, -0.0, ""};  // every field at its default: protobuf encodes this as zero bytes
      } else {
        t = {1, -1, 1, std::numeric_limits<std::int32_t>::max(), std::numeric_limits<double>::denorm_min(), unicode};
      }
      return t;
    }
    case shape::medium: {
      book b;
      b.header = {std::numeric_limits<std::uint64_t>::max(), i64::max(), escapes, unicode};
      if (empty) b.header = {};
      if (!empty) {
        for (std::size_t i = 0; i < limits::book_levels; ++i) {
          level l{extreme ? -1e300 : 0.1 * static_cast<double>(i), extreme ? i64::min() : static_cast<std::int64_t>(i),
                  extreme ? std::numeric_limits<std::uint32_t>::max() : static_cast<std::uint32_t>(i)};
          b.asks.push_back(l);
          if (extreme) b.bids.push_back(l);
        }
      }
      return b;
    }
    case shape::large: {
      bulk b;
      if (empty) return b;
      b.ints = {i64::min(), i64::max(), 0, -1, 1, 127, -128, 128, 300, -300};
      b.strings = {"", std::string(limits::bulk_string, 'x'), escapes, unicode};
      if (extreme) {
        b.ints.resize(limits::bulk_ints, i64::min());
        b.strings.resize(limits::bulk_strings, std::string(limits::bulk_string, '\\'));
      }
      return b;
    }
  }
  return tick{};
}

bool fits_limits(const message& m) noexcept {
  struct visitor {
    bool operator()(const tick& t) const noexcept { return t.symbol.size() <= limits::short_string; }
    bool operator()(const book& b) const noexcept {
      return b.header.venue.size() <= limits::short_string && b.header.symbol.size() <= limits::short_string &&
             b.bids.size() <= limits::book_levels && b.asks.size() <= limits::book_levels;
    }
    bool operator()(const bulk& b) const noexcept {
      if (b.ints.size() > limits::bulk_ints || b.strings.size() > limits::bulk_strings) return false;
      for (const std::string& s : b.strings)
        if (s.size() > limits::bulk_string) return false;
      return true;
    }
  };
  return std::visit(visitor{}, m);
}

std::uint64_t checksum_of(const message& m) noexcept {
  return std::visit(
      [](const auto& plain) {
        into_checksum out;
        std::remove_cvref_t<decltype(plain)> scratch;
        walk(plain, scratch, out);
        return out.value();
      },
      m);
}

}  // namespace bench::ser
