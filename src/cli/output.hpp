// output.hpp: whole-buffer writes to a file descriptor (standard output,
// a COMMAND's standard input), so that a stop never cuts a JSON line.
#pragma once
#include <string_view>

namespace chronicle::cli {

enum class WriteStatus { Ok, BrokenPipe, Error };

// write_all writes every byte of data to fd (retrying short writes and
// EINTR); errno is kept on Error.
WriteStatus write_all(int fd, std::string_view data);

}  // namespace chronicle::cli
