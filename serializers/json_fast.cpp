// json-fast: simdjson 3.0 (DOM API) to parse, a hand-written writer to print. Same documents as `json` (each
// decodes the other's output), so the difference between the two rows is the library, not the format.
//
// Why simdjson + own writer rather than RapidJSON (both are installed): simdjson's parser is the fastest
// available here (SIMD structural indexing, validates UTF-8 on the way) and Debian's RapidJSON is 1.1.0 from
// 2016, whose headers trip -Wclass-memaccess and friends under g++ 12. simdjson 3.0 has no writer, and a
// writer for a fixed schema is short: what fast JSON writers do is below.
//
// Speed choices, and why:
// - No intermediate object: like msgpack, encode writes straight from the C++ struct; build only remembers it.
// - The writer computes an upper bound of the output first (numbers <= 26 chars, strings <= 6x when every byte
//   needs \u00XX), reserves once into a reused, uninitialized buffer and writes through a raw pointer: no
//   capacity check per character. Integers and doubles use std::to_chars (shortest round-trip form for
//   doubles; ".0" is appended to integral doubles, as nlohmann does). Strings are scanned 8 bytes at a time
//   for the bytes JSON must escape (", \ and control characters) and copied with memcpy when there are none.
// - decode is a reused dom::parser (its capacity and tape survive between documents, max_capacity = the
//   256 KiB bound) parsing a copy of the input that it pads itself (simdjson reads up to 64 bytes past the end:
//   the copy is what makes any receive buffer safe). The DOM parse validates the whole document, so a bad one
//   fails here, not in traverse.
// - traverse looks fields up by name on the tape (at_key), checking every type and range.
#include "serializers/json_fast.hpp"

#include <charconv>
#include <cstring>

#include <simdjson.h>

#include "serializers/json_schema.hpp"

namespace bench::ser {
namespace {

namespace key = json_schema::key;

// Writes into memory the caller has reserved (see bound()); keeps track of commas itself.
class json_writer {
 public:
  explicit json_writer(char* p) noexcept : p_(p) {}
  char* end() const noexcept { return p_; }

  void begin_object() noexcept { open('{'); }
  void end_object() noexcept { close('}'); }
  void begin_array() noexcept { open('['); }
  void end_array() noexcept { close(']'); }
  void key(std::string_view k) noexcept {
    comma();
    *p_++ = '"';
    copy(k);
    *p_++ = '"';
    *p_++ = ':';
    need_comma_ = false;  // the value follows
  }
  void element() noexcept { comma(); }  // before each array element

  template <class Int>
  void integer(Int v) noexcept {
    p_ = std::to_chars(p_, p_ + 24, v).ptr;
    need_comma_ = true;
  }
  void real(double v) noexcept {
    char* start = p_;
    p_ = std::to_chars(p_, p_ + 32, v).ptr;
    bool integral = true;  // "1e+300" and "0.5" parse as doubles; "3" would parse as an integer
    for (const char* c = start; c != p_; ++c)
      if (*c == '.' || *c == 'e') integral = false;
    if (integral) {
      *p_++ = '.';
      *p_++ = '0';
    }
    need_comma_ = true;
  }
  void string(std::string_view s) noexcept {
    *p_++ = '"';
    std::size_t i = 0;
    while (i < s.size()) {
      if (s.size() - i >= 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        if (!needs_escape(w)) {
          std::memcpy(p_, &w, 8);
          p_ += 8;
          i += 8;
          continue;
        }
      }
      put_escaped(s[i++]);
    }
    *p_++ = '"';
    need_comma_ = true;
  }

  // The most a string can take written out: every byte as \u00XX, plus the quotes.
  static std::size_t bound(std::string_view s) noexcept { return 6 * s.size() + 2; }

 private:
  static constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  // A byte of w is zero / below n (SWAR, from "Bit Twiddling Hacks": exact for n <= 128).
  static constexpr std::uint64_t has_zero(std::uint64_t w) noexcept { return (w - ones) & ~w & highs; }
  static constexpr std::uint64_t has_less(std::uint64_t w, std::uint64_t n) noexcept {
    return (w - ones * n) & ~w & highs;
  }
  static constexpr bool needs_escape(std::uint64_t w) noexcept {
    return (has_less(w, 0x20) | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'))) != 0;
  }

  void put_escaped(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      *p_++ = '\\';
      *p_++ = c;
    } else if (u < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      switch (c) {
        case '\n': copy("\\n"); break;
        case '\t': copy("\\t"); break;
        case '\r': copy("\\r"); break;
        case '\b': copy("\\b"); break;
        case '\f': copy("\\f"); break;
        default:
          copy("\\u00");
          *p_++ = hex[u >> 4];
          *p_++ = hex[u & 0xF];
      }
    } else {
      *p_++ = c;  // including UTF-8 continuation bytes: the input is valid UTF-8 (see limits)
    }
  }
  void copy(std::string_view s) noexcept {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void comma() noexcept {
    if (need_comma_) *p_++ = ',';
  }
  void open(char c) noexcept {
    *p_++ = c;
    need_comma_ = false;
  }
  void close(char c) noexcept {
    *p_++ = c;
    need_comma_ = true;
  }

  char* p_;
  bool need_comma_ = false;
};

// Upper bounds of the output: 40 per key and punctuation, 26 per number (to_chars plus ".0").
constexpr std::size_t per_field = 40 + 26;

std::size_t bound(const tick& m) noexcept { return 8 * per_field + json_writer::bound(m.symbol); }
std::size_t bound(const book& m) noexcept {
  return 8 * per_field + json_writer::bound(m.header.venue) + json_writer::bound(m.header.symbol) +
         (m.bids.size() + m.asks.size()) * 4 * per_field;
}
std::size_t bound(const bulk& m) noexcept {
  std::size_t n = 4 * per_field + 27 * m.ints.size();
  for (const std::string& s : m.strings) n += json_writer::bound(s) + 1;
  return n;
}

void write(json_writer& w, const tick& m) noexcept {
  w.begin_object();
  w.key(key::seq), w.integer(m.seq);
  w.key(key::timestamp_ns), w.integer(m.timestamp_ns);
  w.key(key::instrument), w.integer(m.instrument);
  w.key(key::quantity), w.integer(m.quantity);
  w.key(key::price), w.real(m.price);
  w.key(key::symbol), w.string(m.symbol);
  w.end_object();
}

void write(json_writer& w, const std::vector<level>& levels) noexcept {
  w.begin_array();
  for (const level& l : levels) {
    w.element();
    w.begin_object();
    w.key(key::price), w.real(l.price);
    w.key(key::quantity), w.integer(l.quantity);
    w.key(key::orders), w.integer(l.orders);
    w.end_object();
  }
  w.end_array();
}

void write(json_writer& w, const book& m) noexcept {
  w.begin_object();
  w.key(key::header);
  w.begin_object();
  w.key(key::seq), w.integer(m.header.seq);
  w.key(key::timestamp_ns), w.integer(m.header.timestamp_ns);
  w.key(key::venue), w.string(m.header.venue);
  w.key(key::symbol), w.string(m.header.symbol);
  w.end_object();
  w.key(key::bids), write(w, m.bids);
  w.key(key::asks), write(w, m.asks);
  w.end_object();
}

void write(json_writer& w, const bulk& m) noexcept {
  w.begin_object();
  w.key(key::ints);
  w.begin_array();
  for (std::int64_t v : m.ints) w.element(), w.integer(v);
  w.end_array();
  w.key(key::strings);
  w.begin_array();
  for (const std::string& s : m.strings) w.element(), w.string(s);
  w.end_array();
  w.end_object();
}

struct simdjson_adapter {
  using value = simdjson::dom::element;

  static bool member(value object, std::string_view name, value& out) noexcept {
    simdjson::dom::object o;
    return object.get_object().get(o) == simdjson::SUCCESS && o.at_key(name).get(out) == simdjson::SUCCESS;
  }
  static bool array_size(value list, std::size_t& n) noexcept {
    simdjson::dom::array a;
    if (list.get_array().get(a) != simdjson::SUCCESS) return false;
    n = a.size();
    return true;
  }
  template <class F>
  static bool for_each(value list, F f) {
    simdjson::dom::array a;
    if (list.get_array().get(a) != simdjson::SUCCESS) return false;
    for (simdjson::dom::element e : a)
      if (!f(e)) return false;
    return true;
  }
  static bool get(value v, std::uint64_t& out) noexcept { return v.get_uint64().get(out) == simdjson::SUCCESS; }
  static bool get(value v, std::int64_t& out) noexcept { return v.get_int64().get(out) == simdjson::SUCCESS; }
  static bool get(value v, double& out) noexcept { return v.get_double().get(out) == simdjson::SUCCESS; }
  static bool get(value v, std::string_view& out) noexcept { return v.get_string().get(out) == simdjson::SUCCESS; }
};

template <class Plain>
class json_fast_impl {
 public:
  using plain = Plain;

  void build(const Plain& m) { source_ = &m; }

  std::span<const std::byte> encode() {
    auto* p = reinterpret_cast<char*>(text_.reserve(bound(*source_)));
    json_writer w(p);
    write(w, *source_);
    return {text_.data(), static_cast<std::size_t>(w.end() - p)};
  }

  status decode(std::span<const std::byte> bytes) noexcept {
    decoded_ = false;
    if (bytes.empty()) return failure("json-fast: empty input");
    // realloc_if_needed (the default): simdjson copies the input into its own padded, reused buffer.
    if (parser_.parse(reinterpret_cast<const char*>(bytes.data()), bytes.size()).get(root_) != simdjson::SUCCESS)
      return failure("json-fast: not valid JSON (or not valid UTF-8)");
    decoded_ = true;
    return ok_status;
  }

  template <class Out>
  status read(Plain& dst, Out& out) {
    if (!decoded_) return failure("json-fast: nothing decoded");
    if (!json_schema::walk<simdjson_adapter>(root_, dst, out))
      return failure("json-fast: a field is missing or has the wrong type");
    return ok_status;
  }

 private:
  const Plain* source_ = nullptr;
  byte_buffer text_;
  simdjson::dom::parser parser_{max_wire_bytes};
  simdjson::dom::element root_;
  bool decoded_ = false;
};

}  // namespace

std::unique_ptr<codec> make_json_fast_codec(shape s) {
  switch (s) {
    case shape::small: return make_codec<json_fast_impl<tick>>();
    case shape::medium: return make_codec<json_fast_impl<book>>();
    case shape::large: return make_codec<json_fast_impl<bulk>>();
  }
  return nullptr;
}

std::string json_fast_library_version() { return SIMDJSON_STRINGIFY(SIMDJSON_VERSION); }

}  // namespace bench::ser
