// raw: a trivially copyable struct per shape, copied with memcpy; the floor every other serializer is compared
// with. Speed choices are in raw.cpp.
#pragma once

#include <memory>

#include "serializers/serializer.hpp"

namespace bench::ser {

std::unique_ptr<codec> make_raw_codec(shape s);

}  // namespace bench::ser
