// jsonl.hpp: JSON Lines encoding of events, from the text form libpq gives
// (DateStyle ISO). Pure: no libpq, no I/O.
#pragma once
#include <string>
#include <string_view>

namespace chronicle::cli {

// The columns of an event, in the order of the JSON keys and of the
// client's queries.
enum EventColumn {
  COL_POSITION, COL_STREAM, COL_VERSION, COL_TYPE, COL_PAYLOAD, COL_META,
  COL_VALID_FROM, COL_VALID_TO, COL_RECORDED_AT, EVENT_COLUMNS
};

// EventText is one event as text, one field per EventColumn; a null
// data pointer is SQL NULL.
struct EventText {
  const char* data[EVENT_COLUMNS];
  std::size_t size[EVENT_COLUMNS];
};

// append_json_string appends s as a JSON string (quotes included). s must
// be UTF-8; control characters are escaped, other bytes copied.
void append_json_string(std::string& out, std::string_view s);

// append_timestamp appends a timestamptz in PostgreSQL's ISO output
// ("2026-11-27 21:14:58.123456+01") as a JSON string in ISO 8601, the form
// to_json() gives: "2026-11-27T21:14:58.123456+01:00". infinity, -infinity
// and anything it does not recognise are kept as they are.
void append_timestamp(std::string& out, std::string_view pg);

// append_event appends one event as a JSON object and a newline. position
// and version are copied as numbers, payload and meta as JSON (they are
// jsonb's text), timestamps through append_timestamp.
void append_event(std::string& out, const EventText& e);

}  // namespace chronicle::cli
