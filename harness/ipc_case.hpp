// One ipc case: transport x model x serializer x workload x size x pairs x placement x wait (x work x lock), run once
// (one repetition).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "harness/case_key.hpp"
#include "harness/cpu.hpp"
#include "harness/model.hpp"
#include "harness/results.hpp"
#include "harness/workload.hpp"

namespace bench {

struct ipc_case {
  const transport_info* transport = nullptr;
  const model_info* model = nullptr;
  workload_params wl;
  int pairs = 1;
  placement place = placement::cross;
  std::string wait;  // "block", "spin", or the transport's fixed discipline
  wait_mode wait_as = wait_mode::block;
  std::string name;         // encodes every parameter; what --filter, the JSON and the charts read
  std::string skip_reason;  // non-empty: not run, and why (kept for the console and the results' context)
};

// A one-pair case of transport t under model m as every planner starts one: the transport's credit window and
// wait discipline set, the rest at workload_params' defaults. The caller sets what else it plans (timing, pairs,
// placement, lock), then the name (case_name) and the skip reason.
ipc_case make_ipc_case(const transport_info& t, const model_info& m, workload_kind kind, std::uint64_t msg_bytes,
                       wait_mode wait, const ser::serializer_info* serializer = nullptr,
                       ser::shape shape = ser::shape::small);

// The case's identity: its run_name and the fields every row of it carries (harness/case_key.hpp).
case_key ipc_case_key(const ipc_case& c);
std::string case_name(const ipc_case& c);
// How names write a size and a duration: 64, 4K, 1M; 500ns, 10us, 5ms.
std::string size_label(std::size_t bytes);
std::string duration_label(std::uint64_t ns);
// Every field an ipc_case_key can write, in its order: the suite's schema identity.
const std::vector<std::string>& ipc_identity_fields();

struct case_environment {
  const core_plan* cores = nullptr;
  std::string scratch_dir;       // private per-run directory for FIFOs and socket files
  std::uint64_t timeout_ns = 0;  // watchdog, beyond warm-up + duration
  int case_serial = 0;           // makes IPC object names unique within the run
  // Set for `--peer`: hosts the server side of a case on the peer instead of the case's model here; its start()
  // fills in each channel's client end (harness/remote.hpp).
  std::function<std::unique_ptr<server_host>(const ipc_case&)> remote_host;
};

// Runs one repetition and returns its result row (Google Benchmark iteration shape plus our fields).
// Never throws for a failure of the case itself: the row carries error_occurred and error_message.
json run_ipc_case(const ipc_case& c, const case_environment& env);

}  // namespace bench
