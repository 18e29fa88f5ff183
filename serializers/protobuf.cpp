// protobuf: Google Protocol Buffers 3.21, proto3, generated code (optimize_for = SPEED).
//
// Speed choices, and why:
// - Message reuse, as protobuf's own performance advice says: the codec keeps one message to build into and one
//   to parse into. Clear() (which ParseFromArray calls first) keeps repeated elements and string capacity
//   allocated, so after the first message neither build nor decode allocates, with one exception: proto3's
//   Clear() deletes a singular sub-message (the book's header) when the message is not on an Arena, so decoding
//   a book allocates the header and its two strings again. An Arena would avoid that, but would allocate the
//   character buffer of every long string anew (std::string keeps only its object on the arena): reuse wins
//   for the large shape, where it matters most.
// - encode asks for the size once (ByteSizeLong caches the sizes of sub-messages) and serializes into a reused
//   buffer with SerializeWithCachedSizesToArray, which is what SerializeToArray does without recomputing.
// - decode is ParseFromArray on the bytes as they are (no copy, no alignment needed). It validates the wire
//   format and, for proto3 `string` fields, UTF-8. Note that protobuf is not self-delimiting: a message cut at
//   a field boundary is itself a valid (shorter) message, so truncation is caught only by the framing around it
//   (bench's frame header carries the length).
// - traverse reads the parsed message through the generated accessors (strings by reference, no copy).
#include "serializers/protobuf.hpp"

#include <climits>

#include <google/protobuf/stubs/common.h>
#include <google/protobuf/stubs/logging.h>

#include "messages.pb.h"

namespace bench::ser {
namespace {

void fill(const tick& m, pb::Tick& p) {
  p.set_seq(m.seq);
  p.set_timestamp_ns(m.timestamp_ns);
  p.set_instrument(m.instrument);
  p.set_quantity(m.quantity);
  p.set_price(m.price);
  p.set_symbol(m.symbol);
}

void fill_levels(const std::vector<level>& src, google::protobuf::RepeatedPtrField<pb::Level>& dst) {
  dst.Clear();  // keeps the Level objects; Add() hands them out again
  for (const level& l : src) {
    pb::Level* p = dst.Add();
    p->set_price(l.price);
    p->set_quantity(l.quantity);
    p->set_orders(l.orders);
  }
}

void fill(const book& m, pb::Book& p) {
  pb::BookHeader* h = p.mutable_header();
  h->set_seq(m.header.seq);
  h->set_timestamp_ns(m.header.timestamp_ns);
  h->set_venue(m.header.venue);
  h->set_symbol(m.header.symbol);
  fill_levels(m.bids, *p.mutable_bids());
  fill_levels(m.asks, *p.mutable_asks());
}

void fill(const bulk& m, pb::Bulk& p) {
  google::protobuf::RepeatedField<std::int64_t>* ints = p.mutable_ints();
  ints->Clear();
  ints->Add(m.ints.begin(), m.ints.end());
  google::protobuf::RepeatedPtrField<std::string>* strings = p.mutable_strings();
  strings->Clear();  // keeps the strings and their capacity
  for (const std::string& s : m.strings) strings->Add()->assign(s);
}

std::size_t count(int n) noexcept { return static_cast<std::size_t>(n); }

template <class Out>
status walk(const pb::Tick& p, tick& d, Out& out) {
  out.set(d.seq, p.seq());
  out.set(d.timestamp_ns, p.timestamp_ns());
  out.set(d.instrument, p.instrument());
  out.set(d.quantity, p.quantity());
  out.set(d.price, p.price());
  out.set(d.symbol, std::string_view(p.symbol()));
  return ok_status;
}

template <class Out>
void walk_levels(const google::protobuf::RepeatedPtrField<pb::Level>& src, std::vector<level>& d, Out& out) {
  out.resize(d, count(src.size()));
  for (int i = 0; i < src.size(); ++i) {
    const pb::Level& l = src.Get(i);
    auto&& dl = out.elem(d, count(i));
    out.set(dl.price, l.price());
    out.set(dl.quantity, l.quantity());
    out.set(dl.orders, l.orders());
  }
}

template <class Out>
status walk(const pb::Book& p, book& d, Out& out) {
  const pb::BookHeader& h = p.header();  // a default instance if absent
  out.set(d.header.seq, h.seq());
  out.set(d.header.timestamp_ns, h.timestamp_ns());
  out.set(d.header.venue, std::string_view(h.venue()));
  out.set(d.header.symbol, std::string_view(h.symbol()));
  walk_levels(p.bids(), d.bids, out);
  walk_levels(p.asks(), d.asks, out);
  return ok_status;
}

template <class Out>
status walk(const pb::Bulk& p, bulk& d, Out& out) {
  out.resize(d.ints, count(p.ints_size()));
  for (int i = 0; i < p.ints_size(); ++i) out.set(out.elem(d.ints, count(i)), p.ints(i));
  out.resize(d.strings, count(p.strings_size()));
  for (int i = 0; i < p.strings_size(); ++i) {
    auto&& s = out.elem(d.strings, count(i));
    out.set(s, std::string_view(p.strings(i)));
  }
  return ok_status;
}

template <class Plain, class Pb>
class protobuf_impl {
 public:
  using plain = Plain;

  void build(const Plain& m) { fill(m, out_); }

  std::span<const std::byte> encode() {
    const std::size_t n = out_.ByteSizeLong();
    std::byte* p = wire_.reserve(n == 0 ? 1 : n);
    out_.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(p));
    return {p, n};
  }

  status decode(std::span<const std::byte> bytes) noexcept {
    static const std::byte empty[1] = {};
    const void* data = bytes.empty() ? empty : bytes.data();
    if (!in_.ParseFromArray(data, static_cast<int>(bytes.size())))  // size <= max_wire_bytes < INT_MAX
      return failure("protobuf: ParseFromArray refused the bytes");
    return ok_status;
  }

  template <class Out>
  status read(Plain& dst, Out& out) {
    return walk(in_, dst, out);
  }

 private:
  Pb out_;
  Pb in_;
  byte_buffer wire_;
};
static_assert(max_wire_bytes < INT_MAX);

}  // namespace

std::unique_ptr<codec> make_protobuf_codec(shape s) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;  // headers and library agree
  switch (s) {
    case shape::small: return make_codec<protobuf_impl<tick, pb::Tick>>();
    case shape::medium: return make_codec<protobuf_impl<book, pb::Book>>();
    case shape::large: return make_codec<protobuf_impl<bulk, pb::Bulk>>();
  }
  return nullptr;
}

std::string protobuf_library_version() { return google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION); }

void silence_protobuf_logs() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace bench::ser
