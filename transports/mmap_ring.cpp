#include "transports/mmap_ring.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "base/error.hpp"
#include "transports/shm_ring.hpp"

namespace bench {

channel make_mmap_channel(const channel_options& opt) {
  if (opt.scratch_dir.empty()) throw std::runtime_error("cannot create the mmap ring: no scratch directory given");
  std::size_t capacity = ring_capacity_for(opt.max_msg_bytes);
  std::string path = opt.scratch_dir + "/" + opt.unique_name + ".ring";
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) throw_errno("create the ring file " + path);
  struct unlink_guard {
    const std::string& p;
    ~unlink_guard() { ::unlink(p.c_str()); }  // right after both mappings exist, or on any failure before
  } guard{path};
  return make_ring_channel(fd.get(), capacity, ring_wait::adaptive, "ring file " + path);
}

}  // namespace bench
