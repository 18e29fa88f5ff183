// `shm-spin`, `shm`, `shm-eventfd`: the shared-memory ring (shm_ring.hpp) in an anonymous memfd segment.
// memfd_create gives a file with no name in any filesystem: nothing ever appears in /dev/shm, and the memory
// is freed when the last mapping and descriptor are gone, however the processes end (crash and SIGKILL
// included). The mapping is MAP_SHARED, so it survives fork: the process model creates the channel and forks.
#pragma once

#include "transports/shm_ring.hpp"
#include "transports/transport.hpp"

namespace bench {

// A memfd ring channel sized for opt.max_msg_bytes (ring_capacity_for), with the given wait; max_message as for
// make_ring_channel.
channel make_memfd_ring_channel(const channel_options& opt, ring_wait wait, std::size_t max_message = 0);

channel make_shm_spin_channel(const channel_options& opt);     // busy-poll
channel make_shm_channel(const channel_options& opt);          // spin, then sleep on a futex
channel make_shm_eventfd_channel(const channel_options& opt);  // always sleep on an eventfd

}  // namespace bench
