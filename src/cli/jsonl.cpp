// jsonl.cpp: JSON Lines encoding of events (jsonl.hpp).
#include "jsonl.hpp"

#include <charconv>
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

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// append_digits appends v (>= 0) zero-padded to width digits at least.
void append_digits(std::string& out, std::int64_t v, int width) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  for (int n = static_cast<int>(r.ptr - buf); n < width; ++n) out.push_back('0');
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
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

std::int32_t read_int32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::int32_t>((std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) |
                                   (std::uint32_t{u[2]} << 8) | std::uint32_t{u[3]});
}

void need_size(const EventFields& e, int col, std::size_t n) {
  if (e.size[col] != n) throw FormatError("unexpected binary size of a number or timestamp");
}

// append_jsonb appends a jsonb field: version byte 1, then its text.
void append_jsonb(std::string& out, const EventFields& e, int col) {
  if (e.data[col] == nullptr) {
    out.append("null", 4);
    return;
  }
  if (e.size[col] < 1 || e.data[col][0] != 1) throw FormatError("unexpected jsonb binary version");
  out.append(e.data[col] + 1, e.size[col] - 1);
}

void append_text(std::string& out, const EventFields& e, int col) {
  if (e.data[col] == nullptr) out.append("null", 4);
  else append_json_string(out, std::string_view(e.data[col], e.size[col]));
}

void append_timestamp_field(std::string& out, const EventFields& e, int col) {
  if (e.data[col] == nullptr) {
    out.append("null", 4);
    return;
  }
  need_size(e, col, 8);
  append_timestamp(out, read_int64(e.data[col]));
}

}  // namespace

std::int64_t read_int64(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | u[i];
  return static_cast<std::int64_t>(v);
}

void append_json_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char esc = kEscape.e[c];
    if (esc == 0) continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    out.push_back('\\');
    if (esc == 'u') {
      out.append("u00", 3);
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(esc);
    }
  }
  out.append(s.data() + start, s.size() - start);
  out.push_back('"');
}

void append_timestamp(std::string& out, std::int64_t micros) {
  if (micros == std::numeric_limits<std::int64_t>::max()) {
    out.append("\"infinity\"", 10);
    return;
  }
  if (micros == std::numeric_limits<std::int64_t>::min()) {
    out.append("\"-infinity\"", 11);
    return;
  }
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
  out.push_back('"');
  append_digits(out, bc ? 1 - year : year, 4);
  out.push_back('-');
  append_digits(out, month, 2);
  out.push_back('-');
  append_digits(out, day, 2);
  out.push_back('T');
  const std::int64_t secs = rest / 1000000;
  append_digits(out, secs / 3600, 2);
  out.push_back(':');
  append_digits(out, secs / 60 % 60, 2);
  out.push_back(':');
  append_digits(out, secs % 60, 2);
  std::int64_t frac = rest % 1000000;
  if (frac != 0) {
    int width = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      --width;
    }
    out.push_back('.');
    append_digits(out, frac, width);
  }
  out.append("+00:00", 6);
  if (bc) out.append(" BC", 3);
  out.push_back('"');
}

void append_event(std::string& out, const EventFields& e) {
  if (e.data[COL_POSITION] == nullptr || e.data[COL_VERSION] == nullptr)
    throw FormatError("an event without position or version");
  need_size(e, COL_POSITION, 8);
  need_size(e, COL_VERSION, 4);
  out.append("{\"position\":", 12);
  append_int(out, read_int64(e.data[COL_POSITION]));
  out.append(",\"stream\":", 10);
  append_text(out, e, COL_STREAM);
  out.append(",\"version\":", 11);
  append_int(out, read_int32(e.data[COL_VERSION]));
  out.append(",\"type\":", 8);
  append_text(out, e, COL_TYPE);
  out.append(",\"payload\":", 11);
  append_jsonb(out, e, COL_PAYLOAD);
  out.append(",\"meta\":", 8);
  append_jsonb(out, e, COL_META);
  out.append(",\"valid_from\":", 14);
  append_timestamp_field(out, e, COL_VALID_FROM);
  out.append(",\"valid_to\":", 12);
  append_timestamp_field(out, e, COL_VALID_TO);
  out.append(",\"recorded_at\":", 15);
  append_timestamp_field(out, e, COL_RECORDED_AT);
  out.append("}\n", 2);
}

}  // namespace chronicle::cli
