// `async`: the server side of every pair in ONE event-loop thread on Boost.Asio (epoll), one C++20 coroutine
// per connection (co_await on each read and write).
#pragma once

#include <memory>

#include "harness/model.hpp"

namespace bench {
std::unique_ptr<server_host> make_async_host();
}
