// flatbuffers: Google FlatBuffers 2.0, generated code, verified before any access.
//
// Speed choices, and why:
// - One FlatBufferBuilder per codec, Clear()ed before each build (it keeps its buffer), as the FlatBuffers
//   docs advise for building many messages; the vector of string offsets for `bulk` is reused too. Book levels
//   are a FlatBuffers struct written in place with CreateUninitializedVectorOfStructs (no temporary array).
// - Building IS serializing: the builder lays out the final bytes back to front, so encode() only hands out
//   the pointer (zero work). Count build + encode when comparing with the other formats.
// - decode runs the Verifier over the whole buffer and only then takes GetRoot: the bytes come from another
//   process, and FlatBuffers reads them in place without bounds checks, so skipping the Verifier (as many
//   published benchmarks do) would make a bad message a crash instead of an error. Options bound the work:
//   max_depth 8 and max_tables 16 (the schema needs 2 and 2). Input that is not 8-byte aligned is copied
//   first: FlatBuffers reads int64 and double in place. The 2.0.8 Verifier checks the alignment of a vector's
//   length field but not of its 8-byte elements, so a crafted buffer can place the int64s or the Level structs
//   4 bytes off (found by the fuzzer, reported by UBSan as misaligned reads): decode refuses such vectors too.
// - traverse reads through the generated accessors; fields left at their default are absent from the buffer
//   and read back as the default (so -0.0 comes back as 0.0).
#include "serializers/flatbuffers.hpp"

#include <flatbuffers/flatbuffers.h>

#include "messages_generated.h"

namespace bench::ser {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using level_vector = flatbuffers::Vector<const fbs::Level*>;

std::string_view view(const flatbuffers::String* s) noexcept {
  return s != nullptr ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

Offset<fbs::Tick> fill(const tick& m, FlatBufferBuilder& b, std::vector<Offset<flatbuffers::String>>&) {
  Offset<flatbuffers::String> symbol = b.CreateString(m.symbol.data(), m.symbol.size());
  return fbs::CreateTick(b, m.seq, m.timestamp_ns, m.instrument, m.quantity, m.price, symbol);
}

Offset<level_vector> levels(const std::vector<level>& src, FlatBufferBuilder& b) {
  fbs::Level* out = nullptr;
  Offset<level_vector> v = b.CreateUninitializedVectorOfStructs<fbs::Level>(src.size(), &out);
  for (std::size_t i = 0; i < src.size(); ++i) out[i] = fbs::Level(src[i].price, src[i].quantity, src[i].orders);
  return v;
}

Offset<fbs::Book> fill(const book& m, FlatBufferBuilder& b, std::vector<Offset<flatbuffers::String>>&) {
  Offset<flatbuffers::String> venue = b.CreateString(m.header.venue.data(), m.header.venue.size());
  Offset<flatbuffers::String> symbol = b.CreateString(m.header.symbol.data(), m.header.symbol.size());
  Offset<fbs::BookHeader> header = fbs::CreateBookHeader(b, m.header.seq, m.header.timestamp_ns, venue, symbol);
  Offset<level_vector> bids = levels(m.bids, b);
  Offset<level_vector> asks = levels(m.asks, b);
  return fbs::CreateBook(b, header, bids, asks);
}

Offset<fbs::Bulk> fill(const bulk& m, FlatBufferBuilder& b, std::vector<Offset<flatbuffers::String>>& strings) {
  Offset<flatbuffers::Vector<std::int64_t>> ints = b.CreateVector(m.ints.data(), m.ints.size());
  strings.clear();
  for (const std::string& s : m.strings) strings.push_back(b.CreateString(s.data(), s.size()));
  return fbs::CreateBulk(b, ints, b.CreateVector(strings.data(), strings.size()));
}

template <class Out>
void walk(const fbs::Tick& t, tick& d, Out& out) {
  out.set(d.seq, t.seq());
  out.set(d.timestamp_ns, t.timestamp_ns());
  out.set(d.instrument, t.instrument());
  out.set(d.quantity, t.quantity());
  out.set(d.price, t.price());
  out.set(d.symbol, view(t.symbol()));
}

template <class Out>
void walk_levels(const level_vector* v, std::vector<level>& d, Out& out) {
  const flatbuffers::uoffset_t n = v != nullptr ? v->size() : 0;
  out.resize(d, n);
  for (flatbuffers::uoffset_t i = 0; i < n; ++i) {
    const fbs::Level* l = v->Get(i);
    auto&& dl = out.elem(d, i);
    out.set(dl.price, l->price());
    out.set(dl.quantity, l->quantity());
    out.set(dl.orders, l->orders());
  }
}

template <class Out>
void walk(const fbs::Book& r, book& d, Out& out) {
  const fbs::BookHeader* h = r.header();
  out.set(d.header.seq, h != nullptr ? h->seq() : 0);
  out.set(d.header.timestamp_ns, h != nullptr ? h->timestamp_ns() : 0);
  out.set(d.header.venue, h != nullptr ? view(h->venue()) : std::string_view());
  out.set(d.header.symbol, h != nullptr ? view(h->symbol()) : std::string_view());
  walk_levels(r.bids(), d.bids, out);
  walk_levels(r.asks(), d.asks, out);
}

template <class Out>
void walk(const fbs::Bulk& r, bulk& d, Out& out) {
  const flatbuffers::Vector<std::int64_t>* ints = r.ints();
  const flatbuffers::uoffset_t n_ints = ints != nullptr ? ints->size() : 0;
  out.resize(d.ints, n_ints);
  for (flatbuffers::uoffset_t i = 0; i < n_ints; ++i) out.set(out.elem(d.ints, i), ints->Get(i));
  const auto* strings = r.strings();
  const flatbuffers::uoffset_t n_strings = strings != nullptr ? strings->size() : 0;
  out.resize(d.strings, n_strings);
  for (flatbuffers::uoffset_t i = 0; i < n_strings; ++i) {
    auto&& s = out.elem(d.strings, i);
    out.set(s, view(strings->Get(i)));
  }
}

// Whether a vector of 8-byte elements starts on an 8-byte boundary (the buffer itself is 8-byte aligned). An empty
// one has no element to misread, and the builder does not align it.
template <class Vector>
bool starts_aligned(const Vector* v) noexcept {
  return v == nullptr || v->size() == 0 || reinterpret_cast<std::uintptr_t>(v->Data()) % 8 == 0;
}
bool elements_aligned(const fbs::Tick&) noexcept { return true; }  // scalars in tables: checked by the Verifier
bool elements_aligned(const fbs::Book& b) noexcept { return starts_aligned(b.bids()) && starts_aligned(b.asks()); }
bool elements_aligned(const fbs::Bulk& b) noexcept { return starts_aligned(b.ints()); }

template <class Plain, class Table>
class flatbuffers_impl {
 public:
  using plain = Plain;

  explicit flatbuffers_impl(std::size_t initial_bytes) : builder_(initial_bytes) {}

  void build(const Plain& m) {
    builder_.Clear();
    builder_.Finish(fill(m, builder_, strings_));
  }

  std::span<const std::byte> encode() {
    return {reinterpret_cast<const std::byte*>(builder_.GetBufferPointer()), builder_.GetSize()};
  }

  status decode(std::span<const std::byte> bytes) noexcept {
    root_ = nullptr;
    const auto* p = reinterpret_cast<const std::uint8_t*>(aligned8(bytes, aligned_));
    flatbuffers::Verifier::Options options;
    options.max_depth = 8;
    options.max_tables = 16;
    flatbuffers::Verifier verifier(p, bytes.size(), options);
    if (!verifier.template VerifyBuffer<Table>(nullptr)) return failure("flatbuffers: the Verifier refused the buffer");
    const Table* root = flatbuffers::GetRoot<Table>(p);
    if (!elements_aligned(*root)) return failure("flatbuffers: a vector of 8-byte elements is misaligned");
    root_ = root;
    return ok_status;
  }

  template <class Out>
  status read(Plain& dst, Out& out) {
    if (root_ == nullptr) return failure("flatbuffers: nothing decoded");
    walk(*root_, dst, out);
    return ok_status;
  }

 private:
  FlatBufferBuilder builder_;
  std::vector<Offset<flatbuffers::String>> strings_;
  byte_buffer aligned_;
  const Table* root_ = nullptr;
};

}  // namespace

std::unique_ptr<codec> make_flatbuffers_codec(shape s) {
  // Initial builder sizes that hold each shape without growing (a bulk is ~17.7 KiB).
  switch (s) {
    case shape::small: return make_codec<flatbuffers_impl<tick, fbs::Tick>>(256);
    case shape::medium: return make_codec<flatbuffers_impl<book, fbs::Book>>(4096);
    case shape::large: return make_codec<flatbuffers_impl<bulk, fbs::Bulk>>(32768);
  }
  return nullptr;
}

std::string flatbuffers_library_version() {
  return std::to_string(FLATBUFFERS_VERSION_MAJOR) + "." + std::to_string(FLATBUFFERS_VERSION_MINOR) + "." +
         std::to_string(FLATBUFFERS_VERSION_REVISION);
}

}  // namespace bench::ser
