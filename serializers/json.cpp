// json: nlohmann-json 3.11, used the way its README shows: a json value built from the struct, dump() to text,
// parse() back into a DOM, fields read by name.
//
// Speed choices, and why:
// - The library has no reuse API for its DOM or its output: build assigns a fresh json object (every field a
//   map node, every list a vector of json values) and dump() returns a new std::string. That allocation is what
//   users of this library pay, and it is the point of comparing it with json-fast.
// - decode is parse(first, last, nullptr, allow_exceptions = false): malformed text or invalid UTF-8 gives a
//   discarded value, not an exception (std::bad_alloc is still caught). The parser is iterative, so nesting
//   depth costs heap, not stack; the 256 KiB input bound caps it.
// - traverse finds each field by name (std::map lookup) and checks its type and range.
#include "serializers/json.hpp"

#include <nlohmann/json.hpp>

#include "serializers/json_schema.hpp"

namespace bench::ser {
namespace {

using nlohmann::json;
namespace key = json_schema::key;

json to_json(const tick& m) {
  return {{key::seq, m.seq},
          {key::timestamp_ns, m.timestamp_ns},
          {key::instrument, m.instrument},
          {key::quantity, m.quantity},
          {key::price, m.price},
          {key::symbol, m.symbol}};
}

json to_json(const std::vector<level>& levels) {
  json list = json::array();
  for (const level& l : levels)
    list.push_back({{key::price, l.price}, {key::quantity, l.quantity}, {key::orders, l.orders}});
  return list;
}

json to_json(const book& m) {
  return {{key::header,
           {{key::seq, m.header.seq},
            {key::timestamp_ns, m.header.timestamp_ns},
            {key::venue, m.header.venue},
            {key::symbol, m.header.symbol}}},
          {key::bids, to_json(m.bids)},
          {key::asks, to_json(m.asks)}};
}

json to_json(const bulk& m) { return {{key::ints, m.ints}, {key::strings, m.strings}}; }

struct nlohmann_adapter {
  using value = const json*;

  static bool member(value object, std::string_view name, value& out) {
    if (!object->is_object()) return false;
    auto it = object->find(name);
    if (it == object->end()) return false;
    out = &*it;
    return true;
  }
  static bool array_size(value list, std::size_t& n) {
    if (!list->is_array()) return false;
    n = list->size();
    return true;
  }
  template <class F>
  static bool for_each(value list, F f) {
    for (const json& e : *list)
      if (!f(&e)) return false;
    return true;
  }
  static bool get(value v, std::uint64_t& out) {
    const auto* u = v->get_ptr<const json::number_unsigned_t*>();
    if (u == nullptr) return false;
    out = *u;
    return true;
  }
  static bool get(value v, std::int64_t& out) {
    if (const auto* i = v->get_ptr<const json::number_integer_t*>()) {
      out = *i;  // nlohmann parses only negative integers as number_integer
      return true;
    }
    const auto* u = v->get_ptr<const json::number_unsigned_t*>();
    if (u == nullptr || *u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(*u);
    return true;
  }
  static bool get(value v, double& out) {
    if (!v->is_number()) return false;  // a JSON number without a fraction is still a fine double
    out = v->get<double>();
    return true;
  }
  static bool get(value v, std::string_view& out) {
    const auto* s = v->get_ptr<const json::string_t*>();
    if (s == nullptr) return false;
    out = *s;
    return true;
  }
};

template <class Plain>
class json_impl {
 public:
  using plain = Plain;

  void build(const Plain& m) { built_ = to_json(m); }

  std::span<const std::byte> encode() {
    text_ = built_.dump();
    return {reinterpret_cast<const std::byte*>(text_.data()), text_.size()};
  }

  status decode(std::span<const std::byte> bytes) noexcept {
    const char* p = reinterpret_cast<const char*>(bytes.data());
    try {
      parsed_ = json::parse(p, p + bytes.size(), nullptr, /*allow_exceptions=*/false);
    } catch (const std::exception&) {  // std::bad_alloc; parse errors do not throw with allow_exceptions=false
      parsed_ = json::value_t::discarded;
    }
    if (parsed_.is_discarded()) return failure("json: not valid JSON (or not valid UTF-8)");
    return ok_status;
  }

  template <class Out>
  status read(Plain& dst, Out& out) {
    if (parsed_.is_discarded()) return failure("json: nothing decoded");
    try {
      if (!json_schema::walk<nlohmann_adapter>(&parsed_, dst, out))
        return failure("json: a field is missing or has the wrong type");
    } catch (const json::exception&) {
      return failure("json: a field has the wrong type");
    }
    return ok_status;
  }

 private:
  json built_;
  std::string text_;
  json parsed_ = json::value_t::discarded;
};

}  // namespace

std::unique_ptr<codec> make_json_codec(shape s) {
  switch (s) {
    case shape::small: return make_codec<json_impl<tick>>();
    case shape::medium: return make_codec<json_impl<book>>();
    case shape::large: return make_codec<json_impl<bulk>>();
  }
  return nullptr;
}

std::string json_library_version() {
  return std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." + std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
         std::to_string(NLOHMANN_JSON_VERSION_PATCH);
}

}  // namespace bench::ser
