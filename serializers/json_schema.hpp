// What json and json-fast share: the field names of the JSON documents and the walkers that read a parsed
// document back, written once over a small adapter per parser (nlohmann's DOM, simdjson's tape).
//
// The documents: {"seq":..,"timestamp_ns":..,"instrument":..,"quantity":..,"price":..,"symbol":".."} for a tick;
// {"header":{"seq","timestamp_ns","venue","symbol"},"bids":[{"price","quantity","orders"},...],"asks":[...]}
// for a book; {"ints":[...],"strings":[...]} for a bulk. Fields are found by name, so any key order parses
// (nlohmann writes keys sorted, json-fast in declaration order), and every value's type and range is checked.
//
// An adapter provides, for its parser's `value` (a cheap handle):
//   static bool member(value object, std::string_view key, value& out);   false if not an object or no such key
//   static bool array_size(value array, std::size_t& n);                   false if not an array
//   template <class F> static bool for_each(value array, F f);            f(value) per element, stops at false
//   static bool get(value, T&) for std::uint64_t, std::int64_t, double and std::string_view
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

#include "serializers/serializer.hpp"

namespace bench::ser::json_schema {

namespace key {
inline constexpr std::string_view seq = "seq", timestamp_ns = "timestamp_ns", instrument = "instrument",
                                  quantity = "quantity", price = "price", symbol = "symbol", orders = "orders",
                                  venue = "venue", header = "header", bids = "bids", asks = "asks", ints = "ints",
                                  strings = "strings";
}  // namespace key

// 32-bit fields are read as 64-bit numbers and range-checked.
template <class A, class T>
bool get(typename A::value v, T& out) {
  if constexpr (std::is_same_v<T, std::uint32_t>) {
    std::uint64_t u = 0;
    if (!A::get(v, u) || u > std::numeric_limits<std::uint32_t>::max()) return false;
    out = static_cast<std::uint32_t>(u);
    return true;
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    std::int64_t i = 0;
    if (!A::get(v, i) || i < std::numeric_limits<std::int32_t>::min() || i > std::numeric_limits<std::int32_t>::max())
      return false;
    out = static_cast<std::int32_t>(i);
    return true;
  } else {
    return A::get(v, out);
  }
}

template <class A, class T, class Out>
bool field(typename A::value object, std::string_view name, T& dst, Out& out) {
  typename A::value v{};
  wire_t<T> x{};
  if (!A::member(object, name, v) || !get<A>(v, x)) return false;
  out.set(dst, x);
  return true;
}

template <class A, class Out>
bool walk(typename A::value j, tick& d, Out& out) {
  return field<A>(j, key::seq, d.seq, out) && field<A>(j, key::timestamp_ns, d.timestamp_ns, out) &&
         field<A>(j, key::instrument, d.instrument, out) && field<A>(j, key::quantity, d.quantity, out) &&
         field<A>(j, key::price, d.price, out) && field<A>(j, key::symbol, d.symbol, out);
}

// A named array: resized in the destination, then read(element, destination element) for each element.
template <class A, class T, class Out, class Read>
bool walk_array(typename A::value object, std::string_view name, std::vector<T>& d, Out& out, Read read) {
  typename A::value list{};
  std::size_t n = 0;
  if (!A::member(object, name, list) || !A::array_size(list, n)) return false;
  out.resize(d, n);
  std::size_t i = 0;
  return A::for_each(list, [&](typename A::value e) {
    auto&& dst = out.elem(d, i++);
    return read(e, dst);
  });
}

template <class A, class Out>
bool walk_levels(typename A::value object, std::string_view name, std::vector<level>& d, Out& out) {
  return walk_array<A>(object, name, d, out, [&](typename A::value e, auto&& l) {
    return field<A>(e, key::price, l.price, out) && field<A>(e, key::quantity, l.quantity, out) &&
           field<A>(e, key::orders, l.orders, out);
  });
}

template <class A, class Out>
bool walk(typename A::value j, book& d, Out& out) {
  typename A::value h{};
  return A::member(j, key::header, h) && field<A>(h, key::seq, d.header.seq, out) &&
         field<A>(h, key::timestamp_ns, d.header.timestamp_ns, out) && field<A>(h, key::venue, d.header.venue, out) &&
         field<A>(h, key::symbol, d.header.symbol, out) && walk_levels<A>(j, key::bids, d.bids, out) &&
         walk_levels<A>(j, key::asks, d.asks, out);
}

template <class A, class T, class Out>
bool walk_list(typename A::value object, std::string_view name, std::vector<T>& d, Out& out) {
  return walk_array<A>(object, name, d, out, [&](typename A::value e, auto&& dst) {
    wire_t<T> x{};
    if (!get<A>(e, x)) return false;
    out.set(dst, x);
    return true;
  });
}

template <class A, class Out>
bool walk(typename A::value j, bulk& d, Out& out) {
  return walk_list<A>(j, key::ints, d.ints, out) && walk_list<A>(j, key::strings, d.strings, out);
}

}  // namespace bench::ser::json_schema
