// events.cpp: the events of a query result as JSON Lines, shared by tail
// and consume.
#include <libpq-fe.h>

#include "commands.hpp"
#include "jsonl.hpp"

namespace chronicle::cli {

const char* const kEventColumns =
    "position, stream, version, type, payload, meta, valid_from, valid_to, recorded_at";

// append_rows appends a result's events as JSON Lines (commands.hpp).
void append_rows(std::string& out, const PGresult* r, const std::optional<std::string>& stream) {
  const int n = PQntuples(r);
  EventFields e;
  for (int i = 0; i < n; ++i) {
    for (int col = 0; col < EVENT_COLUMNS; ++col) {
      bool null = PQgetisnull(r, i, col);
      e.data[col] = null ? nullptr : PQgetvalue(r, i, col);
      e.size[col] = null ? 0 : static_cast<std::size_t>(PQgetlength(r, i, col));
    }
    if (stream && (e.data[COL_STREAM] == nullptr ||
                   *stream != std::string_view(e.data[COL_STREAM], e.size[COL_STREAM])))
      continue;
    append_event(out, e);
  }
}

}  // namespace chronicle::cli
