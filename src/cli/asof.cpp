// asof.cpp: `chronicle as-of TABLE --known-at T [--valid-at V]`: a tracked
// table as it was, through chronicle.as_of(), as CSV with a header (COPY)
// or as JSON Lines (row_to_json, one row at a time).
#include <string>

#include "commands.hpp"
#include "connection.hpp"
#include "output.hpp"
#include "report.hpp"

namespace chronicle::cli {

// run_as_of dumps a tracked table as it was (commands.hpp).
int run_as_of(const Options& o) {
  Connection c(o.conn);
  c.setup = [](Connection& conn) { conn.exec("SET DateStyle = ISO"); };
  c.connect();
  // The table's name as the server spells it, quoted where needed: it is
  // spliced into the query as the type of as_of's first argument.
  const char* tv[] = {o.table.c_str()};
  Result name = c.exec_params("SELECT $1::pg_catalog.regclass::pg_catalog.text", 1, tv);
  const std::string tbl = PQgetvalue(name.get(), 0, 0);
  std::string out;

  if (o.format == Format::Csv) {
    // COPY takes no parameters: the times go in as quoted literals.
    auto literal = [&c](const std::optional<std::string>& v) { return v ? c.quote_literal(*v) : std::string("NULL"); };
    std::string sql = "COPY (SELECT * FROM chronicle.as_of(NULL::" + tbl + ", " + literal(o.known_at) +
                      "::pg_catalog.timestamptz, " + literal(o.valid_at) +
                      "::pg_catalog.timestamptz)) TO STDOUT (FORMAT csv, HEADER)";
    Result r(PQexec(c.raw(), sql.c_str()), &PQclear);
    c.check(r.get());
    char* buf = nullptr;
    int n;
    while ((n = PQgetCopyData(c.raw(), &buf, 0)) > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      PQfreemem(buf);
      if (out.size() >= (1 << 20)) write_stdout(out);
    }
    c.get_result();  // the COPY's final status (throws on error)
    write_stdout(out);
    return kExitOk;
  }

  const char* v[] = {o.known_at ? o.known_at->c_str() : nullptr, o.valid_at ? o.valid_at->c_str() : nullptr};
  std::string sql = "SELECT pg_catalog.row_to_json(t)::pg_catalog.text FROM chronicle.as_of(NULL::" + tbl +
                    ", $1::pg_catalog.timestamptz, $2::pg_catalog.timestamptz) AS t";
  if (!PQsendQueryParams(c.raw(), sql.c_str(), 2, nullptr, v, nullptr, nullptr, 0) || !PQsetSingleRowMode(c.raw()))
    throw c.lost_error("could not send the query");
  Result last(nullptr, &PQclear);
  while (PGresult* pr = PQgetResult(c.raw())) {
    Result r(pr, &PQclear);
    if (PQresultStatus(pr) == PGRES_SINGLE_TUPLE) {
      out.append(PQgetvalue(pr, 0, 0), static_cast<std::size_t>(PQgetlength(pr, 0, 0)));
      out.push_back('\n');
      if (out.size() >= (1 << 20)) write_stdout(out);
    } else if (!last || PQresultStatus(pr) == PGRES_FATAL_ERROR) {
      last = std::move(r);
    }
  }
  c.check(last.get());
  write_stdout(out);
  return kExitOk;
}

}  // namespace chronicle::cli
