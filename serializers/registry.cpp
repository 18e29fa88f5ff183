// The serializer table: one row per serializer.
#include "serializers/registry.hpp"

#include <vector>

#include "base/registry.hpp"
#include "serializers/capnp.hpp"
#include "serializers/flatbuffers.hpp"
#include "serializers/json.hpp"
#include "serializers/json_fast.hpp"
#include "serializers/msgpack.hpp"
#include "serializers/protobuf.hpp"
#include "serializers/raw.hpp"

namespace bench::ser {
namespace {

std::vector<serializer_info> make_table() {
  return {
      {.name = "raw",
       .description = "a fixed-size C++ struct copied with memcpy (the floor)",
       .library = "none",
       .version = "",
       .make = make_raw_codec},
      {.name = "protobuf",
       .description = "Protocol Buffers, proto3, generated code, message reuse",
       .library = "protobuf",
       .version = protobuf_library_version(),
       .self_delimiting = false,
       .make = make_protobuf_codec},
      {.name = "capnp",
       .description = "Cap'n Proto, unpacked, reused first segment, read in place",
       .library = "capnproto",
       .version = capnp_library_version(),
       .make = make_capnp_codec},
      {.name = "flatbuffers",
       .description = "FlatBuffers, reused builder, Verifier before access",
       .library = "flatbuffers",
       .version = flatbuffers_library_version(),
       .make = make_flatbuffers_codec},
      {.name = "msgpack",
       .description = "MessagePack, positional arrays, zero-copy strings on unpack",
       .library = "msgpack-cxx",
       .version = msgpack_library_version(),
       .builds_object = false,
       .make = make_msgpack_codec},
      {.name = "json",
       .description = "JSON via nlohmann-json (DOM built, dumped and parsed)",
       .library = "nlohmann_json",
       .version = json_library_version(),
       .make = make_json_codec},
      {.name = "json-fast",
       .description = "the same JSON, simdjson DOM parse + a hand-written writer",
       .library = "simdjson",
       .version = json_fast_library_version(),
       .builds_object = false,
       .make = make_json_fast_codec},
  };
}

}  // namespace

std::string_view to_string(phase p) noexcept {
  switch (p) {
    case phase::build: return "build";
    case phase::encode: return "encode";
    case phase::decode: return "decode";
    case phase::traverse: return "traverse";
    case phase::roundtrip: return "roundtrip";
  }
  return "?";
}

std::span<const serializer_info> serializers() {
  static const std::vector<serializer_info> table = make_table();
  return table;
}

const serializer_info* find_serializer(std::string_view name) { return find_row(serializers(), name); }

std::string serializer_names() { return row_names(serializers()); }

}  // namespace bench::ser
