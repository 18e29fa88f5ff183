// protobuf: Google Protocol Buffers (proto3, generated C++ from messages.proto). Speed choices in protobuf.cpp.
#pragma once

#include <memory>
#include <string>

#include "serializers/serializer.hpp"

namespace bench::ser {

std::unique_ptr<codec> make_protobuf_codec(shape s);
std::string protobuf_library_version();
// Discards protobuf's own log lines (e.g. "String field contains invalid UTF-8") for the rest of the process:
// for tests and fuzzers, which feed it garbage on purpose. Not thread-safe; call once at start-up.
void silence_protobuf_logs();

}  // namespace bench::ser
