#include "transports/unix_dgram.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <string>

#include "harness/error.hpp"
#include "transports/datagram_endpoint.hpp"
#include "transports/sysctl.hpp"

namespace bench {
namespace {
constexpr const char* wmem_max_file = "/proc/sys/net/core/wmem_max";
constexpr std::size_t sndbuf_overhead = 32;             // unix_dgram_sendmsg: len > sk_sndbuf - 32 is EMSGSIZE
constexpr std::size_t one_piece_limit = std::size_t{4} << 20;  // see unix_dgram.hpp

std::size_t max_datagram(int fd) {
  int sndbuf = 0;
  socklen_t len = sizeof sndbuf;
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) != 0) throw_errno("read SO_SNDBUF of a UNIX socket");
  return std::min(static_cast<std::size_t>(sndbuf) - std::min<std::size_t>(sndbuf, sndbuf_overhead), one_piece_limit);
}

// Raises SO_SNDBUF until a datagram of `bytes` fits, if it does not already; returns the largest that fits.
std::size_t fit_send_buffer(int fd, std::size_t bytes, std::string_view kind) {
  std::size_t have = max_datagram(fd);
  if (bytes <= have) return have;
  // The kernel doubles the value asked for (to count its bookkeeping) and caps it at 2 x wmem_max.
  int want = static_cast<int>(std::min<std::size_t>((bytes + sndbuf_overhead + 1) / 2, INT_MAX));
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) != 0) throw_errno("set SO_SNDBUF of a UNIX socket");
  have = max_datagram(fd);
  if (bytes > have) {
    throw std::runtime_error(std::string(kind) + ": a message of " + std::to_string(bytes) +
                             " bytes does not fit one datagram here: at most " + std::to_string(have) +
                             " bytes (SO_SNDBUF - 32, capped by 2 x " + wmem_max_file + ", and 4 MiB)");
  }
  return have;
}

channel make_socketpair_channel(const channel_options& opt, int type, std::string_view kind) {
  int sv[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("create a UNIX socket pair (" + std::string(kind) + ")");
  unique_fd client(sv[0]), server(sv[1]);
  std::size_t max_client = fit_send_buffer(client.get(), opt.max_msg_bytes, kind);
  std::size_t max_server = fit_send_buffer(server.get(), opt.max_msg_bytes, kind);
  channel ch;
  ch.client = std::make_unique<datagram_endpoint>(std::move(client), opt.wait, max_client, kind);
  ch.server = std::make_unique<datagram_endpoint>(std::move(server), opt.wait, max_server, kind);
  return ch;
}
}  // namespace

std::size_t unix_datagram_max_msg_bytes() noexcept {
  // Unreadable: assume the kernel's default (212992); a channel that needs more says so when it is made.
  std::size_t sndbuf = 2 * read_sysctl(wmem_max_file).value_or(212992);
  return std::min(sndbuf - std::min(sndbuf, sndbuf_overhead), one_piece_limit);
}

channel make_unix_dgram_channel(const channel_options& opt) { return make_socketpair_channel(opt, SOCK_DGRAM, "unix-dgram"); }
channel make_unix_seqpacket_channel(const channel_options& opt) {
  return make_socketpair_channel(opt, SOCK_SEQPACKET, "unix-seqpacket");
}

}  // namespace bench
