// The model seam: who hosts the server side of every pair. Clients are always threads of the harness process,
// pinned where the placement says; the model decides whether servers are threads (`thread`), forked processes
// (`process`) or, later, one event loop serving every pair (`async`, `async-uring`).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/workload.hpp"
#include "transports/transport.hpp"

namespace bench {

struct server_job {
  channel* ch = nullptr;      // the host takes ch->server; a forked server also drops its copy of ch->client
  pair_slot* slot = nullptr;  // in shared memory
  int cpu = -1;
};

class server_host {
 public:
  virtual ~server_host() = default;  // stops (kills) and reaps anything still running
  // Starts the server side of every job. Called while the harness has no other threads (fork safety).
  virtual void start(std::span<server_job> jobs, const workload_params& wl) = 0;
  // The watchdog or Ctrl-C: make every server stop now (poke threads out of system calls, kill processes).
  virtual void interrupt() noexcept = 0;
  // Waits for every server to end; returns "" or what went wrong (e.g. "server process 1234 killed by SIGSEGV").
  virtual std::string join() = 0;
};

struct model_info {
  std::string_view name;
  std::string_view description;
  bool needs_cross_process = false;  // the transport must survive fork
  bool needs_pollable = false;       // the transport must offer a pollable descriptor
  // The server honours --wait spin. Event loops always wait in the kernel (epoll_wait, io_uring_enter), so a
  // spinning case would describe only its clients: it is not offered.
  bool spins = true;
  std::function<std::string()> unavailable_reason;
  std::function<std::unique_ptr<server_host>()> make;
};

std::span<const model_info> models();
const model_info* find_model(std::string_view name);
// Why this model cannot use this transport, or "" if it can.
std::string incompatibility(const model_info& m, const struct transport_info& t);

}  // namespace bench
