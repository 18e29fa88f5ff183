// Two hosts: the server side of every pair runs in `bench serve` on another machine (the peer), the clients here.
// The control protocol is in control.hpp; the data connections are the network transports' own endpoints
// (transports/network.hpp), so framing, verification and every figure are the same code as a local run.
//
// What a remote case reports, and where it is measured:
//   round trips       by the client, on its own clock, as locally
//   throughput        by the receiver (the server), between its first and last measured arrival on ITS clock,
//                     sent back as counts and that difference
//   CPU time, CPUs    each end its own; the server's come back over the control connection
// No one-way time across hosts: the clocks are not synchronized (see control.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/control.hpp"
#include "harness/ipc_case.hpp"
#include "transports/network.hpp"

namespace bench {

// --- what travels in run_case, checked on the server -------------------------------------------------------------

// A case as the server runs it: only names of its own registries and bounded numbers.
struct remote_case {
  const transport_info* transport = nullptr;
  const model_info* model = nullptr;
  workload_params wl;
  int pairs = 1;
  placement place = placement::cross;
  wait_mode wait = wait_mode::block;
  std::uint64_t timeout_ns = 10'000'000'000ull;
  std::vector<std::vector<std::uint16_t>> client_ports;  // per pair
};

inline constexpr int max_remote_pairs = 256;
inline constexpr std::uint64_t max_remote_phase_ns = 600'000'000'000ull;  // warm-up, duration, timeout: 10 min each

json encode_case(const ipc_case& c, std::uint64_t timeout_ns,
                 const std::vector<std::vector<std::uint16_t>>& client_ports);
// Throws control_error naming the field: unknown key, wrong type, out of range, a transport that cannot cross
// machines, a model or combination this server cannot run.
remote_case decode_case(const json& body);

// A server's pair_slot as JSON and back (the client's slots live in its own memory).
json encode_slot(const pair_slot& s);
void decode_slot(const json& j, pair_slot& s);

// --- the client's side ---------------------------------------------------------------------------------------

// `--peer`: fills the default transports (every network one), and refuses, before any work, what cannot cross
// machines: a transport without a network seam, --placement same. Throws usage_error.
void check_peer_request(const std::string& peer, std::vector<std::string>& transports, placement place);

// The control connection to a `bench serve`, for one run.
class remote_session {
 public:
  // Connects and shakes hands. Throws usage_error (exit status 2, before any work) when the peer cannot be
  // reached, is busy, or speaks another protocol.
  remote_session(const std::string& peer, std::uint64_t timeout_ns);
  ~remote_session();  // says bye and closes
  remote_session(const remote_session&) = delete;
  remote_session& operator=(const remote_session&) = delete;

  // Cases this server cannot run: with the model named by the user, a usage_error; else skipped, with why.
  void check_plan(std::vector<ipc_case>& cases, bool models_named) const;
  // Adds context.peer: the server's machine, its floor and cores, the address, the protocol.
  void describe(json& context) const;
  const std::string& peer_host_name() const noexcept { return peer_host_; }
  // The CPUs among `ours` that the server may run on too: empty unless the server is on this very machine
  // (the same boot_id), where a pair's two ends can then share a CPU whatever the placement says.
  std::vector<int> cpus_shared_with(const std::vector<int>& ours) const;
  const std::string& address() const noexcept { return address_text_; }
  // A server_host for one case whose servers run on the peer; its start() fills in each channel's client end.
  std::unique_ptr<server_host> make_host(const ipc_case& c);
  // Adds to a finished case's row what only the peer knows: its host and its CPU per message.
  void annotate(json& row) const;

 private:
  friend class remote_host;
  net_address server_;  // the peer's address as connected
  net_address local_;   // ours, on that connection: the data sockets bind to it
  std::string address_text_;
  std::string peer_host_;
  json welcome_;
  std::uint64_t timeout_ns_;
  std::unique_ptr<control_channel> control_;
  bool broken_ = false;            // a case left the conversation out of step: later cases fail at once
  double last_server_cpu_ns_ = 0;  // the last case's server CPU time, all pairs
  std::uint64_t last_server_msgs_ = 0;
};

}  // namespace bench
