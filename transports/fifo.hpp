// `fifo`: two named pipes (mkfifo) in the run's private directory. Both ends are opened before any peer
// starts and the names are unlinked at once, so no FIFO outlives the case even if the harness is killed.
#pragma once
#include "transports/transport.hpp"
namespace bench {
channel make_fifo_channel(const channel_options& opt);
}
