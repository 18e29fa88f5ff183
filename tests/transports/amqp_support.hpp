// What the transport tests need around the amqp transports: the broker, started the way bench run starts it
// (once, on the first amqp test of this process, and stopped when the process exits), and ways to look for
// what it might leave behind.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "transports/amqp.hpp"
#include "transports/amqp_broker.hpp"
#include "transports/transport.hpp"

namespace bench {

struct amqp_test_broker_state {
  std::unique_ptr<amqp_broker> broker;
  std::unique_ptr<amqp_url_scope> url;
};
inline amqp_test_broker_state& amqp_test_broker() {
  static amqp_test_broker_state s;
  return s;
}
// The shared broker's keeper, or -1 while none was started.
inline pid_t amqp_test_broker_keeper() {
  const auto& s = amqp_test_broker();
  return s.broker ? s.broker->keeper() : -1;
}
// Starts the shared broker before the first channel of a transport that needs one (it throws if it cannot start,
// and the test fails with the reason).
inline void need_broker_for(const transport_info& t) {
  if (!uses_amqp_broker(t)) return;
  amqp_test_broker_state& s = amqp_test_broker();
  if (s.broker) return;
  s.broker = std::make_unique<amqp_broker>();
  s.url = std::make_unique<amqp_url_scope>(s.broker->url());
}

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The processes whose parent is this one.
inline std::vector<pid_t> child_processes() { return child_processes_of(::getpid()); }

// Processes (zombies aside) whose environment mentions `marker`: every process of a broker carries its node name
// and directories there (the Erlang VM, its helpers, the epmd it started), whatever its command line says.
inline std::vector<std::string> processes_with_environment_mentioning(const std::string& marker) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string env = read_all(e.path() / "environ");
    if (env.find(marker) != std::string::npos) out.push_back(name + " " + read_all(e.path() / "comm"));
  }
  return out;
}

}  // namespace bench
