// fuzz_json.cpp: parse_json on arbitrary bytes. Invalid input must throw
// core::Error 22P02 and nothing else; a parsed value must survive
// to_json_text and back (parse(to_text(parse(x))) == parse(x), and the text
// is stable), and so must the input taken as a string or a key; Json::number
// must accept exactly the bare numbers parse_json reads; max_depth must
// accept exactly the input's nesting depth; and number equality must see 1,
// 1.0 and 1e0 as one value.
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

// nesting returns the deepest bracket nesting of a valid JSON text (brackets
// inside strings do not count).
int nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
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
  if (!value) return 0;

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
    FUZZ_CHECK(refused, "max_depth " + std::to_string(depth - 1) + " accepted a text nested " + std::to_string(depth) + " deep");
  }

  check_numbers(*value);
  return 0;
}
