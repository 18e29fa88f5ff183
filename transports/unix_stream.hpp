// `unix`: a UNIX-domain stream socket bound to a path in the run's private directory, connected the way a
// client connects to a server (socket, bind, listen, connect, accept). The socket file is unlinked as soon as
// the connection is accepted.
#pragma once
#include "transports/transport.hpp"
namespace bench {
channel make_unix_channel(const channel_options& opt);
}
