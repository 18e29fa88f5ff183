// The progress line on stderr: "case i of n, elapsed, estimated remaining". Redrawn in place on a terminal;
// plain lines when stderr is a file or a pipe (CI logs, tests).
#pragma once

#include <string>

namespace bench {

class progress_line {
 public:
  explicit progress_line(int total);
  void step(const std::string& what);  // a new case starts
  void note(const std::string& line);  // a message that must stay visible (e.g. a failure)
  void finish();

 private:
  int total_, done_ = 0;
  bool tty_;
  unsigned long long start_ns_;
};

}  // namespace bench
