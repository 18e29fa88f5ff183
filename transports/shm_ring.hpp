// The shared-memory ring behind `shm-spin`, `shm`, `shm-eventfd`, `mmap` and `eventfd`: one single-producer
// single-consumer ring of variable-length messages per direction, both in one shared segment (a memfd or a
// file, mapped MAP_SHARED, so it survives fork and works between threads and between processes).
//
// Segment layout (every offset a multiple of 64, the cache-line size):
//
//   page 0   segment_header: magic, capacity; side_state[2] (client, server); ring_control[2]
//            (ring 0 carries client -> server, ring 1 server -> client)
//   4096     ring 0 data, `capacity` bytes
//   4096+C   ring 1 data, `capacity` bytes
//
// Records: a message is stored as it is sent (its own 32-byte frame header first: the length in it is the
// record's length), at the byte offset `index mod capacity`, and takes round_up(length, 64) bytes of the ring,
// so that every record starts on its own cache line (the producer writing record n+1 never touches the line
// the consumer is reading in record n). A record that runs past the end of the data area continues at its
// start (a byte-wise wrap: two memcpy calls). No skip marker is needed and no space is wasted at the end.
//
// Publishing: the first 8 bytes of a record (the header's magic and length) are its ready word. The producer
// writes the rest of the record, then the ready word (release), then the producer index (release). The ready
// word where the NEXT record will start reads 0 before that publish, so a ready word reads 0 until its record
// is published, whatever an earlier lap left there; that is why the producer keeps one line free (a message may
// take at most capacity - 64 bytes). It zeroes those words ahead of time: after each publish, the first words
// of the next few free lines (clear-ahead), so that the store which takes such a line back from the consumer's
// cache overlaps the wait for the peer instead of delaying the next publish (docs/MEASURED.md); only a record that
// reaches past them clears its successor's word itself, before its publish. The consumer polls the ready word at its
// index: for a record of one line (messages up to 64 bytes) that single line carries the signal and the data, so a
// small message costs one cache-line handoff, like the hardware floor, instead of two (index line, then data line). A
// longer record is taken only once the producer index covers it too, so its length is always checked against what the
// producer published. Sleepers sleep on the producer index, which is stored last.
//
// Reading in place: recv_in_place() hands out the next message where it lies (a record that wraps past the end
// is copied out instead) and keeps its room from the producer until release_in_place(); bench's servers use it
// for messages larger than a page, so that they read each byte once, from the ring, as the floor's consumer does.
//
// Indices: `head` (bytes published by the producer) and `tail` (bytes released by the consumer) are free-running
// 32-bit counters; head - tail (mod 2^32) is the number of bytes in the ring. The capacity is a power of two
// no larger than 2^30, so `index & (capacity - 1)` is the offset even across the 2^32 wrap. They are 32-bit
// because a futex word is 32-bit: the adaptive wait sleeps on the index word itself.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/fd.hpp"
#include "transports/transport.hpp"

namespace bench {

inline constexpr std::size_t cache_line_bytes = 64;  // x86-64 and the arm64 cores we know of

// One direction's control block. Each field sits alone on its cache line:
struct ring_control {
  // Written by the producer only, read by the consumer (and by the producer's own stores).
  alignas(cache_line_bytes) std::atomic<std::uint32_t> head;
  // Written by the consumer only. On another line than head: otherwise every publish by the producer would
  // invalidate the line the consumer writes on every release, and the line would bounce twice per message.
  alignas(cache_line_bytes) std::atomic<std::uint32_t> tail;
  // Set by the consumer just before it sleeps on `head` (futex). Read by the producer after every publish,
  // so it lives on a line that is written only when someone goes to sleep: the producer's read stays a
  // cache hit while the consumer is awake.
  alignas(cache_line_bytes) std::atomic<std::uint32_t> consumer_sleeping;
  // The same for a producer sleeping on `tail` because the ring is full.
  alignas(cache_line_bytes) std::atomic<std::uint32_t> producer_sleeping;
};
static_assert(offsetof(ring_control, tail) - offsetof(ring_control, head) >= cache_line_bytes,
              "producer and consumer indices must not share a cache line (false sharing doubles the handoffs)");
static_assert(offsetof(ring_control, consumer_sleeping) - offsetof(ring_control, tail) >= cache_line_bytes &&
                  offsetof(ring_control, producer_sleeping) - offsetof(ring_control, consumer_sleeping) >=
                      cache_line_bytes,
              "the sleep flags are read on every message: keep them off the index lines");
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the index words are futex words: a plain, lock-free 32-bit integer in shared memory");

// Who uses one side of the channel. Whether the side still exists at all is not kept here but in the kernel,
// by a life line (life_line.hpp) per side. These two words only tell a goodbye from a death, and name the
// process.
struct side_state {
  // The pid that uses this side: the creator's at first, then that of the process whose thread first calls
  // send() or recv() on it (so after fork the child's pid replaces the parent's).
  alignas(cache_line_bytes) std::atomic<std::int32_t> pid;
  // The pid of the last process that destroyed an endpoint object of this side. When the life line hangs up
  // and goodbye == pid, the side's user closed it (recv returns 0); otherwise its user died.
  std::atomic<std::int32_t> goodbye;
};
static_assert(std::atomic<std::int32_t>::is_always_lock_free, "shared between processes: must be lock-free");

struct segment_header {
  std::uint64_t magic;     // segment_magic, written before the endpoints exist
  std::uint32_t capacity;  // data bytes of each ring
  side_state sides[2];     // [0] client, [1] server
  ring_control rings[2];   // [0] client -> server, [1] server -> client
};
inline constexpr std::uint64_t segment_magic = 0x474e4952484e4342ull;  // "BCNHRING"
inline constexpr std::size_t ring_data_offset = 4096;                  // data areas start on their own page
static_assert(sizeof(segment_header) <= ring_data_offset, "the control blocks fit in the first page");
static_assert(offsetof(segment_header, rings) % cache_line_bytes == 0, "ring controls are line-aligned");

inline constexpr std::size_t min_ring_capacity = 128;                   // one record and the free line
inline constexpr std::size_t max_ring_capacity = std::size_t{1} << 30;  // keeps head - tail exact in 32 bits
// Default size per direction (see ring_capacity_for): 16 messages of 64 KiB, 16383 of 64 bytes, and small
// enough to stay in a core's L2 (2 MiB on the Xeon dev VM). 256 KiB, 1 MiB and 4 MiB gave the same 64 KiB
// streaming rate there within the run-to-run noise (ring_bench), so the larger margin against a stalled
// consumer won (2 MiB of memory per channel, faulted in at set-up).
inline constexpr std::size_t default_ring_capacity = std::size_t{1} << 20;

// Bytes a message of `len` bytes takes in the ring.
constexpr std::size_t ring_record_bytes(std::size_t len) noexcept {
  return (len + cache_line_bytes - 1) & ~(cache_line_bytes - 1);
}
// The ring size per direction for a channel that carries messages up to largest_msg bytes (0: unknown):
// max(default_ring_capacity, the power of two >= 2 records of the largest message + the free line), so that
// the producer can write the next large message while the consumer still reads the last one. Throws
// std::runtime_error if that exceeds max_ring_capacity.
std::size_t ring_capacity_for(std::size_t largest_msg);
constexpr std::size_t ring_segment_bytes(std::size_t capacity) noexcept { return ring_data_offset + 2 * capacity; }
constexpr std::size_t ring_data_offset_of(int ring, std::size_t capacity) noexcept {
  return ring_data_offset + static_cast<std::size_t>(ring) * capacity;
}

// How a ring endpoint waits for data (and for space when the ring is full).
enum class ring_wait {
  spin,           // busy-poll with a pause instruction (spinner: yields now and then)
  adaptive,       // spin for a bounded time, then sleep on a futex on the index word
  eventfd_block,  // one eventfd token per message; the receiver sleeps in poll() on it (pollable)
  eventfd_spin,   // the same tokens, read by a non-blocking read() polled in a loop (pollable)
};
const char* to_string(ring_wait w) noexcept;

// A MAP_SHARED mapping, unmapped by its destructor.
class mapped_region {
 public:
  mapped_region() noexcept = default;
  // Maps `bytes` of `fd` read-write and shared; throws "cannot map <what>: ...".
  mapped_region(int fd, std::size_t bytes, std::string_view what);
  mapped_region(mapped_region&& o) noexcept;
  mapped_region& operator=(mapped_region&& o) noexcept;
  mapped_region(const mapped_region&) = delete;
  mapped_region& operator=(const mapped_region&) = delete;
  ~mapped_region();

  std::byte* data() const noexcept { return static_cast<std::byte*>(addr_); }
  std::size_t size() const noexcept { return bytes_; }

 private:
  void* addr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Sizes `fd` (a memfd or a regular file, owned by the caller) to ring_segment_bytes(capacity), initialises the
// segment and returns the two endpoints, each with its own mapping of it (so either endpoint object can be
// destroyed without touching the other; after fork each process keeps the one it uses). The caller may close
// or unlink the file as soon as this returns. capacity: a power of two in [min_ring_capacity,
// max_ring_capacity]. `what` names the segment in error messages. max_message > 0: send() refuses longer
// messages (eventfd carries only the header).
channel make_ring_channel(int fd, std::size_t capacity, ring_wait wait, std::string_view what,
                          std::size_t max_message = 0);

}  // namespace bench
