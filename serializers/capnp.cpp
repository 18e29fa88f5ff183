// capnp: Cap'n Proto 0.9, generated code, the standard unpacked encoding (segment table + segments).
//
// Speed choices, and why:
// - The builder writes the wire format directly: build is where the bytes are laid out. It reuses one
//   zero-filled first segment (MallocMessageBuilder's scratch-space constructor, which the header recommends
//   "when building lots of small messages in a tight loop"); the builder re-zeroes what it used when it is
//   destroyed before the next build. The first segment is sized so that each shape fits in one segment: no
//   allocation per message and no multi-segment reads.
// - encode flattens the segments into a reused buffer (writeMessage into an ArrayOutputStream): the copy
//   that any transport needs. Unpacked, as cpp-serializers measures it; the packed encoding would trade CPU
//   for fewer bytes (zeros compress well in capnp's fixed-width layout).
// - decode is a FlatArrayMessageReader over the bytes, in place (copied only if the buffer is not 8-byte
//   aligned, or Cap'n Proto would read misaligned words), plus getRoot(). It checks the segment table and the
//   root pointer only; every other pointer is checked when it is followed, so some damage surfaces in
//   traverse() (as a kj::Exception, caught and turned into an error status there).
// - ReaderOptions bound the work hostile input can cause (pointers may alias, so a small message can be read
//   as a huge one): nesting limit 16 (the schema needs 3) and a traversal limit. traverse, which allocates
//   nothing, reads under 64 x the message + 1024 words: at worst a bounded amount of CPU time. to_plain, which
//   copies what it reads, opens a fresh reader under 2 x the message + 1024 words, and lists of structs may not
//   declare more elements than the message has words (Cap'n Proto allows zero-sized list elements: the fuzzer
//   made a 608-byte message declare 3678 price levels), so what it allocates stays a small multiple of the input.
// - The traversal limit counts every read over a reader's life; the benchmark's traverse phase re-reads one
//   decoded message millions of times, so the codec re-opens the reader (what decode does) every 32nd read:
//   1/32 of a decode is in the traverse figure. A receiver that reads each message once never re-opens.
#include "serializers/capnp.hpp"

#include <optional>

#include <capnp/common.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include "messages.capnp.h"

namespace bench::ser {
namespace {

namespace cs = capnp_schema;

capnp::Text::Reader text(const std::string& s) { return {s.data(), s.size()}; }  // std::string is NUL-terminated
std::string_view view(capnp::Text::Reader t) noexcept { return {t.begin(), t.size()}; }

void fill(const tick& m, cs::Tick::Builder b) {
  b.setSeq(m.seq);
  b.setTimestampNs(m.timestamp_ns);
  b.setInstrument(m.instrument);
  b.setQuantity(m.quantity);
  b.setPrice(m.price);
  b.setSymbol(text(m.symbol));
}

void fill_levels(const std::vector<level>& src, capnp::List<cs::Level>::Builder dst) {
  for (capnp::uint i = 0; i < dst.size(); ++i) {
    cs::Level::Builder l = dst[i];
    l.setPrice(src[i].price);
    l.setQuantity(src[i].quantity);
    l.setOrders(src[i].orders);
  }
}

capnp::uint list_size(std::size_t n) { return static_cast<capnp::uint>(n); }

void fill(const book& m, cs::Book::Builder b) {
  cs::BookHeader::Builder h = b.initHeader();
  h.setSeq(m.header.seq);
  h.setTimestampNs(m.header.timestamp_ns);
  h.setVenue(text(m.header.venue));
  h.setSymbol(text(m.header.symbol));
  fill_levels(m.bids, b.initBids(list_size(m.bids.size())));
  fill_levels(m.asks, b.initAsks(list_size(m.asks.size())));
}

void fill(const bulk& m, cs::Bulk::Builder b) {
  capnp::List<std::int64_t>::Builder ints = b.initInts(list_size(m.ints.size()));
  for (capnp::uint i = 0; i < ints.size(); ++i) ints.set(i, m.ints[i]);
  capnp::List<capnp::Text>::Builder strings = b.initStrings(list_size(m.strings.size()));
  for (capnp::uint i = 0; i < strings.size(); ++i) strings.set(i, text(m.strings[i]));
}

template <class Out>
void walk(cs::Tick::Reader r, tick& d, Out& out, std::size_t) {
  out.set(d.seq, r.getSeq());
  out.set(d.timestamp_ns, r.getTimestampNs());
  out.set(d.instrument, r.getInstrument());
  out.set(d.quantity, r.getQuantity());
  out.set(d.price, r.getPrice());
  out.set(d.symbol, view(r.getSymbol()));
}

// Thrown when a list of structs declares more elements than the message has words (see the top of this file).
struct list_too_long {};

template <class Out>
void walk_levels(capnp::List<cs::Level>::Reader src, std::vector<level>& d, Out& out, std::size_t max_elements) {
  if (src.size() > max_elements) throw list_too_long{};
  out.resize(d, src.size());
  for (capnp::uint i = 0; i < src.size(); ++i) {
    cs::Level::Reader l = src[i];
    auto&& dl = out.elem(d, i);
    out.set(dl.price, l.getPrice());
    out.set(dl.quantity, l.getQuantity());
    out.set(dl.orders, l.getOrders());
  }
}

template <class Out>
void walk(cs::Book::Reader r, book& d, Out& out, std::size_t max_elements) {
  cs::BookHeader::Reader h = r.getHeader();
  out.set(d.header.seq, h.getSeq());
  out.set(d.header.timestamp_ns, h.getTimestampNs());
  out.set(d.header.venue, view(h.getVenue()));
  out.set(d.header.symbol, view(h.getSymbol()));
  walk_levels(r.getBids(), d.bids, out, max_elements);
  walk_levels(r.getAsks(), d.asks, out, max_elements);
}

template <class Out>
void walk(cs::Bulk::Reader r, bulk& d, Out& out, std::size_t) {
  capnp::List<std::int64_t>::Reader ints = r.getInts();
  out.resize(d.ints, ints.size());
  for (capnp::uint i = 0; i < ints.size(); ++i) out.set(out.elem(d.ints, i), ints[i]);
  capnp::List<capnp::Text>::Reader strings = r.getStrings();
  out.resize(d.strings, strings.size());
  for (capnp::uint i = 0; i < strings.size(); ++i) {
    auto&& s = out.elem(d.strings, i);
    out.set(s, view(strings[i]));
  }
}

template <class Plain, class Schema>
class capnp_impl {
 public:
  using plain = Plain;

  explicit capnp_impl(std::size_t first_segment_words)
      : scratch_(new capnp::word[first_segment_words]()), scratch_words_(first_segment_words) {}
  // Cap'n Proto declares its builder and reader destructors noexcept(false) (kj's convention); ours cannot throw,
  // as the codec interface promises (they zero and free memory), so this one is declared noexcept.
  ~capnp_impl() noexcept {}
  capnp_impl(const capnp_impl&) = delete;
  capnp_impl& operator=(const capnp_impl&) = delete;

  void build(const Plain& m) {
    builder_.reset();  // re-zeroes the part of scratch_ it used, as a first segment must be
    builder_.emplace(kj::arrayPtr(scratch_.get(), scratch_words_));
    fill(m, builder_->template initRoot<Schema>());
  }

  std::span<const std::byte> encode() {
    kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments = builder_->getSegmentsForOutput();
    const std::size_t n = capnp::computeSerializedSizeInWords(segments) * sizeof(capnp::word);
    std::byte* p = wire_.reserve(n);
    kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(p), n));
    capnp::writeMessage(stream, segments);
    return {p, n};
  }

  status decode(std::span<const std::byte> bytes) noexcept {
    reader_.reset();
    if (bytes.size() % sizeof(capnp::word) != 0) return failure("capnp: length is not a whole number of words");
    words_ = kj::arrayPtr(reinterpret_cast<const capnp::word*>(aligned8(bytes, aligned_)),
                          bytes.size() / sizeof(capnp::word));
    try {
      open(traverse_limit());
    } catch (const kj::Exception&) {
      reader_.reset();
      return failure("capnp: bad segment table or root pointer");
    } catch (const std::exception&) {
      reader_.reset();
      return failure("capnp: cannot read the message");
    }
    return ok_status;
  }

  template <class Out>
  status read(Plain& dst, Out& out) noexcept(std::is_same_v<Out, into_checksum>) {
    if (!reader_) return failure("capnp: nothing decoded");
    try {
      if constexpr (std::is_same_v<Out, into_checksum>) {
        if (++reads_ > reads_per_open) open(traverse_limit());  // a fresh budget (see the top of this file)
      } else {
        open(2 * words_.size() + 1024);  // copies what it reads: a tight budget
        reads_ = reads_per_open;         // and the next traverse re-opens with its own
      }
      walk(root_, dst, out, words_.size());
    } catch (const kj::Exception&) {
      return failure("capnp: a pointer in the message is out of bounds, of the wrong kind or read too often");
    } catch (const list_too_long&) {
      return failure("capnp: a list declares more elements than the message has words");
    } catch (const std::exception&) {
      return failure("capnp: cannot read the message");
    }
    return ok_status;
  }

 private:
  std::unique_ptr<capnp::word[]> scratch_;
  std::size_t scratch_words_;
  std::optional<capnp::MallocMessageBuilder> builder_;
  byte_buffer wire_;
  byte_buffer aligned_;
  std::optional<capnp::FlatArrayMessageReader> reader_;
  typename Schema::Reader root_;
  kj::ArrayPtr<const capnp::word> words_;
  unsigned reads_ = 0;
  static constexpr unsigned reads_per_open = 32;

  std::uint64_t traverse_limit() const noexcept { return 64 * words_.size() + 1024; }

  // Opens a reader over words_: checks the segment table and the root pointer (throws kj::Exception if bad).
  void open(std::uint64_t traversal_limit_words) {
    reader_.reset();
    capnp::ReaderOptions options;
    options.traversalLimitInWords = traversal_limit_words;
    options.nestingLimit = 16;
    reader_.emplace(words_, options);
    root_ = reader_->template getRoot<Schema>();
    reads_ = 1;
  }
};

}  // namespace

std::unique_ptr<codec> make_capnp_codec(shape s) {
  // First segments (words): a tick needs 6, a book ~135, a bulk ~2320 (1000 ints + 100 x 13-word texts).
  switch (s) {
    case shape::small: return make_codec<capnp_impl<tick, cs::Tick>>(64);
    case shape::medium: return make_codec<capnp_impl<book, cs::Book>>(512);
    case shape::large: return make_codec<capnp_impl<bulk, cs::Bulk>>(4096);
  }
  return nullptr;
}

std::string capnp_library_version() {
  return std::to_string(CAPNP_VERSION_MAJOR) + "." + std::to_string(CAPNP_VERSION_MINOR) + "." +
         std::to_string(CAPNP_VERSION_MICRO);
}

}  // namespace bench::ser
