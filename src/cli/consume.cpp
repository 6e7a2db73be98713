// consume.cpp: `chronicle consume GROUP TABLE -- COMMAND...`: each batch of
// the group's next events goes as JSON Lines to a run of COMMAND (no shell);
// the group's offset is committed, in the transaction that claimed the
// batch, only when COMMAND exits 0 after reading the whole batch. Anything
// else rolls back: the batch is delivered again (at least once).
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.hpp"
#include "connection.hpp"
#include "jsonl.hpp"
#include "output.hpp"
#include "report.hpp"
#include "signals.hpp"

extern char** environ;

namespace chronicle::cli {
namespace {

constexpr const char* kConsumeStatement = "chronicle_consume";
constexpr const char* kCommitStatement = "chronicle_commit";

// Outcome is how a run of COMMAND ended.
struct Outcome {
  bool started = false;
  int exec_errno = 0;     // COMMAND could not be started
  bool read_all = true;   // COMMAND read its whole standard input
  int status = 0;         // waitpid status
  bool success() const { return started && read_all && WIFEXITED(status) && WEXITSTATUS(status) == 0; }
  std::string describe() const {
    std::string s;
    if (WIFEXITED(status)) s = "exited with status " + std::to_string(WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) s = std::string("was killed by signal ") + strsignal(WTERMSIG(status));
    if (!read_all) s += s.empty() ? "did not read its whole batch" : " without reading its whole batch";
    return s;
  }
};

// run_command runs argv with data on its standard input and extra
// environment variables, and waits for it.
Outcome run_command(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const std::string& data) {
  Outcome out;
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Ours first: getenv() finds the first of duplicate names.
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  envp.push_back(nullptr);

  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error(std::string("could not create a pipe: ") + std::strerror(errno));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    throw std::runtime_error(std::string("could not create a pipe: ") + std::strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {in[0], in[1], err[0], err[1]}) close(fd);
    throw std::runtime_error(std::string("could not fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    // The child: default signal actions (SIGPIPE is ignored in the parent,
    // and ignored signals survive exec), the batch on standard input.
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (dup2(in[0], STDIN_FILENO) >= 0) execvpe(args[0], args.data(), envp.data());
    int e = errno;
    ssize_t ignored = write(err[1], &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  close(in[0]);
  close(err[1]);
  int e = 0;
  ssize_t got;
  do got = read(err[0], &e, sizeof e);
  while (got < 0 && errno == EINTR);
  close(err[0]);
  if (got == static_cast<ssize_t>(sizeof e)) {
    out.exec_errno = e;
  } else {
    out.started = true;
    out.read_all = write_all(in[1], data) == WriteStatus::Ok;
  }
  close(in[1]);
  while (waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
  }
  return out;
}

// setup_session prepares a fresh session: the statements, LISTEN.
void setup_session(Connection& c, const Options& o) {
  c.prepare(kConsumeStatement,
            std::string("SELECT ") + kEventColumns +
                " FROM chronicle.consume($1, $2::pg_catalog.regclass, $3::pg_catalog.int4)",
            3);
  c.prepare(kCommitStatement, "SELECT chronicle.commit($1, $2::pg_catalog.regclass, $3::pg_catalog.int8)", 3);
  const char* v[] = {o.table.c_str()};
  Result r = c.exec_params("SELECT chronicle.channel($1::pg_catalog.regclass)", 1, v);
  c.exec("LISTEN " + c.quote_ident(PQgetvalue(r.get(), 0, 0)));
}

// exec_prepared runs a prepared statement and waits for it.
Result exec_prepared(Connection& c, const char* name, int n, const char* const* values, bool binary = false) {
  c.send_prepared(name, n, values, binary);
  return c.get_result();
}

// wait_for_events waits for a NOTIFY, the slow poll's timeout or a stop.
void wait_for_events(Connection& c, const Options& o) {
  while (c.drain_notifications() == 0) {
    Wake w = wait_readable(c.socket(), o.poll_interval);
    if (w != Wake::Readable) return;
  }
}

}  // namespace

// run_consume feeds the group's batches to COMMAND until stopped (commands.hpp).
int run_consume(const Options& o) {
  Connection c(o.conn);
  c.setup = [&o](Connection& conn) { setup_session(conn, o); };
  c.connect();

  const std::string batch_size = std::to_string(o.batch_size);
  Backoff reconnect_backoff(0.5, 30.0);
  Backoff failure_backoff(1.0, 60.0);
  std::int64_t failed_first = -1;  // first position of the batch that failed last
  int attempt = 1;
  std::string batch;
  while (!stop_requested()) {
    try {
      c.exec("BEGIN");
      const char* cv[] = {o.group.c_str(), o.table.c_str(), batch_size.c_str()};
      Result r = exec_prepared(c, kConsumeStatement, 3, cv, true);
      reconnect_backoff.reset();
      const int n = PQntuples(r.get());
      if (n == 0) {
        c.exec("ROLLBACK");
        if (o.once) break;
        wait_for_events(c, o);
        continue;
      }
      batch.clear();
      append_rows(batch, r.get(), std::nullopt);
      const std::int64_t first_pos = read_int64(PQgetvalue(r.get(), 0, COL_POSITION));
      const std::string first = std::to_string(first_pos);
      const std::string last = std::to_string(read_int64(PQgetvalue(r.get(), n - 1, COL_POSITION)));
      attempt = first_pos == failed_first ? attempt + 1 : 1;
      const std::string span = "events " + first + ".." + last + " (" + std::to_string(n) + ")";
      Outcome run = run_command(o.command_argv,
                                {"CHRONICLE_GROUP=" + o.group, "CHRONICLE_TABLE=" + o.table,
                                 "CHRONICLE_FIRST_POSITION=" + first, "CHRONICLE_LAST_POSITION=" + last,
                                 "CHRONICLE_EVENTS=" + std::to_string(n), "CHRONICLE_ATTEMPT=" + std::to_string(attempt)},
                                batch);
      if (run.exec_errno != 0) {
        c.exec("ROLLBACK");
        throw std::runtime_error("could not run \"" + o.command_argv[0] + "\": " + std::strerror(run.exec_errno));
      }
      if (run.success()) {
        const char* mv[] = {o.group.c_str(), o.table.c_str(), last.c_str()};
        exec_prepared(c, kCommitStatement, 3, mv);
        c.exec("COMMIT");
        failure_backoff.reset();
        failed_first = -1;
        if (o.verbose) report("info", "delivered " + span + ", offset " + last);
        continue;
      }
      c.exec("ROLLBACK");
      failed_first = first_pos;
      std::string why = "\"" + o.command_argv[0] + "\" " + run.describe() + " on " + span + " (attempt " +
                        std::to_string(attempt) + "); offset not committed";
      if (o.once) {
        report("error", why);
        return kExitError;
      }
      double delay = failure_backoff.next();
      char when[64];
      std::snprintf(when, sizeof when, "; retrying in %.1f s", delay);
      report("warning", why + when);
      sleep_unless_stopped(delay);
    } catch (const DbError& err) {
      if (!err.lost()) throw;
      if (!c.reconnect(err, reconnect_backoff, o.retries)) break;
    }
  }
  return kExitOk;
}

}  // namespace chronicle::cli
