// raw: the floor. The message as one trivially copyable struct of fixed capacity (strings in fixed slots with a
// length byte, lists in fixed arrays with a count), copied with memcpy.
//
// Speed choices, and why:
// - build fills the struct in place and zeroes only the unused tail of each string slot (no memset of the
//   whole struct): the bytes on the wire are a function of the message, never of the previous one.
// - encode is one memcpy of the struct into a reused buffer: what "sending a struct" costs.
// - decode checks the size, memcpy's into an aligned struct (the input may sit at any address), then checks
//   every count and length against the capacities, so traverse never reads out of bounds.
// Layout and byte order are the machine's: both ends must be the same build on the same architecture. That is
// the price of the floor, and why the other formats exist.
#include "serializers/raw.hpp"

#include <cstring>

#include "serializers/serializer.hpp"

namespace bench::ser {
namespace {

template <std::size_t Capacity>
struct fixed_string {
  std::uint8_t size;
  char data[Capacity];
};
static_assert(sizeof(fixed_string<limits::short_string>) == 16);
static_assert(sizeof(fixed_string<limits::bulk_string>) == 104);

struct raw_tick {
  std::uint64_t seq;
  std::int64_t timestamp_ns;
  std::uint32_t instrument;
  std::int32_t quantity;
  double price;
  fixed_string<limits::short_string> symbol;
};
static_assert(sizeof(raw_tick) == 48, "no padding: every byte on the wire is written by build()");

struct raw_level {
  double price;
  std::int64_t quantity;
  std::uint32_t orders;
  std::uint32_t reserved;  // explicit padding, always 0
};

struct raw_book {
  std::uint64_t seq;
  std::int64_t timestamp_ns;
  fixed_string<limits::short_string> venue;
  fixed_string<limits::short_string> symbol;
  std::uint32_t n_bids;
  std::uint32_t n_asks;
  raw_level bids[limits::book_levels];
  raw_level asks[limits::book_levels];
};
static_assert(sizeof(raw_book) == 56 + 2 * limits::book_levels * sizeof(raw_level), "no padding");

struct raw_bulk {
  std::uint32_t n_ints;
  std::uint32_t n_strings;
  std::int64_t ints[limits::bulk_ints];
  fixed_string<limits::bulk_string> strings[limits::bulk_strings];
};
static_assert(sizeof(raw_bulk) == 8 + 8 * limits::bulk_ints + 104 * limits::bulk_strings, "no padding");

template <std::size_t C>
void put(fixed_string<C>& dst, const std::string& s) {
  if (s.size() > C) throw std::length_error("raw: a string is longer than its fixed slot (see limits)");
  dst.size = static_cast<std::uint8_t>(s.size());
  std::memcpy(dst.data, s.data(), s.size());
  std::memset(dst.data + s.size(), 0, C - s.size());
}

template <std::size_t C>
std::string_view view(const fixed_string<C>& s) noexcept {
  return {s.data, s.size};
}

void put_levels(const std::vector<level>& src, raw_level* dst, std::uint32_t& n) {
  if (src.size() > limits::book_levels) throw std::length_error("raw: more book levels than the fixed array holds");
  n = static_cast<std::uint32_t>(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = {src[i].price, src[i].quantity, src[i].orders, 0};
  std::memset(static_cast<void*>(dst + src.size()), 0, (limits::book_levels - src.size()) * sizeof(raw_level));
}

// The struct, its checks after decode and its walker; one overload set per shape.
void fill(const tick& m, raw_tick& r) {
  r.seq = m.seq;
  r.timestamp_ns = m.timestamp_ns;
  r.instrument = m.instrument;
  r.quantity = m.quantity;
  r.price = m.price;
  put(r.symbol, m.symbol);
}
void fill(const book& m, raw_book& r) {
  r.seq = m.header.seq;
  r.timestamp_ns = m.header.timestamp_ns;
  put(r.venue, m.header.venue);
  put(r.symbol, m.header.symbol);
  put_levels(m.bids, r.bids, r.n_bids);
  put_levels(m.asks, r.asks, r.n_asks);
}
void fill(const bulk& m, raw_bulk& r) {
  if (m.ints.size() > limits::bulk_ints || m.strings.size() > limits::bulk_strings)
    throw std::length_error("raw: more list elements than the fixed arrays hold");
  r.n_ints = static_cast<std::uint32_t>(m.ints.size());
  r.n_strings = static_cast<std::uint32_t>(m.strings.size());
  if (!m.ints.empty()) std::memcpy(r.ints, m.ints.data(), m.ints.size() * sizeof(std::int64_t));  // data() may be null
  std::memset(r.ints + m.ints.size(), 0, (limits::bulk_ints - m.ints.size()) * sizeof(std::int64_t));
  for (std::size_t i = 0; i < m.strings.size(); ++i) put(r.strings[i], m.strings[i]);
  std::memset(static_cast<void*>(r.strings + m.strings.size()), 0,
              (limits::bulk_strings - m.strings.size()) * sizeof(r.strings[0]));
}

bool valid(const raw_tick& r) noexcept { return r.symbol.size <= limits::short_string; }
bool valid(const raw_book& r) noexcept {
  return r.venue.size <= limits::short_string && r.symbol.size <= limits::short_string &&
         r.n_bids <= limits::book_levels && r.n_asks <= limits::book_levels;
}
bool valid(const raw_bulk& r) noexcept {
  if (r.n_ints > limits::bulk_ints || r.n_strings > limits::bulk_strings) return false;
  for (std::uint32_t i = 0; i < r.n_strings; ++i)
    if (r.strings[i].size > limits::bulk_string) return false;
  return true;
}

template <class Out>
void walk(const raw_tick& r, tick& d, Out& out) {
  out.set(d.seq, r.seq);
  out.set(d.timestamp_ns, r.timestamp_ns);
  out.set(d.instrument, r.instrument);
  out.set(d.quantity, r.quantity);
  out.set(d.price, r.price);
  out.set(d.symbol, view(r.symbol));
}

template <class Out>
void walk(const raw_book& r, book& d, Out& out) {
  out.set(d.header.seq, r.seq);
  out.set(d.header.timestamp_ns, r.timestamp_ns);
  out.set(d.header.venue, view(r.venue));
  out.set(d.header.symbol, view(r.symbol));
  walk_level_array(r.bids, r.n_bids, d.bids, out);
  walk_level_array(r.asks, r.n_asks, d.asks, out);
}

template <class Out>
void walk(const raw_bulk& r, bulk& d, Out& out) {
  out.resize(d.ints, r.n_ints);
  for (std::uint32_t i = 0; i < r.n_ints; ++i) out.set(out.elem(d.ints, i), r.ints[i]);
  out.resize(d.strings, r.n_strings);
  for (std::uint32_t i = 0; i < r.n_strings; ++i) {
    auto&& s = out.elem(d.strings, i);
    out.set(s, view(r.strings[i]));
  }
}

template <class Plain, class Raw>
class raw_impl {
 public:
  using plain = Plain;

  void build(const Plain& m) { fill(m, out_); }

  std::span<const std::byte> encode() {
    std::byte* p = wire_.reserve(sizeof(Raw));
    std::memcpy(p, &out_, sizeof(Raw));
    return {p, sizeof(Raw)};
  }

  status decode(std::span<const std::byte> bytes) noexcept {
    if (bytes.size() != sizeof(Raw)) return failure("raw: size differs from the struct's");
    std::memcpy(&in_, bytes.data(), sizeof(Raw));
    if (!valid(in_)) return failure("raw: a count or string length exceeds its capacity");
    return ok_status;
  }

  template <class Out>
  status read(Plain& dst, Out& out) {
    walk(in_, dst, out);
    return ok_status;
  }

 private:
  Raw out_{};
  Raw in_{};
  byte_buffer wire_;
};

}  // namespace

std::unique_ptr<codec> make_raw_codec(shape s) {
  switch (s) {
    case shape::small: return make_codec<raw_impl<tick, raw_tick>>();
    case shape::medium: return make_codec<raw_impl<book, raw_book>>();
    case shape::large: return make_codec<raw_impl<bulk, raw_bulk>>();
  }
  return nullptr;
}

}  // namespace bench::ser
