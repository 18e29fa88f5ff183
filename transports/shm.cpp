#include "transports/shm.hpp"

#include <sys/mman.h>

#include <string>

#include "base/error.hpp"

namespace bench {

channel make_memfd_ring_channel(const channel_options& opt, ring_wait wait, std::size_t max_message) {
  std::size_t capacity = ring_capacity_for(max_message ? max_message : opt.max_msg_bytes);
  // The name shows only in /proc/<pid>/fd and /proc/<pid>/maps, to tell the segments apart while debugging.
  std::string name = "bench-ring-" + opt.unique_name;
  unique_fd fd(::memfd_create(name.c_str(), MFD_CLOEXEC));
  if (!fd) throw_errno("create the shared memory segment (memfd) " + name);
  return make_ring_channel(fd.get(), capacity, wait, "shared memory segment " + name, max_message);
  // fd closes here: each endpoint keeps its own mapping, which keeps the memory alive.
}

channel make_shm_spin_channel(const channel_options& opt) { return make_memfd_ring_channel(opt, ring_wait::spin); }
channel make_shm_channel(const channel_options& opt) { return make_memfd_ring_channel(opt, ring_wait::adaptive); }
channel make_shm_eventfd_channel(const channel_options& opt) {
  return make_memfd_ring_channel(opt, ring_wait::eventfd_block);
}

}  // namespace bench
