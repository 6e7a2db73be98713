// jsonl.hpp: JSON Lines encoding of events from libpq's binary result
// format (cheaper for the server than text: no timestamp formatting).
// Pure: no libpq, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chronicle::cli {

// The columns of an event, in the order of the JSON keys and of the
// client's queries, with their types: int8, text, int4, text, jsonb, jsonb,
// timestamptz x3.
enum EventColumn {
  COL_POSITION, COL_STREAM, COL_VERSION, COL_TYPE, COL_PAYLOAD, COL_META,
  COL_VALID_FROM, COL_VALID_TO, COL_RECORDED_AT, EVENT_COLUMNS
};

// EventFields is one event in binary format, one field per EventColumn; a
// null data pointer is SQL NULL.
struct EventFields {
  const char* data[EVENT_COLUMNS];
  std::size_t size[EVENT_COLUMNS];
};

// FormatError is a field whose binary form is not what its type sends.
class FormatError : public std::exception {
 public:
  explicit FormatError(const char* what) : what_(what) {}
  const char* what() const noexcept override { return what_; }

 private:
  const char* what_;
};

// append_json_string appends s as a JSON string (quotes included). s must
// be UTF-8; control characters are escaped, other bytes copied.
void append_json_string(std::string& out, std::string_view s);

// append_timestamp appends a timestamptz (microseconds since 2000-01-01
// 00:00 UTC) as a JSON string in UTC, as to_json() gives it under
// TimeZone UTC: "2026-11-27T21:14:58.123456+00:00" (fraction without its
// trailing zeros), "infinity", "-infinity", "0044-03-15T12:00:00+00:00 BC".
void append_timestamp(std::string& out, std::int64_t micros);

// append_event appends one event as a JSON object and a newline:
// {"position":..,"stream":..,"version":..,"type":..,"payload":..,"meta":..,
//  "valid_from":..,"valid_to":..,"recorded_at":..}. Throws FormatError.
void append_event(std::string& out, const EventFields& e);

// read_int64 decodes a big-endian int8 (binary format).
std::int64_t read_int64(const char* p);

}  // namespace chronicle::cli
