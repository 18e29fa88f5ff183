// The transport table: one row per transport. `bench list transports` prints it; nothing keeps a second list.
#include <array>

#include "harness/registry.hpp"
#include "transports/fifo.hpp"
#include "transports/pipe.hpp"
#include "transports/tcp.hpp"
#include "transports/transport.hpp"
#include "transports/unix_stream.hpp"

namespace bench {
namespace {
std::string available() { return {}; }

const std::array table = {
    transport_info{.name = "pipe", .description = "two anonymous pipes, one per direction",
                   .unavailable_reason = available, .make = make_pipe_channel},
    transport_info{.name = "fifo", .description = "two named pipes (mkfifo) in a private directory",
                   .unavailable_reason = available, .make = make_fifo_channel},
    transport_info{.name = "unix", .description = "UNIX-domain stream socket bound to a path",
                   .unavailable_reason = available, .make = make_unix_channel},
    transport_info{.name = "tcp", .description = "TCP over loopback 127.0.0.1 with TCP_NODELAY",
                   .unavailable_reason = available, .make = make_tcp_channel},
};
}  // namespace

std::span<const transport_info> transports() { return table; }

const transport_info* find_transport(std::string_view name) { return find_row(transports(), name); }

}  // namespace bench
