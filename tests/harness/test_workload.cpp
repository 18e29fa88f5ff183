// The serializer's part of the ping-pong (--serializers), one message at a time and over a real channel: what
// a server answers, and what either end does with a payload it cannot read (counts it, says why, goes on).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "base/message.hpp"
#include "harness/workload.hpp"
#include "serializers/registry.hpp"
#include "transports/transport.hpp"

namespace bench {
namespace {

workload_params serialized(const ser::serializer_info& s, ser::shape shape) {
  workload_params wl;
  wl.kind = workload_kind::latency;
  wl.serializer = &s;
  wl.shape = shape;
  wl.msg_bytes = header_bytes + encoded_bytes(s, shape);
  wl.warmup_ns = 1'000'000;
  wl.duration_ns = 2'000'000;
  return wl;
}

// A frame of the right length whose payload no decoder should take for the case's message.
std::vector<std::byte> garbage_frame(const workload_params& wl, std::uint64_t seq, std::uint32_t flags) {
  std::vector<std::byte> junk(wl.msg_bytes - header_bytes);
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = std::byte(0xA5 ^ (i * 31));
  frame_writer w;
  auto msg = w.write(junk, seq, flags, 0);
  return {msg.begin(), msg.end()};
}

TEST(FrameWriter, SealsWhatVerifyAccepts) {
  frame_writer w;
  std::vector<std::byte> payload(1001, std::byte{7});
  auto msg = w.write(payload, 42, flag_warmup, 99);
  ASSERT_EQ(msg.size(), header_bytes + payload.size());
  EXPECT_TRUE(verify_message(msg));
  EXPECT_EQ(read_header(msg).seq, 42u);
  EXPECT_EQ(read_header(msg).stamp, 99u);
  std::vector<std::byte> copy(msg.begin(), msg.end());
  copy[header_bytes + 500] ^= std::byte{1};
  EXPECT_FALSE(verify_message(copy));
}

TEST(ServerTimes, PackAndUnpackClampingAt32Bits) {
  std::uint64_t d = 0, e = 0;
  unpack_server_times(pack_server_times(1234, 56789), d, e);
  EXPECT_EQ(d, 1234u);
  EXPECT_EQ(e, 56789u);
  unpack_server_times(pack_server_times(1ull << 40, 5), d, e);
  EXPECT_EQ(d, 0xFFFF'FFFFu);
  EXPECT_EQ(e, 5u);
}

class EverySerializer : public testing::TestWithParam<const ser::serializer_info*> {};

TEST_P(EverySerializer, ServerAnswersWithItsOwnEncodingOfTheMessage) {
  for (ser::shape shape : ser::all_shapes) {
    workload_params wl = serialized(*GetParam(), shape);
    pair_slot slot;
    auto lock = make_server_lock(wl);
    server_session session(wl, slot, *lock);
    session.ready();
    message_codec client(wl);
    auto request = client.frame(client.encode(), 0, 0, 0);
    std::vector<std::byte> reply;
    bool last = session.on_message(request, [&](std::span<const std::byte> r) { reply.assign(r.begin(), r.end()); });
    EXPECT_FALSE(last);
    ASSERT_EQ(reply.size(), wl.msg_bytes);
    EXPECT_TRUE(verify_message(reply));
    EXPECT_EQ(client.decode(reply), nullptr) << ser::to_string(shape);
    session.finish("");
    EXPECT_EQ(slot.corrupt, 0u);
    EXPECT_STREQ(slot.error, "");
  }
}

TEST_P(EverySerializer, ServerCountsAndReportsARequestItCannotRead) {
  workload_params wl = serialized(*GetParam(), ser::shape::medium);
  pair_slot slot;
  auto lock = make_server_lock(wl);
  server_session session(wl, slot, *lock);
  session.ready();
  std::vector<std::byte> reply;
  auto send = [&](std::span<const std::byte> r) { reply.assign(r.begin(), r.end()); };
  session.on_message(garbage_frame(wl, 0, 0), send);
  // It still answers, with a reply the client can read, so that the case ends normally and fails with a reason.
  message_codec client(wl);
  EXPECT_EQ(client.decode(reply), nullptr);
  EXPECT_TRUE(session.on_message(garbage_frame(wl, 1, flag_end), send));
  session.finish("");
  EXPECT_EQ(slot.corrupt, 2u);
  EXPECT_EQ(slot.state.load(), pair_slot::done);
  EXPECT_NE(std::string(slot.error).find("could not read a request"), std::string::npos) << slot.error;
}

INSTANTIATE_TEST_SUITE_P(Registry, EverySerializer, testing::ValuesIn([] {
                           std::vector<const ser::serializer_info*> v;
                           for (const auto& s : ser::serializers()) v.push_back(&s);
                           return v;
                         }()),
                         [](const testing::TestParamInfo<const ser::serializer_info*>& i) {
                           std::string n(i.param->name);
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(SerializedPingPong, ClientFailsCleanlyOnRepliesItCannotRead) {
  // A server that answers every request with a well-framed reply whose payload is junk: the client counts each
  // one as corrupt, stops after the warm-up, and reports why; no exception, no crash, no hang.
  workload_params wl = serialized(*ser::find_serializer("protobuf"), ser::shape::small);
  channel_options opt;
  opt.max_msg_bytes = wl.msg_bytes;
  opt.unique_name = "garbage";
  channel ch = find_transport("pipe")->make(opt);
  pair_slot slot;
  slot.state = pair_slot::ready;
  std::thread server([&] {
    std::vector<std::byte> buf(wl.msg_bytes);
    for (;;) {
      std::size_t n = ch.server->recv(buf);
      if (n == 0) return;
      frame_header h = read_header(std::span<const std::byte>(buf.data(), n));
      ch.server->send(garbage_frame(wl, h.seq, h.flags));
      if (h.flags & flag_end) return;
    }
  });
  client_report out;
  drive(*ch.client, wl, slot, out);
  server.join();
  EXPECT_NE(out.error.find("could not read the server's reply"), std::string::npos) << out.error;
  EXPECT_GT(out.corrupt, 0u);
  EXPECT_EQ(out.measured, 0u);
}

}  // namespace
}  // namespace bench
