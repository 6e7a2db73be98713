// connection.cpp: the client's libpq session (connection.hpp).
#include "connection.hpp"

#include <cstdio>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "report.hpp"
#include "signals.hpp"

namespace chronicle::cli {
namespace {

// looks_like_conninfo tells a connection string from a database name, the
// way libpq does (an "=" or a postgres:// URI).
bool looks_like_conninfo(const std::string& s) {
  return s.find('=') != std::string::npos || s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
}

// prompt_password reads a password from the terminal without echo; empty
// when there is no terminal.
std::optional<std::string> prompt_password() {
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct termios saved {};
  bool restore = tcgetattr(fd, &saved) == 0;
  if (restore) {
    struct termios t = saved;
    t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &t);
  }
  const char prompt[] = "Password: ";
  ssize_t ignored = write(fd, prompt, sizeof prompt - 1);
  std::string pw;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n' && c != '\r') pw.push_back(c);
  ignored = write(fd, "\n", 1);
  (void)ignored;
  if (restore) tcsetattr(fd, TCSAFLUSH, &saved);
  close(fd);
  return pw;
}

// notice_to_stderr prints the server's notices and warnings (and libpq's
// own, such as a FATAL ending the session) as the client's messages.
extern "C" void notice_to_stderr(void*, const char* message) {
  std::string m = message;
  for (const char* prefix : {"NOTICE:  ", "WARNING:  ", "INFO:  ", "FATAL:  ", "ERROR:  "})
    if (m.rfind(prefix, 0) == 0) {
      std::string level(prefix, std::strlen(prefix) - 3);
      for (char& c : level) c = static_cast<char>(c - 'A' + 'a');
      report(("server " + level).c_str(), m.substr(std::strlen(prefix)));
      return;
    }
  report("server", m);
}

// field returns a field of a result's error ("" when absent).
std::string field(const PGresult* r, int code) {
  const char* v = r == nullptr ? nullptr : PQresultErrorField(r, code);
  return v == nullptr ? "" : v;
}

}  // namespace

// validate_conninfo refuses a connection string libpq cannot parse.
void validate_conninfo(const std::string& dbname) {
  if (!looks_like_conninfo(dbname)) return;
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dbname.c_str(), &err);
  if (opts == nullptr) {
    std::string msg = err != nullptr ? err : "out of memory";
    PQfreemem(err);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    throw ConnectError("invalid connection string: " + msg, true);
  }
  PQconninfoFree(opts);
}

Connection::Connection(ConnOptions options) : options_(std::move(options)) {}

// ~Connection closes the session.
Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

// try_connect makes one attempt to connect; on failure it says why.
bool Connection::try_connect(std::string& error, bool& bad_options, bool& needs_password) {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  std::vector<const char*> keys, values;
  // Values must outlive the call: options_'s strings and literals only.
  auto add = [&](const char* k, const char* v) {
    if (*v != '\0') {
      keys.push_back(k);
      values.push_back(v);
    }
  };
  // dbname first: expand_dbname lets a connection string in it set the
  // other keywords, and the options after it override those.
  add("dbname", options_.dbname.c_str());
  add("host", options_.host.c_str());
  add("port", options_.port.c_str());
  add("user", options_.user.c_str());
  if (password_) add("password", password_->c_str());
  add("fallback_application_name", "chronicle");
  add("client_encoding", "UTF8");  // JSON is UTF-8
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr) {
    error = "out of memory";
    bad_options = false;
    needs_password = false;
    return false;
  }
  if (PQstatus(conn_) == CONNECTION_OK) {
    PQsetNoticeProcessor(conn_, notice_to_stderr, nullptr);
    return true;
  }
  error = PQerrorMessage(conn_);
  needs_password = PQconnectionNeedsPassword(conn_) != 0;
  // libpq reports refused options without trying the server.
  bad_options = error.find("invalid connection option") != std::string::npos ||
                error.find("in connection info string") != std::string::npos ||
                error.find("invalid URI") != std::string::npos ||
                error.find("invalid integer value") != std::string::npos ||
                error.find("invalid port number") != std::string::npos;
  return false;
}

// connect opens the session at start, prompting for a password when needed.
void Connection::connect() {
  validate_conninfo(options_.dbname);
  if (options_.force_password && !password_) password_ = prompt_password();
  std::string error;
  bool bad = false, needs_password = false;
  bool ok = try_connect(error, bad, needs_password);
  if (!ok && needs_password && !password_ && !options_.no_password) {
    password_ = prompt_password();
    if (password_) ok = try_connect(error, bad, needs_password);
  }
  if (!ok) throw ConnectError(error, bad);
  if (setup) setup(*this);
}

// reconnect retries with backoff after err, reporting each attempt.
bool Connection::reconnect(const DbError& err, Backoff& backoff, std::optional<int> retries) {
  report("warning", std::string("connection lost: ") + err.what());
  for (;;) {
    if (stop_requested()) return false;
    if (retries && backoff.attempts() >= *retries)
      throw DbError("giving up after " + std::to_string(backoff.attempts()) + " reconnection attempts", "08006", false);
    double delay = backoff.next();
    char msg[128];
    std::snprintf(msg, sizeof msg, "reconnecting in %.1f s (attempt %d)", delay, backoff.attempts());
    report("info", msg);
    if (!sleep_unless_stopped(delay)) return false;
    std::string error;
    bool bad = false, needs_password = false;
    if (!try_connect(error, bad, needs_password)) {
      report("warning", "could not reconnect: " + error);
      continue;
    }
    try {
      if (setup) setup(*this);
    } catch (const DbError& e) {
      if (!e.lost()) throw;
      report("warning", std::string("could not reconnect: ") + e.what());
      continue;
    }
    report("info", "reconnected");
    return true;
  }
}

// lost_error describes a broken connection with libpq's message.
DbError Connection::lost_error(const std::string& fallback) const {
  std::string m = conn_ != nullptr ? PQerrorMessage(conn_) : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return DbError(m.empty() ? fallback : m, "08006", true);
}

// check turns a failed result into a DbError, lost when the session is gone.
void Connection::check(const PGresult* r) const {
  ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE || st == PGRES_COPY_OUT)
    return;
  std::string state = field(r, PG_DIAG_SQLSTATE);
  bool lost = PQstatus(conn_) != CONNECTION_OK || state.rfind("08", 0) == 0 || state == "57P01" ||
              state == "57P02" || state == "57P03";
  std::string msg = field(r, PG_DIAG_MESSAGE_PRIMARY);
  if (msg.empty()) {
    msg = r != nullptr ? PQresultErrorMessage(r) : "";
    if (msg.empty()) msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (msg.empty()) msg = "unknown error";
  }
  throw DbError(msg, state, lost, field(r, PG_DIAG_MESSAGE_DETAIL), field(r, PG_DIAG_MESSAGE_HINT));
}

// exec runs sql and checks its result.
Result Connection::exec(const std::string& sql) {
  Result r(PQexec(conn_, sql.c_str()), &PQclear);
  check(r.get());
  return r;
}

// exec_params runs sql with text parameters and checks its result.
Result Connection::exec_params(const std::string& sql, int n, const char* const* values) {
  Result r(PQexecParams(conn_, sql.c_str(), n, nullptr, values, nullptr, nullptr, 0), &PQclear);
  check(r.get());
  return r;
}

// prepare makes the named statement.
void Connection::prepare(const std::string& name, const std::string& sql, int nparams) {
  Result r(PQprepare(conn_, name.c_str(), sql.c_str(), nparams, nullptr), &PQclear);
  check(r.get());
}

// send_prepared sends a prepared statement without waiting for it.
void Connection::send_prepared(const std::string& name, int n, const char* const* values, bool binary) {
  if (!PQsendQueryPrepared(conn_, name.c_str(), n, values, nullptr, nullptr, binary ? 1 : 0)) {
    if (PQstatus(conn_) != CONNECTION_OK) throw lost_error("could not send the query");
    check(nullptr);
  }
}

// get_result waits for the query sent last and checks its result.
Result Connection::get_result() {
  // Read to the end of the query so that the connection is ready for the
  // next; an error among the results wins.
  Result res(nullptr, &PQclear);
  while (PGresult* r = PQgetResult(conn_)) {
    Result cur(r, &PQclear);
    if (!res || PQresultStatus(r) == PGRES_FATAL_ERROR) res = std::move(cur);
  }
  if (!res && PQstatus(conn_) != CONNECTION_OK) throw lost_error("connection lost");
  check(res.get());
  return res;
}

// quote_ident quotes an identifier (libpq, the session's encoding).
std::string Connection::quote_ident(const std::string& name) const {
  char* q = PQescapeIdentifier(conn_, name.c_str(), name.size());
  if (q == nullptr) throw DbError(PQerrorMessage(conn_), "", false);
  std::string s = q;
  PQfreemem(q);
  return s;
}

// quote_literal quotes a literal (libpq, the session's encoding).
std::string Connection::quote_literal(const std::string& value) const {
  char* q = PQescapeLiteral(conn_, value.c_str(), value.size());
  if (q == nullptr) throw DbError(PQerrorMessage(conn_), "", false);
  std::string s = q;
  PQfreemem(q);
  return s;
}

// drain_notifications counts and frees the notifications received.
int Connection::drain_notifications() {
  if (!PQconsumeInput(conn_)) throw lost_error("connection lost");
  int n = 0;
  while (PGnotify* note = PQnotifies(conn_)) {
    ++n;
    PQfreemem(note);
  }
  if (PQstatus(conn_) != CONNECTION_OK) throw lost_error("connection lost");
  return n;
}

}  // namespace chronicle::cli
