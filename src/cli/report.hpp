// report.hpp: messages on stderr in the form of PostgreSQL's own clients
// ("chronicle: error: ...", "chronicle: hint: ...").
#pragma once
#include <string>

namespace chronicle::cli {

class DbError;

// report prints "chronicle: LEVEL: message" (multi-line messages keep their
// lines; a trailing newline is dropped).
void report(const char* level, const std::string& message);
// report_db prints a server error with its detail and hint.
void report_db(const char* level, const DbError& e);

}  // namespace chronicle::cli
