// fuzz_json.cpp: parse_json on arbitrary bytes. Invalid input must throw
// core::Error 22P02 and nothing else; a parsed value must survive
// to_json_text and back (parse(to_text(parse(x))) == parse(x), and the text
// is stable), and so must the input taken as a string or a key; Json::number
// must accept exactly the bare numbers parse_json reads; max_depth must
// accept exactly the input's nesting depth; and number equality must see 1,
// 1.0 and 1e0 as one value. A second, recursive reader written from the
// RFC's grammar must accept the same texts and read the same values.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "json.hpp"

using chronicle::core::Json;
using chronicle::core::parse_json;
using chronicle::core::to_json_text;
using chronicle::fuzz::try_parse;

namespace {

// Reference is a second, recursive JSON reader written from RFC 8259's
// grammar (plus the parser's documented rules: lone surrogates are refused,
// bytes from 0x80 pass through, a later duplicate key replaces the value of
// the earlier one in its place); it returns nullopt on invalid input.
class Reference {
 public:
  explicit Reference(std::string_view s) : s_(s) {}

  std::optional<Json> document() {
    ws();
    std::optional<Json> v = value();
    ws();
    if (!v || i_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool eat(char c) {
    if (!at(c)) return false;
    ++i_;
    return true;
  }
  void ws() {
    while (at(' ') || at('\t') || at('\n') || at('\r')) ++i_;
  }
  bool digit() const { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }

  std::optional<Json> value() {
    if (i_ >= s_.size()) return std::nullopt;
    for (const char* word : {"true", "false", "null"})
      if (s_.substr(i_, std::string_view(word).size()) == word) {
        i_ += std::string_view(word).size();
        return word[0] == 'n' ? Json::null() : Json::boolean(word[0] == 't');
      }
    if (at('"')) {
      std::optional<std::string> str = string();
      if (!str) return std::nullopt;
      return Json::string(*str);
    }
    if (eat('[')) {
      std::vector<Json> items;
      ws();
      if (eat(']')) return Json::array(std::move(items));
      do {
        ws();
        std::optional<Json> item = value();
        if (!item) return std::nullopt;
        items.push_back(std::move(*item));
        ws();
      } while (eat(','));
      if (!eat(']')) return std::nullopt;
      return Json::array(std::move(items));
    }
    if (eat('{')) {
      std::vector<Json::Member> members;
      ws();
      if (eat('}')) return Json::object(std::move(members));
      do {
        ws();
        std::optional<std::string> key = at('"') ? string() : std::nullopt;
        if (!key) return std::nullopt;
        ws();
        if (!eat(':')) return std::nullopt;
        ws();
        std::optional<Json> member = value();
        if (!member) return std::nullopt;
        bool replaced = false;
        for (auto& m : members)
          if (m.first == *key) {
            m.second = *member;
            replaced = true;
          }
        if (!replaced) members.emplace_back(std::move(*key), std::move(*member));
        ws();
      } while (eat(','));
      if (!eat('}')) return std::nullopt;
      return Json::object(std::move(members));
    }
    return number();
  }

  std::optional<Json> number() {
    std::size_t start = i_;
    eat('-');
    if (eat('0')) {
    } else if (digit() && s_[i_] != '0') {
      while (digit()) ++i_;
    } else {
      return std::nullopt;
    }
    if (eat('.')) {
      if (!digit()) return std::nullopt;
      while (digit()) ++i_;
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!digit()) return std::nullopt;
      while (digit()) ++i_;
    }
    return Json::number(std::string(s_.substr(start, i_ - start)));
  }

  std::optional<unsigned> hex4() {
    if (s_.size() - i_ < 4) return std::nullopt;
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(d);
    }
    return v;
  }

  static void utf8(std::string& out, unsigned cp) {
    int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0x00, 0xC0, 0xE0, 0xF0};
    std::string bytes(static_cast<std::size_t>(n), '\0');
    for (int k = n - 1; k > 0; --k, cp >>= 6)
      bytes[static_cast<std::size_t>(k)] = static_cast<char>(0x80 | (cp & 0x3F));
    bytes[0] = static_cast<char>(lead[n] | cp);
    out += bytes;
  }

  std::optional<std::string> string() {
    ++i_;
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) return std::nullopt;
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) return std::nullopt;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      char e = s_[i_++];
      const char* simple = "\"\"\\\\//b\bf\fn\nr\rt\t";
      const char* hit = nullptr;
      for (const char* p = simple; *p; p += 2)
        if (*p == e) hit = p;
      if (hit) {
        out += hit[1];
        continue;
      }
      if (e != 'u') return std::nullopt;
      std::optional<unsigned> cp = hex4();
      if (!cp || (*cp >= 0xDC00 && *cp < 0xE000)) return std::nullopt;
      if (*cp >= 0xD800 && *cp < 0xDC00) {
        if (!eat('\\') || !eat('u')) return std::nullopt;
        std::optional<unsigned> low = hex4();
        if (!low || *low < 0xDC00 || *low >= 0xE000) return std::nullopt;
        cp = 0x10000 + (*cp - 0xD800) * 0x400 + (*low - 0xDC00);
      }
      utf8(out, *cp);
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// nesting returns the deepest bracket nesting of a valid JSON text (brackets
// inside strings do not count).
int nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// check_spellings writes a number as -0.DIGITSeEXP (the reference's own
// normalisation) and checks that this spelling is equal, and that changing
// its last digit or its sign (when not zero) makes an unequal number.
void check_spellings(const Json& value) {
  const std::string& text = value.text();
  std::size_t i = 0;
  bool negative = text[0] == '-';
  if (negative) ++i;
  std::string digits;
  long long point = 0;  // digits before the decimal point
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++point) digits += text[i];
  if (i < text.size() && text[i] == '.')
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) digits += text[i];
  long long exp = 0;
  if (i < text.size()) {  // e or E
    std::string e = text.substr(i + 1);
    bool e_negative = e[0] == '-';
    std::size_t first = e.find_first_not_of("+-0");
    std::string mag = first == std::string::npos ? "0" : e.substr(first);
    if (mag.size() > 15) return;  // out of exact reach (compared as text)
    exp = std::stoll(mag) * (e_negative ? -1 : 1);
  }
  while (!digits.empty() && digits[0] == '0') {
    digits.erase(0, 1);
    --point;
  }
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  if (digits.empty()) {
    FUZZ_CHECK(value == Json::number("0") && value == Json::number("-0.0e7"), text + " is not zero");
    return;
  }
  std::string sign = negative ? "-" : "";
  std::string same = sign + "0." + digits + "e" + std::to_string(point + exp);
  FUZZ_CHECK(value == Json::number(same), text + " != " + same);
  std::string other_digits = digits;
  other_digits.back() = other_digits.back() == '9' ? '1' : static_cast<char>(other_digits.back() + 1);
  std::string other = sign + "0." + other_digits + "e" + std::to_string(point + exp);
  FUZZ_CHECK(value != Json::number(other), text + " == " + other);
  std::string flipped = (negative ? "" : "-") + ("0." + digits + "e" + std::to_string(point + exp));
  FUZZ_CHECK(value != Json::number(flipped), text + " == " + flipped);
}

// check_numbers checks, for every number in value, that spellings of the
// same value compare equal and that a different value does not.
void check_numbers(const Json& value) {
  switch (value.kind()) {
    case Json::Kind::Number: {
      const std::string& text = value.text();
      bool has_fraction = text.find('.') != std::string::npos;
      bool has_exponent = text.find_first_of("eE") != std::string::npos;
      if (!has_exponent) {
        FUZZ_CHECK(value == Json::number(text + "e0"), text + " != " + text + "e0");
        FUZZ_CHECK(value == Json::number(text + "E-0"), text + " != " + text + "E-0");
        std::string fraction = has_fraction ? text + "00" : text + ".0";
        FUZZ_CHECK(value == Json::number(fraction), text + " != " + fraction);
        bool zero = text.find_first_of("123456789") == std::string::npos;
        FUZZ_CHECK((value == Json::number(text + "e1")) == zero, text + " vs " + text + "e1");
        if (has_fraction) FUZZ_CHECK(value != Json::number(text + "1"), text + " == " + text + "1");
      }
      check_spellings(value);
      return;
    }
    case Json::Kind::Array:
      for (const Json& item : value.items()) check_numbers(item);
      return;
    case Json::Kind::Object:
      for (const auto& member : value.members()) check_numbers(member.second);
      return;
    default:
      return;
  }
}

// check_string checks that any bytes survive as a string and as a key.
void check_string(std::string_view text) {
  Json s = Json::string(std::string(text));
  Json o = Json::object({{std::string(text), s}});
  for (const Json& v : {s, o}) {
    std::string written = to_json_text(v);
    std::optional<Json> back = try_parse(written);
    FUZZ_CHECK(back && *back == v, "a string did not survive to_json_text: " + written);
  }
}

// check_number checks that Json::number accepts exactly the texts that
// parse_json reads as a number with no whitespace around.
void check_number(std::string_view text, const std::optional<Json>& parsed) {
  bool accepted = true;
  try {
    Json::number(std::string(text));
  } catch (const chronicle::core::Error& e) {
    FUZZ_CHECK(e.sqlstate() == "22P02", "Json::number threw " + e.sqlstate());
    accepted = false;
  }
  bool bare = !text.empty() && text.find_first_of(" \t\r\n") == std::string_view::npos;
  bool want = parsed && parsed->kind() == Json::Kind::Number && bare;
  FUZZ_CHECK(accepted == want, "Json::number and parse_json disagree on " + std::string(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_string(text);
  std::optional<Json> value = try_parse(text);
  check_number(text, value);
  std::optional<Json> reference = Reference(text).document();
  FUZZ_CHECK(value.has_value() == reference.has_value(),
             std::string("parse_json ") + (value ? "accepts" : "refuses") + " what the reference reader does not");
  if (!value) return 0;
  FUZZ_CHECK(to_json_text(*value) == to_json_text(*reference),
             "parse_json read " + to_json_text(*value) + ", the reference reader " + to_json_text(*reference));

  FUZZ_CHECK(*value == *value, "a value differs from itself: " + to_json_text(*value));
  std::string once = to_json_text(*value);
  std::optional<Json> again = try_parse(once);
  FUZZ_CHECK(again.has_value(), "to_json_text wrote invalid JSON: " + once);
  FUZZ_CHECK(*again == *value, "round trip changed the value: " + once + " became " + to_json_text(*again));
  FUZZ_CHECK(to_json_text(*again) == once, "to_json_text is not stable: " + once + " then " + to_json_text(*again));

  // max_depth: the input's own nesting is accepted, one less is refused.
  int depth = nesting(text);
  try {
    parse_json(text, depth);
  } catch (const chronicle::core::Error& e) {
    FUZZ_CHECK(false, "max_depth " + std::to_string(depth) + " refused: " + e.detail());
  }
  if (depth > 0) {
    bool refused = false;
    try {
      parse_json(text, depth - 1);
    } catch (const chronicle::core::Error& e) {
      refused = e.sqlstate() == "22P02";
    }
    FUZZ_CHECK(refused,
               "max_depth " + std::to_string(depth - 1) + " accepted a text nested " + std::to_string(depth) + " deep");
  }

  check_numbers(*value);
  return 0;
}
