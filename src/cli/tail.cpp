// tail.cpp: `chronicle tail`: a table's events as JSON Lines, in position
// order, through chronicle.read() in batches; with --follow, waiting on the
// table's NOTIFY channel (and polling slowly in case one is missed), and
// resuming after the last printed position across reconnections.
#include <string>

#include "commands.hpp"
#include "connection.hpp"
#include "jsonl.hpp"
#include "output.hpp"
#include "report.hpp"
#include "signals.hpp"

namespace chronicle::cli {

namespace {

constexpr const char* kReadStatement = "chronicle_tail_read";
constexpr std::size_t kFlushBytes = 1 << 20;

// setup_session makes a fresh session ready: the prepared read
// and, to follow, LISTEN on the table's channel.
void setup_session(Connection& c, const Options& o) {
  c.prepare(kReadStatement,
            std::string("SELECT ") + kEventColumns + " FROM chronicle.read($1::pg_catalog.regclass, $2::pg_catalog.int8, $3::pg_catalog.int4)",
            3);
  if (o.follow) {
    const char* v[] = {o.table.c_str()};
    Result r = c.exec_params("SELECT chronicle.channel($1::pg_catalog.regclass)", 1, v);
    c.exec("LISTEN " + c.quote_ident(PQgetvalue(r.get(), 0, 0)));
  }
}

// newest_position is the position of the newest committed event (0 when
// none), for --from-now. It reads through read() first so that a table
// that is not an event table gets read()'s error.
std::int64_t newest_position(Connection& c, const Options& o) {
  const char* v[] = {o.table.c_str()};
  c.exec_params("SELECT count(*) FROM chronicle.read($1::pg_catalog.regclass, 9223372036854775807, 1)", 1, v);
  Result r = c.exec_params(
      "SELECT COALESCE((SELECT event_table FROM chronicle.tracked_tables WHERE table_name = $1::pg_catalog.regclass), "
      "$1::pg_catalog.regclass)::pg_catalog.text",
      1, v);
  Result m = c.exec("SELECT COALESCE(max(position), 0) FROM " + std::string(PQgetvalue(r.get(), 0, 0)));
  return std::stoll(PQgetvalue(m.get(), 0, 0));
}

// Tail holds the state that survives reconnections.
struct Tail {
  const Options& o;
  Connection& c;
  std::int64_t after = 0;  // position of the last event written to out
  std::string out;

  // send asks for the batch after `after`.
  void send() {
    std::string a = std::to_string(after), n = std::to_string(o.batch_size);
    const char* v[] = {o.table.c_str(), a.c_str(), n.c_str()};
    c.send_prepared(kReadStatement, 3, v, true);
  }

  // read_all prints batches until one is short (read everything committed).
  void read_all() {
    send();
    for (;;) {
      Result r = c.get_result();
      const int n = PQntuples(r.get());
      // Ask for the next batch before encoding this one: the server works
      // while we encode.
      const bool more = n == o.batch_size && !stop_requested();
      std::int64_t last = after;
      if (n > 0) last = read_int64(PQgetvalue(r.get(), n - 1, COL_POSITION));
      if (more) {
        std::string a = std::to_string(last), b = std::to_string(o.batch_size);
        const char* v[] = {o.table.c_str(), a.c_str(), b.c_str()};
        c.send_prepared(kReadStatement, 3, v, true);
      }
      append_rows(out, r.get(), o.stream);
      after = last;
      if (out.size() >= kFlushBytes) write_stdout(out);
      if (!more) return;
    }
  }
};

}  // namespace

// run_tail prints the events, following the table if asked (commands.hpp).
int run_tail(const Options& o) {
  Connection c(o.conn);
  c.setup = [&o](Connection& conn) { setup_session(conn, o); };
  c.connect();
  Tail t{o, c, 0, {}};
  From from = o.from != From::Default ? o.from : (o.follow ? From::Now : From::Start);
  if (from == From::Position) t.after = o.from_position;
  else if (from == From::Now) t.after = newest_position(c, o);
  if (o.verbose) report("info", "reading after position " + std::to_string(t.after));

  Backoff backoff(0.5, 30.0);
  while (!stop_requested()) {
    try {
      t.read_all();
      write_stdout(t.out);
      backoff.reset();
      if (!o.follow) break;
      // Wait for a NOTIFY (or the slow poll's timeout), unless one came in
      // while we were reading.
      while (c.drain_notifications() == 0) {
        Wake w = wait_readable(c.socket(), o.poll_interval);
        if (w == Wake::Stop) break;
        if (w == Wake::Timeout) {
          if (o.verbose) report("info", "no notification: polling");
          break;
        }
      }
    } catch (const DbError& e) {
      if (!e.lost()) throw;
      write_stdout(t.out);  // events before the loss are complete lines
      if (!c.reconnect(e, backoff, o.retries)) break;
      report("info", "resuming after position " + std::to_string(t.after));
    }
  }
  write_stdout(t.out);
  if (o.verbose) report("info", "stopped after position " + std::to_string(t.after));
  return kExitOk;
}

}  // namespace chronicle::cli
