// Runs the serialize suite from the command line until `bench run serialize` is wired into bench/suites.cpp:
//   serialize_driver [--quick] [--reps N] [--duration 0.1s] [--serializers a,b] [--shapes s,m] [--filter RE]
//                    [--out DIR] [--no-plot]
// Same request fields and exit statuses as the CLI (2 with one line for bad input).
#include <fmt/format.h>

#include <string>

#include "bench/serialize/serialize_suite.hpp"
#include "harness/cancel.hpp"
#include "harness/error.hpp"
#include "harness/units.hpp"

int main(int argc, char** argv) {
  using namespace bench;
  run_request req;
  req.suite = "serialize";
  req.command_line = "serialize_driver";
  for (int i = 1; i < argc; ++i) req.command_line += std::string(" ") + argv[i];
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw usage_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--quick") req.quick = true;
      else if (a == "--no-plot") req.no_plot = true;
      else if (a == "--reps") req.reps = static_cast<int>(parse_count(value(), "--reps"));
      else if (a == "--duration") req.duration_ns = parse_duration_ns(value());
      else if (a == "--serializers") req.serializers = split_list(value(), "--serializers");
      else if (a == "--shapes") req.shapes = split_list(value(), "--shapes");
      else if (a == "--filter") req.filter = value();
      else if (a == "--out") req.out = value();
      else throw usage_error("unknown option " + a);
    }
    validate_serialize(req);
    install_signal_handlers();
    return run_serialize(req);
  } catch (const usage_error& e) {
    fmt::print(stderr, "serialize_driver: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "serialize_driver: {}\n", e.what());
    return 1;
  }
}
