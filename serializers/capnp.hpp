// capnp: Cap'n Proto (generated C++ from messages.capnp), unpacked flat-array encoding. Speed choices in
// capnp.cpp.
#pragma once

#include <memory>
#include <string>

#include "serializers/serializer.hpp"

namespace bench::ser {

std::unique_ptr<codec> make_capnp_codec(shape s);
std::string capnp_library_version();

}  // namespace bench::ser
