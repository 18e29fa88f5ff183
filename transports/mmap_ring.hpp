// `mmap`: the same ring protocol as `shm` (shm_ring.hpp, adaptive wait) over a MAP_SHARED mapping of a regular
// file in the run's scratch directory, to show what a file-backed mapping and its page cache add or do not:
// on a disk filesystem the pages are page-cache pages that the kernel's flusher may write back (and then
// write-protect again) while the case runs; on tmpfs it is the same memory as a memfd.
//
// The file is created with O_EXCL and unlinked as soon as both endpoints have mapped it, so no file survives
// a run, a failed case or a crash; the mappings keep the inode alive until the last one goes.
#pragma once

#include "transports/transport.hpp"

namespace bench {
channel make_mmap_channel(const channel_options& opt);
}
