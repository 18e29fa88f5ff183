#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/error.hpp"
#include "base/message.hpp"

namespace bench {
namespace {

TEST(Message, EverySizeVerifies) {
  for (std::size_t size : {32u, 33u, 39u, 40u, 41u, 64u, 100u, 4096u, 65536u + 3}) {
    message_source src(size, 9);
    for (std::uint64_t seq : {0ull, 1ull, 77ull, ~0ull >> 1}) {
      auto msg = src.next(seq, 0);
      ASSERT_EQ(msg.size(), size);
      EXPECT_TRUE(verify_message(msg)) << size << " " << seq;
      EXPECT_EQ(read_header(msg).seq, seq);
    }
  }
}

TEST(Message, AnyFlippedBitIsDetected) {
  message_source src(200, 3);
  auto m = src.next(5, 0);
  std::vector<std::byte> copy(m.begin(), m.end());
  for (std::size_t bit = 0; bit < copy.size() * 8; ++bit) {
    copy[bit / 8] ^= std::byte(1u << (bit % 8));
    EXPECT_FALSE(verify_message(copy)) << "bit " << bit;
    copy[bit / 8] ^= std::byte(1u << (bit % 8));
  }
  EXPECT_TRUE(verify_message(copy));
}

TEST(Message, StaleSequenceNumberIsDetected) {
  message_source src(64, 3);
  auto m = src.next(5, 0);
  std::vector<std::byte> copy(m.begin(), m.end());
  frame_header h = read_header(copy);
  h.seq = 6;  // a header from one message over the payload of another
  std::memcpy(copy.data(), &h, sizeof h);
  EXPECT_FALSE(verify_message(copy));
}

TEST(FrameLength, RefusesBadHeaders) {
  message_source src(64, 1);
  auto m = src.next(0, 0);
  EXPECT_EQ(frame_length(m, 64), 64u);
  EXPECT_THROW(frame_length(m, 63), protocol_error);  // longer than the buffer
  std::vector<std::byte> bad(m.begin(), m.end());
  bad[0] = std::byte{0};
  EXPECT_THROW(frame_length(bad, 64), protocol_error);
  frame_header h = read_header(m);
  h.length = 4;
  std::memcpy(bad.data(), &h, sizeof h);
  EXPECT_THROW(frame_length(bad, 64), protocol_error);
}

TEST(SequenceTally, CountsGapsAndDuplicates) {
  sequence_tally t;
  for (std::uint64_t s : {0, 1, 2, 5, 6, 6, 3, 7}) t.observe(s);
  EXPECT_EQ(t.lost, 2u);        // 3 and 4 missing when 5 arrived
  EXPECT_EQ(t.duplicated, 2u);  // the second 6, the late 3
  EXPECT_EQ(t.received, 8u);
}

}  // namespace
}  // namespace bench
