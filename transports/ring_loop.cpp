#include "transports/ring_loop.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/error.hpp"

namespace bench {

ring_loop_fds::ring_loop_fds(int message_efd, int peer_life_line)
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
  if (!epoll_) throw_errno("create an epoll descriptor for the shared ring");
  if (!timer_) throw_errno("create a timer descriptor for the shared ring");
  for (int fd : {message_efd, peer_life_line}) {
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered; a hung-up life line reports EPOLLHUP whatever is asked
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      throw_errno("add a descriptor to the shared ring's epoll set");
  }
}

void ring_loop_fds::arm_room_timer() {
  itimerspec t{};
  t.it_value.tv_nsec = static_cast<long>(room_poll_ns);
  if (::timerfd_settime(timer_.get(), 0, &t, nullptr) != 0) throw_errno("arm the shared ring's room timer");
  armed_ = true;
}

void ring_loop_fds::disarm_room_timer() {
  if (!armed_) return;
  itimerspec none{};
  if (::timerfd_settime(timer_.get(), 0, &none, nullptr) != 0) throw_errno("disarm the shared ring's room timer");
  armed_ = false;  // setting the timer also clears an expiry not yet read: the descriptor stops polling readable
}

}  // namespace bench
