// flatbuffers: Google FlatBuffers (generated C++ from messages.fbs), verified before access. Speed choices in
// flatbuffers.cpp.
#pragma once

#include <memory>
#include <string>

#include "serializers/serializer.hpp"

namespace bench::ser {

std::unique_ptr<codec> make_flatbuffers_codec(shape s);
std::string flatbuffers_library_version();

}  // namespace bench::ser
