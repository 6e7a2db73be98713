// connection.hpp: a libpq connection for the client: connecting the way
// PostgreSQL's own clients do (options, connection strings, PG* variables,
// password prompt), errors as exceptions, and reconnection with backoff.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <libpq-fe.h>

#include "backoff.hpp"
#include "options.hpp"

namespace chronicle::cli {

// DbError is an error reported by the server or by libpq. lost() tells a
// broken connection (worth a reconnection) from an error of the query.
class DbError : public std::runtime_error {
 public:
  DbError(std::string message, std::string sqlstate, bool lost, std::string detail = "", std::string hint = "")
      : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)), detail_(std::move(detail)),
        hint_(std::move(hint)), lost_(lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }
  bool lost() const { return lost_; }

 private:
  std::string sqlstate_, detail_, hint_;
  bool lost_;
};

// ConnectError is a failure to connect; bad_options() tells a connection
// string or option libpq refused.
class ConnectError : public std::runtime_error {
 public:
  ConnectError(std::string message, bool bad_options)
      : std::runtime_error(std::move(message)), bad_options_(bad_options) {}
  bool bad_options() const { return bad_options_; }

 private:
  bool bad_options_;
};

// Result owns a PGresult.
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Connection is one session; setup runs after every (re)connection.
class Connection {
 public:
  explicit Connection(ConnOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // connect opens the session (prompting for a password when needed and
  // allowed) and runs setup; throws ConnectError.
  void connect();
  // reconnect reports err, then retries with backoff until connected,
  // the retries are used up (throws a DbError that is not lost()) or a stop
  // is requested (returns false).
  bool reconnect(const DbError& err, Backoff& backoff, std::optional<int> retries);

  // setup is run after each successful connection (SET, LISTEN, PREPARE).
  std::function<void(Connection&)> setup;

  PGconn* raw() const { return conn_; }
  int socket() const { return PQsocket(conn_); }

  // exec runs a command without parameters; throws DbError unless it
  // succeeds with one of the expected statuses (PGRES_COMMAND_OK, TUPLES_OK).
  Result exec(const std::string& sql);
  // exec_params runs a parameterised query; values are text (nullptr: NULL).
  Result exec_params(const std::string& sql, int n, const char* const* values);
  // prepare makes a named prepared statement.
  void prepare(const std::string& name, const std::string& sql, int nparams);
  // send_prepared sends a prepared statement without waiting; binary asks
  // for results in binary format.
  void send_prepared(const std::string& name, int n, const char* const* values, bool binary = false);
  // get_result waits for the result of the query sent last (and for the
  // end of it); throws DbError.
  Result get_result();
  // check throws the error of a failed result.
  void check(const PGresult* r) const;
  // quote_ident quotes a name for SQL.
  std::string quote_ident(const std::string& name) const;
  // quote_literal quotes a value for SQL.
  std::string quote_literal(const std::string& value) const;
  // drain_notifications reads what the socket holds and returns how many
  // notifications were pending; throws DbError when the connection broke.
  int drain_notifications();
  // lost_error is the DbError for a connection found broken.
  DbError lost_error(const std::string& fallback) const;

 private:
  bool try_connect(std::string& error, bool& bad_options, bool& needs_password);
  ConnOptions options_;
  std::optional<std::string> password_;
  PGconn* conn_ = nullptr;
};

// validate_conninfo throws ConnectError (bad_options) when dbname looks like
// a connection string libpq cannot parse.
void validate_conninfo(const std::string& dbname);

}  // namespace chronicle::cli
