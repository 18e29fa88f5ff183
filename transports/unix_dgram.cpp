#include "transports/unix_dgram.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <string>

#include "base/error.hpp"
#include "transports/datagram_endpoint.hpp"
#include "transports/sysctl.hpp"

namespace bench {
namespace {
constexpr const char* wmem_max_file = "/proc/sys/net/core/wmem_max";  // also named in limit_note
constexpr std::size_t sndbuf_overhead = 32;                    // unix_dgram_sendmsg: len > sk_sndbuf - 32 is EMSGSIZE
constexpr std::size_t one_piece_limit = std::size_t{4} << 20;  // see unix_dgram.hpp

std::size_t max_datagram(int fd) {
  int sndbuf = 0;
  socklen_t len = sizeof sndbuf;
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) != 0) throw_errno("read SO_SNDBUF of a UNIX socket");
  return std::min(static_cast<std::size_t>(sndbuf) - std::min<std::size_t>(sndbuf, sndbuf_overhead), one_piece_limit);
}

// Raises SO_SNDBUF until a datagram of `bytes` fits, if it does not already and as far as wmem_max lets it;
// returns the largest that fits. A channel is made either way: send() refuses what does not fit, with the limit.
std::size_t fit_send_buffer(int fd, std::size_t bytes) {
  std::size_t have = max_datagram(fd);
  if (bytes <= have) return have;
  // The kernel doubles the value asked for (to count its bookkeeping) and caps it at 2 x wmem_max.
  int want = static_cast<int>(std::min<std::size_t>((bytes + sndbuf_overhead + 1) / 2, INT_MAX));
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) != 0) throw_errno("set SO_SNDBUF of a UNIX socket");
  return max_datagram(fd);
}

constexpr std::string_view limit_note = "SO_SNDBUF - 32, capped by 2 x /proc/sys/net/core/wmem_max and by 4 MiB";

channel make_socketpair_channel(const channel_options& opt, int type, std::string_view kind) {
  int sv[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0)
    throw_errno("create a UNIX socket pair (" + std::string(kind) + ")");
  unique_fd client(sv[0]), server(sv[1]);
  std::size_t max_client = fit_send_buffer(client.get(), opt.max_msg_bytes);
  std::size_t max_server = fit_send_buffer(server.get(), opt.max_msg_bytes);
  life_lines lines = life_lines::make();
  channel ch;
  ch.client = std::make_unique<datagram_endpoint>(std::move(client), opt.wait, max_client, limit_note, kind,
                                                  std::move(lines.client.write_end), std::move(lines.server.read_end));
  ch.server = std::make_unique<datagram_endpoint>(std::move(server), opt.wait, max_server, limit_note, kind,
                                                  std::move(lines.server.write_end), std::move(lines.client.read_end));
  return ch;
}
}  // namespace

std::size_t unix_datagram_max_msg_bytes() noexcept {
  // Unreadable: assume the kernel's default (212992); a channel that needs more says so when it is made.
  std::size_t sndbuf = 2 * read_sysctl(wmem_max_file).value_or(212992);
  return std::min(sndbuf - std::min(sndbuf, sndbuf_overhead), one_piece_limit);
}

channel make_unix_dgram_channel(const channel_options& opt) {
  return make_socketpair_channel(opt, SOCK_DGRAM, "unix-dgram");
}
channel make_unix_seqpacket_channel(const channel_options& opt) {
  return make_socketpair_channel(opt, SOCK_SEQPACKET, "unix-seqpacket");
}

}  // namespace bench
