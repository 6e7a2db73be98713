// options.hpp: the command line of the chronicle client, parsed into plain
// data. Pure: no libpq, no I/O; a bad command line throws UsageError.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chronicle::cli {

// UsageError is a command line the client cannot run (exit status 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Command { None, Tail, Consume, AsOf };
enum class From { Default, Start, Now, Position };
enum class Format { Csv, Json };

// ConnOptions are the connection settings given on the command line; what
// is not given comes from the PG* environment variables through libpq.
struct ConnOptions {
  std::string dbname;  // a database name or a connection string
  std::string host;
  std::string port;
  std::string user;
  bool no_password = false;     // -w: never prompt
  bool force_password = false;  // -W: prompt before connecting
};

// Options is the whole command line.
struct Options {
  Command command = Command::None;
  bool help = false;
  bool version = false;
  ConnOptions conn;
  bool verbose = false;
  std::optional<int> retries;  // reconnection attempts; unset: unlimited
  double poll_interval = 10.0;  // seconds between polls when no NOTIFY comes

  std::string table;  // tail, consume, as-of

  // tail
  std::optional<std::string> stream;
  From from = From::Default;
  std::int64_t from_position = 0;
  bool follow = false;
  int batch_size = 0;  // 0: the command's default

  // consume
  std::string group;
  std::vector<std::string> command_argv;
  bool once = false;

  // as-of
  std::optional<std::string> known_at;
  std::optional<std::string> valid_at;
  Format format = Format::Csv;
};

// parse_options parses argv (argv[0] is the program name).
Options parse_options(int argc, const char* const* argv);

// parse_options parses the arguments after the program name.
Options parse_options(const std::vector<std::string>& args);

// command_name is the name of a command as typed ("tail", "as-of", ...).
const char* command_name(Command c);

// parse_int parses a whole decimal integer in [lo, hi] or throws UsageError
// naming what.
std::int64_t parse_int(const std::string& text, std::int64_t lo, std::int64_t hi, const std::string& what);

}  // namespace chronicle::cli
