// `pipe`: two anonymous pipes, one per direction (pipe(2) is one-way). Inherited across fork.
#pragma once
#include "transports/transport.hpp"
namespace bench {
channel make_pipe_channel(const channel_options& opt);
}
