// The serializer seam: one codec per (serializer, shape) turns a plain message into bytes and bytes back into
// the library's own object, and reads every field of it.
//
// Per message, a sender calls serialize(m) (build + encode) and sends the returned bytes; a receiver calls
// deserialize(bytes, sum) (decode + traverse), which refuses bad input with an error and never throws, and
// compares `sum` with checksum_of(the message it expects). The benchmark times the four steps separately
// (build, encode, decode, traverse) because zero-copy formats look free when only one of them is counted.
//
// Adding a serializer is one .hpp/.cpp pair with one Impl per shape (see codec_adapter below) plus one row in
// registry.cpp; the suite, the typed tests and the fuzz targets all read that table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "serializers/messages.hpp"

namespace bench::ser {

enum class phase : std::uint8_t { build, encode, decode, traverse, roundtrip };
inline constexpr std::array<phase, 5> all_phases = {phase::build, phase::encode, phase::decode, phase::traverse,
                                                    phase::roundtrip};
std::string_view to_string(phase p) noexcept;

// Decoding refuses anything larger: 8x the largest encoding of any shape here (JSON of `large`, ~21 KiB), and a
// bound on what hostile input can make a decoder allocate (a DOM is at most a few dozen times its input).
inline constexpr std::size_t max_wire_bytes = 256 * 1024;

// Ok, or what was wrong, as static text (no allocation on the error path either).
struct [[nodiscard]] status {
  const char* error = nullptr;
  constexpr bool ok() const noexcept { return error == nullptr; }
  constexpr explicit operator bool() const noexcept { return ok(); }
};
inline constexpr status ok_status{};
constexpr status failure(const char* why) noexcept { return status{why}; }

class codec {
 public:
  virtual ~codec() = default;
  virtual shape kind() const noexcept = 0;

  // The plain message -> the library's object (protobuf message, Cap'n Proto / FlatBuffers builder, JSON DOM).
  // msgpack and json-fast encode straight from the C++ struct: for them build() only keeps a pointer to m, which
  // must then stay alive and unchanged until encode() returns. Throws std::invalid_argument for a message of
  // another shape, std::length_error if raw cannot hold it (see limits).
  virtual void build(const message& m) = 0;
  // The built object -> bytes, in a buffer this codec owns and reuses: valid until the next build() or encode().
  virtual std::span<const std::byte> encode() = 0;
  // Bytes -> the library's object, or a view into `bytes` (capnp, flatbuffers, msgpack strings, raw copies),
  // which must then stay alive and unchanged until traverse()/to_plain() are done. Bad input is an error status,
  // never a crash, an exception, an endless loop or an allocation much larger than the input.
  virtual status decode(std::span<const std::byte> bytes) noexcept = 0;
  // Reads every field of the last decoded message (see checksum); lazy formats (capnp) find some damage only
  // here, so this can fail too. On success `sum` equals checksum_of(the message that was encoded).
  virtual status traverse(std::uint64_t& sum) noexcept = 0;
  // The last decoded message as a plain message, for equality tests. May allocate; never throws for bad input.
  virtual status to_plain(message& out) = 0;

  // Runs one phase n times back to back with direct (non-virtual) calls: the benchmark's inner loop.
  // Preconditions: encode needs a build(m) before, traverse a successful decode() before; `bytes` is what
  // decode reads. Returns false if any decode or traverse in the loop failed.
  virtual bool repeat(phase p, const message& m, std::span<const std::byte> bytes, std::uint64_t n) = 0;

  // The two calls a message-passing loop makes.
  std::span<const std::byte> serialize(const message& m) {
    build(m);
    return encode();
  }
  status deserialize(std::span<const std::byte> bytes, std::uint64_t& sum) noexcept {
    status s = decode(bytes);
    return s ? traverse(sum) : s;
  }
};

// ---- helpers for implementations ----------------------------------------------------------------------------

// Keeps a value (and all memory) observable to the optimizer without costing an instruction, like
// benchmark::DoNotOptimize, so that a timed loop cannot be folded away.
template <class T>
inline void keep(const T& value) noexcept {
  asm volatile("" : : "r,m"(value) : "memory");
}

// A growable byte buffer that never initializes what it hands out (std::vector would zero-fill on every resize)
// and is aligned for any scalar (operator new[] gives 16 bytes).
class byte_buffer {
 public:
  std::byte* reserve(std::size_t n) {
    if (n > capacity_) {
      data_.reset(new std::byte[n]);
      capacity_ = n;
    }
    return data_.get();
  }
  std::byte* data() noexcept { return data_.get(); }
  const std::byte* data() const noexcept { return data_.get(); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::unique_ptr<std::byte[]> data_;
  std::size_t capacity_ = 0;
};

// The input as a pointer aligned to 8 bytes: itself if it already is, otherwise a copy in `scratch`. Cap'n Proto
// and FlatBuffers read 8-byte scalars in place, and a receive buffer may sit at any offset.
inline const std::byte* aligned8(std::span<const std::byte> bytes, byte_buffer& scratch) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % 8 == 0) return bytes.data();
  std::byte* p = scratch.reserve(bytes.size());
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return p;
}

// A decoded message is read by one walker per (library, shape), templated on where the values go: into a plain
// message (to_plain) or into a checksum (traverse, which never copies or allocates). One walker for both keeps
// the two in step. Walkers call set(destination field, value), resize(destination list, n) and elem(list, i);
// into_checksum ignores the destinations (they belong to a scratch message that is never written).
class into_plain {
 public:
  template <class T, class V>
  void set(T& field, const V& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      field.assign(std::string_view(v));
    } else {
      field = static_cast<T>(v);
    }
  }
  template <class T>
  void resize(std::vector<T>& list, std::size_t n) {
    list.resize(n);
  }
  template <class T>
  T& elem(std::vector<T>& list, std::size_t i) {
    return list[i];
  }
};

class into_checksum {
 public:
  template <class T, class V>
  void set(T&&, const V& v) noexcept {
    using field = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<field, std::string>) {
      sum_.add(std::string_view(v));
    } else {
      sum_.add(static_cast<field>(v));
    }
  }
  template <class T>
  void resize(std::vector<T>&, std::size_t n) noexcept {
    sum_.add_count(n);
  }
  template <class T>
  T elem(std::vector<T>&, std::size_t) noexcept {
    return T{};  // a temporary that the walker's writes go to; optimized away
  }
  std::uint64_t value() const noexcept { return sum_.value(); }

 private:
  checksum sum_;
};

// Reads n price levels from any array of records with price, quantity and orders members (the plain `level`,
// raw's fixed layout).
template <class Level, class Out>
void walk_level_array(const Level* src, std::size_t n, std::vector<level>& d, Out& out) {
  out.resize(d, n);
  for (std::size_t i = 0; i < n; ++i) {
    auto&& l = out.elem(d, i);
    out.set(l.price, src[i].price);
    out.set(l.quantity, src[i].quantity);
    out.set(l.orders, src[i].orders);
  }
}

// The type a self-describing format (msgpack, JSON) is asked for when a walker fills a field of type T: the field's
// own type, except that strings are read as views.
template <class T>
struct wire {
  using type = T;
};
template <>
struct wire<std::string> {
  using type = std::string_view;
};
template <class T>
using wire_t = typename wire<T>::type;

// The codec for one Impl, which provides (non-virtual):
//   using plain = tick | book | bulk;
//   void build(const plain&);  std::span<const std::byte> encode();  status decode(std::span<const std::byte>);
//   template <class Out> status read(plain& scratch, Out& out);   // the walker over the last decoded message
// The adapter adds the size bound, the variant dispatch and the loop of repeat() around them.
template <class Impl>
class codec_adapter final : public codec {
 public:
  using plain = typename Impl::plain;

  template <class... Args>
  explicit codec_adapter(Args&&... args) : impl_(std::forward<Args>(args)...) {}

  shape kind() const noexcept override { return shape_v<plain>; }

  void build(const message& m) override { impl_.build(get(m)); }
  std::span<const std::byte> encode() override { return impl_.encode(); }

  status decode(std::span<const std::byte> bytes) noexcept override {
    if (bytes.size() > max_wire_bytes) return failure("message larger than the 256 KiB bound");
    return impl_.decode(bytes);
  }

  status traverse(std::uint64_t& sum) noexcept override {
    into_checksum out;
    status s = impl_.read(scratch_, out);
    sum = out.value();
    return s;
  }

  status to_plain(message& out) override {
    plain& p = out.template emplace<plain>();
    into_plain into;
    return impl_.read(p, into);
  }

  bool repeat(phase p, const message& m, std::span<const std::byte> bytes, std::uint64_t n) override {
    const plain& pm = get(m);
    bool ok = true;
    switch (p) {
      case phase::build:
        for (std::uint64_t i = 0; i < n; ++i) {
          impl_.build(pm);
          keep(impl_);
        }
        break;
      case phase::encode:
        for (std::uint64_t i = 0; i < n; ++i) keep(impl_.encode().data());
        break;
      case phase::decode:
        for (std::uint64_t i = 0; i < n; ++i)
          if (!impl_.decode(bytes)) ok = false;
        break;
      case phase::traverse:
        for (std::uint64_t i = 0; i < n; ++i) {
          into_checksum out;
          if (!impl_.read(scratch_, out)) ok = false;
          keep(out.value());
        }
        break;
      case phase::roundtrip:
        for (std::uint64_t i = 0; i < n; ++i) {
          impl_.build(pm);
          std::span<const std::byte> wire = impl_.encode();
          into_checksum out;
          if (!impl_.decode(wire) || !impl_.read(scratch_, out)) ok = false;
          keep(out.value());
        }
        break;
    }
    return ok;
  }

 private:
  static const plain& get(const message& m) {
    const plain* p = std::get_if<plain>(&m);
    if (p == nullptr) throw std::invalid_argument("codec: message has the wrong shape for this codec");
    return *p;
  }

  Impl impl_;
  plain scratch_;  // destinations for into_checksum: never written
};

template <class Impl, class... Args>
std::unique_ptr<codec> make_codec(Args&&... args) {
  return std::make_unique<codec_adapter<Impl>>(std::forward<Args>(args)...);
}

}  // namespace bench::ser
