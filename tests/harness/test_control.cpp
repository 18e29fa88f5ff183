// The control protocol of two-host runs: frames round trip, every malformed frame is refused with a reason (never
// a crash or an over-read), a peer that stalls mid-frame times out, and run_case accepts only bounded fields.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>
#include <thread>

#include "harness/control.hpp"
#include "harness/remote.hpp"

namespace bench {
namespace {

std::span<const std::byte> header_of(const std::vector<std::byte>& f) {
  return std::span(f).first(control_header_bytes);
}

TEST(ControlFrame, RoundTrips) {
  json body = {{"protocol", 1}, {"host", "a"}, {"nested", {1, 2, 3}}};
  std::vector<std::byte> f = encode_frame(control_type::hello, body);
  ASSERT_EQ(f.size(), control_header_bytes + body.dump().size());
  auto [type, len] = decode_header(header_of(f));
  EXPECT_EQ(type, control_type::hello);
  EXPECT_EQ(len, f.size() - control_header_bytes);
  EXPECT_EQ(decode_body(std::span(f).subspan(control_header_bytes)), body);
  // Big-endian length: the wire format does not depend on the host.
  EXPECT_EQ(std::to_integer<int>(f[11]), static_cast<int>(len & 0xff));
}

TEST(ControlFrame, RefusesBadHeaders) {
  std::vector<std::byte> good = encode_frame(control_type::bye, json::object());
  auto with = [&](std::size_t at, int v) {
    std::vector<std::byte> f = good;
    f[at] = std::byte(v);
    return f;
  };
  EXPECT_THROW(decode_header(header_of(with(0, 'X'))), control_error);   // magic
  EXPECT_THROW(decode_header(header_of(with(7, 1))), control_error);     // reserved
  EXPECT_THROW(decode_header(header_of(with(5, 0))), control_error);     // type 0
  EXPECT_THROW(decode_header(header_of(with(5, 99))), control_error);    // unknown type
  EXPECT_THROW(decode_header(header_of(with(8, 0x7f))), control_error);  // 2 GiB payload
  EXPECT_THROW(decode_header(std::span(good).first(5)), control_error);  // short
  try {
    decode_header(header_of(with(8, 0x10)));
    FAIL();
  } catch (const control_error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit"), std::string::npos) << e.what();
  }
}

TEST(ControlFrame, RefusesBodiesThatAreNotObjects) {
  auto body = [](std::string s) {
    std::vector<std::byte> b(s.size());
    if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
    return decode_body(b);
  };
  EXPECT_THROW(body("{\"a\":"), control_error);
  EXPECT_THROW(body("[1,2]"), control_error);
  EXPECT_THROW(body("\xff\xfe"), control_error);
  EXPECT_THROW(body(""), control_error);
  EXPECT_EQ(body("{}"), json::object());
}

// Random bytes and random mutations of good frames: each is a frame or a control_error, nothing else.
TEST(ControlFrame, FuzzedFramesAreRefusedOrParsed) {
  std::mt19937_64 rng(42);
  std::vector<std::byte> good = encode_frame(control_type::run_case, {{"transport", "tcp"}, {"pairs", 1}});
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> f = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) f[rng() % f.size()] = std::byte(rng() & 0xff);
    if (rng() % 8 == 0) f.resize(rng() % f.size());
    try {
      auto [type, len] = decode_header(f);
      if (len <= f.size() - control_header_bytes) decode_body(std::span(f).subspan(control_header_bytes, len));
    } catch (const control_error&) {}
  }
}

struct socket_pair {
  unique_fd a, b;
  socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

TEST(ControlChannel, SendsAndReceivesWholeFrames) {
  socket_pair sp;
  control_channel a(std::move(sp.a)), b(std::move(sp.b));
  json big = {{"text", std::string(300'000, 'x')}};  // larger than a socket buffer: written in pieces
  std::thread t([&] { a.send(control_type::welcome, big); });
  std::optional<control_frame> f = b.receive(5'000);
  t.join();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, control_type::welcome);
  EXPECT_EQ(f->body, big);
  EXPECT_FALSE(b.receive(10));  // nothing more: a timeout, not an error
  a.close();
  EXPECT_THROW(b.receive(1'000), peer_gone_error);
}

TEST(ControlChannel, PeerThatStallsMidFrameTimesOut) {
  socket_pair sp;
  int raw = sp.a.get();
  control_channel b(std::move(sp.b));
  std::vector<std::byte> f = encode_frame(control_type::hello, {{"protocol", 1}});
  ASSERT_EQ(::send(raw, f.data(), 7, 0), 7);  // part of the header, then nothing
  EXPECT_THROW(b.receive(1'000, 200), control_error);
}

ipc_case tcp_case() {
  ipc_case c;
  c.transport = find_transport("tcp");
  c.model = find_model("thread");
  c.wl.msg_bytes = 64;
  c.wait = "block";
  return c;
}

TEST(RemoteCase, RoundTripsThroughRunCase) {
  ipc_case c = tcp_case();
  c.pairs = 2;
  c.wl.kind = workload_kind::throughput;
  remote_case rc = decode_case(encode_case(c, 5'000'000'000ull, {{}, {}}));
  EXPECT_EQ(rc.transport, c.transport);
  EXPECT_EQ(rc.model, c.model);
  EXPECT_EQ(rc.pairs, 2);
  EXPECT_EQ(rc.wl.kind, workload_kind::throughput);
  EXPECT_EQ(rc.wl.msg_bytes, 64u);
  EXPECT_EQ(rc.timeout_ns, 5'000'000'000ull);
}

TEST(RemoteCase, RefusesWhatTheServerMustNotRun) {
  json good = encode_case(tcp_case(), 1'000'000'000, {{}});
  auto refused = [&](const char* key, json v) {
    json b = good;
    b[key] = std::move(v);
    try {
      decode_case(b);
    } catch (const control_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refused("transport", "unix").find("cannot cross machines"), std::string::npos);
  EXPECT_NE(refused("transport", "../../bin/sh").find("unknown transport"), std::string::npos);
  EXPECT_NE(refused("model", "fork-bomb").find("unknown model"), std::string::npos);
  EXPECT_NE(refused("msg_bytes", 8).find("outside"), std::string::npos);
  EXPECT_NE(refused("msg_bytes", -64).find("non-negative"), std::string::npos);
  EXPECT_NE(refused("pairs", 100000).find("outside"), std::string::npos);
  EXPECT_NE(refused("duration_ns", 1e30).find("integer"), std::string::npos);
  EXPECT_NE(refused("placement", "same").find("cannot apply"), std::string::npos);
  EXPECT_NE(refused("client_ports", json::array()).find("one list per pair"), std::string::npos);
  EXPECT_NE(refused("command", "rm -rf /").find("unknown field"), std::string::npos);
  EXPECT_NE(refused("transport", std::string(10'000, 'a')).find("short string"), std::string::npos);
  json missing = good;
  missing.erase("model");
  EXPECT_THROW(decode_case(missing), control_error);
  // udp needs the client's port for every pair
  json udp = good;
  udp["transport"] = "udp";
  EXPECT_THROW(decode_case(udp), control_error);
  udp["client_ports"] = {{4000}};
  EXPECT_NO_THROW(decode_case(udp));
}

TEST(RemoteCase, FuzzedRequestsAreRefusedOrValid) {
  std::mt19937_64 rng(7);
  json good = encode_case(tcp_case(), 1'000'000'000, {{}});
  std::vector<json> values = {
      nullptr, -1,       0,      1,   3.5,           1e300,          "",   "tcp",
      "udp",   "thread", "spin", "x", json::array(), json::object(), true, 18446744073709551615ull,
      {{1, 2}}};
  std::vector<std::string> keys;
  for (auto it = good.begin(); it != good.end(); ++it) keys.push_back(it.key());
  for (int i = 0; i < 5000; ++i) {
    json b = good;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::string& k = keys[rng() % keys.size()];
      if (rng() % 5 == 0)
        b.erase(k);
      else
        b[k] = values[rng() % values.size()];
    }
    try {
      remote_case rc = decode_case(b);
      EXPECT_GE(rc.pairs, 1);
      EXPECT_LE(rc.pairs, max_remote_pairs);
      EXPECT_GE(rc.wl.msg_bytes, min_msg_bytes);
      EXPECT_NE(rc.transport->network, nullptr);
    } catch (const control_error&) {}
  }
}

TEST(NetAddress, ParsesTheFormsUsersType) {
  EXPECT_EQ(parse_net_address("127.0.0.1:80", 5300).to_string(), "127.0.0.1:80");
  EXPECT_EQ(parse_net_address("127.0.0.1", 5300).to_string(), "127.0.0.1:5300");
  EXPECT_EQ(parse_net_address(":9", 5300, "127.0.0.1").to_string(), "127.0.0.1:9");
  EXPECT_EQ(parse_net_address("[::1]:7", 5300).to_string(), "[::1]:7");
  EXPECT_TRUE(parse_net_address("localhost:1", 5300).loopback());
  EXPECT_FALSE(parse_net_address("10.1.2.3", 1).loopback());
  EXPECT_THROW(parse_net_address("127.0.0.1:99999", 1), usage_error);
  EXPECT_THROW(parse_net_address("127.0.0.1:x", 1), usage_error);
  EXPECT_THROW(parse_net_address("no-such-host.invalid:1", 1), usage_error);
  EXPECT_THROW(parse_net_address(":1", 1), usage_error);
}

}  // namespace
}  // namespace bench
