#include "transports/eventfd.hpp"

#include <string>

#include "transports/shm.hpp"

namespace bench {

channel make_eventfd_channel(const channel_options& opt) {
  if (opt.max_msg_bytes > eventfd_max_msg_bytes) {
    throw std::runtime_error("eventfd carries no payload: messages of " + std::to_string(opt.max_msg_bytes) +
                             " bytes exceed its 32-byte header-only limit");
  }
  return make_memfd_ring_channel(opt, opt.wait == wait_mode::spin ? ring_wait::eventfd_spin : ring_wait::eventfd_block);
}

}  // namespace bench
