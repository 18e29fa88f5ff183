// `async-uring`: the server side of every pair in ONE event-loop thread on io_uring (liburing): submissions
// batched into one io_uring_enter per loop turn, completions reaped in bulk, descriptors registered.
#pragma once

#include <memory>
#include <string>

#include "harness/model.hpp"

namespace bench {
std::unique_ptr<server_host> make_uring_host();
// "" where io_uring can be set up; otherwise why not (probed once: containers' seccomp profiles and
// kernel.io_uring_disabled refuse it).
std::string uring_unavailable_reason();
}  // namespace bench
