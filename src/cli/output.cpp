// output.cpp: whole-buffer writes (output.hpp).
#include "output.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include <unistd.h>

namespace chronicle::cli {

// write_all writes all of data (output.hpp).
WriteStatus write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EPIPE ? WriteStatus::BrokenPipe : WriteStatus::Error;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return WriteStatus::Ok;
}

// write_stdout writes buf to standard output and clears it (output.hpp).
void write_stdout(std::string& buf) {
  WriteStatus st = write_all(STDOUT_FILENO, buf);
  if (st == WriteStatus::BrokenPipe) {
    std::signal(SIGPIPE, SIG_DFL);
    std::raise(SIGPIPE);
  }
  if (st != WriteStatus::Ok)
    throw std::runtime_error(std::string("could not write to standard output: ") + std::strerror(errno));
  buf.clear();
}

}  // namespace chronicle::cli
