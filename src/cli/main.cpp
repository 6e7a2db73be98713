// main.cpp: the chronicle command-line client: dispatch, --help,
// --version and exit statuses (0 done, 1 error, 2 bad usage or could not
// connect), with the conventions of PostgreSQL's own clients.
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "connection.hpp"
#include "options.hpp"
#include "report.hpp"
#include "signals.hpp"

#ifndef CHRONICLE_VERSION
#define CHRONICLE_VERSION "unknown"
#endif

namespace chronicle::cli {
namespace {

const char kConnectionHelp[] =
    "\nConnection options:\n"
    "  -d, --dbname=DBNAME      database name or connection string (\"host=... dbname=...\",\n"
    "                           \"postgresql://...\")\n"
    "  -h, --host=HOSTNAME      database server host or socket directory\n"
    "  -p, --port=PORT          database server port\n"
    "  -U, --username=USERNAME  database user name\n"
    "  -w, --no-password        never prompt for a password\n"
    "  -W, --password           prompt for a password (there is no option to give one:\n"
    "                           use ~/.pgpass, PGPASSFILE or PGPASSWORD)\n"
    "What is not given comes from PGDATABASE, PGHOST, PGPORT, PGUSER and the other\n"
    "PG* environment variables, as for psql.\n"
    "\nGeneral options:\n"
    "  -v, --verbose            report progress on standard error\n"
    "  -V, --version            print the version and exit\n"
    "  -?, --help               show this help and exit\n";

const char kUsage[] =
    "chronicle reads chronicle event tables from the command line.\n"
    "\n"
    "Usage:\n"
    "  chronicle tail TABLE [--stream S] [--from POSITION|--from-start|--from-now] [--follow]\n"
    "  chronicle consume GROUP TABLE [--batch-size N] [--once] -- COMMAND [ARG...]\n"
    "  chronicle as-of TABLE [--known-at T] [--valid-at V] [--format csv|json]\n"
    "\n"
    "Commands:\n"
    "  tail     print events as JSON Lines in position order; --follow waits for more\n"
    "  consume  run COMMAND for each batch of a consumer group (events as JSON Lines on\n"
    "           its standard input); commit the group's offset when it exits 0\n"
    "  as-of    dump a tracked table as it was known at T (and valid at V)\n"
    "\n"
    "\"chronicle COMMAND --help\" describes a command's options.\n";

const char kTailHelp[] =
    "chronicle tail prints the events of an event table (or of a tracked table's\n"
    "event table) as JSON Lines, one object per event, in position order:\n"
    "  {\"position\":..,\"stream\":..,\"version\":..,\"type\":..,\"payload\":..,\"meta\":..,\n"
    "   \"valid_from\":..,\"valid_to\":..,\"recorded_at\":..}\n"
    "\n"
    "Usage:\n"
    "  chronicle tail [OPTION]... TABLE\n"
    "\n"
    "Options:\n"
    "      --from=POSITION      start after this position (the last one you printed)\n"
    "      --from-start         start with the first event (the default without --follow)\n"
    "      --from-now           start after the newest event (the default with --follow)\n"
    "  -f, --follow             keep waiting for new events (LISTEN), until SIGINT/SIGTERM\n"
    "      --stream=STREAM      print the events of this stream only\n"
    "      --batch-size=N       events per read (default 1000)\n"
    "      --poll-interval=SECS read anyway after SECS without a notification (default 10)\n"
    "      --retries=N          give up after N failed reconnections (default: never)\n";

const char kConsumeHelp[] =
    "chronicle consume runs COMMAND (no shell: give one, e.g. sh -c '...', if you\n"
    "need it) for each batch of a consumer group's next events, with the batch as\n"
    "JSON Lines on its standard input. The group's offset is committed only when\n"
    "COMMAND reads the whole batch and exits 0; otherwise the batch is delivered\n"
    "again after a pause: at-least-once delivery. COMMAND's environment has\n"
    "CHRONICLE_GROUP, CHRONICLE_TABLE, CHRONICLE_FIRST_POSITION,\n"
    "CHRONICLE_LAST_POSITION, CHRONICLE_EVENTS and CHRONICLE_ATTEMPT (1 for a first\n"
    "delivery).\n"
    "\n"
    "Usage:\n"
    "  chronicle consume [OPTION]... GROUP TABLE -- COMMAND [ARG]...\n"
    "\n"
    "Options:\n"
    "      --batch-size=N       events per batch at most (default 1000)\n"
    "      --once               exit when no event is left (exit 1 if COMMAND fails)\n"
    "      --poll-interval=SECS poll anyway after SECS without a notification (default 10)\n"
    "      --retries=N          give up after N failed reconnections (default: never)\n";

const char kAsOfHelp[] =
    "chronicle as-of prints a tracked table as it was known at T (default: now) and\n"
    "valid at V (default: now), through chronicle.as_of().\n"
    "\n"
    "Usage:\n"
    "  chronicle as-of [OPTION]... TABLE\n"
    "\n"
    "Options:\n"
    "      --known-at=T         transaction time (any timestamptz input)\n"
    "      --valid-at=V         valid time (any timestamptz input)\n"
    "      --format=FORMAT      csv (with a header, the default) or json (JSON Lines)\n";

// print_help prints the help of a command, or the general one.
void print_help(Command c) {
  const char* text = c == Command::Tail ? kTailHelp : c == Command::Consume ? kConsumeHelp
                     : c == Command::AsOf ? kAsOfHelp : kUsage;
  std::fputs(text, stdout);
  std::fputs(kConnectionHelp, stdout);
  std::fputs("\nExit status: 0 done (or stopped by SIGINT/SIGTERM), 1 error, 2 bad usage or\n"
             "could not connect.\n", stdout);
}

}  // namespace
}  // namespace chronicle::cli

// main parses the command line and runs the command.
int main(int argc, char** argv) {
  using namespace chronicle::cli;
  Options o;
  try {
    o = parse_options(argc, argv);
  } catch (const UsageError& e) {
    report("error", e.what());
    report("hint", "Try \"chronicle --help\" for more information.");
    return kExitUsage;
  }
  if (o.help) {
    print_help(o.command);
    return kExitOk;
  }
  if (o.version) {
    std::puts("chronicle (chronicle) " CHRONICLE_VERSION);
    return kExitOk;
  }
  install_signal_handlers();
  try {
    switch (o.command) {
      case Command::Tail: return run_tail(o);
      case Command::Consume: return run_consume(o);
      case Command::AsOf: return run_as_of(o);
      case Command::None: break;
    }
  } catch (const ConnectError& e) {
    report("error", e.what());
    return kExitUsage;
  } catch (const DbError& e) {
    report_db("error", e);
    return kExitError;
  } catch (const std::exception& e) {
    report("error", e.what());
    return kExitError;
  }
  return kExitUsage;
}
