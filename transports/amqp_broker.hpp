// A private RabbitMQ broker for one run (the amqp transports): bench starts rabbitmq-server itself, with its own
// node name, ports on 127.0.0.1, a one-time user, and its data and logs in a private temporary directory, and
// stops it and removes all of that at the end. It takes seconds to start, so a run starts one and every amqp
// case shares it.
//
// The broker runs under a keeper: a child of bench that is the broker's subreaper, so that every process the
// broker leaves (the epmd it daemonizes, Erlang's port helpers) becomes the keeper's child and is killed and
// reaped by it; and that stops the broker when bench dies (its parent-death signal), even killed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// The broker's start script where Debian installs it ($BENCH_RABBITMQ_SERVER overrides): "" when absent.
std::string rabbitmq_server_path();

class amqp_broker {
 public:
  // Starts the broker and waits until it accepts an AMQP login (at most 60 s; Ctrl-C ends the wait with
  // aborted_error). Throws std::runtime_error with the tail of the broker's output when it does not come up;
  // nothing is left running then. Call while this process has no other threads (it forks), from the thread
  // that will outlive the broker (the keeper's parent-death signal follows the forking thread).
  amqp_broker();
  ~amqp_broker();  // stops the broker (SIGTERM, then SIGKILL after a deadline) and removes its directory
  amqp_broker(const amqp_broker&) = delete;
  amqp_broker& operator=(const amqp_broker&) = delete;

  const std::string& url() const noexcept { return url_; }  // amqp://user:password@127.0.0.1:port (credentials)
  std::string url_without_credentials() const;
  double start_seconds() const noexcept { return start_s_; }  // from the fork to the first accepted login
  const std::string& directory() const noexcept { return dir_; }
  pid_t keeper() const noexcept { return keeper_; }
  std::string node_name() const { return node_; }

 private:
  void stop() noexcept;

  std::string dir_, node_, user_, password_, url_;
  int port_ = 0;
  pid_t keeper_ = -1;
  pid_t broker_group_ = -1;  // rabbitmq-server's process group (the start script and the Erlang VM)
  pid_t owner_ = -1;         // a forked copy of this object (a process-model server) must not stop the broker
  double start_s_ = 0;
};

// The processes whose parent is `parent` (read from /proc): the keeper's leftovers to kill, and what tests look for.
std::vector<pid_t> child_processes_of(pid_t parent);

// Whether an AMQP login with this URL succeeds now: "" or why not. Used to wait for the broker and to check
// --amqp-url before any work.
std::string amqp_try_login(const std::string& url, int timeout_ms);

}  // namespace bench
