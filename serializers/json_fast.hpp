// json-fast: the same JSON documents as `json`, parsed with simdjson and written by a hand-written writer.
// Speed choices, and why simdjson rather than RapidJSON, in json_fast.cpp.
#pragma once

#include <memory>
#include <string>

#include "serializers/serializer.hpp"

namespace bench::ser {

std::unique_ptr<codec> make_json_fast_codec(shape s);
std::string json_fast_library_version();  // simdjson's (the writer is ours)

}  // namespace bench::ser
