// jsonl.cpp: JSON Lines encoding of events (jsonl.hpp).
#include "jsonl.hpp"

#include <charconv>
#include <cstring>
#include <limits>

namespace chronicle::cli {
namespace {

// kEscape[c] is the character after '\' for c, 'u' for \u00XX, 0 for none.
struct EscapeTable {
  char e[256];
  constexpr EscapeTable() : e() {
    for (int c = 0; c < 0x20; ++c) e[c] = 'u';
    e['\b'] = 'b';
    e['\f'] = 'f';
    e['\n'] = 'n';
    e['\r'] = 'r';
    e['\t'] = 't';
    e['"'] = '"';
    e['\\'] = '\\';
  }
};
constexpr EscapeTable kEscape;

constexpr std::int64_t kMicrosPerDay = 86400000000LL;
// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
constexpr std::int64_t kPgEpochDays = 10957;

// kDigits2[2n], kDigits2[2n+1] are the two digits of n < 100.
constexpr char kDigits2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// put2 writes the two digits of v < 100.
char* put2(char* p, int v) {
  p[0] = kDigits2[2 * v];
  p[1] = kDigits2[2 * v + 1];
  return p + 2;
}

// put_int writes v in decimal.
char* put_int(char* p, std::int64_t v) { return std::to_chars(p, p + 20, v).ptr; }

// put_digits writes v (>= 0) zero-padded to width digits at least.
char* put_digits(char* p, std::int64_t v, int width) {
  char buf[24];
  char* e = std::to_chars(buf, buf + sizeof buf, v).ptr;
  for (int n = static_cast<int>(e - buf); n < width; ++n) *p++ = '0';
  for (char* b = buf; b < e; ++b) *p++ = *b;
  return p;
}

// put_lit writes a string literal without its terminating NUL.
template <std::size_t N>
char* put_lit(char* p, const char (&lit)[N]) {
  std::memcpy(p, lit, N - 1);
  return p + N - 1;
}

// put_bytes writes n bytes.
char* put_bytes(char* p, const char* data, std::size_t n) {
  std::memcpy(p, data, n);
  return p + n;
}

// civil_from_days turns days since 1970-01-01 into a proleptic Gregorian
// date (H. Hinnant's algorithm; year 0 is 1 BC).
void civil_from_days(std::int64_t z, std::int64_t& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

// read_int32 decodes a big-endian int4 (binary format).
std::int32_t read_int32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::int32_t>((std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) |
                                   (std::uint32_t{u[2]} << 8) | std::uint32_t{u[3]});
}

// need_size refuses a fixed-size field of another size.
void need_size(const EventFields& e, int col, std::size_t n) {
  if (e.size[col] != n) throw FormatError("unexpected binary size of a number or timestamp");
}

// kNull is JSON's null.
constexpr char kNull[] = "null";

// put_jsonb writes a jsonb field: version byte 1, then its text.
char* put_jsonb(char* p, const EventFields& e, int col) {
  if (e.data[col] == nullptr) return put_lit(p, kNull);
  if (e.size[col] < 1 || e.data[col][0] != 1) throw FormatError("unexpected jsonb binary version");
  return put_bytes(p, e.data[col] + 1, e.size[col] - 1);
}

char* put_string(char* p, std::string_view s);
char* put_timestamp(char* p, std::int64_t micros);

// put_text writes a text field as a JSON string (or null).
char* put_text(char* p, const EventFields& e, int col) {
  if (e.data[col] == nullptr) return put_lit(p, kNull);
  return put_string(p, std::string_view(e.data[col], e.size[col]));
}

// put_timestamp_field writes a timestamptz field (or null).
char* put_timestamp_field(char* p, const EventFields& e, int col) {
  if (e.data[col] == nullptr) return put_lit(p, kNull);
  need_size(e, col, 8);
  return put_timestamp(p, read_int64(e.data[col]));
}

// kMaxTimestamp bounds what put_timestamp writes.
constexpr std::size_t kMaxTimestamp = 48;

// put_string writes s as a JSON string: at most 6 * size + 2 bytes.
char* put_string(char* p, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  *p++ = '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    char esc = kEscape.e[c];
    if (esc == 0) {
      *p++ = ch;
    } else if (esc == 'u') {
      p = put_lit(p, "\\u00");
      *p++ = hex[c >> 4];
      *p++ = hex[c & 15];
    } else {
      *p++ = '\\';
      *p++ = esc;
    }
  }
  *p++ = '"';
  return p;
}

// put_timestamp writes a timestamptz as append_timestamp describes.
char* put_timestamp(char* p, std::int64_t micros) {
  if (micros == std::numeric_limits<std::int64_t>::max()) return put_lit(p, "\"infinity\"");
  if (micros == std::numeric_limits<std::int64_t>::min()) return put_lit(p, "\"-infinity\"");
  std::int64_t days = micros / kMicrosPerDay;
  std::int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  std::int64_t year;
  int month, day;
  civil_from_days(days + kPgEpochDays, year, month, day);
  const bool bc = year <= 0;
  *p++ = '"';
  const std::int64_t y = bc ? 1 - year : year;
  if (y >= 1000 && y <= 9999) {
    p = put2(p, static_cast<int>(y / 100));
    p = put2(p, static_cast<int>(y % 100));
  } else {
    p = put_digits(p, y, 4);
  }
  *p++ = '-';
  p = put2(p, month);
  *p++ = '-';
  p = put2(p, day);
  *p++ = 'T';
  const int secs = static_cast<int>(rest / 1000000);
  p = put2(p, secs / 3600);
  *p++ = ':';
  p = put2(p, secs / 60 % 60);
  *p++ = ':';
  p = put2(p, secs % 60);
  int frac = static_cast<int>(rest % 1000000);
  if (frac != 0) {
    int width = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      --width;
    }
    *p++ = '.';
    p = put_digits(p, frac, width);
  }
  p = put_lit(p, "+00:00");
  if (bc) p = put_lit(p, " BC");
  *p++ = '"';
  return p;
}

// write_event writes one event and its newline.
char* write_event(char* p, const EventFields& e) {
  p = put_lit(p, "{\"position\":");
  p = put_int(p, read_int64(e.data[COL_POSITION]));
  p = put_lit(p, ",\"stream\":");
  p = put_text(p, e, COL_STREAM);
  p = put_lit(p, ",\"version\":");
  p = put_int(p, read_int32(e.data[COL_VERSION]));
  p = put_lit(p, ",\"type\":");
  p = put_text(p, e, COL_TYPE);
  p = put_lit(p, ",\"payload\":");
  p = put_jsonb(p, e, COL_PAYLOAD);
  p = put_lit(p, ",\"meta\":");
  p = put_jsonb(p, e, COL_META);
  p = put_lit(p, ",\"valid_from\":");
  p = put_timestamp_field(p, e, COL_VALID_FROM);
  p = put_lit(p, ",\"valid_to\":");
  p = put_timestamp_field(p, e, COL_VALID_TO);
  p = put_lit(p, ",\"recorded_at\":");
  p = put_timestamp_field(p, e, COL_RECORDED_AT);
  p = put_lit(p, "}\n");
  return p;
}

}  // namespace

// read_int64 decodes a big-endian int8 (jsonl.hpp).
std::int64_t read_int64(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | u[i];
  return static_cast<std::int64_t>(v);
}

// append_json_string appends s as a JSON string (jsonl.hpp).
void append_json_string(std::string& out, std::string_view s) {
  const std::size_t old = out.size();
  out.resize(old + 6 * s.size() + 2);
  char* end = put_string(&out[old], s);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

// append_timestamp appends a timestamptz as a JSON string (jsonl.hpp).
void append_timestamp(std::string& out, std::int64_t micros) {
  const std::size_t old = out.size();
  out.resize(old + kMaxTimestamp);
  char* end = put_timestamp(&out[old], micros);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

// append_event appends one event as a JSON line (jsonl.hpp).
void append_event(std::string& out, const EventFields& e) {
  if (e.data[COL_POSITION] == nullptr || e.data[COL_VERSION] == nullptr)
    throw FormatError("an event without position or version");
  need_size(e, COL_POSITION, 8);
  need_size(e, COL_VERSION, 4);
  // Room for the worst case, written through a pointer, then trimmed.
  const std::size_t bound = 256 + 3 * kMaxTimestamp + 6 * (e.size[COL_STREAM] + e.size[COL_TYPE]) +
                            e.size[COL_PAYLOAD] + e.size[COL_META];
  const std::size_t old = out.size();
  out.resize(old + bound);
  char* p = &out[old];
  try {
    p = write_event(p, e);
  } catch (...) {
    out.resize(old);
    throw;
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

}  // namespace chronicle::cli
