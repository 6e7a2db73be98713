// signals.cpp: stop requests and interruptible waits (signals.hpp), with a
// self-pipe that poll() watches next to the connection's socket.
#include "signals.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace chronicle::cli {
namespace {

volatile sig_atomic_t g_stop = 0;
int g_pipe[2] = {-1, -1};

// on_stop records the request and wakes any poll(); SA_RESETHAND makes a
// second signal fatal.
extern "C" void on_stop(int) {
  int saved = errno;
  g_stop = 1;
  if (g_pipe[1] >= 0) {
    ssize_t ignored = write(g_pipe[1], "x", 1);
    (void)ignored;
  }
  errno = saved;
}

}  // namespace

// install_signal_handlers sets up the stop signals and the self-pipe.
void install_signal_handlers() {
  if (pipe(g_pipe) == 0) {
    for (int fd : g_pipe) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop != 0; }

// wait_readable polls fd and the self-pipe until one is ready or time is up.
Wake wait_readable(int fd, double timeout_seconds) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                           std::chrono::duration<double>(timeout_seconds));
  for (;;) {
    if (g_stop) return Wake::Stop;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return Wake::Timeout;
    struct pollfd fds[2] = {{g_pipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
    int n = poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(left > 1000000 ? 1000000 : left));
    if (n < 0 && errno != EINTR) return Wake::Timeout;
    if (g_stop) return Wake::Stop;
    if (n > 0 && fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) return Wake::Readable;
  }
}

bool sleep_unless_stopped(double seconds) { return wait_readable(-1, seconds) != Wake::Stop; }

}  // namespace chronicle::cli
