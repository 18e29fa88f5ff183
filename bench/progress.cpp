#include "bench/progress.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "base/clock.hpp"

namespace bench {
namespace {
std::string clock_text(double s) {
  int t = static_cast<int>(s + 0.5);
  return fmt::format("{}:{:02d}", t / 60, t % 60);
}
}  // namespace

progress_line::progress_line(int total) : total_(total), tty_(::isatty(2) != 0), start_ns_(now_ns()) {}

void progress_line::step(const std::string& what) {
  ++done_;
  double elapsed = static_cast<double>(now_ns() - start_ns_) / 1e9;
  std::string left =
      done_ > 1 ? fmt::format("~{}", clock_text(elapsed / (done_ - 1) * (total_ - done_ + 1))) : std::string("?");
  std::string line =
      fmt::format("[{:>4}/{}] {:<50} elapsed {}, left {}", done_, total_, what, clock_text(elapsed), left);
  if (tty_)
    fmt::print(stderr, "\r\033[K{}", line);
  else
    fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
}

void progress_line::note(const std::string& line) {
  if (tty_)
    fmt::print(stderr, "\r\033[K{}\n", line);
  else
    fmt::print(stderr, "{}\n", line);
}

void progress_line::finish() {
  if (tty_) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "done in {}\n", clock_text(static_cast<double>(now_ns() - start_ns_) / 1e9));
}

}  // namespace bench
