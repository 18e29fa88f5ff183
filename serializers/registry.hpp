// The serializer table: one row per serializer. `bench list`, the serialize suite, the ipc suite's
// --serializers, the typed tests and the fuzz targets read it; nothing keeps a second list.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "serializers/serializer.hpp"

namespace bench::ser {

struct serializer_info {
  std::string_view name;
  std::string_view description;
  std::string_view library;  // the library's name, e.g. "protobuf"; "none" for raw
  std::string version;       // its version as its headers say, e.g. "3.21.12"; empty for raw
  // False where encode() writes straight from the C++ struct (msgpack, json-fast): build() only keeps a pointer,
  // so the suite has no build phase to time for it.
  bool builds_object = true;
  // False where the format does not know where a message ends (protobuf: a prefix cut between fields is a valid
  // shorter message, and bytes of unknown fields are skipped by design, so even random bytes may parse).
  // Truncation is then caught only by the framing around the message, which carries its length.
  bool self_delimiting = true;
  std::unique_ptr<codec> (*make)(shape) = nullptr;
};

// In the order bench lists and plots them: the floor first, then binary schema formats, then text.
std::span<const serializer_info> serializers();
const serializer_info* find_serializer(std::string_view name);
// "raw, protobuf, ...": for error messages.
std::string serializer_names();

}  // namespace bench::ser
