// Tests of the kernel-object transports of issue 3 (mq, udp, unix-dgram, unix-seqpacket; eventfd's --wait)
// beyond the generic typed test: both wait modes, truncation, size limits and their messages, cleanup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "base/message.hpp"
#include "test_support.hpp"
#include "transports/mq.hpp"
#include "transports/sysctl.hpp"
#include "transports/udp.hpp"
#include "transports/unix_dgram.hpp"

namespace bench {
namespace {
using namespace std::chrono_literals;
using test::scratch_dir;

struct row_and_wait {
  const char* row;
  wait_mode wait;
};

class KernelIpc : public ::testing::TestWithParam<row_and_wait> {
 protected:
  const transport_info& row() const { return *find_transport(GetParam().row); }
  channel make(const scratch_dir& dir, std::size_t max_msg) const {
    return row().make(test::options(dir, max_msg, GetParam().wait));
  }
};

// Ping-pong between a client thread and an echoing server thread, in both wait modes.
// 32 bytes: every row here carries a header-only message (eventfd carries no more).
TEST_P(KernelIpc, RoundTripsBetweenThreads) {
  scratch_dir dir;
  channel ch = make(dir, 32);
  test::hang_guard guard(60s);
  std::thread server([&] { test::echo_until_end(*ch.server, 32); });
  EXPECT_NO_THROW(test::ping_pong(*ch.client, 32, 2000));
  server.join();
}

TEST_P(KernelIpc, RoundTripsAcrossFork) {
  scratch_dir dir;
  channel ch = make(dir, 32);
  test::hang_guard guard(60s);
  pid_t child = test::fork_server(ch, [](endpoint& ep) { test::echo_until_end(ep, 32); });
  EXPECT_NO_THROW(test::ping_pong(*ch.client, 32, 500));
  int status = test::reap(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

// Like a pipe whose other end is closed: the peer's endpoint destroyed (never used) reads as end of stream,
// after what it sent. Datagram sockets and queues cannot tell: the life lines do.
TEST_P(KernelIpc, DestroyedPeerReadsAsEndOfStream) {
  scratch_dir dir;
  channel ch = make(dir, 32);
  message_source src(32, 1);
  ch.server->send(src.next(0, 0));
  ch.server.reset();
  test::hang_guard guard(10s);
  std::vector<std::byte> buf(32);
  EXPECT_EQ(ch.client->recv(buf), 32u);
  EXPECT_EQ(ch.client->recv(buf), 0u);
  ch.client.reset();
}

// A peer process killed outright (no destructor runs): the kernel closes its life line, so the wait ends. A
// socket or queue reads it as end of stream, like a pipe; the eventfd ring (shared memory, where the goodbye
// of a clean close is recorded) tells a death apart and throws peer_gone_error.
TEST_P(KernelIpc, KilledPeerProcessEndsTheWait) {
  scratch_dir dir;
  channel ch = make(dir, 32);
  pid_t child = test::fork_server(ch, [](endpoint& ep) {
    std::vector<std::byte> buf(32);
    (void)ep.recv(buf);
    ::raise(SIGKILL);
  });
  message_source src(32, 1);
  ch.client->send(src.next(0, 0));
  std::vector<std::byte> buf(32);
  {
    test::hang_guard guard(10s);
    if (std::string(GetParam().row) == "eventfd") {
      EXPECT_THROW(ch.client->recv(buf), peer_gone_error);
    } else {
      EXPECT_EQ(ch.client->recv(buf), 0u);
    }
  }
  int status = test::reap(child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
}

TEST_P(KernelIpc, ReleasesEveryDescriptor) {
  scratch_dir dir;
  std::size_t before = test::open_fds();
  {
    channel ch = make(dir, 32);
    EXPECT_GE(ch.client->pollable_fd(), 0);
  }
  EXPECT_EQ(test::open_fds(), before);
  EXPECT_TRUE(dir.empty());
}

INSTANTIATE_TEST_SUITE_P(
    RowsAndWaits, KernelIpc,
    ::testing::Values(row_and_wait{"mq", wait_mode::block}, row_and_wait{"mq", wait_mode::spin},
                      row_and_wait{"udp", wait_mode::block}, row_and_wait{"udp", wait_mode::spin},
                      row_and_wait{"unix-dgram", wait_mode::block}, row_and_wait{"unix-dgram", wait_mode::spin},
                      row_and_wait{"unix-seqpacket", wait_mode::block}, row_and_wait{"unix-seqpacket", wait_mode::spin},
                      row_and_wait{"eventfd", wait_mode::block}, row_and_wait{"eventfd", wait_mode::spin}),
    [](const auto& p) {
      std::string s = std::string(p.param.row) + "_" + to_string(p.param.wait);
      std::replace(s.begin(), s.end(), '-', '_');
      return s;
    });

// --- datagrams --------------------------------------------------------------------------------------------------
class Datagrams : public ::testing::TestWithParam<const char*> {};

// A datagram longer than the receive buffer is cut short by the kernel: recv must say so, not return a part.
TEST_P(Datagrams, TruncatedDatagramIsAProtocolError) {
  scratch_dir dir;
  channel ch = find_transport(GetParam())->make(test::options(dir, 200));
  message_source src(200, 1);
  ch.client->send(src.next(0, 0));
  std::vector<std::byte> small(100);
  try {
    (void)ch.server->recv(small);
    FAIL() << "a 200-byte datagram came back whole in 100 bytes";
  } catch (const protocol_error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

// The row's max_msg_bytes is a promise to the planner: a message of exactly that size must cross.
TEST_P(Datagrams, LargestMessageTheRowClaimsCrosses) {
  const transport_info& row = *find_transport(GetParam());
  ASSERT_GT(row.max_msg_bytes, 0u);
  scratch_dir dir;
  channel ch = row.make(test::options(dir, row.max_msg_bytes));
  message_source src(row.max_msg_bytes, 2);
  std::vector<std::byte> buf(row.max_msg_bytes);
  test::hang_guard guard(60s);
  std::thread sender([&] { ch.client->send(src.next(0, 0)); });  // UDP's may be dropped only under load: none here
  ASSERT_EQ(ch.server->recv(buf), row.max_msg_bytes);
  sender.join();
  EXPECT_TRUE(verify_message(buf));
}

TEST_P(Datagrams, MessageBeyondTheRowLimitIsRefused) {
  const transport_info& row = *find_transport(GetParam());
  scratch_dir dir;
  channel ch = row.make(test::options(dir, 64));
  message_source src(row.max_msg_bytes + 1, 2);
  EXPECT_THROW(ch.client->send(src.next(0, 0)), protocol_error);
}

INSTANTIATE_TEST_SUITE_P(Rows, Datagrams, ::testing::Values("udp", "unix-dgram", "unix-seqpacket"), [](const auto& p) {
  std::string s = p.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
});

TEST(Udp, MessageBeyond65507BytesIsRefusedWithTheLimit) {
  scratch_dir dir;
  EXPECT_EQ(find_transport("udp")->max_msg_bytes, 65507u);
  EXPECT_TRUE(find_transport("udp")->lossy);
  channel ch = find_transport("udp")->make(test::options(dir, 70000));  // made anyway: the row tells the planner
  message_source src(65508, 1);
  try {
    ch.client->send(src.next(0, 0));
    FAIL() << "a 65508-byte UDP datagram was sent";
  } catch (const protocol_error& e) {
    EXPECT_NE(std::string(e.what()).find("65507"), std::string::npos) << e.what();
  }
}

TEST(UnixDatagram, RowLimitFollowsWmemMax) {
  std::size_t wmem_max = read_sysctl("/proc/sys/net/core/wmem_max").value_or(212992);
  EXPECT_EQ(unix_datagram_max_msg_bytes(), std::min(2 * wmem_max - 32, std::size_t{4} << 20));
}

TEST(UnixSeqpacket, ClosedPeerReadsAsEndOfStream) {
  scratch_dir dir;
  channel ch = find_transport("unix-seqpacket")->make(test::options(dir, 64));
  ch.server.reset();
  std::vector<std::byte> buf(64);
  EXPECT_EQ(ch.client->recv(buf), 0u);
}

// --- mq -----------------------------------------------------------------------------------------------------------
TEST(Mq, RowLimitIsTheSystemsMsgsizeMax) {
  std::optional<std::size_t> limit = read_sysctl(mq_msgsize_max_file);
  ASSERT_TRUE(limit);
  EXPECT_EQ(find_transport("mq")->max_msg_bytes, *limit);
  EXPECT_EQ(find_transport("mq")->unavailable_reason(), "");
}

TEST(Mq, SizeBeyondMsgsizeMaxNamesTheLimitAndItsFile) {
  std::size_t limit = read_sysctl(mq_msgsize_max_file).value();
  scratch_dir dir;
  try {
    (void)find_transport("mq")->make(test::options(dir, limit + 1));
    FAIL() << "mq accepted messages beyond msgsize_max";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("/proc/sys/fs/mqueue/msgsize_max"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(limit)), std::string::npos) << what;
  }
}

TEST(Mq, QueueNamesAreUnlinkedAtOnce) {
  scratch_dir dir;
  channel_options opt = test::options(dir, 64);
  channel ch = find_transport("mq")->make(opt);
  for (const char* direction : {"c2s", "s2c"}) {
    std::string name = "/bench-" + std::to_string(::getpid()) + "-" + opt.unique_name + "-" + direction;
    mqd_t q = ::mq_open(name.c_str(), O_RDONLY);
    EXPECT_EQ(q, static_cast<mqd_t>(-1)) << name << " still exists";
    EXPECT_EQ(errno, ENOENT);
    if (q != static_cast<mqd_t>(-1)) ::mq_close(q);
  }
}

TEST(Mq, ReceiveBufferSmallerThanTheQueuesMessageSize) {
  scratch_dir dir;
  channel ch = find_transport("mq")->make(test::options(dir, 1000));
  message_source small(100, 1), large(500, 2);
  std::vector<std::byte> buf(200);  // less than the queue's 1000-byte message size
  ch.client->send(small.next(0, 0));
  ASSERT_EQ(ch.server->recv(buf), 100u);
  EXPECT_TRUE(verify_message(std::span(buf).first(100)));
  ch.client->send(large.next(1, 0));
  EXPECT_THROW(ch.server->recv(buf), protocol_error);
}

}  // namespace
}  // namespace bench
