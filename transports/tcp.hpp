// `tcp`: a TCP connection over loopback (127.0.0.1) with TCP_NODELAY on both ends, so small messages are not
// held back by Nagle's algorithm. The listening port is chosen by the kernel (port 0): runs never collide.
#pragma once
#include "transports/transport.hpp"
namespace bench {
channel make_tcp_channel(const channel_options& opt);
}
