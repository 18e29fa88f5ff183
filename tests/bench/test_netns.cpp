// Two hosts on one machine: two network namespaces joined by a veth pair, each with its own host name (a UTS
// namespace), `bench serve` in one and `bench run ipc --peer` in the other. The results meet the contract and
// name both hosts. Needs root (ip netns, veth); skipped with the reason otherwise.
//
// Nothing outlives the test: the children carry a parent-death signal through `ip netns exec` and `unshare`
// (both exec, never fork), the namespaces are removed by a guard even when a check fails, and namespaces left by
// a test that was killed (named bench-test-<pid>-..., pid gone) are removed by the next run and by the ctest
// cleanup fixture (NetnsCleanup).
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/bench/remote_support.hpp"

namespace bench {
namespace {
using test::child_process;
namespace fs = std::filesystem;

const std::string prefix = "bench-test-";

int run(std::vector<std::string> argv) {
  fs::path io = test::fresh_dir("cmd");
  child_process c(std::move(argv), io);
  int st = c.wait(30).value_or(-1);
  fs::remove_all(io);
  return st;
}

std::string capture(std::vector<std::string> argv) {
  fs::path io = test::fresh_dir("cap");
  child_process c(std::move(argv), io);
  c.wait(30);
  std::string out = c.out();
  fs::remove_all(io);
  return out;
}

// Namespaces named bench-test-<pid>-... whose test process is gone.
void remove_stale_namespaces() {
  std::istringstream list(capture({"ip", "netns", "list"}));
  std::string line;
  while (std::getline(list, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind(prefix, 0) != 0) continue;
    pid_t owner = std::atoi(name.c_str() + prefix.size());
    if (owner > 0 && owner != ::getpid() && ::kill(owner, 0) == 0) continue;  // its test still runs
    run({"ip", "netns", "del", name});
  }
}

// Two namespaces and a veth pair between them, removed in the destructor.
struct veth_pair {
  std::string ns_server = prefix + std::to_string(::getpid()) + "-srv";
  std::string ns_client = prefix + std::to_string(::getpid()) + "-cli";
  // 10.231.X.0/24, X from the pid: two test runs at once do not share a subnet (each is in its own namespaces
  // anyway; this keeps the addresses readable in a failure message).
  std::string subnet = "10.231." + std::to_string(::getpid() % 250) + ".";
  std::string server_ip = subnet + "1", client_ip = subnet + "2";
  std::string failed;  // the command that failed, if any

  veth_pair() {
    std::string va = "bt" + std::to_string(::getpid() % 100000) + "s",
                vb = "bt" + std::to_string(::getpid() % 100000) + "c";
    std::vector<std::vector<std::string>> steps = {
        {"ip", "netns", "add", ns_server},
        {"ip", "netns", "add", ns_client},
        {"ip", "link", "add", va, "type", "veth", "peer", "name", vb},
        {"ip", "link", "set", va, "netns", ns_server},
        {"ip", "link", "set", vb, "netns", ns_client},
        {"ip", "-n", ns_server, "addr", "add", server_ip + "/24", "dev", va},
        {"ip", "-n", ns_client, "addr", "add", client_ip + "/24", "dev", vb},
        {"ip", "-n", ns_server, "link", "set", va, "up"},
        {"ip", "-n", ns_client, "link", "set", vb, "up"},
        {"ip", "-n", ns_server, "link", "set", "lo", "up"},
        {"ip", "-n", ns_client, "link", "set", "lo", "up"},
    };
    for (auto& s : steps) {
      if (run(s) != 0) {
        for (auto& w : s) failed += w + " ";
        run({"ip", "link", "del", va});  // in case it was made but not moved
        return;
      }
    }
  }
  ~veth_pair() {
    run({"ip", "netns", "del", ns_server});  // deleting a namespace deletes its end of the veth, and so the pair
    run({"ip", "netns", "del", ns_client});
  }
  // argv run inside namespace `ns` with host name `host` (its own UTS namespace).
  static std::vector<std::string> inside(const std::string& ns, const std::string& host,
                                         std::vector<std::string> argv) {
    std::vector<std::string> all = {
        "ip", "netns", "exec", ns, "unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", host};
    all.insert(all.end(), argv.begin(), argv.end());
    return all;
  }
};

bool namespace_exists(const std::string& name) { return fs::exists("/run/netns/" + name); }

TEST(NetnsCleanup, RemovesNamespacesOfTestsThatAreGone) {
  if (::geteuid() != 0) GTEST_SKIP() << "not root: no namespaces were made";
  remove_stale_namespaces();
}

TEST(Netns, ServeAndPeerAcrossAVethPair) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces and a veth pair (ip netns add)";
  if (run({"ip", "-V"}) != 0) GTEST_SKIP() << "the ip command (iproute2) is not installed";
  remove_stale_namespaces();
  std::string made_server, made_client;
  fs::path dir = test::fresh_dir("netns");
  {
    veth_pair net;
    made_server = net.ns_server;
    made_client = net.ns_client;
    if (!net.failed.empty()) GTEST_SKIP() << "cannot create network namespaces here: `" << net.failed << "` failed";
    fs::create_directories(dir / "serve");
    fs::create_directories(dir / "run");
    child_process serve(
        veth_pair::inside(net.ns_server, "bench-b", {BENCH_BINARY, "serve", "--listen", net.server_ip + ":0"}),
        dir / "serve");
    std::string address = test::serve_address(serve);
    ASSERT_FALSE(address.empty()) << serve.out() << serve.err();
    EXPECT_NE(serve.out().find("reachable from the network"), std::string::npos) << serve.out();
    child_process client(veth_pair::inside(net.ns_client, "bench-a",
                                           {BENCH_BINARY,
                                            "run",
                                            "ipc",
                                            "--peer",
                                            address,
                                            "--transports",
                                            "tcp,udp,zmq-tcp",
                                            "--models",
                                            "thread,process",
                                            "--sizes",
                                            "64,4K",
                                            "--duration",
                                            "5ms",
                                            "--warmup",
                                            "1ms",
                                            "--reps",
                                            "1",
                                            "--no-plot",
                                            "--out",
                                            (dir / "out").string()}),
                         dir / "run");
    std::optional<int> st = client.wait(240);
    ASSERT_TRUE(st) << "the run did not finish";
    EXPECT_EQ(*st, 0) << client.err();
    test::check_results(dir / "out" / "results.json", "tcp, udp, zmq-tcp across the veth pair");
    auto doc = nlohmann::json::parse(test::slurp(dir / "out" / "results.json"));
    EXPECT_EQ(doc["context"]["host_name"], "bench-a");
    EXPECT_EQ(doc["context"]["peer"]["host_name"], "bench-b");
    EXPECT_EQ(doc["context"]["peer"]["address"], address);
    EXPECT_EQ(serve.stop(SIGINT), 0);
  }
  // The guard removed both namespaces (and with them the veth pair).
  EXPECT_FALSE(namespace_exists(made_server));
  EXPECT_FALSE(namespace_exists(made_client));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bench
