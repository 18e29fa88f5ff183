// msgpack: MessagePack with msgpack-cxx, positional arrays (no field names). Speed choices in msgpack.cpp.
#pragma once

#include <memory>
#include <string>

#include "serializers/serializer.hpp"

namespace bench::ser {

std::unique_ptr<codec> make_msgpack_codec(shape s);
std::string msgpack_library_version();

}  // namespace bench::ser
