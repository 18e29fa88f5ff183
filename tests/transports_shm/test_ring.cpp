// Tests of the shared-memory ring (shm-spin, shm, shm-eventfd, mmap, eventfd) beyond the generic typed test:
// its layout, wrap-around, corrupt headers, oversized messages, a peer that dies, and what is left behind.
// No test depends on timing: waits are bounded only so that a bug fails instead of hanging.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "base/message.hpp"
#include "test_support.hpp"
#include "transports/shm.hpp"
#include "transports/shm_ring.hpp"

namespace bench {
namespace {
using namespace std::chrono_literals;
using test::scratch_dir;

// --- layout -------------------------------------------------------------------------------------------------
// The header asserts these already; repeated here so that weakening them there fails a test as well.
static_assert(offsetof(ring_control, tail) - offsetof(ring_control, head) >= cache_line_bytes);
static_assert(offsetof(ring_control, consumer_sleeping) % cache_line_bytes == 0);
static_assert(offsetof(ring_control, producer_sleeping) % cache_line_bytes == 0);
static_assert(sizeof(ring_control) == 4 * cache_line_bytes);
static_assert(alignof(side_state) == cache_line_bytes);
static_assert(ring_data_offset % 4096 == 0);
static_assert(ring_record_bytes(32) == 64 && ring_record_bytes(64) == 64 && ring_record_bytes(65) == 128);

TEST(RingLayout, IndicesOfEveryRingSitOnTheirOwnCacheLines) {
  segment_header h{};
  auto line = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) / cache_line_bytes; };
  std::vector<std::uintptr_t> lines;
  for (const side_state& s : h.sides) lines.push_back(line(&s.pid));
  for (const ring_control& r : h.rings)
    for (const void* p :
         {static_cast<const void*>(&r.head), static_cast<const void*>(&r.tail),
          static_cast<const void*>(&r.consumer_sleeping), static_cast<const void*>(&r.producer_sleeping)})
      lines.push_back(line(p));
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(std::adjacent_find(lines.begin(), lines.end()), lines.end()) << "two shared words on one cache line";
}

TEST(RingLayout, CapacityFitsTwoOfTheLargestMessage) {
  EXPECT_EQ(ring_capacity_for(0), default_ring_capacity);
  EXPECT_EQ(ring_capacity_for(64), default_ring_capacity);
  EXPECT_EQ(ring_capacity_for((512u << 10) - 64), std::size_t{1} << 20);  // two records and the free line fit
  EXPECT_EQ(ring_capacity_for(512u << 10), std::size_t{2} << 20);
  EXPECT_GE(ring_capacity_for(max_msg_bytes), 2 * max_msg_bytes + cache_line_bytes);
}

// --- a ring made directly, with a capacity chosen by the test -----------------------------------------------
struct test_ring {
  unique_fd fd;
  channel ch;
  std::size_t capacity;

  test_ring(std::size_t cap, ring_wait wait) : fd(::memfd_create("bench-ring-test", MFD_CLOEXEC)), capacity(cap) {
    if (!fd) throw std::runtime_error("memfd_create failed");
    ch = make_ring_channel(fd.get(), cap, wait, "test ring");
  }
  // A third mapping of the segment, for the test to look at (and corrupt) what the endpoints share.
  mapped_region view() const { return mapped_region(fd.get(), ring_segment_bytes(capacity), "test view"); }
};

class RingWaits : public ::testing::TestWithParam<ring_wait> {};

// Many messages of many sizes (odd ones, and up to half the ring) through a ring of 4 KiB x scale, both
// directions at once: the client sends from one thread and receives in another, the server echoes (copying each
// message out, or, in_place, sending it back from where it lies in the ring, as bench's servers do; scale 8 makes
// most messages large enough to be held in place). Every record wraps around the ring end at some point; every
// message must come back whole, verified and in order.
void echo_messages_of_many_sizes(ring_wait wait, bool in_place, std::size_t scale) {
  const std::size_t capacity = 4096 * scale;
  constexpr std::uint64_t messages = 20000;
  test_ring ring(capacity, wait);
  test::hang_guard guard(60s);

  std::vector<std::size_t> sizes = {32, 33, 40, 63, 64, 65, 100, 127, 128, 200, 511, 777, 1000, 1500, 2047, 2048};
  for (std::size_t& size : sizes) size *= scale;
  std::vector<message_source> sources;
  for (std::size_t i = 0; i < sizes.size(); ++i) sources.emplace_back(sizes[i], 100 + i);

  std::thread server([&] {
    std::vector<std::byte> buf(capacity);
    endpoint& ep = *ring.ch.server;
    for (;;) {
      std::span<const std::byte> msg =
          in_place ? ep.recv_in_place() : std::span<const std::byte>(buf.data(), ep.recv(buf));
      ASSERT_GT(msg.size(), 0u);
      ep.send(msg);
      bool end = read_header(msg).flags & flag_end;
      if (in_place) ep.release_in_place();
      if (end) return;
    }
  });
  std::thread sender([&] {
    std::mt19937 rng(7);
    for (std::uint64_t seq = 0; seq <= messages; ++seq) {
      message_source& src = sources[rng() % sources.size()];
      ring.ch.client->send(src.next(seq, seq == messages ? std::uint32_t{flag_end} : 0u));
    }
  });
  std::vector<std::byte> buf(capacity);
  sequence_tally tally;
  std::mt19937 rng(7);  // the same sizes, in the same order, as the sender
  for (std::uint64_t seq = 0; seq <= messages; ++seq) {
    std::size_t n = ring.ch.client->recv(buf);
    std::size_t expected = sizes[rng() % sizes.size()];
    ASSERT_EQ(n, expected) << "message " << seq;
    ASSERT_TRUE(verify_message(std::span(buf).first(n))) << "message " << seq << " corrupt";
    tally.observe(read_header(buf).seq);
  }
  sender.join();
  server.join();
  EXPECT_EQ(tally.received, messages + 1);
  EXPECT_EQ(tally.lost + tally.duplicated, 0u);
}

TEST_P(RingWaits, WrapAroundWithVariableSizesKeepsEveryMessageIntact) {
  echo_messages_of_many_sizes(GetParam(), false, 1);
}

TEST_P(RingWaits, InPlaceEchoOfWrappingRecordsKeepsEveryMessageIntact) {
  echo_messages_of_many_sizes(GetParam(), true, 1);
  echo_messages_of_many_sizes(GetParam(), true, 8);  // larger messages, as bench reads in place
}

// A message read in place is still the receiver's: the sender cannot reuse its room until it is released.
TEST(RingInPlace, HeldMessageKeepsItsRoomUntilReleased) {
  test_ring ring(16384, ring_wait::spin);  // three records of 5000-byte messages, and the free line
  ASSERT_TRUE(ring.ch.server->receives_in_place());
  message_source src(5000, 5);
  for (std::uint64_t seq = 0; seq < 3; ++seq) ASSERT_TRUE(ring.ch.client->try_send(src.next(seq, 0)));
  EXPECT_FALSE(ring.ch.client->try_send(src.next(3, 0))) << "the ring should be full";
  std::span<const std::byte> held = ring.ch.server->recv_in_place();
  ASSERT_EQ(held.size(), 5000u);
  EXPECT_TRUE(verify_message(held));
  EXPECT_EQ(read_header(held).seq, 0u);
  EXPECT_FALSE(ring.ch.client->try_send(src.next(3, 0))) << "the sender took the room of a message still held";
  EXPECT_EQ(read_header(held).seq, 0u) << "the held message changed under the receiver";
  ring.ch.server->release_in_place();
  EXPECT_TRUE(ring.ch.client->try_send(src.next(3, 0)));
  std::vector<std::byte> buf(5000);
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    ASSERT_EQ(ring.ch.server->recv(buf), 5000u);
    EXPECT_EQ(read_header(buf).seq, seq);
  }
}

// shm-spin's receive can be polled without waiting (the one-thread open loop does): what is there, or nothing
// at once, and the peer's end seen within a bounded number of polls.
TEST(RingSpinPoll, PollRecvTakesWhatIsThereAndNeverWaits) {
  test_ring ring(4096, ring_wait::spin);
  ASSERT_TRUE(ring.ch.client->spin_receiver());
  std::vector<std::byte> buf(64);
  EXPECT_FALSE(ring.ch.client->poll_recv(buf).has_value());
  message_source src(64, 9);
  ring.ch.server->send(src.next(0, 0));
  std::optional<std::size_t> n = ring.ch.client->poll_recv(buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 64u);
  EXPECT_TRUE(verify_message(buf));
  EXPECT_FALSE(ring.ch.client->poll_recv(buf).has_value());
  ring.ch.server->send(src.next(1, 0));
  ring.ch.server.reset();  // closes after one more message: that one first, then the end
  std::vector<std::optional<std::size_t>> got;
  for (int i = 0; i < 100000 && got.size() < 2; ++i)
    if (auto r = ring.ch.client->poll_recv(buf)) got.push_back(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(*got[0], 64u);
  EXPECT_EQ(*got[1], 0u) << "a peer that closed reads as closed";
  test_ring adaptive(4096, ring_wait::adaptive);
  EXPECT_FALSE(adaptive.ch.client->spin_receiver()) << "a ring that sleeps is not polled by the open loop";
}

// The producer keeps one line free (the next record's ready word): a ring of C bytes takes messages up to C - 64.
TEST_P(RingWaits, LargestMessageTheRingTakesRoundTrips) {
  constexpr std::size_t capacity = 4096;
  test_ring ring(capacity, GetParam());
  message_source largest(capacity - 64, 3), small(100, 4);
  std::vector<std::byte> buf(capacity);
  // First a small one, so that the large one starts mid-ring and wraps.
  ring.ch.client->send(small.next(0, 0));
  ASSERT_EQ(ring.ch.server->recv(buf), 100u);
  ring.ch.client->send(largest.next(1, 0));
  ASSERT_EQ(ring.ch.server->recv(buf), capacity - 64);
  EXPECT_TRUE(verify_message(std::span(buf).first(capacity - 64)));
  message_source whole(capacity, 5);
  EXPECT_THROW(ring.ch.client->send(whole.next(2, 0)), protocol_error);
}

// The producer zeroes the ready words of the lines ahead of its index after a publish, not before it (so that
// a small message moves only its own line while the peer waits). Whatever an earlier lap left in those lines
// must never be taken for a message: here every line but the first holds a valid-looking one-line message
// (right magic, length and checksum, sequence numbers from 1000 on) before anything is sent. Messages of
// mixed sizes then go round the ring three times; each one received must be the next real one.
TEST_P(RingWaits, StaleRecordsOfAnEarlierLapAreNeverTakenForMessages) {
  constexpr std::size_t capacity = 4096;
  test_ring ring(capacity, GetParam());
  mapped_region view = ring.view();
  std::byte* data = view.data() + ring_data_offset_of(0, capacity);
  const auto& control = reinterpret_cast<const segment_header*>(view.data())->rings[0];
  message_source stale(64, 77);
  for (std::size_t line = 1; line < capacity / 64; ++line) {
    std::span<const std::byte> m = stale.next(1000 + line, 0);
    std::memcpy(data + line * 64, m.data(), m.size());
  }
  test::hang_guard guard(60s);
  const std::size_t sizes[] = {32, 64, 65, 200, 64, 1000, 40};
  std::vector<std::byte> buf(capacity);
  std::uint64_t seq = 0;
  for (std::size_t sent_bytes = 0; sent_bytes < 3 * capacity; ++seq) {
    std::size_t size = sizes[seq % std::size(sizes)];
    message_source src(size, seq);
    ring.ch.client->send(src.next(seq, 0));
    // What a consumer polls next, before any further send: the word at the producer index must read 0.
    std::uint64_t next_word;
    std::memcpy(&next_word, data + (control.head.load() & (capacity - 1)), sizeof next_word);
    ASSERT_EQ(next_word, 0u) << "stale ready word after message " << seq;
    ASSERT_EQ(ring.ch.server->recv(buf), size) << "message " << seq;
    ASSERT_TRUE(verify_message(std::span(buf).first(size))) << "message " << seq;
    ASSERT_EQ(read_header(buf).seq, seq) << "a stale record was taken for message " << seq;
    sent_bytes += ring_record_bytes(size);
  }
}

// Clearing ahead never reaches into records the consumer has not released: a ring filled to the last free line
// without a single receive still delivers every message intact, and then again after a partial drain.
TEST_P(RingWaits, ClearingAheadLeavesUnreadRecordsAlone) {
  constexpr std::size_t capacity = 4096;
  test_ring ring(capacity, GetParam());
  test::hang_guard guard(60s);
  std::vector<std::byte> buf(capacity);
  std::uint64_t sent = 0, received = 0;
  auto send_one = [&] {
    message_source src(64, sent);
    ring.ch.client->send(src.next(sent, 0));
    ++sent;
  };
  auto receive_one = [&] {
    ASSERT_EQ(ring.ch.server->recv(buf), 64u);
    ASSERT_TRUE(verify_message(std::span(buf).first(64))) << "message " << received;
    ASSERT_EQ(read_header(buf).seq, received);
    ++received;
  };
  for (std::size_t i = 0; i < capacity / 64 - 1; ++i) send_one();  // full: only the free line is left
  for (int i = 0; i < 10; ++i) receive_one();
  for (int i = 0; i < 10; ++i) send_one();  // full again, the records now wrapping past the ring end
  while (received < sent) receive_one();
}

INSTANTIATE_TEST_SUITE_P(AllWaits, RingWaits,
                         ::testing::Values(ring_wait::spin, ring_wait::adaptive, ring_wait::eventfd_block,
                                           ring_wait::eventfd_spin),
                         [](const auto& p) { return std::string(p.index < 2 ? "" : "eventfd_") + to_string(p.param); });

// --- corrupt headers ---------------------------------------------------------------------------------------------
// A header the consumer reads from the ring is whatever the other process wrote there. Whatever it holds, recv
// returns a message no longer than what was published and what fits the buffer, or throws protocol_error: it
// never copies past the record or the buffer (ASan would see the buffer overrun: it is a heap vector of the
// exact size), never hangs, never crashes.
TEST(RingCorruption, FuzzedHeaderIsReportedNotFollowed) {
  constexpr std::size_t capacity = 4096;
  std::mt19937_64 rng(12345);
  int refused = 0, returned = 0;
  for (int round = 0; round < 3000; ++round) {
    test_ring ring(capacity, ring_wait::adaptive);
    mapped_region view = ring.view();
    std::size_t size = 32 + rng() % 1000;
    message_source src(size, round);
    // Start the message at a random record so that a body (and a bogus length) can reach across the ring end.
    std::size_t skip = rng() % (capacity / 64);
    std::vector<std::byte> buf(size);
    for (std::size_t i = 0; i < skip; ++i) {
      message_source filler(32, 1);
      ring.ch.client->send(filler.next(i, 0));
      ASSERT_EQ(ring.ch.server->recv(buf), 32u);
    }
    ring.ch.client->send(src.next(skip, 0));
    std::byte* header = view.data() + ring_data_offset_of(0, capacity) + (skip * 64) % capacity;
    switch (round % 4) {
      case 0: {  // random bytes over the whole header
        for (std::size_t i = 0; i < header_bytes; ++i) header[i] = static_cast<std::byte>(rng());
        break;
      }
      case 1: {  // a random length, magic intact
        auto len = static_cast<std::uint32_t>(rng());
        std::memcpy(header + 4, &len, 4);
        break;
      }
      case 2: {  // a length near the edges that matter
        const std::uint32_t edges[] = {0,
                                       31,
                                       32,
                                       static_cast<std::uint32_t>(size) + 1,
                                       static_cast<std::uint32_t>(ring_record_bytes(size)) + 1,
                                       capacity,
                                       capacity + 1,
                                       0xFFFFFFFFu};
        std::uint32_t len = edges[rng() % std::size(edges)];
        std::memcpy(header + 4, &len, 4);
        break;
      }
      case 3: {  // a single flipped bit anywhere in the header
        header[rng() % header_bytes] ^= static_cast<std::byte>(1u << (rng() % 8));
        break;
      }
    }
    try {
      std::size_t n = ring.ch.server->recv(buf);
      ASSERT_LE(n, buf.size());
      ASSERT_LE(ring_record_bytes(n), ring_record_bytes(size));  // never more than was published
      ++returned;  // e.g. a flipped bit in seq or check: the harness's verify_message reports it
    } catch (const protocol_error&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 1000);  // most corruptions hit magic or length
  EXPECT_GT(returned, 0);
}

TEST(RingCorruption, CorruptIndexIsReported) {
  test_ring ring(4096, ring_wait::spin);
  mapped_region view = ring.view();
  auto* seg = reinterpret_cast<segment_header*>(view.data());
  seg->rings[0].head.store(4096 + 64);  // more than the ring holds
  std::vector<std::byte> buf(4096);
  EXPECT_THROW(ring.ch.server->recv(buf), protocol_error);
  seg->rings[0].head.store(96);  // not a whole record
  EXPECT_THROW(ring.ch.server->recv(buf), protocol_error);
  seg->rings[0].head.store(64);  // a whole record, but its ready word says nothing was written
  EXPECT_THROW(ring.ch.server->recv(buf), protocol_error);
}

// --- sizes -------------------------------------------------------------------------------------------------------
TEST(RingSizes, MessageLargerThanTheRingIsRefusedWithTheSizes) {
  scratch_dir dir;
  channel ch = find_transport("shm")->make(test::options(dir, 64));  // sized for 64 B: the default 1 MiB ring
  message_source big(std::size_t{2} << 20, 1);
  try {
    ch.client->send(big.next(0, 0));
    FAIL() << "a 2 MiB message went into a 1 MiB ring";
  } catch (const protocol_error& e) {
    EXPECT_STREQ(e.what(),
                 "message of 2097152 bytes does not fit the 1048576 bytes shared ring (at most 1048512 bytes)");
  }
}

TEST(RingSizes, ChannelForMessagesBeyondTheLargestRingIsRefused) {
  EXPECT_THROW(
      {
        try {
          (void)ring_capacity_for(std::size_t{1} << 30);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("does not fit the largest shared ring"), std::string::npos) << e.what();
          throw;
        }
      },
      std::runtime_error);
}

TEST(RingSizes, ReceiveBufferSmallerThanTheMessageIsAProtocolError) {
  test_ring ring(4096, ring_wait::adaptive);
  message_source src(500, 1);
  ring.ch.client->send(src.next(0, 0));
  std::vector<std::byte> small(100);
  EXPECT_THROW(ring.ch.server->recv(small), protocol_error);
}

// --- the registry's ring rows ------------------------------------------------------------------------------------
class RingRows : public ::testing::TestWithParam<const char*> {
 protected:
  const transport_info& row() const { return *find_transport(GetParam()); }
  std::size_t msg_bytes() const { return row().max_msg_bytes ? row().max_msg_bytes : 64; }
};

TEST_P(RingRows, RoundTripBetweenThreads) {
  scratch_dir dir;
  channel ch = row().make(test::options(dir, msg_bytes()));
  test::hang_guard guard(60s);
  std::thread server([&] { test::echo_until_end(*ch.server, msg_bytes()); });
  EXPECT_NO_THROW(test::ping_pong(*ch.client, msg_bytes(), 1000));
  server.join();
}

// The process model: the channel is made, the process forks, each side drops the other's endpoint.
TEST_P(RingRows, RoundTripAcrossFork) {
  scratch_dir dir;
  channel ch = row().make(test::options(dir, msg_bytes()));
  test::hang_guard guard(60s);
  pid_t child = test::fork_server(ch, [&](endpoint& ep) { test::echo_until_end(ep, msg_bytes()); });
  EXPECT_NO_THROW(test::ping_pong(*ch.client, msg_bytes(), 1001));
  int status = test::reap(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

// The child uses the server side once, then dies by SIGKILL: no destructor runs, no goodbye is said.
pid_t fork_server_that_dies(channel& ch, std::size_t msg_bytes) {
  return test::fork_server(ch, [msg_bytes](endpoint& ep) {
    std::vector<std::byte> buf(msg_bytes);
    (void)ep.recv(buf);
    ::raise(SIGKILL);
  });
}

// A receiver whose peer process dies throws peer_gone_error instead of waiting forever. The child is left
// unreaped (a zombie) while the parent waits, as in the process model.
TEST_P(RingRows, ReceiverSeesPeerProcessDie) {
  scratch_dir dir;
  channel ch = row().make(test::options(dir, msg_bytes()));
  pid_t child = fork_server_that_dies(ch, msg_bytes());
  message_source src(msg_bytes(), 9);
  std::vector<std::byte> buf(msg_bytes());
  ch.client->send(src.next(0, 0));
  {
    test::hang_guard guard(10s);
    try {
      (void)ch.client->recv(buf);
      ADD_FAILURE() << "recv returned although nobody sent";
    } catch (const peer_gone_error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(child)), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected peer_gone_error, got: " << e.what();
    }
  }
  int status = test::reap(child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
}

// The same for a sender waiting for room in a full ring.
TEST_P(RingRows, SenderSeesPeerProcessDie) {
  scratch_dir dir;
  channel ch = row().make(test::options(dir, msg_bytes()));
  pid_t child = fork_server_that_dies(ch, msg_bytes());
  message_source src(msg_bytes(), 9);
  {
    test::hang_guard guard(10s);
    auto fill = [&] {
      for (std::uint64_t i = 0;; ++i) ch.client->send(src.next(i, 0));  // fills the ring, then waits for room
    };
    EXPECT_THROW(fill(), peer_gone_error);
  }
  test::reap(child);
}

// Between threads a clean goodbye: the peer's endpoint, once used and then destroyed, reads as end of stream.
TEST_P(RingRows, DestroyedPeerEndpointReadsAsClosed) {
  scratch_dir dir;
  channel ch = row().make(test::options(dir, msg_bytes()));
  message_source src(msg_bytes(), 9);
  std::vector<std::byte> buf(msg_bytes());
  ch.server->send(src.next(0, 0));
  ch.server.reset();
  test::hang_guard guard(10s);
  EXPECT_EQ(ch.client->recv(buf), msg_bytes());  // what was sent before the goodbye still arrives
  EXPECT_EQ(ch.client->recv(buf), 0u);
}

// Like a pipe whose other end is closed: an endpoint that was never used, destroyed, reads as end of stream.
TEST_P(RingRows, UnusedPeerEndpointDestroyedReadsAsClosed) {
  scratch_dir dir;
  channel ch = row().make(test::options(dir, msg_bytes()));
  ch.client.reset();
  std::vector<std::byte> buf(msg_bytes());
  test::hang_guard guard(10s);
  EXPECT_EQ(ch.server->recv(buf), 0u);
}

// After fork the parent drops its copy of the server endpoint before the child has used it: the child's copy
// keeps the side alive, so the client waits for the child instead of seeing a close.
TEST_P(RingRows, ParentDroppingItsCopyDoesNotCloseTheChildsSide) {
  scratch_dir dir;
  channel ch = row().make(test::options(dir, msg_bytes()));
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  unique_fd go_r(go[0]), go_w(go[1]);
  pid_t child = test::fork_server(ch, [&](endpoint& ep) {
    go_w.reset();
    char c;
    if (::read(go_r.get(), &c, 1) != 1) throw std::runtime_error("no go");  // until the parent has dropped its copy
    test::echo_until_end(ep, msg_bytes());
  });
  go_r.reset();
  EXPECT_EQ(ch.server, nullptr);  // fork_server dropped the parent's copy
  ASSERT_EQ(::write(go_w.get(), "g", 1), 1);
  test::hang_guard guard(60s);
  EXPECT_NO_THROW(test::ping_pong(*ch.client, msg_bytes(), 100));
  int status = test::reap(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

// Nothing named is ever created (memfd), the mmap file is gone as soon as the channel exists, and every
// descriptor and mapping goes with the endpoints.
TEST_P(RingRows, LeavesNothingBehind) {
  scratch_dir dir;
  std::size_t fds_before = test::open_fds();
  {
    channel_options opt = test::options(dir, msg_bytes());
    channel ch = row().make(opt);
    EXPECT_TRUE(dir.empty()) << "a file is left in the scratch directory while the channel exists";
    // /dev/shm is shared with every other process on the machine: only our own names are ours to check.
    for (const auto& e : std::filesystem::directory_iterator("/dev/shm"))
      EXPECT_EQ(e.path().string().find(opt.unique_name), std::string::npos) << e.path();
    message_source src(msg_bytes(), 9);
    std::vector<std::byte> buf(msg_bytes());
    ch.client->send(src.next(0, 0));
    ASSERT_EQ(ch.server->recv(buf), msg_bytes());
  }
  EXPECT_TRUE(dir.empty());
  EXPECT_EQ(test::open_fds(), fds_before);
  EXPECT_EQ(test::mappings_named("bench-ring-shmtest"), 0u);
  EXPECT_EQ(test::mappings_named(dir.path().string()), 0u);
}

INSTANTIATE_TEST_SUITE_P(Rows, RingRows, ::testing::Values("shm-spin", "shm", "shm-eventfd", "mmap", "eventfd"),
                         [](const auto& p) {
                           std::string s = p.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

// --- eventfd ------------------------------------------------------------------------------------------------------
// The receive eventfd counts unread messages: it polls readable exactly when recv() has something to return.
TEST(RingEventfd, PollableFdIsReadableExactlyWhileMessagesWait) {
  scratch_dir dir;
  channel ch = find_transport("shm-eventfd")->make(test::options(dir, 64));
  int fd = ch.server->pollable_fd();
  ASSERT_GE(fd, 0);
  auto readable = [fd] {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  };
  EXPECT_FALSE(readable());
  message_source src(64, 1);
  ch.client->send(src.next(0, 0));
  ch.client->send(src.next(1, 0));
  EXPECT_TRUE(readable());
  std::vector<std::byte> buf(64);
  ASSERT_EQ(ch.server->recv(buf), 64u);
  EXPECT_TRUE(readable());
  ASSERT_EQ(ch.server->recv(buf), 64u);
  EXPECT_FALSE(readable());
  EXPECT_EQ(find_transport("shm")->make(test::options(dir, 64)).server->pollable_fd(), -1);
}

TEST(RingEventfd, EventfdRowCarriesOnlyTheHeader) {
  scratch_dir dir;
  EXPECT_EQ(find_transport("eventfd")->max_msg_bytes, 32u);
  channel ch = find_transport("eventfd")->make(test::options(dir, 64));
  message_source header_only(32, 1), with_payload(64, 2);
  EXPECT_NO_THROW(ch.client->send(header_only.next(0, 0)));
  EXPECT_THROW(ch.client->send(with_payload.next(1, 0)), protocol_error);
}

}  // namespace
}  // namespace bench
