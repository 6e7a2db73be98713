// report.cpp: messages on stderr (report.hpp).
#include "report.hpp"

#include <cstdio>

#include "connection.hpp"

namespace chronicle::cli {

// report prints a message on stderr (report.hpp).
void report(const char* level, const std::string& message) {
  std::string m = message;
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  std::fprintf(stderr, "chronicle: %s: %s\n", level, m.c_str());
  std::fflush(stderr);
}

// report_db prints a server error with its detail and hint.
void report_db(const char* level, const DbError& e) {
  report(level, e.what());
  if (!e.detail().empty()) report("detail", e.detail());
  if (!e.hint().empty()) report("hint", e.hint());
}

}  // namespace chronicle::cli
