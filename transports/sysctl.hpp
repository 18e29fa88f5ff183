// Reading the kernel's limits from /proc/sys, for the transports whose largest message is a system setting.
#pragma once

#include <cstddef>
#include <optional>

namespace bench {
// The number in a /proc/sys file, or nothing if it cannot be read or parsed.
std::optional<std::size_t> read_sysctl(const char* path) noexcept;
}  // namespace bench
