// The private RabbitMQ broker (transports/amqp_broker.hpp): it starts, accepts a login with its one-time user,
// and leaves nothing behind when stopped, nor when its owner dies without stopping it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/transports/amqp_support.hpp"
#include "transports/amqp.hpp"
#include "transports/amqp_broker.hpp"

namespace bench {
namespace {
namespace fs = std::filesystem;

#define SKIP_WITHOUT_RABBITMQ()       \
  if (rabbitmq_server_path().empty()) \
  GTEST_SKIP() << "rabbitmq-server is not installed (apt-get install rabbitmq-server)"

// Waits (bounded) until no process of the node is left; returns those still there.
std::vector<std::string> wait_for_none_of(const std::string& marker, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<std::string> left = processes_with_environment_mentioning(marker);
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = processes_with_environment_mentioning(marker);
  }
  return left;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "; ";
  return s;
}

TEST(AmqpBroker, StartsAcceptsItsUserAndLeavesNothingWhenStopped) {
  SKIP_WITHOUT_RABBITMQ();
  std::string node, dir;
  pid_t keeper = -1;
  {
    amqp_broker b;
    node = b.node_name();
    dir = b.directory();
    keeper = b.keeper();
    EXPECT_EQ(amqp_try_login(b.url(), 5000), "");
    EXPECT_NE(amqp_try_login(b.url_without_credentials(), 5000), "") << "the broker took a login without its user";
    EXPECT_TRUE(fs::exists(dir));
    EXPECT_FALSE(processes_with_environment_mentioning(node).empty()) << "the broker's processes carry its node name";
    EXPECT_EQ(b.url_without_credentials().find('@'), std::string::npos) << b.url_without_credentials();
  }
  EXPECT_FALSE(fs::exists(dir)) << dir;
  EXPECT_TRUE(processes_with_environment_mentioning(node).empty())
      << joined(processes_with_environment_mentioning(node));
  EXPECT_NE(::kill(keeper, 0), 0) << "the keeper was reaped";
}

TEST(AmqpBroker, AnOwnerThatDiesStillGetsItsBrokerStopped) {
  SKIP_WITHOUT_RABBITMQ();
  // A child process starts a broker, tells us its node and directory, and is killed without stopping it: the
  // keeper's parent-death signal must stop the broker and remove the directory all the same.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    ::close(fds[0]);
    try {
      amqp_broker b;
      std::string msg = b.node_name() + "\n" + b.directory() + "\n";
      (void)!::write(fds[1], msg.data(), msg.size());
      ::pause();
    } catch (...) {}
    ::_exit(1);
  }
  ::close(fds[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    got.append(buf, static_cast<std::size_t>(n));
    if (std::count(got.begin(), got.end(), '\n') == 2) break;
  }
  ::close(fds[0]);
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);
  ASSERT_EQ(std::count(got.begin(), got.end(), '\n'), 2) << "the broker did not start: " << got;
  std::string node = got.substr(0, got.find('\n'));
  std::string dir = got.substr(node.size() + 1, got.size() - node.size() - 2);
  std::vector<std::string> left = wait_for_none_of(node, 30);
  EXPECT_TRUE(left.empty()) << joined(left);
  for (int i = 0; i < 100 && fs::exists(dir); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(fs::exists(dir)) << dir;
}

TEST(AmqpBroker, ChannelsWithoutABrokerFailWithTheReason) {
  channel_options opt;
  opt.max_msg_bytes = 64;
  opt.unique_name = "nobroker";
  // The shared broker of the other amqp tests, if they ran first in this process, is out of reach meanwhile.
  amqp_test_broker_state& shared = amqp_test_broker();
  shared.url.reset();
  try {
    make_amqp_channel(opt);
    ADD_FAILURE() << "a channel without a broker";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no AMQP broker"), std::string::npos) << e.what();
  }
  if (shared.broker) shared.url = std::make_unique<amqp_url_scope>(shared.broker->url());
}

TEST(AmqpBroker, UrlsAreShownWithoutTheirPassword) {
  EXPECT_EQ(amqp_url_for_display("amqp://bench:s3cret@127.0.0.1:5672/"), "amqp://bench@127.0.0.1:5672/");
  EXPECT_EQ(amqp_url_for_display("amqp://127.0.0.1:5672/"), "amqp://127.0.0.1:5672/");
  EXPECT_NE(amqp_try_login("http://nothing", 100), "");
}

}  // namespace
}  // namespace bench
