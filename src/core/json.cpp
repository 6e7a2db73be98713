// json.cpp: the JSON document model, a strict RFC 8259 parser, compact
// serialisation, and RFC 7396 merge patch.
#include "json.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <unordered_map>

#include "error.hpp"

namespace chronicle::core {

namespace {

constexpr const char* kSyntaxSqlstate = "22P02";
constexpr const char* kSyntaxMessage = "invalid input syntax for type json";

// describe_byte renders one input byte for an error detail: the character
// itself when it is printable ASCII, its hexadecimal code otherwise.
std::string describe_byte(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("\"") + static_cast<char>(c) + "\"";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned>(c));
  return buf;
}

// scan_number checks that a JSON number (RFC 8259 §6) starts at s[i] and
// returns the index just past it; on failure it returns false and sets *end
// to the offending index and *problem to what is wrong.
bool scan_number(std::string_view s, std::size_t i, std::size_t* end, const char** problem) {
  auto digit = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) {
    *end = i;
    *problem = "a digit is required";
    return false;
  }
  if (s[i] == '0') {
    ++i;
    if (digit(i)) {
      *end = i;
      *problem = "leading zeros are not allowed";
      return false;
    }
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) {
      *end = i;
      *problem = "a digit is required after the decimal point";
      return false;
    }
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) {
      *end = i;
      *problem = "a digit is required in the exponent";
      return false;
    }
    while (digit(i)) ++i;
  }
  *end = i;
  return true;
}

// Decimal is a JSON number normalised as (-1)^negative * 0.digits * 10^exponent
// with no leading or trailing zero in digits; zero has empty digits.
struct Decimal {
  bool negative = false;
  std::string digits;
  long long exponent = 0;
};

// normalise_number turns valid number text into a Decimal; it returns false
// when the exponent is too large to compare exactly.
bool normalise_number(const std::string& text, Decimal* out) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  std::string mantissa;
  long long int_digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++int_digits) mantissa += text[i];
  if (i < text.size() && text[i] == '.')
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) mantissa += text[i];
  long long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    while (i < text.size() && text[i] == '0') ++i;
    if (text.size() - i > 17) return false;  // beyond 10^17: not comparable exactly
    for (; i < text.size(); ++i) exp = exp * 10 + (text[i] - '0');
    if (exp_negative) exp = -exp;
  }
  std::size_t first = mantissa.find_first_not_of('0');
  if (first == std::string::npos) {  // zero, whatever its sign or exponent
    *out = Decimal{};
    return true;
  }
  std::size_t last = mantissa.find_last_not_of('0');
  out->negative = negative;
  out->digits = mantissa.substr(first, last - first + 1);
  out->exponent = int_digits - static_cast<long long>(first) + exp;
  return true;
}

// numbers_equal compares two number texts by numeric value (1 == 1.0 ==
// 1e0), exactly; texts whose exponents are out of reach compare as text.
bool numbers_equal(const std::string& a, const std::string& b) {
  if (a == b) return true;
  Decimal da, db;
  if (!normalise_number(a, &da) || !normalise_number(b, &db)) return false;
  return da.negative == db.negative && da.digits == db.digits && da.exponent == db.exponent;
}

// sorted_members returns pointers to an object's members ordered by key.
std::vector<const Json::Member*> sorted_members(const std::vector<Json::Member>& members) {
  std::vector<const Json::Member*> out;
  out.reserve(members.size());
  for (const auto& m : members) out.push_back(&m);
  std::sort(out.begin(), out.end(), [](const Json::Member* x, const Json::Member* y) { return x->first < y->first; });
  return out;
}

// append_utf8 encodes the code point cp as UTF-8 at the end of out.
void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Parser is a recursive-descent reader of one JSON text; positions in error
// details are 1-based byte offsets into the input.
class Parser {
 public:
  Parser(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  // parse_document reads the whole input as exactly one JSON value.
  Json parse_document() {
    skip_whitespace();
    Json value = parse_value();
    skip_whitespace();
    if (pos_ < text_.size())
      fail("Unexpected " + describe_byte(byte(pos_)) + " after the JSON value", pos_);
    return value;
  }

 private:
  // fail throws the parser's Error, naming the problem and where it is.
  [[noreturn]] void fail(const std::string& problem, std::size_t at) const {
    throw Error(kSyntaxSqlstate, kSyntaxMessage, problem + " at position " + std::to_string(at + 1) + ".");
  }

  // byte returns the input byte at i as unsigned.
  unsigned char byte(std::size_t i) const { return static_cast<unsigned char>(text_[i]); }

  // skip_whitespace passes over the four JSON whitespace characters.
  void skip_whitespace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  // expect_more fails when the input ends before a token.
  void expect_more(const char* what) const {
    if (pos_ >= text_.size()) fail(std::string("Unexpected end of input, expected ") + what, pos_);
  }

  // Frame is an array or object whose members are being read.
  struct Frame {
    bool is_object;
    std::vector<Json> items;
    std::vector<Json::Member> members;
    std::string key;  // the key of the member being read
  };

  // parse_value reads one value, nesting included, with an explicit stack
  // instead of recursion so that deep documents cannot exhaust the C stack.
  Json parse_value() {
    std::vector<Frame> stack;
    for (;;) {
      // Read the start of a value: a scalar, or an opening bracket.
      expect_more("a JSON value");
      Json value;
      char c = text_[pos_];
      if (c == '{' || c == '[') {
        if (stack.size() + 1 > static_cast<std::size_t>(std::max(max_depth_, 0)))
          fail("Nesting depth exceeds the maximum of " + std::to_string(max_depth_), pos_);
        bool is_object = c == '{';
        ++pos_;
        skip_whitespace();
        expect_more(is_object ? "a string or \"}\"" : "a JSON value or \"]\"");
        if (text_[pos_] == (is_object ? '}' : ']')) {
          ++pos_;
          value = is_object ? Json::object({}) : Json::array({});
        } else {
          stack.push_back(Frame{is_object, {}, {}, {}});
          if (is_object) stack.back().key = parse_key();
          continue;
        }
      } else {
        value = parse_scalar();
      }
      // Attach the value to its container; close every container that ends.
      for (;;) {
        if (stack.empty()) return value;
        Frame& top = stack.back();
        if (top.is_object) top.members.emplace_back(std::move(top.key), std::move(value));
        else top.items.push_back(std::move(value));
        skip_whitespace();
        const char* expected = top.is_object ? "\",\" or \"}\"" : "\",\" or \"]\"";
        expect_more(expected);
        if (text_[pos_] == ',') {
          ++pos_;
          skip_whitespace();
          if (top.is_object) top.key = parse_key();
          break;
        }
        if (text_[pos_] != (top.is_object ? '}' : ']'))
          fail("Unexpected " + describe_byte(byte(pos_)) + ", expected " + expected, pos_);
        ++pos_;
        value = top.is_object ? Json::object(std::move(top.members)) : Json::array(std::move(top.items));
        stack.pop_back();
      }
    }
  }

  // parse_key reads an object member's key and the colon after it.
  std::string parse_key() {
    expect_more("a string");
    if (text_[pos_] != '"') fail("Unexpected " + describe_byte(byte(pos_)) + ", expected a string", pos_);
    std::string key = parse_string();
    skip_whitespace();
    expect_more("\":\"");
    if (text_[pos_] != ':') fail("Unexpected " + describe_byte(byte(pos_)) + ", expected \":\"", pos_);
    ++pos_;
    skip_whitespace();
    return key;
  }

  // parse_scalar reads a string, number or keyword.
  Json parse_scalar() {
    switch (text_[pos_]) {
      case '"':
        return Json::string(parse_string());
      case 't':
        parse_literal("true");
        return Json::boolean(true);
      case 'f':
        parse_literal("false");
        return Json::boolean(false);
      case 'n':
        parse_literal("null");
        return Json::null();
      default:
        if (text_[pos_] == '-' || (text_[pos_] >= '0' && text_[pos_] <= '9')) return parse_number();
        fail("Unexpected " + describe_byte(byte(pos_)) + ", expected a JSON value", pos_);
    }
  }

  // parse_literal reads the keyword word (true, false or null).
  void parse_literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      fail("Invalid token, expected \"" + std::string(word) + "\"", pos_);
    pos_ += word.size();
  }

  // parse_number reads a number and keeps its text.
  Json parse_number() {
    std::size_t end = 0;
    const char* problem = nullptr;
    if (!scan_number(text_, pos_, &end, &problem)) fail(std::string("Invalid number: ") + problem, end);
    Json value = Json::number(std::string(text_.substr(pos_, end - pos_)));
    pos_ = end;
    return value;
  }

  // parse_hex4 reads the four hexadecimal digits of a \u escape at pos_.
  std::uint32_t parse_hex4(std::size_t escape_at) {
    std::uint32_t cp = 0;
    for (int k = 0; k < 4; ++k, ++pos_) {
      if (pos_ >= text_.size()) fail("Unexpected end of input in a \\u escape", pos_);
      char c = text_[pos_];
      std::uint32_t v;
      if (c >= '0' && c <= '9') v = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v = static_cast<std::uint32_t>(c - 'A' + 10);
      else fail("Escape \"\\u\" must be followed by four hexadecimal digits", escape_at);
      cp = cp * 16 + v;
    }
    return cp;
  }

  // parse_escape reads one escape sequence (after the backslash) into out.
  void parse_escape(std::string& out) {
    std::size_t escape_at = pos_ - 1;
    if (pos_ >= text_.size()) fail("Unexpected end of input in an escape sequence", pos_);
    char c = text_[pos_++];
    switch (c) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default:
        fail("Invalid escape sequence \"\\" + std::string(1, c) + "\"", escape_at);
    }
    std::uint32_t cp = parse_hex4(escape_at);
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("Unpaired Unicode low surrogate", escape_at);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") fail("Unpaired Unicode high surrogate", escape_at);
      pos_ += 2;
      std::uint32_t low = parse_hex4(pos_ - 2);
      if (low < 0xDC00 || low > 0xDFFF) fail("Unicode high surrogate not followed by a low surrogate", escape_at);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
  }

  // parse_string reads a string token and returns its unescaped contents.
  // Bytes from 0x80 up pass through unchanged (the server validated the
  // encoding already).
  std::string parse_string() {
    std::size_t start = pos_;
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("Unterminated string starting", start);
      unsigned char c = byte(pos_);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("Unescaped control character " + describe_byte(c) + " in a string", pos_);
      ++pos_;
      if (c == '\\') parse_escape(out);
      else out += static_cast<char>(c);
    }
  }

  std::string_view text_;
  int max_depth_;
  std::size_t pos_ = 0;
};

// append_string writes s as a JSON string literal at the end of out.
void append_string(std::string& out, const std::string& s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// append_json writes value compactly at the end of out.
void append_json(std::string& out, const Json& value) {
  switch (value.kind()) {
    case Json::Kind::Null: out += "null"; return;
    case Json::Kind::Bool: out += value.as_bool() ? "true" : "false"; return;
    case Json::Kind::Number: out += value.text(); return;
    case Json::Kind::String: append_string(out, value.text()); return;
    case Json::Kind::Array: {
      out += '[';
      bool first = true;
      for (const Json& item : value.items()) {
        if (!first) out += ',';
        first = false;
        append_json(out, item);
      }
      out += ']';
      return;
    }
    case Json::Kind::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : value.members()) {
        if (!first) out += ',';
        first = false;
        append_string(out, key);
        out += ':';
        append_json(out, member);
      }
      out += '}';
      return;
    }
  }
}

// MergeSlot is one member of an object being patched: its original value
// in the target (if any), or the value that replaces it.
struct MergeSlot {
  const std::string* key;
  const Json* original;
  std::optional<Json> replacement;
  bool removed;
};

// ObjectMerge is one object patch being applied by merge_patch; the views
// and pointers it holds point into the target and the patch, which outlive it.
struct ObjectMerge {
  const Json* patch;
  std::vector<MergeSlot> slots;
  std::unordered_map<std::string_view, std::size_t> index;
  std::size_t next = 0;         // the next patch member to apply
  std::size_t parent_slot = 0;  // where the parent puts this merge's result
};

// start_merge prepares to apply an object patch to target (nullptr when the
// target is not an object, which RFC 7396 treats as {}).
ObjectMerge start_merge(const Json* target, const Json& patch, std::size_t parent_slot) {
  ObjectMerge m;
  m.patch = &patch;
  m.parent_slot = parent_slot;
  if (target) {
    m.slots.reserve(target->members().size());
    for (const auto& [key, value] : target->members()) {
      m.index.emplace(key, m.slots.size());
      m.slots.push_back(MergeSlot{&key, &value, std::nullopt, false});
    }
  }
  return m;
}

// finish_merge builds the patched object: kept members in target order,
// then the new ones in patch order.
Json finish_merge(ObjectMerge& m) {
  std::vector<Json::Member> members;
  members.reserve(m.slots.size());
  for (MergeSlot& slot : m.slots) {
    if (slot.removed) continue;
    if (slot.replacement) members.emplace_back(*slot.key, std::move(*slot.replacement));
    else members.emplace_back(*slot.key, *slot.original);
  }
  return Json::object(std::move(members));
}

}  // namespace

// Json::boolean makes a true or false value.
Json Json::boolean(bool b) {
  Json j;
  j.kind_ = Kind::Bool;
  j.bool_ = b;
  return j;
}

// Json::number makes a number from its text, which must follow the JSON
// number grammar (Error 22P02 otherwise).
Json Json::number(std::string text) {
  std::size_t end = 0;
  const char* problem = nullptr;
  if (!scan_number(text, 0, &end, &problem) || end != text.size())
    throw Error(kSyntaxSqlstate, kSyntaxMessage, "\"" + text + "\" is not a valid JSON number.");
  Json j;
  j.kind_ = Kind::Number;
  j.text_ = std::move(text);
  return j;
}

// Json::string makes a string from its unescaped contents.
Json Json::string(std::string s) {
  Json j;
  j.kind_ = Kind::String;
  j.text_ = std::move(s);
  return j;
}

// Json::array makes an array of items.
Json Json::array(std::vector<Json> items) {
  Json j;
  j.kind_ = Kind::Array;
  j.items_ = std::move(items);
  return j;
}

// Json::object makes an object; a later duplicate key replaces the value of
// the earlier one, which keeps its place.
Json Json::object(std::vector<Member> members) {
  Json j;
  j.kind_ = Kind::Object;
  j.members_.reserve(members.size());  // no reallocation: the index's views stay valid
  std::unordered_map<std::string_view, std::size_t> index;
  for (auto& m : members) {
    auto found = index.find(m.first);
    if (found != index.end()) {
      j.members_[found->second].second = std::move(m.second);
    } else {
      j.members_.push_back(std::move(m));
      index.emplace(j.members_.back().first, j.members_.size() - 1);
    }
  }
  return j;
}

// Json::find returns the member named key, or nullptr (also for non-objects).
const Json* Json::find(std::string_view key) const noexcept {
  for (const auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

// Json::operator== compares deeply: numbers by value, objects regardless of
// member order.
bool Json::operator==(const Json& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::Null: return true;
    case Kind::Bool: return bool_ == other.bool_;
    case Kind::Number: return numbers_equal(text_, other.text_);
    case Kind::String: return text_ == other.text_;
    case Kind::Array: return items_ == other.items_;
    case Kind::Object: {
      if (members_.size() != other.members_.size()) return false;
      auto mine = sorted_members(members_);
      auto theirs = sorted_members(other.members_);
      for (std::size_t i = 0; i < mine.size(); ++i)
        if (mine[i]->first != theirs[i]->first || mine[i]->second != theirs[i]->second) return false;
      return true;
    }
  }
  return false;
}

// parse_json parses one JSON text strictly (RFC 8259).
Json parse_json(std::string_view text, int max_depth) { return Parser(text, max_depth).parse_document(); }

// to_json_text serialises value without insignificant whitespace.
std::string to_json_text(const Json& value) {
  std::string out;
  append_json(out, value);
  return out;
}

// merge_patch applies patch to target (RFC 7396 §2). It walks the patch
// with an explicit stack (deep patches cannot exhaust the C stack) and copies
// each untouched part of target once.
Json merge_patch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  std::vector<ObjectMerge> stack;
  stack.push_back(start_merge(target.is_object() ? &target : nullptr, patch, 0));
  for (;;) {
    ObjectMerge& top = stack.back();
    if (top.next == top.patch->members().size()) {
      Json result = finish_merge(top);
      std::size_t slot = top.parent_slot;
      stack.pop_back();
      if (stack.empty()) return result;
      stack.back().slots[slot].replacement = std::move(result);
      continue;
    }
    const auto& [name, value] = top.patch->members()[top.next++];
    auto found = top.index.find(name);
    if (value.is_null()) {
      if (found != top.index.end()) top.slots[found->second].removed = true;
      continue;
    }
    std::size_t slot;
    if (found != top.index.end()) {
      slot = found->second;
    } else {
      slot = top.slots.size();
      top.slots.push_back(MergeSlot{&name, nullptr, std::nullopt, false});
      top.index.emplace(name, slot);
    }
    if (!value.is_object()) {
      top.slots[slot].replacement = value;
      continue;
    }
    const Json* original = top.slots[slot].original;
    stack.push_back(start_merge(original && original->is_object() ? original : nullptr, value, slot));
  }
}

// fold_merge_patch folds patches left to right from "no value".
std::optional<Json> fold_merge_patch(const std::vector<Json>& patches) {
  if (patches.empty()) return std::nullopt;
  // Patching null equals patching {} for an object and yields the patch
  // itself otherwise, which is what the first patch must do.
  Json acc;
  for (const Json& patch : patches) {
    poll_cancel();
    acc = merge_patch(acc, patch);
  }
  return acc;
}

}  // namespace chronicle::core
