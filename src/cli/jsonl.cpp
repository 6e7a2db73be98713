// jsonl.cpp: JSON Lines encoding of events (jsonl.hpp).
#include "jsonl.hpp"

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

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// append_raw appends a field copied verbatim, or null.
void append_raw(std::string& out, const EventText& e, int col) {
  if (e.data[col] == nullptr) out.append("null", 4);
  else out.append(e.data[col], e.size[col]);
}

void append_string_field(std::string& out, const EventText& e, int col) {
  if (e.data[col] == nullptr) out.append("null", 4);
  else append_json_string(out, std::string_view(e.data[col], e.size[col]));
}

void append_timestamp_field(std::string& out, const EventText& e, int col) {
  if (e.data[col] == nullptr) out.append("null", 4);
  else append_timestamp(out, std::string_view(e.data[col], e.size[col]));
}

}  // namespace

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

void append_timestamp(std::string& out, std::string_view pg) {
  // Expect "Y...Y-MM-DD HH:MM:SS[.f...]" then an offset "+HH[:MM[:SS]]"
  // and possibly " BC".
  std::size_t sp = pg.find(' ');
  std::size_t i = sp + 1;
  bool ok = sp != std::string_view::npos && sp >= 10 && pg.size() >= i + 8 && is_digit(pg[i]) &&
            is_digit(pg[i + 1]) && pg[i + 2] == ':';
  if (ok) {
    i += 8;  // HH:MM:SS
    if (i < pg.size() && pg[i] == '.')
      for (++i; i < pg.size() && is_digit(pg[i]);) ++i;
    ok = i + 3 <= pg.size() && (pg[i] == '+' || pg[i] == '-') && is_digit(pg[i + 1]) && is_digit(pg[i + 2]);
  }
  out.push_back('"');
  if (!ok) {  // infinity, -infinity, or a form we do not know: as it is
    out.append(pg.data(), pg.size());
    out.push_back('"');
    return;
  }
  out.append(pg.data(), sp);
  out.push_back('T');
  out.append(pg.data() + sp + 1, i + 3 - (sp + 1));  // time and offset hours
  std::string_view rest = pg.substr(i + 3);
  if (rest.empty() || rest[0] != ':') out.append(":00", 3);
  out.append(rest.data(), rest.size());
  out.push_back('"');
}

void append_event(std::string& out, const EventText& e) {
  out.append("{\"position\":", 12);
  append_raw(out, e, COL_POSITION);
  out.append(",\"stream\":", 10);
  append_string_field(out, e, COL_STREAM);
  out.append(",\"version\":", 11);
  append_raw(out, e, COL_VERSION);
  out.append(",\"type\":", 8);
  append_string_field(out, e, COL_TYPE);
  out.append(",\"payload\":", 11);
  append_raw(out, e, COL_PAYLOAD);
  out.append(",\"meta\":", 8);
  append_raw(out, e, COL_META);
  out.append(",\"valid_from\":", 14);
  append_timestamp_field(out, e, COL_VALID_FROM);
  out.append(",\"valid_to\":", 12);
  append_timestamp_field(out, e, COL_VALID_TO);
  out.append(",\"recorded_at\":", 15);
  append_timestamp_field(out, e, COL_RECORDED_AT);
  out.append("}\n", 2);
}

}  // namespace chronicle::cli
