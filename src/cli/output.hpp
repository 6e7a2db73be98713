// output.hpp: whole-buffer writes to a file descriptor (standard output,
// a COMMAND's standard input), so that a stop never cuts a JSON line.
#pragma once
#include <string>
#include <string_view>

namespace chronicle::cli {

enum class WriteStatus { Ok, BrokenPipe, Error };

// write_all writes every byte of data to fd (retrying short writes and
// EINTR); errno is kept on Error.
WriteStatus write_all(int fd, std::string_view data);

// write_stdout writes buf to standard output and clears it. A closed pipe
// ends the process by SIGPIPE, as for other filters; other errors throw.
void write_stdout(std::string& buf);

}  // namespace chronicle::cli
