// output.cpp: whole-buffer writes (output.hpp).
#include "output.hpp"

#include <cerrno>

#include <unistd.h>

namespace chronicle::cli {

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

}  // namespace chronicle::cli
