// `bench run python`: the course's own Python (bench/python/py_worker.py on real CPython, Debian's
// /usr/bin/python3 unless --python says otherwise) beside bench's C++ doing the same, in one run and one results
// file. The worker runs a case's loop and prints its raw timings; bench plans, pins, times out, verifies and
// computes every statistic, so a Python figure and a C++ figure mean the same thing.
#pragma once

#include <filesystem>
#include <optional>

#include "bench/suite.hpp"

namespace bench {

void validate_python(const run_request& req);
int run_python(const run_request& req);
// The Python-tax cases a lecture run adds into DIR/python/ (none with --filter or the full matrix).
std::optional<run_request> lecture_python_request(const run_request& req, const std::filesystem::path& dir);
// `bench list python`: the Python transports and serializers, each with what it is or why it is unavailable.
void print_python_list(const std::string& interpreter);

}  // namespace bench
