#include "transports/eventfd.hpp"

#include "transports/shm.hpp"

namespace bench {

// Any channel_options::max_msg_bytes is accepted (the row's limit tells the planner); send() refuses a message
// longer than the header.
channel make_eventfd_channel(const channel_options& opt) {
  return make_memfd_ring_channel(opt, opt.wait == wait_mode::spin ? ring_wait::eventfd_spin : ring_wait::eventfd_block,
                                 eventfd_max_msg_bytes);
}

}  // namespace bench
