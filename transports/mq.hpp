// `mq`: a pair of POSIX message queues, one per direction. Each queue is created with O_EXCL under a name
// unique to this process and channel, and unlinked at once: the descriptors keep it, so nothing is ever left in
// /dev/mqueue, whatever happens to the run.
//
// The system's limits are respected, not raised (root could exceed them): the message size may not exceed
// /proc/sys/fs/mqueue/msgsize_max (8192 by default) and the queue depth is /proc/sys/fs/mqueue/msg_max (10
// by default). The registry row's max_msg_bytes is read from msgsize_max when the table is built, so the
// planner skips larger sizes with that reason; a channel asked for more fails naming the limit and the file.
//
// A queue has no notion of a peer, so each endpoint holds a life line (life_line.hpp): a blocking call waits at
// most life_line_period_ms (mq_timedreceive, mq_timedsend) before it looks at the peer's line. A peer gone
// reads as end of stream (recv returns 0) and a send to it throws peer_gone_error.
#pragma once

#include <string>

#include "transports/transport.hpp"

namespace bench {
inline constexpr const char* mq_msgsize_max_file = "/proc/sys/fs/mqueue/msgsize_max";
inline constexpr const char* mq_msg_max_file = "/proc/sys/fs/mqueue/msg_max";

// For the registry row: msgsize_max, or 0 if it cannot be read (then mq_unavailable_reason says why).
std::size_t mq_max_msg_bytes() noexcept;
std::string mq_unavailable_reason();
channel make_mq_channel(const channel_options& opt);
}  // namespace bench
