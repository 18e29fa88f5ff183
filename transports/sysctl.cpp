#include "transports/sysctl.hpp"

#include <fstream>

namespace bench {

std::optional<std::size_t> read_sysctl(const char* path) noexcept {
  std::ifstream in(path);
  unsigned long long v = 0;
  if (!(in >> v)) return std::nullopt;
  return static_cast<std::size_t>(v);
}

}  // namespace bench
