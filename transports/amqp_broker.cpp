#include "transports/amqp_broker.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/cancel.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/fd.hpp"

extern char** environ;

namespace bench {
namespace fs = std::filesystem;
namespace {

constexpr const char* debian_server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
constexpr std::uint64_t start_deadline_ns = 60'000'000'000ull;
// The keeper gives the broker this long to shut down on SIGTERM (it writes nothing that matters: its directory
// is removed afterwards) before killing it; bench gives the keeper a little more before killing everything.
constexpr std::uint64_t keeper_stop_ns = 10'000'000'000ull;
constexpr std::uint64_t owner_stop_ns = 15'000'000'000ull;

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  std::string s;
  for (std::size_t i = 0; i < bytes; ++i) s += fmt::format("{:02x}", rd() & 0xff);
  return s;
}

// A port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0). Another program could take it
// before the broker binds it; the broker then fails to start, with its log saying so.
int free_port() {
  unique_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("create a socket to find a free port");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw_errno("bind a socket to find a free port");
  socklen_t len = sizeof a;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) throw_errno("read a free port");
  return ntohs(a.sin_port);
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

// The end of what the broker printed (its start script's errors, the boot banner), on one line.
std::string log_tail(const std::string& dir) {
  std::ifstream f(fs::path(dir) / "console.log");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string all = ss.str();
  while (!all.empty() && (all.back() == '\n' || all.back() == ' ')) all.pop_back();
  std::size_t from = all.size() > 600 ? all.size() - 600 : 0;
  std::string tail = all.substr(from);
  for (char& c : tail)
    if (c == '\n') c = ' ';
  return tail.empty() ? "(no output)" : tail;
}

void reap_all_nohang() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
}

// The keeper (a forked child of bench; never returns). It starts the broker in a process group of its own,
// reports that group to bench through `report`, and waits for SIGTERM (bench is done, or bench died) or for the
// broker to end by itself. Then it stops the broker's group, kills whatever else the broker left (each now the
// keeper's child, as it is their subreaper), reaps them all and removes the directory.
[[noreturn]] void run_keeper(pid_t parent, int report, const std::string& server, const std::string& dir,
                             const std::vector<std::string>& env) {
  ::setpgid(0, 0);                     // out of the terminal's group: Ctrl-C reaches bench, which stops us
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // bench died: stop the broker all the same
  if (::getppid() != parent) ::_exit(3);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGINT, SIG_IGN);
  sigset_t wanted, none;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGTERM);
  sigaddset(&wanted, SIGCHLD);
  sigemptyset(&none);
  ::sigprocmask(SIG_BLOCK, &wanted, nullptr);

  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t broker = ::fork();
  if (broker == 0) {
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setpgid(0, 0);
    int out = ::open((dir + "/console.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    if (in >= 0) ::dup2(in, 0);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    char* argv[] = {const_cast<char*>(server.c_str()), nullptr};
    ::execve(server.c_str(), argv, envp.data());
    ::_exit(127);
  }
  pid_t reported = broker > 0 ? broker : -1;
  (void)!::write(report, &reported, sizeof reported);
  ::close(report);
  if (broker < 0) ::_exit(1);
  ::setpgid(broker, broker);  // also here: whichever of the two runs first, the group exists before any kill

  bool broker_gone = false;
  int code = 0;
  for (;;) {
    int sig = ::sigwaitinfo(&wanted, nullptr);
    if (sig == SIGTERM) break;
    if (sig != SIGCHLD) continue;
    int status = 0;
    for (pid_t r; (r = ::waitpid(-1, &status, WNOHANG)) > 0;)
      if (r == broker) broker_gone = true;
    if (broker_gone) {
      code = 1;  // the broker ended by itself: clean up after it all the same
      break;
    }
  }
  // The broker's group: SIGTERM (the Erlang VM halts in an orderly way), then SIGKILL at the deadline.
  ::kill(-broker, SIGTERM);
  std::uint64_t deadline = now_ns() + keeper_stop_ns;
  while (::kill(-broker, 0) == 0) {
    reap_all_nohang();
    if (now_ns() > deadline) {
      ::kill(-broker, SIGKILL);
      deadline = UINT64_MAX;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // What the broker left outside its group (epmd, which it daemonized; Erlang's port helpers): all our children.
  for (int pass = 0; pass < 50; ++pass) {
    reap_all_nohang();
    std::vector<pid_t> left = child_processes_of(::getpid());
    if (left.empty()) break;
    for (pid_t p : left) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reap_all_nohang();
  std::error_code ec;
  fs::remove_all(dir, ec);
  ::_exit(code);
}

// The environment of the broker: ours without any RABBITMQ_* or ERL_* setting (a user's could point the node
// elsewhere), plus the private node's.
std::vector<std::string> broker_environment(const std::vector<std::pair<std::string, std::string>>& ours) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view v(*e);
    if (v.starts_with("RABBITMQ_") || v.starts_with("ERL_") || v.starts_with("HOME=")) continue;
    env.emplace_back(v);
  }
  for (const auto& [k, v] : ours) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

std::string rabbitmq_server_path() {
  const char* over = std::getenv("BENCH_RABBITMQ_SERVER");
  std::string p = over && *over ? over : debian_server;
  return ::access(p.c_str(), X_OK) == 0 ? p : std::string();
}

std::vector<pid_t> child_processes_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
    std::size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

std::string amqp_try_login(const std::string& url, int timeout_ms) {
  std::vector<char> copy(url.begin(), url.end());
  copy.push_back('\0');
  amqp_connection_info info{};
  if (amqp_parse_url(copy.data(), &info) != AMQP_STATUS_OK)
    return "not an AMQP URL (amqp://user:password@host:port/vhost)";
  amqp_connection_state_t conn = amqp_new_connection();
  std::string why;
  amqp_socket_t* sock = amqp_tcp_socket_new(conn);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  amqp_set_handshake_timeout(conn, &tv);
  amqp_set_rpc_timeout(conn, &tv);
  if (!sock) {
    why = "cannot create a socket";
  } else if (int st = amqp_socket_open_noblock(sock, info.host, info.port, &tv); st != AMQP_STATUS_OK) {
    why = fmt::format("cannot connect to {}:{}: {}", info.host, info.port, amqp_error_string2(st));
  } else {
    amqp_rpc_reply_t r = amqp_login(conn, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
      why = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                ? fmt::format("login refused: {}", amqp_error_string2(r.library_error))
                : "login refused by the broker";
    else
      amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn);
  return why;
}

amqp_broker::amqp_broker() : owner_(::getpid()) {
  const std::string server = rabbitmq_server_path();
  if (server.empty()) throw std::runtime_error(fmt::format("rabbitmq-server is not installed ({})", debian_server));
  std::string tmpl = (fs::temp_directory_path() / "bench-amqp-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw_errno("create the broker's private directory");
  dir_ = tmpl;
  try {
    const std::string id = random_hex(4);
    node_ = "bench-" + id + "@localhost";
    user_ = "bench-" + id;
    password_ = random_hex(16);
    port_ = free_port();
    const int dist_port = free_port(), epmd_port = free_port();
    for (const char* sub : {"mnesia", "log"}) fs::create_directories(fs::path(dir_) / sub);
    write_file(fs::path(dir_) / "enabled_plugins", "[].\n");
    write_file(fs::path(dir_) / "rabbitmq-env.conf", "");
    // The one-time user is created at the broker's first boot from these; guest stays loopback-only as ever.
    write_file(fs::path(dir_) / "rabbitmq.conf",
               fmt::format("default_user = {}\ndefault_pass = {}\nlog.file.level = warning\n", user_, password_));
    ::chmod((fs::path(dir_) / "rabbitmq.conf").c_str(), 0600);
    const std::vector<std::string> env = broker_environment({
        {"RABBITMQ_NODENAME", node_},
        {"RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"},
        {"RABBITMQ_NODE_PORT", std::to_string(port_)},
        {"RABBITMQ_DIST_PORT", std::to_string(dist_port)},
        {"ERL_EPMD_PORT", std::to_string(epmd_port)},
        {"ERL_EPMD_ADDRESS", "127.0.0.1"},
        // Erlang distribution on loopback too (it listens on every address otherwise).
        {"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}"},
        {"RABBITMQ_MNESIA_BASE", dir_ + "/mnesia"},
        {"RABBITMQ_LOG_BASE", dir_ + "/log"},
        {"RABBITMQ_CONFIG_FILE", dir_ + "/rabbitmq.conf"},
        {"RABBITMQ_ADVANCED_CONFIG_FILE", dir_ + "/advanced.config"},
        {"RABBITMQ_CONF_ENV_FILE", dir_ + "/rabbitmq-env.conf"},
        {"RABBITMQ_ENABLED_PLUGINS_FILE", dir_ + "/enabled_plugins"},
        {"HOME", dir_},
    });
    // No path: rabbitmq-c reads "/" as the empty vhost name, and no path as the default vhost "/".
    url_ = fmt::format("amqp://{}:{}@127.0.0.1:{}", user_, password_, port_);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("create a pipe to the broker's keeper");
    unique_fd report_r(fds[0]), report_w(fds[1]);
    const std::uint64_t t0 = now_ns();
    pid_t parent = ::getpid();
    pid_t k = ::fork();
    if (k < 0) throw_errno("fork the broker's keeper");
    if (k == 0) run_keeper(parent, report_w.get(), server, dir_, env);
    keeper_ = k;
    report_w.reset();
    pid_t group = -1;
    ssize_t n;
    do n = ::read(report_r.get(), &group, sizeof group);
    while (n < 0 && errno == EINTR);
    if (n != sizeof group || group <= 0)
      throw std::runtime_error("the broker's keeper could not start rabbitmq-server");
    broker_group_ = group;

    // Ready when a login succeeds: the listener opens late in the boot, once the broker can serve.
    const std::uint64_t deadline = t0 + start_deadline_ns;
    for (;;) {
      if (interrupted()) throw aborted_error("interrupted while the RabbitMQ broker started");
      int status = 0;
      if (::waitpid(keeper_, &status, WNOHANG) == keeper_) {
        keeper_ = -1;
        throw std::runtime_error(fmt::format("rabbitmq-server exited while starting: {}", log_tail(dir_)));
      }
      std::string why = amqp_try_login(url_, 1000);
      if (why.empty()) break;
      if (now_ns() > deadline)
        throw std::runtime_error(fmt::format("rabbitmq-server did not accept a login within {} s ({}): {}",
                                             start_deadline_ns / 1'000'000'000, why, log_tail(dir_)));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    start_s_ = static_cast<double>(now_ns() - t0) / 1e9;
  } catch (...) {
    stop();
    throw;
  }
}

amqp_broker::~amqp_broker() { stop(); }

std::string amqp_broker::url_without_credentials() const { return fmt::format("amqp://127.0.0.1:{}", port_); }

void amqp_broker::stop() noexcept {
  if (::getpid() != owner_) return;
  if (keeper_ > 0) {
    ::kill(keeper_, SIGTERM);
    const std::uint64_t deadline = now_ns() + owner_stop_ns;
    bool reaped = false;
    while (!reaped && now_ns() < deadline) {
      pid_t r = ::waitpid(keeper_, nullptr, WNOHANG);
      reaped = r == keeper_ || (r < 0 && errno == ECHILD);
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!reaped) {
      // The last resort: the keeper did not finish; its group and the broker's are killed outright.
      if (broker_group_ > 0) ::kill(-broker_group_, SIGKILL);
      ::kill(keeper_, SIGKILL);
      while (::waitpid(keeper_, nullptr, 0) < 0 && errno == EINTR) {}
    }
    keeper_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace bench
