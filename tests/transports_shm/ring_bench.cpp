// ring_bench: the figures that issue 3 asks for, measured against the hardware floor in the same run.
// Not a test (nothing here asserts a time) and not the harness (`bench run ipc` is): a small standalone program
// for the closing note, kept so that the figures can be taken again.
//
//   ring_bench [runs] [filter] [cpu_a cpu_b]   (defaults: 5 runs, everything, CPUs 0 and 1)
//
// filter: only the measurements whose name contains it, e.g. "thread shm-spin" or "stream".
//
// Each run measures the floor (measure_floor: cache-line ping-pong and cross-core streaming), then, with the
// client pinned on cpu_a and the server on cpu_b, as two threads and as two processes (fork):
//   - ping-pong of 64-byte messages (32 for eventfd): round trip = the median over batches of the batch's mean,
//     the way the floor's cache-line round trip is taken (and the fastest batch, for a machine shared with
//     others); one way = half of it, compared with the floor's one line and with a two-line handoff (below);
//     CPU time per message = the CPU time of both sides (CLOCK_THREAD_CPUTIME_ID) over the messages they
//     carried (two per round trip);
//   - paced ping-pong, one round trip per millisecond: the server's CPU time per message shows what waiting
//     costs when the peer is idle most of the time;
//   - streaming of 64 KiB messages, the receiver verifying each (reading every word, like the floor's consumer):
//     GB/s at the receiver, against the floor's cross-core streaming figure.
// Then it prints, per figure, the median over runs and each run's value.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/message.hpp"
#include "base/spin.hpp"
#include "harness/cpu.hpp"
#include "harness/floor.hpp"
#include "transports/transport.hpp"

namespace bench {
namespace {

struct scratch {
  std::string path;
  scratch() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ring-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw_errno("create a scratch directory");
    path = tmpl;
  }
  ~scratch() { std::filesystem::remove_all(path); }
};

channel make_channel(const std::string& transport, std::size_t msg_bytes, const scratch& dir) {
  static int counter = 0;
  channel_options opt;
  opt.max_msg_bytes = msg_bytes;
  opt.wait = wait_mode::block;
  opt.scratch_dir = dir.path;
  opt.unique_name = "ring-bench-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  const transport_info* t = find_transport(transport);
  if (!t) throw std::runtime_error("no transport " + transport);
  return t->make(opt);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The server side: echo (ping-pong) until a message flagged end; returns its thread's CPU time.
std::uint64_t echo(endpoint& ep, std::size_t msg_bytes) {
  std::vector<std::byte> buf(msg_bytes);
  std::uint64_t cpu0 = thread_cpu_ns();
  for (;;) {
    std::size_t n = ep.recv(buf);
    if (n == 0) break;
    ep.send(std::span(buf).first(n));
    if (read_header(buf).flags & flag_end) break;
  }
  return thread_cpu_ns() - cpu0;
}

// The streaming sender: as many messages as fit in `ns`, then one flagged end.
void stream_out(endpoint& ep, std::size_t msg_bytes, std::uint64_t ns) {
  message_source src(msg_bytes, 11);
  std::uint64_t end = now_ns() + ns;
  std::uint64_t seq = 0;
  for (; (seq & 63) != 0 || now_ns() < end; ++seq) ep.send(src.next(seq, 0));
  ep.send(src.next(seq, flag_end));
}

struct pingpong_result {
  double rtt_ns = 0;         // median of the batch means (the floor's method)
  double best_rtt_ns = 0;    // the fastest batch: what the pair does when nothing else runs
  double client_cpu_ns = 0;  // over the measured round trips
  double server_cpu_ns = 0;  // over the whole echo loop (warm-up included: a small bias upwards)
  double round_trips = 0;
};

// The client side of a ping-pong: warm-up, then batches; `pace_ns` > 0 waits that long between round trips
// (sleeping, so the client's own CPU stays low) and times every round trip instead of batches.
pingpong_result ping(endpoint& ep, std::size_t msg_bytes, std::uint64_t pace_ns) {
  message_source src(msg_bytes, 3);
  std::vector<std::byte> buf(msg_bytes);
  std::uint64_t seq = 0;
  auto round_trip = [&] {
    ep.send(src.next(seq++, 0));
    if (ep.recv(buf) != msg_bytes || !verify_message(buf)) throw std::runtime_error("bad echo");
  };
  pingpong_result r;
  std::vector<double> samples;
  if (pace_ns == 0) {
    std::uint64_t warm_end = now_ns() + 20'000'000, warm = 0;  // 20 ms warm-up, which also sizes the batches
    while (now_ns() < warm_end) round_trip(), ++warm;
    std::uint64_t batch = std::max<std::uint64_t>(10, warm / 2);  // about 10 ms per batch
    std::uint64_t cpu0 = thread_cpu_ns();
    for (int b = 0; b < 15; ++b) {
      std::uint64_t t0 = now_ns();
      for (std::uint64_t i = 0; i < batch; ++i) round_trip();
      samples.push_back(static_cast<double>(now_ns() - t0) / static_cast<double>(batch));
    }
    r.client_cpu_ns = static_cast<double>(thread_cpu_ns() - cpu0);
    r.round_trips = 15.0 * static_cast<double>(batch);
  } else {
    for (int i = 0; i < 10; ++i) round_trip();
    std::uint64_t cpu0 = thread_cpu_ns();
    for (int i = 0; i < 100; ++i) {
      timespec ts{0, static_cast<long>(pace_ns)};
      ::nanosleep(&ts, nullptr);
      std::uint64_t t0 = now_ns();
      round_trip();
      samples.push_back(static_cast<double>(now_ns() - t0));
    }
    r.client_cpu_ns = static_cast<double>(thread_cpu_ns() - cpu0);
    r.round_trips = 100;
  }
  ep.send(src.next(seq, flag_end));
  (void)ep.recv(buf);
  r.rtt_ns = median(samples);
  r.best_rtt_ns = *std::min_element(samples.begin(), samples.end());
  return r;
}

// Receives a stream, verifying every message; GB/s after the first 64 messages.
// Messages larger than a page are verified where they lie in the ring, as bench's servers do.
double stream_in(endpoint& ep, std::size_t msg_bytes) {
  std::vector<std::byte> buf(msg_bytes);
  const bool in_place = ep.receives_in_place() && msg_bytes > 4096;
  std::uint64_t n = 0, t0 = 0, bytes = 0;
  for (;;) {
    std::span<const std::byte> msg =
        in_place ? ep.recv_in_place() : std::span<const std::byte>(buf.data(), ep.recv(buf));
    if (msg.empty()) break;
    if (!verify_message(msg)) throw std::runtime_error("corrupt message in the stream");
    if (n == 64) t0 = now_ns();
    if (n >= 64) bytes += msg.size();
    ++n;
    bool end = read_header(msg).flags & flag_end;
    if (in_place) ep.release_in_place();
    if (end) break;
  }
  return static_cast<double>(bytes) / static_cast<double>(now_ns() - t0);
}

// Runs `server` in a forked child pinned to cpu_b, `client` here in a thread pinned to cpu_a; the child's
// result (a double) comes back through a pipe.
template <class Client, class Server>
std::pair<decltype(std::declval<Client>()(std::declval<endpoint&>())), double> across_fork(channel ch, int cpu_a,
                                                                                           int cpu_b, Client client,
                                                                                           Server server) {
  int fds[2];
  if (::pipe(fds) != 0) throw_errno("create a pipe");
  unique_fd result_r(fds[0]), result_w(fds[1]);
  pid_t child = ::fork();
  if (child < 0) throw_errno("fork");
  if (child == 0) {
    ch.client.reset();
    double v = -1;
    try {
      pin_this_thread(cpu_b);
      v = server(*ch.server);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    if (::write(result_w.get(), &v, sizeof v) != sizeof v) ::_exit(2);
    ::_exit(0);
  }
  ch.server.reset();
  result_w.reset();
  decltype(client(*ch.client)) mine{};
  std::thread([&] {
    pin_this_thread(cpu_a);
    mine = client(*ch.client);
  }).join();
  double theirs = -1;
  if (::read(result_r.get(), &theirs, sizeof theirs) != sizeof theirs) theirs = -1;
  int status = 0;
  ::waitpid(child, &status, 0);
  return {mine, theirs};
}

template <class Client, class Server>
std::pair<decltype(std::declval<Client>()(std::declval<endpoint&>())), double> across_threads(channel ch, int cpu_a,
                                                                                              int cpu_b, Client client,
                                                                                              Server server) {
  double theirs = -1;
  std::thread srv([&] {
    pin_this_thread(cpu_b);
    theirs = server(*ch.server);
  });
  decltype(client(*ch.client)) mine{};
  std::thread([&] {
    pin_this_thread(cpu_a);
    mine = client(*ch.client);
  }).join();
  srv.join();
  return {mine, theirs};
}

// Cache-line handoffs measured the floor's way (pinned, pause per poll, 9 batches of 5000 round trips), with the
// median and the fastest batch, so that the rings' best batches have a like-for-like reference on a machine
// shared with others. lines = 1: the floor's ping-pong, ONE line that each side writes after reading it (which
// the hardware can hand over in one step). lines = 2: what any channel has, a line per direction: one side
// writes x and polls y, the other polls x and writes y.
struct handoff_result {
  double median_rtt_ns = 0;
  double best_rtt_ns = 0;
};
handoff_result handoff(int cpu_a, int cpu_b, int lines) {
  struct alignas(64) line {
    std::atomic<std::uint64_t> v{0};
  };
  line x, y;
  line& back = lines == 1 ? x : y;
  // Round trip i: one line carries the odd value 2i - 1 out and the even 2i back; two lines carry i each way.
  auto request = [lines](std::uint64_t i) { return lines == 1 ? 2 * i - 1 : i; };
  auto answer = [lines](std::uint64_t i) { return lines == 1 ? 2 * i : i; };
  constexpr int batches = 9, per_batch = 5000;
  std::thread responder([&] {
    pin_this_thread(cpu_b);
    for (std::uint64_t i = 1; i <= std::uint64_t{batches} * per_batch; ++i) {
      while (x.v.load(std::memory_order_acquire) != request(i)) cpu_relax();
      back.v.store(answer(i), std::memory_order_release);
    }
  });
  std::vector<double> means;
  std::thread([&] {
    pin_this_thread(cpu_a);
    std::uint64_t i = 0;
    for (int b = 0; b < batches; ++b) {
      std::uint64_t t0 = now_ns();
      for (int k = 0; k < per_batch; ++k) {
        ++i;
        x.v.store(request(i), std::memory_order_release);
        while (back.v.load(std::memory_order_acquire) != answer(i)) cpu_relax();
      }
      means.push_back(static_cast<double>(now_ns() - t0) / per_batch);
    }
  }).join();
  responder.join();
  return {median(means), *std::min_element(means.begin(), means.end())};
}

std::map<std::string, std::vector<double>> figures;  // name -> one value per run
std::string filter;
bool wanted(const std::string& name) { return name.find(filter) != std::string::npos; }
void record(const std::string& name, double v) { figures[name].push_back(v); }

void one_run(int cpu_a, int cpu_b) {
  hardware_floor fl = measure_floor(cpu_a, cpu_b);
  if (!fl.c2c_one_way_ns || !fl.xcore_gbps) throw std::runtime_error("the floor has no cross-core figures: " + fl.note);
  record("floor c2c one-way ns", *fl.c2c_one_way_ns);
  record("floor xcore GB/s", *fl.xcore_gbps);
  if (fl.c2c_two_line_one_way_ns) record("floor two-line one-way ns", *fl.c2c_two_line_one_way_ns);
  handoff_result one_line = handoff(cpu_a, cpu_b, 1), two_lines = handoff(cpu_a, cpu_b, 2);
  record("handoff one line, one-way ns (floor's method)", one_line.median_rtt_ns / 2);
  record("handoff one line, best-batch one-way ns", one_line.best_rtt_ns / 2);
  record("handoff two lines, one-way ns", two_lines.median_rtt_ns / 2);
  record("handoff two lines, best-batch one-way ns", two_lines.best_rtt_ns / 2);
  scratch dir;

  for (const char* model : {"thread", "process"}) {
    bool fork_model = std::string(model) == "process";
    for (const char* t : {"shm-spin", "shm", "shm-eventfd", "eventfd", "mmap", "pipe"}) {
      std::size_t size = std::string(t) == "eventfd" ? 32 : 64;
      for (std::uint64_t pace : {std::uint64_t{0}, std::uint64_t{1'000'000}}) {
        std::string key = std::string(model) + " " + t + " " + std::to_string(size) + "B";
        if (!wanted(key + (pace ? " paced" : " ping-pong"))) continue;
        auto client = [&](endpoint& ep) { return ping(ep, size, pace); };
        auto server = [&](endpoint& ep) { return static_cast<double>(echo(ep, size)); };
        auto [r, server_cpu] = fork_model ? across_fork(make_channel(t, size, dir), cpu_a, cpu_b, client, server)
                                          : across_threads(make_channel(t, size, dir), cpu_a, cpu_b, client, server);
        if (pace == 0) {
          record(key + " round trip ns", r.rtt_ns);
          record(key + " one-way / c2c one-way", r.rtt_ns / 2 / *fl.c2c_one_way_ns);
          if (fl.c2c_two_line_one_way_ns)
            record(key + " one-way / floor two-line one-way", r.rtt_ns / 2 / *fl.c2c_two_line_one_way_ns);
          record(key + " one-way / two-line one-way", r.rtt_ns / two_lines.median_rtt_ns);
          record(key + " best-batch round trip ns", r.best_rtt_ns);
          record(key + " best-batch one-way / one-line best", r.best_rtt_ns / one_line.best_rtt_ns);
          record(key + " best-batch one-way / two-line best", r.best_rtt_ns / two_lines.best_rtt_ns);
          // Both sides' CPU over the messages carried (two per round trip); the server's includes its warm-up.
          record(key + " cpu ns/msg (both sides)", (r.client_cpu_ns + server_cpu) / (2 * r.round_trips));
        } else {
          record(key + " paced 1/ms round trip ns", r.rtt_ns);
          record(key + " paced 1/ms server cpu ns/msg", server_cpu / (r.round_trips + 11));
        }
      }
    }
    for (const char* t : {"shm", "shm-spin", "shm-eventfd", "pipe"}) {
      constexpr std::size_t size = 64 * 1024;
      std::string key = std::string(model) + " " + t + " stream 64KiB";
      if (!wanted(key)) continue;
      auto sender = [&](endpoint& ep) {
        stream_out(ep, size, 150'000'000);
        return 0.0;
      };
      auto receiver = [&](endpoint& ep) { return stream_in(ep, size); };
      // The receiver is the measuring side: the client here (cpu_a), the sender the server side (cpu_b).
      auto [gbps, unused] = fork_model ? across_fork(make_channel(t, size, dir), cpu_a, cpu_b, receiver, sender)
                                       : across_threads(make_channel(t, size, dir), cpu_a, cpu_b, receiver, sender);
      (void)unused;
      record(key + " GB/s", gbps);
      record(key + " / xcore", gbps / *fl.xcore_gbps);
    }
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  if (argc > 2) bench::filter = argv[2];
  int cpu_a = argc > 4 ? std::atoi(argv[3]) : 0;
  int cpu_b = argc > 4 ? std::atoi(argv[4]) : 1;
  try {
    for (int r = 0; r < runs; ++r) {
      std::fprintf(stderr, "run %d/%d\n", r + 1, runs);
      bench::one_run(cpu_a, cpu_b);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ring_bench: %s\n", e.what());
    return 1;
  }
  std::printf("%-58s %12s   %s\n", "figure (CPUs pinned: client/receiver, server/sender)", "median", "each run");
  for (const auto& [name, values] : bench::figures) {
    std::printf("%-58s %12.3f  ", name.c_str(), bench::median(values));
    for (double v : values) std::printf(" %.3f", v);
    std::printf("\n");
  }
  return 0;
}
