// json: JSON with nlohmann-json, the popular C++ JSON library (a DOM of std::map and std::vector). Speed
// choices in json.cpp.
#pragma once

#include <memory>
#include <string>

#include "serializers/serializer.hpp"

namespace bench::ser {

std::unique_ptr<codec> make_json_codec(shape s);
std::string json_library_version();

}  // namespace bench::ser
