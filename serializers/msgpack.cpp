// msgpack: MessagePack via msgpack-cxx 4.1, schemaless but written positionally: a message is an array of its
// fields in declaration order (what MSGPACK_DEFINE produces, and what cpp-serializers measures).
//
// Speed choices, and why:
// - No intermediate object: encode packs straight from the C++ struct with a packer over a reused sbuffer
//   (clear() keeps its capacity), so build only remembers which message to pack. Integers take the
//   smallest encoding that holds them; doubles are float64, except that msgpack-cxx writes a double without a
//   fractional part as an integer (smaller; read back exactly).
// - decode unpacks into msgpack::object trees allocated in a zone that is reused (clear() keeps one chunk,
//   sized to hold the largest shape: no malloc per message), with a reference function that makes strings point
//   into the input instead of copying them (zero-copy strings; the input must outlive traverse). unpack() itself
//   still reserves its parse stack (a std::vector of 32 entries) on every call: one allocation per message. The
//   streaming msgpack::unpacker keeps its stack, but only by copying every input into its own buffer first.
// - unpack_limit bounds hostile input: no array, map, string, bin or ext may declare more elements or bytes
//   than the input has, and nesting stops at 4 (the schema needs 3), so a message can make the zone allocate
//   at most a small multiple of its own size. Bytes left over after the message are an error.
// - traverse walks the object tree checking every type (a positional format has no other protection against a
//   message of another shape).
#include "serializers/msgpack.hpp"

#include <limits>

#include <msgpack.hpp>

namespace bench::ser {
namespace {

using msgpack::type::object_type;
using packer = msgpack::packer<msgpack::sbuffer>;

void pack_str(packer& pk, const std::string& s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void pack(packer& pk, const tick& m) {
  pk.pack_array(6);
  pk.pack(m.seq);
  pk.pack(m.timestamp_ns);
  pk.pack(m.instrument);
  pk.pack(m.quantity);
  pk.pack(m.price);
  pack_str(pk, m.symbol);
}

void pack_levels(packer& pk, const std::vector<level>& levels) {
  pk.pack_array(static_cast<std::uint32_t>(levels.size()));
  for (const level& l : levels) {
    pk.pack_array(3);
    pk.pack(l.price);
    pk.pack(l.quantity);
    pk.pack(l.orders);
  }
}

void pack(packer& pk, const book& m) {
  pk.pack_array(3);
  pk.pack_array(4);
  pk.pack(m.header.seq);
  pk.pack(m.header.timestamp_ns);
  pack_str(pk, m.header.venue);
  pack_str(pk, m.header.symbol);
  pack_levels(pk, m.bids);
  pack_levels(pk, m.asks);
}

void pack(packer& pk, const bulk& m) {
  pk.pack_array(2);
  pk.pack_array(static_cast<std::uint32_t>(m.ints.size()));
  for (std::int64_t v : m.ints) pk.pack(v);
  pk.pack_array(static_cast<std::uint32_t>(m.strings.size()));
  for (const std::string& s : m.strings) pack_str(pk, s);
}

// Typed reads with range checks; false for any other type.
bool get(const msgpack::object& o, std::uint64_t& v) noexcept {
  if (o.type != object_type::POSITIVE_INTEGER) return false;
  v = o.via.u64;
  return true;
}
bool get(const msgpack::object& o, std::int64_t& v) noexcept {
  if (o.type == object_type::NEGATIVE_INTEGER) {
    v = o.via.i64;
    return true;
  }
  if (o.type != object_type::POSITIVE_INTEGER || o.via.u64 > std::numeric_limits<std::int64_t>::max()) return false;
  v = static_cast<std::int64_t>(o.via.u64);
  return true;
}
bool get(const msgpack::object& o, std::uint32_t& v) noexcept {
  std::uint64_t u = 0;
  if (!get(o, u) || u > std::numeric_limits<std::uint32_t>::max()) return false;
  v = static_cast<std::uint32_t>(u);
  return true;
}
bool get(const msgpack::object& o, std::int32_t& v) noexcept {
  std::int64_t i = 0;
  if (!get(o, i) || i < std::numeric_limits<std::int32_t>::min() || i > std::numeric_limits<std::int32_t>::max())
    return false;
  v = static_cast<std::int32_t>(i);
  return true;
}
bool get(const msgpack::object& o, double& v) noexcept {
  switch (o.type) {
    case object_type::FLOAT64:
    case object_type::FLOAT32: v = o.via.f64; return true;
    // msgpack-cxx packs a double without a fractional part as an integer (fewer bytes); it converts back exactly.
    case object_type::POSITIVE_INTEGER: v = static_cast<double>(o.via.u64); return true;
    case object_type::NEGATIVE_INTEGER: v = static_cast<double>(o.via.i64); return true;
    default: return false;
  }
}
bool get(const msgpack::object& o, std::string_view& v) noexcept {
  if (o.type != object_type::STR) return false;
  v = {o.via.str.ptr, o.via.str.size};
  return true;
}

// A list of any length (its first element may be nullptr when it is empty).
bool list(const msgpack::object& o, const msgpack::object*& first, std::uint32_t& n) noexcept {
  if (o.type != object_type::ARRAY) return false;
  first = o.via.array.ptr;
  n = o.via.array.size;
  return true;
}
// The fields of a record: an array of exactly n > 0 elements; nullptr otherwise.
const msgpack::object* fields(const msgpack::object& o, std::uint32_t n) noexcept {
  return o.type == object_type::ARRAY && o.via.array.size == n ? o.via.array.ptr : nullptr;
}

template <class T, class Out>
bool field(const msgpack::object& o, T& dst, Out& out) {
  wire_t<T> v{};
  if (!get(o, v)) return false;
  out.set(dst, v);
  return true;
}

template <class Out>
bool walk(const msgpack::object& o, tick& d, Out& out) {
  const msgpack::object* f = fields(o, 6);
  return f != nullptr && field(f[0], d.seq, out) && field(f[1], d.timestamp_ns, out) &&
         field(f[2], d.instrument, out) && field(f[3], d.quantity, out) && field(f[4], d.price, out) &&
         field(f[5], d.symbol, out);
}

template <class Out>
bool walk_levels(const msgpack::object& o, std::vector<level>& d, Out& out) {
  const msgpack::object* e = nullptr;
  std::uint32_t n = 0;
  if (!list(o, e, n)) return false;
  out.resize(d, n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const msgpack::object* f = fields(e[i], 3);
    auto&& l = out.elem(d, i);
    if (f == nullptr || !field(f[0], l.price, out) || !field(f[1], l.quantity, out) || !field(f[2], l.orders, out))
      return false;
  }
  return true;
}

template <class Out>
bool walk(const msgpack::object& o, book& d, Out& out) {
  const msgpack::object* f = fields(o, 3);
  if (f == nullptr) return false;
  const msgpack::object* h = fields(f[0], 4);
  return h != nullptr && field(h[0], d.header.seq, out) && field(h[1], d.header.timestamp_ns, out) &&
         field(h[2], d.header.venue, out) && field(h[3], d.header.symbol, out) && walk_levels(f[1], d.bids, out) &&
         walk_levels(f[2], d.asks, out);
}

template <class Out>
bool walk(const msgpack::object& o, bulk& d, Out& out) {
  const msgpack::object* f = fields(o, 2);
  const msgpack::object *ints = nullptr, *strings = nullptr;
  std::uint32_t n_ints = 0, n_strings = 0;
  if (f == nullptr || !list(f[0], ints, n_ints) || !list(f[1], strings, n_strings)) return false;
  out.resize(d.ints, n_ints);
  for (std::uint32_t i = 0; i < n_ints; ++i) {
    auto&& v = out.elem(d.ints, i);
    if (!field(ints[i], v, out)) return false;
  }
  out.resize(d.strings, n_strings);
  for (std::uint32_t i = 0; i < n_strings; ++i) {
    auto&& s = out.elem(d.strings, i);
    if (!field(strings[i], s, out)) return false;
  }
  return true;
}

bool reference_strings(object_type, std::size_t, void*) { return true; }

template <class Plain>
class msgpack_impl {
 public:
  using plain = Plain;

  explicit msgpack_impl(std::size_t zone_chunk_bytes) : zone_(zone_chunk_bytes) {}

  void build(const Plain& m) { source_ = &m; }

  std::span<const std::byte> encode() {
    buffer_.clear();
    packer pk(buffer_);
    pack(pk, *source_);
    return {reinterpret_cast<const std::byte*>(buffer_.data()), buffer_.size()};
  }

  status decode(std::span<const std::byte> bytes) noexcept {
    decoded_ = false;
    zone_.clear();
    const std::size_t n = bytes.size();
    if (n == 0) return failure("msgpack: empty input");
    const msgpack::unpack_limit limit(n, n / 2, n, n, n, 4);
    std::size_t offset = 0;
    try {
      root_ = msgpack::unpack(zone_, reinterpret_cast<const char*>(bytes.data()), n, offset, reference_strings, nullptr,
                              limit);
    } catch (const msgpack::insufficient_bytes&) {
      return failure("msgpack: message ends early");
    } catch (const msgpack::size_overflow&) {
      return failure("msgpack: a length exceeds the input or the nesting is too deep");
    } catch (const std::exception&) {
      return failure("msgpack: malformed message");
    }
    if (offset != n) return failure("msgpack: bytes after the end of the message");
    decoded_ = true;
    return ok_status;
  }

  template <class Out>
  status read(Plain& dst, Out& out) {
    if (!decoded_) return failure("msgpack: nothing decoded");
    if (!walk(root_, dst, out)) return failure("msgpack: a field is missing or has the wrong type");
    return ok_status;
  }

 private:
  const Plain* source_ = nullptr;
  msgpack::sbuffer buffer_;
  msgpack::zone zone_;
  msgpack::object root_;
  bool decoded_ = false;
};

}  // namespace

std::unique_ptr<codec> make_msgpack_codec(shape s) {
  // Zone chunks that hold each shape's object tree (24 bytes per object; a bulk has ~1100 objects).
  switch (s) {
    case shape::small: return make_codec<msgpack_impl<tick>>(1024);
    case shape::medium: return make_codec<msgpack_impl<book>>(8192);
    case shape::large: return make_codec<msgpack_impl<bulk>>(65536);
  }
  return nullptr;
}

std::string msgpack_library_version() { return msgpack_version(); }

}  // namespace bench::ser
