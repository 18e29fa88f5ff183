// Every serializer in the registry through the same checks, for every shape: round trips are exact, reading
// back works from any buffer address, encodings do not depend on what was encoded before, and bad input
// (truncated, bit-flipped, random, hostile lengths) is refused with an error: never a crash, a hang or an
// allocation far beyond the input. Randomized with fixed seeds; meant to pass under ASan + UBSan too.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "serializers/protobuf.hpp"
#include "serializers/registry.hpp"

// ---- counting every operator new, to bound what a decoder allocates ------------------------------------------
namespace {
std::atomic<std::size_t> g_new_bytes{0};
void* counted_alloc(std::size_t n) {
  g_new_bytes.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* counted_alloc(std::size_t n, std::align_val_t a) {
  g_new_bytes.fetch_add(n, std::memory_order_relaxed);
  const auto align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (std::max<std::size_t>(n, 1) + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
// The nothrow forms too (simdjson allocates with them): every form must come from the same family as its delete.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(n, a, t);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace bench::ser {
namespace {

using bytes = std::vector<std::byte>;
using bytes_view = std::span<const std::byte>;

bytes copy_of(std::span<const std::byte> s) { return {s.begin(), s.end()}; }

// The same bytes at an address that is `offset` past 8-byte alignment (receive buffers sit anywhere).
class placed {
 public:
  placed(std::span<const std::byte> b, std::size_t offset) : storage_(b.size() + 16), offset_(offset) {
    std::byte* base = storage_.data();
    while (reinterpret_cast<std::uintptr_t>(base) % 8 != 0) ++base;
    start_ = base + offset_;
    std::copy(b.begin(), b.end(), start_);
    size_ = b.size();
  }
  std::span<const std::byte> span() const { return {start_, size_}; }

 private:
  bytes storage_;
  std::size_t offset_;
  std::byte* start_ = nullptr;
  std::size_t size_ = 0;
};

// A small deterministic PRNG for the fault injection (splitmix64).
struct prng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

struct param {
  const serializer_info* info;
  shape kind;
};

std::string param_name(const testing::TestParamInfo<param>& p) {
  std::string n = std::string(p.param.info->name) + "_" + std::string(to_string(p.param.kind));
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

std::vector<param> all_params() {
  std::vector<param> out;
  for (const serializer_info& s : serializers())
    for (shape k : all_shapes) out.push_back({&s, k});
  return out;
}

class Codec : public testing::TestWithParam<param> {
 protected:
  static void SetUpTestSuite() { silence_protobuf_logs(); }  // garbage on purpose: no log lines per test
  std::unique_ptr<codec> make() const { return GetParam().info->make(GetParam().kind); }
  shape kind() const { return GetParam().kind; }

  // Every message a round trip must survive: generated ones with several seeds and the edge cases.
  std::vector<message> messages() const {
    std::vector<message> out;
    for (std::uint64_t seed : {1, 2, 3, 42, 1000}) out.push_back(make_message(kind(), seed));
    for (int v = 0; v < edge_variants; ++v) out.push_back(make_edge_message(kind(), v));
    return out;
  }

  // Feeds damaged bytes to a fresh decoder: whatever happens must be a status, and a decode that says ok must
  // be readable (traverse and to_plain return, ok or not). Returns whether deserialize() accepted the bytes.
  bool feed(codec& c, std::span<const std::byte> damaged) {
    std::uint64_t sum = 0;
    status s = c.deserialize(damaged, sum);
    if (c.decode(damaged)) {
      message back;
      (void)c.to_plain(back);
    }
    return s.ok();
  }
};

TEST_P(Codec, RoundTripIsExactForEveryMessage) {
  auto sender = make();
  auto receiver = make();  // a separate codec, as in a separate process
  for (const message& m : messages()) {
    SCOPED_TRACE(testing::Message() << "message checksum " << checksum_of(m));
    ASSERT_TRUE(fits_limits(m));
    bytes wire = copy_of(sender->serialize(m));
    ASSERT_TRUE(receiver->decode(wire).ok());
    message back;
    ASSERT_TRUE(receiver->to_plain(back).ok());
    EXPECT_TRUE(back == m);
    std::uint64_t sum = 0;
    ASSERT_TRUE(receiver->traverse(sum).ok());
    EXPECT_EQ(sum, checksum_of(m)) << "traverse must read every field and reproduce checksum_of()";
  }
}

TEST_P(Codec, DecodesFromAnyBufferAddress) {
  auto c = make();
  const message m = make_message(kind(), 7);
  bytes wire = copy_of(c->serialize(m));
  for (std::size_t offset : {0, 1, 3, 4, 7}) {
    placed p(wire, offset);
    std::uint64_t sum = 0;
    ASSERT_TRUE(c->deserialize(p.span(), sum).ok()) << "offset " << offset;
    EXPECT_EQ(sum, checksum_of(m));
  }
}

TEST_P(Codec, EncodingDoesNotDependOnEarlierMessages) {
  auto c = make();
  const message a = make_message(kind(), 1), b = make_edge_message(kind(), 0);
  bytes first = copy_of(c->serialize(a));
  (void)c->serialize(b);
  bytes again = copy_of(c->serialize(a));
  EXPECT_EQ(first, again);
  auto fresh = make();
  EXPECT_EQ(first, copy_of(fresh->serialize(a))) << "a reused codec and a new one write the same bytes";
}

TEST_P(Codec, RepeatRunsEveryPhase) {
  auto c = make();
  const message m = make_message(kind(), 3);
  bytes wire = copy_of(c->serialize(m));
  c->build(m);
  EXPECT_TRUE(c->repeat(phase::build, m, wire, 3));
  EXPECT_TRUE(c->repeat(phase::encode, m, wire, 3));
  EXPECT_TRUE(c->repeat(phase::decode, m, wire, 3));
  EXPECT_TRUE(c->repeat(phase::traverse, m, wire, 3));
  EXPECT_TRUE(c->repeat(phase::roundtrip, m, wire, 3));
  std::uint64_t sum = 0;
  ASSERT_TRUE(c->deserialize(wire, sum).ok());
  EXPECT_EQ(sum, checksum_of(m));
}

// What the ipc loop can rely on: once warm, a message costs no operator new (protobuf reuses its messages, capnp
// its first segment, flatbuffers its builder, json-fast its buffers and parser), except where the library
// allocates by design, which this test pins down so that a change shows: nlohmann-json builds a new DOM per
// message; msgpack-cxx's unpack() reserves its parse stack (a std::vector) on every call; protobuf's proto3
// Clear(), which ParseFromArray calls, deletes a singular sub-message (the book's header) when the message is
// not on an arena. (msgpack's zone and sbuffer use malloc directly: reused, and invisible here.)
bool allocates_per_message(std::string_view serializer, shape s) {
  return serializer == "json" || serializer == "msgpack" || (serializer == "protobuf" && s == shape::medium);
}

TEST_P(Codec, AWarmCodecDoesNotAllocatePerMessage) {
  auto sender = make();
  auto receiver = make();
  const message m = make_message(kind(), 8);
  const std::uint64_t expected = checksum_of(m);
  auto round = [&] {
    bytes_view wire = sender->serialize(m);
    std::uint64_t sum = 0;
    ASSERT_TRUE(receiver->deserialize(wire, sum).ok());
    ASSERT_EQ(sum, expected);
  };
  for (int i = 0; i < 3; ++i) round();
  const std::size_t before = g_new_bytes.load();
  for (int i = 0; i < 10; ++i) round();
  const std::size_t allocated = g_new_bytes.load() - before;
  if (allocates_per_message(GetParam().info->name, kind())) {
    EXPECT_GT(allocated, 0u) << "allocates no more: update allocates_per_message() and the codec's notes";
  } else {
    EXPECT_EQ(allocated, 0u) << "bytes allocated by 10 warm messages";
  }
}

TEST_P(Codec, RefusesAMessageOfAnotherShape) {
  auto c = make();
  const shape other = kind() == shape::small ? shape::large : shape::small;
  EXPECT_THROW(c->build(make_message(other, 1)), std::invalid_argument);
  EXPECT_EQ(c->kind(), kind());
}

TEST_P(Codec, TruncatedInputIsAnError) {
  auto c = make();
  const message m = make_message(kind(), 5);
  bytes wire = copy_of(c->serialize(m));
  // Every prefix of small and medium messages; for large ones the first and last 600 and 300 in between.
  std::vector<std::size_t> lengths;
  prng r{11};
  for (std::size_t n = 0; n < wire.size(); ++n)
    if (wire.size() < 4096 || n < 600 || n + 600 > wire.size()) lengths.push_back(n);
  for (int i = 0; i < 300 && wire.size() >= 4096; ++i) lengths.push_back(r.below(wire.size()));
  auto d = make();
  int accepted = 0;
  for (std::size_t n : lengths) {
    placed p(std::span<const std::byte>(wire).first(n), 0);
    if (!feed(*d, p.span())) continue;
    ++accepted;
    message back;
    ASSERT_TRUE(d->to_plain(back).ok());
    if (GetParam().info->self_delimiting) {
      // Only padding may be cut (FlatBuffers aligns its end): what is left must still be the whole message.
      EXPECT_TRUE(back == m) << "prefix of " << n << " of " << wire.size() << " bytes was accepted";
    } else {
      // protobuf: a prefix cut between fields is a valid, shorter message; it must not pass for the original.
      EXPECT_FALSE(back == m) << "prefix of " << n << " bytes decoded to the original message";
    }
  }
  if (GetParam().info->self_delimiting) {
    EXPECT_LE(accepted, 7) << "more than alignment padding was cut";
  }
}

TEST_P(Codec, BitFlipsAndOverwritesNeverCrash) {
  auto c = make();
  bytes wire = copy_of(c->serialize(make_message(kind(), 9)));
  prng r{0xB17F11B5};
  auto d = make();
  for (int i = 0; i < 1500; ++i) {
    bytes damaged = wire;
    switch (i % 3) {
      case 0:  // one bit
        damaged[r.below(damaged.size())] ^= std::byte{static_cast<unsigned char>(1u << r.below(8))};
        break;
      case 1:  // a few random bytes
        for (int k = 0; k < 4; ++k) damaged[r.below(damaged.size())] = static_cast<std::byte>(r.next());
        break;
      default: {  // a window of 0xFF: the largest lengths, counts and offsets a format can express
        std::size_t at = r.below(damaged.size());
        for (std::size_t k = at; k < std::min(damaged.size(), at + 1 + r.below(8)); ++k) damaged[k] = std::byte{0xFF};
      }
    }
    placed p(damaged, i % 8);
    (void)feed(*d, p.span());
  }
}

TEST_P(Codec, RandomBytesAreRefused) {
  auto c = make();
  const std::size_t wire = c->serialize(make_message(kind(), 1)).size();
  prng r{0x5EED + static_cast<std::uint64_t>(kind())};
  auto d = make();
  int accepted = 0, tries = 600;
  for (int i = 0; i < tries; ++i) {
    bytes junk(r.below(2 * wire + 2));
    for (std::byte& b : junk) b = static_cast<std::byte>(r.next());
    if (i % 4 == 0 && !junk.empty()) junk[0] = std::byte{static_cast<unsigned char>(i)};  // vary the first byte
    accepted += feed(*d, junk) ? 1 : 0;
  }
  // None crashes. A self-delimiting format with its own structure checks accepts random bytes only by
  // extraordinary luck; protobuf skips unknown fields by design, so short random inputs often parse (as a
  // message of unknown fields and defaults): for it only the absence of crashes is checked.
  if (GetParam().info->self_delimiting) {
    EXPECT_LE(accepted, tries / 100) << GetParam().info->name << " accepted " << accepted << " random inputs";
  }
}

TEST_P(Codec, HostileInputsCannotMakeItAllocateMuch) {
  auto c = make();
  bytes wire = copy_of(c->serialize(make_message(kind(), 4)));
  std::vector<bytes> inputs;
  // Lengths and counts at their maximum in every position of a valid message...
  for (std::size_t at = 0; at < wire.size(); at += std::max<std::size_t>(1, wire.size() / 200)) {
    bytes b = wire;
    for (std::size_t k = at; k < std::min(b.size(), at + 5); ++k) b[k] = std::byte{0xFF};
    inputs.push_back(std::move(b));
  }
  // ...and documents made of nothing but openers: "[[[[", "{{{{", msgpack 0xdd (array32) headers, capnp far
  // pointers; 64 KiB each.
  for (unsigned char fill : std::initializer_list<unsigned char>{'[', '{', 0xdd, 0xdf, 0x0a, 0xff})
    inputs.emplace_back(64 * 1024, std::byte{fill});
  auto d = make();
  bytes warm = wire;
  (void)feed(*d, warm);  // first use may size the decoder's reusable buffers
  for (const bytes& in : inputs) {
    const std::size_t before = g_new_bytes.load();
    (void)feed(*d, in);
    const std::size_t allocated = g_new_bytes.load() - before;
    // The worst measured is nlohmann-json's DOM for "[[[[...": ~124 bytes per input byte (a json value, an array
    // object and its storage per '['), i.e. at most ~32 MiB at the 256 KiB bound. Everything else stays far lower.
    EXPECT_LE(allocated, 160 * in.size() + (1u << 20)) << "input of " << in.size() << " bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(registry, Codec, testing::ValuesIn(all_params()), param_name);

// ---- the registry and the messages themselves ----------------------------------------------------------------

TEST(SerializerRegistry, NamesAreUniqueAndEveryRowIsComplete) {
  std::set<std::string_view> names;
  for (const serializer_info& s : serializers()) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_FALSE(s.description.empty());
    EXPECT_FALSE(s.library.empty());
    EXPECT_EQ(s.version.empty(), s.name == "raw") << s.name;
    ASSERT_NE(s.make, nullptr);
    EXPECT_EQ(find_serializer(s.name), &s);
  }
  for (const char* n : {"raw", "protobuf", "capnp", "flatbuffers", "msgpack", "json", "json-fast"})
    EXPECT_NE(find_serializer(n), nullptr) << n;
  EXPECT_EQ(find_serializer("xml"), nullptr);
  EXPECT_EQ(serializers().front().name, "raw") << "the floor comes first";
}

TEST(SerializerMessages, GenerationIsDeterministicAndSeedDependent) {
  for (shape s : all_shapes) {
    EXPECT_TRUE(make_message(s, 1) == make_message(s, 1));
    EXPECT_FALSE(make_message(s, 1) == make_message(s, 2));
    EXPECT_EQ(shape_of(make_message(s, 1)), s);
    EXPECT_EQ(parse_shape(to_string(s)), s);
  }
  EXPECT_FALSE(parse_shape("huge").has_value());
}

TEST(SerializerMessages, ShapesHaveTheDocumentedSizes) {
  auto raw = find_serializer("raw");
  ASSERT_NE(raw, nullptr);
  EXPECT_LT(raw->make(shape::small)->serialize(make_message(shape::small, 1)).size(), 100u);
  const std::size_t medium = raw->make(shape::medium)->serialize(make_message(shape::medium, 1)).size();
  EXPECT_GT(medium, 900u);
  EXPECT_LT(medium, 1200u);
  const message large = make_message(shape::large, 1);
  const bulk& b = std::get<bulk>(large);
  EXPECT_EQ(b.ints.size(), 1000u);
  ASSERT_EQ(b.strings.size(), 100u);
  std::size_t chars = 0;
  for (const std::string& s : b.strings) chars += s.size();
  EXPECT_NEAR(static_cast<double>(chars) / 100.0, 90.0, 3.0);
}

TEST(SerializerMessages, ChecksumSeesEveryField) {
  message m = make_message(shape::medium, 1);
  const std::uint64_t base = checksum_of(m);
  std::get<book>(m).asks.back().orders += 1;
  EXPECT_NE(checksum_of(m), base);
  message t = make_message(shape::small, 1);
  const std::uint64_t tb = checksum_of(t);
  std::get<tick>(t).symbol.back() = '!';
  EXPECT_NE(checksum_of(t), tb);
}

TEST(SerializerMessages, JsonAndJsonFastReadEachOther) {
  auto a = find_serializer("json"), b = find_serializer("json-fast");
  ASSERT_TRUE(a && b);
  for (shape s : all_shapes) {
    const std::vector<message> samples = {make_message(s, 2), make_edge_message(s, 0), make_edge_message(s, 2)};
    for (const message& m : samples) {
      auto ca = a->make(s), cb = b->make(s);
      bytes from_a = copy_of(ca->serialize(m)), from_b = copy_of(cb->serialize(m));
      message back;
      ASSERT_TRUE(cb->decode(from_a).ok());
      ASSERT_TRUE(cb->to_plain(back).ok());
      EXPECT_TRUE(back == m);
      ASSERT_TRUE(ca->decode(from_b).ok());
      ASSERT_TRUE(ca->to_plain(back).ok());
      EXPECT_TRUE(back == m);
    }
  }
}

TEST(SerializerMessages, RawRefusesWhatItCannotHold) {
  auto c = find_serializer("raw")->make(shape::small);
  tick t = std::get<tick>(make_message(shape::small, 1));
  t.symbol = std::string(limits::short_string + 1, 'A');
  EXPECT_THROW(c->build(t), std::length_error);
  EXPECT_FALSE(fits_limits(t));
}

// ---- inputs the fuzzer found (tests/serializers/run_fuzz.sh), kept as regressions; the first byte is the shape --

bytes from_hex(std::string_view hex) {
  bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// 609 bytes whose book declares 3678 zero-sized price levels (Cap'n Proto allows zero-sized list elements): a
// reader must refuse the list rather than hand out, or copy, thousands of levels.
TEST(FuzzRegressions, CapnpListOfZeroSizedStructsIsRefused) {
  const bytes input = from_hex(
      "01000000004a00000000000000000003000800000002000200250000000700000025000000e7010000ffffffffffffffffff"
      "ffffffffffff7f050000004a00000009000000520000007122625c01090a2f0000000000000000c3a9e282acf09f998200ff"
      "ff7efc03937839000000000000000000000300000050000000000000000000000000000000009a9999000000000000000000"
      "0000009a9999999999b93f010000000000000001000000000000009a9999999999c93f020000000000000002000000000000"
      "00343333333333d33f030000000000000003000000000000009a9999999999d93f0400000000000000040000000000000000"
      "0000000000e03f050000000000000000007122625c01090a2f0000000000000000c3a9e282acf09f99820000000000000000"
      "000000030000005000000003000000000000000000000000000000000000000000000000000800000000000000cdcccccccc"
      "ccec3f09000000000000030008000000020002001d000000070000001d000000070000000000000000000000000000000000"
      "0000050000000a000000050000000a0000000000003333f33f0c000000000000000c00000000000000cdccccccccccf43f0d"
      "000000000000000d00000000000000676666666666f63f0e000000000000000e00000000000000000000000000f83f0f0000"
      "00000000000f000000000000009a9999999999f93f10000000000000001000000000000000343333333333fb3f1100000000"
      "0000001100000000000000cdccccccccccfc3f12000000000000001200000000000000676666666666fe3f13000000000000"
      "001300000000000000");
  ASSERT_EQ(static_cast<int>(input[0]), static_cast<int>(shape::medium));
  auto c = find_serializer("capnp")->make(shape::medium);
  const std::span<const std::byte> wire = std::span<const std::byte>(input).subspan(1);
  const std::size_t before = g_new_bytes.load();
  if (c->decode(wire)) {
    std::uint64_t sum = 0;
    EXPECT_FALSE(c->traverse(sum).ok());
    message m;
    EXPECT_FALSE(c->to_plain(m).ok());
  }
  EXPECT_LT(g_new_bytes.load() - before, 64u * 1024);
}

// 80 bytes that pass FlatBuffers 2.0.8's Verifier with a vector of Level structs 4 bytes off their alignment:
// reading them is undefined behaviour (UBSan: misaligned member call), so decode must refuse them.
TEST(FuzzRegressions, FlatbuffersMisalignedStructVectorIsRefused) {
  const bytes input = from_hex(
      "011000000000000a001000040008000c000a000000200000000c0000000400000001000000000000000c000c000110000000"
      "000000000000001000000004000800000000000000000000000000000000");
  ASSERT_EQ(static_cast<int>(input[0]), static_cast<int>(shape::medium));
  auto c = find_serializer("flatbuffers")->make(shape::medium);
  EXPECT_FALSE(c->decode(std::span<const std::byte>(input).subspan(1)).ok());
}

}  // namespace
}  // namespace bench::ser
