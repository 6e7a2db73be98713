// options.cpp: parsing of the chronicle command line (options.hpp). Options
// may come before or after the command's name, in the GNU forms --name=value,
// --name value, -xvalue and -x value; "--" ends the options.
#include "options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace chronicle::cli {
namespace {

// Masks of the commands an option applies to.
constexpr unsigned kTail = 1, kConsume = 2, kAsOf = 4, kAll = 7;

// Spec describes one option.
struct Spec {
  const char* name;  // long name without "--"
  char letter;       // short name or 0
  bool has_value;
  unsigned commands;
};

constexpr Spec kSpecs[] = {
    {"help", '?', false, kAll},          {"version", 'V', false, kAll},
    {"dbname", 'd', true, kAll},         {"host", 'h', true, kAll},
    {"port", 'p', true, kAll},           {"username", 'U', true, kAll},
    {"no-password", 'w', false, kAll},   {"password", 'W', false, kAll},
    {"verbose", 'v', false, kAll},       {"retries", 0, true, kTail | kConsume},
    {"poll-interval", 0, true, kTail | kConsume},
    {"stream", 0, true, kTail},          {"from", 0, true, kTail},
    {"from-start", 0, false, kTail},     {"from-now", 0, false, kTail},
    {"follow", 'f', false, kTail},       {"batch-size", 0, true, kTail | kConsume},
    {"once", 0, false, kConsume},        {"known-at", 0, true, kAsOf},
    {"valid-at", 0, true, kAsOf},        {"format", 0, true, kAsOf},
};

// Given is one option as found on the command line.
struct Given {
  const Spec* spec;
  std::string value;
  std::string typed;  // as the user wrote it, for messages
};

// find_long finds an option by its long name.
const Spec* find_long(const std::string& name) {
  for (const Spec& s : kSpecs)
    if (name == s.name) return &s;
  return nullptr;
}

// find_short finds an option by its letter.
const Spec* find_short(char c) {
  for (const Spec& s : kSpecs)
    if (s.letter == c) return &s;
  return nullptr;
}

// parse_command reads the name of a command.
Command parse_command(const std::string& word) {
  if (word == "tail") return Command::Tail;
  if (word == "consume") return Command::Consume;
  if (word == "as-of" || word == "asof") return Command::AsOf;
  throw UsageError("unknown command \"" + word + "\" (commands: tail, consume, as-of)");
}

// command_mask is the mask of a command in Spec::commands.
unsigned command_mask(Command c) {
  switch (c) {
    case Command::Tail: return kTail;
    case Command::Consume: return kConsume;
    case Command::AsOf: return kAsOf;
    case Command::None: break;
  }
  return kAll;
}

// parse_seconds parses a number of seconds, 0.01 to 86400.
double parse_seconds(const std::string& text, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || *end != '\0' || !std::isfinite(v) || v < 0.01 || v > 86400)
    throw UsageError("invalid value \"" + text + "\" for " + what + ": a number of seconds from 0.01 to 86400 is expected");
  return v;
}

// apply stores one option in o (its command already checked).
void apply(Options& o, const Given& g) {
  const std::string n = g.spec->name;
  const std::string& v = g.value;
  if (n == "help") o.help = true;
  else if (n == "version") o.version = true;
  else if (n == "dbname") o.conn.dbname = v;
  else if (n == "host") o.conn.host = v;
  else if (n == "port") o.conn.port = v;
  else if (n == "username") o.conn.user = v;
  else if (n == "no-password") o.conn.no_password = true;
  else if (n == "password") o.conn.force_password = true;
  else if (n == "verbose") o.verbose = true;
  else if (n == "retries") o.retries = static_cast<int>(parse_int(v, 0, 1000000000, "--retries"));
  else if (n == "poll-interval") o.poll_interval = parse_seconds(v, "--poll-interval");
  else if (n == "stream") o.stream = v;
  else if (n == "follow") o.follow = true;
  else if (n == "batch-size") o.batch_size = static_cast<int>(parse_int(v, 1, 1000000, "--batch-size"));
  else if (n == "once") o.once = true;
  else if (n == "known-at") o.known_at = v;
  else if (n == "valid-at") o.valid_at = v;
  else if (n == "format") {
    if (v == "csv") o.format = Format::Csv;
    else if (v == "json") o.format = Format::Json;
    else throw UsageError("invalid value \"" + v + "\" for --format: csv or json is expected");
  } else {  // --from, --from-start, --from-now
    if (o.from != From::Default)
      throw UsageError("only one of --from, --from-start and --from-now may be given");
    if (n == "from-start") o.from = From::Start;
    else if (n == "from-now") o.from = From::Now;
    else {
      o.from = From::Position;
      o.from_position = parse_int(v, 0, INT64_MAX, "--from");
    }
  }
}

}  // namespace

// command_name is a command's name as typed (options.hpp).
const char* command_name(Command c) {
  switch (c) {
    case Command::Tail: return "tail";
    case Command::Consume: return "consume";
    case Command::AsOf: return "as-of";
    case Command::None: break;
  }
  return "";
}

// parse_int parses a whole decimal integer within bounds (options.hpp).
std::int64_t parse_int(const std::string& text, std::int64_t lo, std::int64_t hi, const std::string& what) {
  bool ok = !text.empty() && text.size() <= 19;
  for (char c : text) ok = ok && c >= '0' && c <= '9';
  long long v = 0;
  if (ok) {
    errno = 0;
    v = std::strtoll(text.c_str(), nullptr, 10);
    ok = errno == 0 && v >= lo && v <= hi;
  }
  if (!ok)
    throw UsageError("invalid value \"" + text + "\" for " + what + ": an integer from " + std::to_string(lo) +
                     " to " + std::to_string(hi) + " is expected");
  return v;
}

// parse_options parses main()'s arguments (options.hpp).
Options parse_options(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_options(args);
}

// parse_options parses the arguments after the program name (options.hpp).
Options parse_options(const std::vector<std::string>& args) {
  std::vector<Given> given;
  std::vector<std::string> positional;
  std::vector<std::string> after_dashes;
  bool dashes = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      dashes = true;
      after_dashes.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::size_t eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const Spec* s = find_long(name);
      if (s == nullptr) throw UsageError("unrecognized option \"--" + name + "\"");
      Given g{s, "", "--" + name};
      if (eq != std::string::npos) {
        if (!s->has_value) throw UsageError("option \"--" + name + "\" takes no value");
        g.value = a.substr(eq + 1);
      } else if (s->has_value) {
        if (i + 1 >= args.size()) throw UsageError("option \"--" + name + "\" needs a value");
        g.value = args[++i];
      }
      given.push_back(std::move(g));
    } else if (a.size() > 1 && a[0] == '-') {
      // One or more short options: -fv, -dmydb, -d mydb.
      for (std::size_t k = 1; k < a.size(); ++k) {
        const Spec* s = find_short(a[k]);
        if (s == nullptr) throw UsageError(std::string("unrecognized option \"-") + a[k] + "\"");
        Given g{s, "", std::string("-") + a[k]};
        if (s->has_value) {
          if (k + 1 < a.size()) g.value = a.substr(k + 1);
          else if (i + 1 < args.size()) g.value = args[++i];
          else throw UsageError(std::string("option \"-") + a[k] + "\" needs a value");
          given.push_back(std::move(g));
          break;
        }
        given.push_back(std::move(g));
      }
    } else {
      positional.push_back(a);
    }
  }

  Options o;
  if (!positional.empty()) {
    o.command = parse_command(positional.front());
    positional.erase(positional.begin());
  }
  const unsigned mask = command_mask(o.command);
  for (const Given& g : given) {
    if (o.command != Command::None && (g.spec->commands & mask) == 0)
      throw UsageError("option \"" + g.typed + "\" does not apply to " + command_name(o.command));
    if (o.command == Command::None && g.spec->commands != kAll)
      throw UsageError("option \"" + g.typed + "\" needs a command (tail, consume, as-of)");
    apply(o, g);
  }
  if (o.help || o.version) return o;

  switch (o.command) {
    case Command::None:
      throw UsageError("no command given (commands: tail, consume, as-of)");
    case Command::Tail:
    case Command::AsOf:
      positional.insert(positional.end(), after_dashes.begin(), after_dashes.end());
      if (positional.empty()) throw UsageError(std::string(command_name(o.command)) + " needs a TABLE");
      if (positional.size() > 1) throw UsageError("too many arguments, starting with \"" + positional[1] + "\"");
      o.table = positional[0];
      break;
    case Command::Consume:
      if (positional.size() < 2) throw UsageError("consume needs a GROUP and a TABLE");
      if (positional.size() > 2) throw UsageError("too many arguments, starting with \"" + positional[2] + "\"");
      if (!dashes || after_dashes.empty())
        throw UsageError("consume needs a COMMAND after \"--\" (e.g. chronicle consume GROUP TABLE -- cat)");
      o.group = positional[0];
      o.table = positional[1];
      o.command_argv = after_dashes;
      if (o.group.empty()) throw UsageError("the GROUP must not be empty");
      break;
  }
  if (o.table.empty()) throw UsageError("the TABLE must not be empty");
  if (o.batch_size == 0) o.batch_size = 1000;
  return o;
}

}  // namespace chronicle::cli
