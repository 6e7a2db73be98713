// json_test.cpp: the JSON model, the strict parser, serialisation, RFC 7396
// merge patch and its fold.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "error.hpp"
#include "json.hpp"

namespace chronicle::core {
namespace {

// J parses text, for brevity in expectations.
Json J(const std::string& text) { return parse_json(text); }

// roundtrip parses text and serialises the result.
std::string roundtrip(const std::string& text) { return to_json_text(parse_json(text)); }

// parse_error returns the Error parse_json throws for text (fails the test
// when it does not throw).
Error parse_error(const std::string& text, int max_depth = 10000) {
  try {
    parse_json(text, max_depth);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "parse_json accepted " << text;
  return Error("00000", "no error");
}

// nested returns depth nested arrays around a 1.
std::string nested(int depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

TEST(JsonParse, Scalars) {
  EXPECT_EQ(J("null").kind(), Json::Kind::Null);
  EXPECT_TRUE(J("null").is_null());
  EXPECT_EQ(J("true").kind(), Json::Kind::Bool);
  EXPECT_TRUE(J("true").as_bool());
  EXPECT_FALSE(J("false").as_bool());
  EXPECT_EQ(J("\"hi\"").kind(), Json::Kind::String);
  EXPECT_EQ(J("\"hi\"").text(), "hi");
  EXPECT_EQ(J("\"\"").text(), "");
}

TEST(JsonParse, NumbersKeepTheirText) {
  for (const char* text : {"0", "-0", "7", "-12", "1.50", "0.001", "1e10", "1E+10", "-1.25e-3", "123456789012345678901234567890",
                           "1e400"}) {
    Json n = J(text);
    EXPECT_EQ(n.kind(), Json::Kind::Number) << text;
    EXPECT_EQ(n.text(), text);
    EXPECT_EQ(to_json_text(n), text);
  }
}

TEST(JsonParse, InsignificantWhitespace) {
  Json v = J(" \t\r\n{ \"a\" :\n[ 1 ,\ttrue , null ] }\r\n ");
  EXPECT_EQ(to_json_text(v), "{\"a\":[1,true,null]}");
}

TEST(JsonParse, SimpleEscapes) {
  EXPECT_EQ(J(R"("\"\\\/\b\f\n\r\t")").text(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(J(R"("a\/b")").text(), "a/b");
}

TEST(JsonParse, UnicodeEscapesBecomeUtf8) {
  EXPECT_EQ(J(R"("\u0041")").text(), "A");
  EXPECT_EQ(J(R"("\u00e9")").text(), "\xC3\xA9");
  EXPECT_EQ(J(R"("\u00E9")").text(), "\xC3\xA9");
  EXPECT_EQ(J(R"("\u20AC")").text(), "\xE2\x82\xAC");
  EXPECT_EQ(J(R"("\uFFFF")").text(), "\xEF\xBF\xBF");
  EXPECT_EQ(J(R"("\uD83D\uDE00")").text(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(J(R"("\ud83d\ude00")").text(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(J(R"("\uDBFF\uDFFF")").text(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(J(R"("x\u0000y")").text(), std::string("x\0y", 3));
}

TEST(JsonParse, RawUtf8PassesThrough) {
  EXPECT_EQ(J("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").text(), "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(JsonParse, Containers) {
  Json v = J(R"({"a":[1,{"b":null}],"c":{},"d":[]})");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.members().size(), 3u);
  EXPECT_EQ(v.members()[0].first, "a");
  EXPECT_EQ(v.members()[1].first, "c");
  EXPECT_EQ(v.members()[2].first, "d");
  const Json* a = v.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->kind(), Json::Kind::Array);
  ASSERT_EQ(a->items().size(), 2u);
  EXPECT_EQ(a->items()[0].text(), "1");
  EXPECT_TRUE(a->items()[1].find("b")->is_null());
  EXPECT_TRUE(v.find("c")->is_object());
  EXPECT_TRUE(v.find("c")->members().empty());
  EXPECT_TRUE(v.find("d")->items().empty());
  EXPECT_EQ(v.find("zz"), nullptr);
  EXPECT_EQ(J("[1]").find("a"), nullptr);
}

TEST(JsonParse, DuplicateKeyKeepsLastValueAtFirstPlace) {
  Json v = J(R"({"a":1,"b":2,"a":3})");
  ASSERT_EQ(v.members().size(), 2u);
  EXPECT_EQ(to_json_text(v), R"({"a":3,"b":2})");
}

TEST(JsonParse, RejectsMalformedInput) {
  const std::vector<std::string> bad = {
      "", "   ", "nul", "tru", "True", "NULL", "nullx", "01", "-01", "-", "1.", ".5", "+1", "1e", "1e+", "1.e3",
      "NaN", "Infinity", "-Infinity", "0x10", "1 2", "[1,]", "[,1]", "[1 2]", "[", "]", "{", "}", "{\"a\":1,}",
      "{a:1}", "{\"a\" 1}", "{'a':1}", "{\"a\":}", "{\"a\"}", "{,}", "{\"a\":1 \"b\":2}", "\"abc", "'abc'",
      "\"a\nb\"", "\"a\tb\"", std::string("\"a\0b\"", 5), "\"\x1f\"", "\"\\x\"", "\"\\U0041\"", "\"\\u12\"",
      "\"\\u12G4\"", "\"\\uZZZZ\"", "\"\\", "\"\\u", "[1] 2", "{} x", "[]]", "\"a\"\"b\"", "\xEF\xBB\xBF{}",
      "/* c */ 1", "[1,2", "{\"a\":[}"};
  for (const std::string& text : bad) {
    Error e = parse_error(text);
    EXPECT_EQ(e.sqlstate(), "22P02") << text;
    EXPECT_STREQ(e.what(), "invalid input syntax for type json") << text;
    EXPECT_NE(e.detail().find("position"), std::string::npos) << e.detail();
  }
}

TEST(JsonParse, RejectsLoneSurrogates) {
  for (const char* text : {R"("\uD800")", R"("\uD800x")", R"("\uD800\u0041")", R"("\uDBFF\uD800")",
                           R"("\uDC00")", R"("\uDFFF\uD800")", R"("\uD800\")", R"("\uD800\n")"}) {
    Error e = parse_error(text);
    EXPECT_EQ(e.sqlstate(), "22P02") << text;
    EXPECT_NE(e.detail().find("surrogate"), std::string::npos) << text << ": " << e.detail();
  }
}

TEST(JsonParse, DetailNamesProblemAndPosition) {
  EXPECT_EQ(parse_error("[1,]").detail(), "Unexpected \"]\", expected a JSON value at position 4.");
  EXPECT_EQ(parse_error("[1] x").detail(), "Unexpected \"x\" after the JSON value at position 5.");
  EXPECT_EQ(parse_error("").detail(), "Unexpected end of input, expected a JSON value at position 1.");
  EXPECT_EQ(parse_error("{\"a\" 1}").detail(), "Unexpected \"1\", expected \":\" at position 6.");
  EXPECT_EQ(parse_error("\"ab\ncd\"").detail(), "Unescaped control character byte 0x0A in a string at position 4.");
  EXPECT_EQ(parse_error("\"\\q\"").detail(), "Invalid escape sequence \"\\q\" at position 2.");
  EXPECT_EQ(parse_error("01").detail(), "Invalid number: leading zeros are not allowed at position 2.");
  EXPECT_EQ(parse_error("1.x").detail(), "Invalid number: a digit is required after the decimal point at position 3.");
  EXPECT_EQ(parse_error("\"abc").detail(), "Unterminated string starting at position 1.");
  EXPECT_EQ(parse_error("tru").detail(), "Invalid token, expected \"true\" at position 1.");
}

TEST(JsonParse, DepthLimit) {
  EXPECT_NO_THROW(parse_json("[[1]]", 2));
  EXPECT_EQ(parse_error("[[1]]", 1).sqlstate(), "22P02");
  EXPECT_NE(parse_error("[{\"a\":1}]", 1).detail().find("maximum of 1"), std::string::npos);
  EXPECT_NO_THROW(parse_json("1", 0));
  EXPECT_NO_THROW(parse_json("\"[[[\"", 0));
  EXPECT_EQ(parse_error("[]", 0).sqlstate(), "22P02");
  EXPECT_EQ(parse_error("{}", 0).sqlstate(), "22P02");
}

TEST(JsonParse, DefaultDepthLimitIsTenThousand) {
  Json deep = parse_json(nested(10000));
  std::string text = to_json_text(deep);
  EXPECT_EQ(text, nested(10000));
  EXPECT_TRUE(deep == parse_json(text));
  EXPECT_NE(parse_error(nested(10001)).detail().find("maximum of 10000"), std::string::npos);
}

TEST(JsonText, IsCompactAndEscapes) {
  Json v = Json::object({{"k\"ey", Json::string("a\\b\"c\n\t\r\b\f\x01\x1f/\xC3\xA9")},
                         {"n", Json::number("-1.5e3")},
                         {"l", Json::array({Json::null(), Json::boolean(true), Json::boolean(false)})}});
  EXPECT_EQ(to_json_text(v),
            "{\"k\\\"ey\":\"a\\\\b\\\"c\\n\\t\\r\\b\\f\\u0001\\u001F/\xC3\xA9\",\"n\":-1.5e3,"
            "\"l\":[null,true,false]}");
  EXPECT_EQ(to_json_text(Json()), "null");
  EXPECT_EQ(to_json_text(Json::object({})), "{}");
  EXPECT_EQ(to_json_text(Json::array({})), "[]");
  EXPECT_EQ(to_json_text(Json::string(std::string("\0", 1))), "\"\\u0000\"");
}

TEST(JsonText, RoundTrips) {
  const std::vector<std::string> docs = {
      "null", "true", "false", "0", "-0.0", "1e-7", "\"\"", "\"\\\"\\\\\\n\\u0001\"", "[]", "{}",
      "[1,[2,[3,[]]],{}]", "{\"a\":{\"b\":{\"c\":[1,2,{\"d\":null}]}},\"e\":\"\xE2\x82\xAC\"}",
      "{\"z\":1,\"a\":2,\"m\":3}"};
  for (const std::string& doc : docs) {
    EXPECT_EQ(roundtrip(doc), doc);
    EXPECT_EQ(parse_json(roundtrip(doc)), parse_json(doc)) << doc;
  }
  EXPECT_EQ(roundtrip("\"\\u00e9\\ud83d\\ude00\\/\""), "\"\xC3\xA9\xF0\x9F\x98\x80/\"");
  EXPECT_EQ(roundtrip("\"\\u001f\""), "\"\\u001F\"");
}

TEST(JsonEquality, NumbersCompareByValue) {
  EXPECT_EQ(J("1"), J("1.0"));
  EXPECT_EQ(J("1"), J("1e0"));
  EXPECT_EQ(J("1.0"), J("1e0"));
  EXPECT_EQ(J("1"), J("10e-1"));
  EXPECT_EQ(J("1"), J("0.1e1"));
  EXPECT_EQ(J("100"), J("1e2"));
  EXPECT_EQ(J("100"), J("1E+2"));
  EXPECT_EQ(J("0.5"), J("5e-1"));
  EXPECT_EQ(J("-2.50"), J("-25e-1"));
  EXPECT_EQ(J("0"), J("-0"));
  EXPECT_EQ(J("0"), J("0.000"));
  EXPECT_EQ(J("0"), J("0e99"));
  EXPECT_EQ(J("1e400"), J("10e399"));
  EXPECT_EQ(J("1e00000000000000000000000002"), J("100"));
  EXPECT_NE(J("1"), J("2"));
  EXPECT_NE(J("1"), J("-1"));
  EXPECT_NE(J("1"), J("10"));
  EXPECT_NE(J("0.1"), J("0.01"));
  EXPECT_NE(J("1e400"), J("1e401"));
  // Exact, not floating point: these differ only in the 23rd digit.
  EXPECT_NE(J("12345678901234567890123"), J("12345678901234567890124"));
  EXPECT_NE(J("1.0000000000000000000001"), J("1"));
}

TEST(JsonEquality, DeepAndKindSensitive) {
  EXPECT_EQ(J(R"({"a":1,"b":[1,2],"c":{"x":null,"y":true}})"), J(R"({"c":{"y":true,"x":null},"b":[1,2.0],"a":1.0})"));
  EXPECT_NE(J("[1,2]"), J("[2,1]"));
  EXPECT_NE(J("[1,2]"), J("[1,2,3]"));
  EXPECT_NE(J(R"({"a":1})"), J(R"({"a":1,"b":1})"));
  EXPECT_NE(J(R"({"a":1})"), J(R"({"b":1})"));
  EXPECT_NE(J(R"({"a":{"b":1}})"), J(R"({"a":{"b":2}})"));
  EXPECT_NE(J("\"1\""), J("1"));
  EXPECT_NE(J("null"), J("false"));
  EXPECT_NE(J("true"), J("false"));
  EXPECT_NE(J("[]"), J("{}"));
  EXPECT_EQ(J("null"), Json());
  EXPECT_NE(J("\"a\""), J("\"A\""));
}

TEST(JsonFactories, BuildValues) {
  EXPECT_EQ(Json::boolean(true), J("true"));
  EXPECT_EQ(Json::number("2.5"), J("2.5"));
  EXPECT_EQ(Json::string("x\"y"), J(R"("x\"y")"));
  EXPECT_EQ(Json::array({Json::number("1"), Json()}), J("[1,null]"));
  Json o = Json::object({{"a", Json::number("1")}, {"b", Json::number("2")}, {"a", Json::number("3")}});
  EXPECT_EQ(to_json_text(o), R"({"a":3,"b":2})");
  ASSERT_NE(o.find("b"), nullptr);
  EXPECT_EQ(o.find("b")->text(), "2");
}

TEST(JsonFactories, NumberRejectsInvalidText) {
  for (const char* text : {"", "01", "1.", "+1", "abc", "1 ", " 1", "NaN", "--1"}) {
    try {
      Json::number(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.sqlstate(), "22P02");
    }
  }
}

// MergePatchCase is one row of RFC 7396 appendix A.
struct MergePatchCase {
  int row;
  const char* original;
  const char* patch;
  const char* result;
};

// PrintTo names a case by its row in the RFC's table.
void PrintTo(const MergePatchCase& c, std::ostream* os) { *os << "row " << c.row; }

class MergePatchRfc : public ::testing::TestWithParam<MergePatchCase> {};

TEST_P(MergePatchRfc, AppendixA) {
  const MergePatchCase& c = GetParam();
  Json result = merge_patch(J(c.original), J(c.patch));
  EXPECT_EQ(result, J(c.result)) << to_json_text(result);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc7396, MergePatchRfc,
    ::testing::Values(MergePatchCase{1, R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
                      MergePatchCase{2, R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
                      MergePatchCase{3, R"({"a":"b"})", R"({"a":null})", R"({})"},
                      MergePatchCase{4, R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
                      MergePatchCase{5, R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
                      MergePatchCase{6, R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
                      MergePatchCase{7, R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
                      MergePatchCase{8, R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
                      MergePatchCase{9, R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
                      MergePatchCase{10, R"({"a":"b"})", R"(["c"])", R"(["c"])"},
                      MergePatchCase{11, R"({"a":"foo"})", "null", "null"},
                      MergePatchCase{12, R"({"a":"foo"})", R"("bar")", R"("bar")"},
                      MergePatchCase{13, R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
                      MergePatchCase{14, R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
                      MergePatchCase{15, R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"}));

TEST(MergePatch, RfcSection3Example) {
  Json target = J(R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
                      "tags":["example","sample"],"content":"This will be unchanged"})");
  Json patch = J(R"({"title":"Hello!","phoneNumber":"+01-555-1234","author":{"familyName":null},"tags":["example"]})");
  EXPECT_EQ(to_json_text(merge_patch(target, patch)),
            R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],)"
            R"("content":"This will be unchanged","phoneNumber":"+01-555-1234"})");
}

TEST(MergePatch, KeepsTargetOrderAndAppendsNewKeys) {
  EXPECT_EQ(to_json_text(merge_patch(J(R"({"z":1,"a":2,"m":3})"), J(R"({"b":4,"a":5,"z":null})"))),
            R"({"a":5,"m":3,"b":4})");
}

TEST(MergePatch, NullsInsideArraysAndNewObjects) {
  // An array patch replaces as it is, nulls included.
  EXPECT_EQ(to_json_text(merge_patch(J(R"({"a":1})"), J(R"({"a":[null,{"b":null}]})"))),
            R"({"a":[null,{"b":null}]})");
  // A new object member is itself patched onto nothing: its nulls vanish.
  EXPECT_EQ(to_json_text(merge_patch(J("{}"), J(R"({"n":{"x":null,"y":1}})"))), R"({"n":{"y":1}})");
  // Removing an absent key is a no-op.
  EXPECT_EQ(to_json_text(merge_patch(J(R"({"a":1})"), J(R"({"b":null})"))), R"({"a":1})");
}

TEST(MergePatch, ObjectPatchOverNonObjectMember) {
  EXPECT_EQ(to_json_text(merge_patch(J(R"({"a":5,"b":1})"), J(R"({"a":{"x":1,"y":null}})"))),
            R"({"a":{"x":1},"b":1})");
  EXPECT_EQ(to_json_text(merge_patch(J("\"s\""), J(R"({"a":null})"))), "{}");
}

TEST(MergePatch, DeepDocuments) {
  // Ten thousand levels, the parser's default limit: no recursion overflow.
  std::string deep;
  for (int i = 0; i < 9999; ++i) deep += "{\"k\":";
  std::string target = deep + "{\"x\":1,\"y\":2}" + std::string(9999, '}');
  std::string patch = deep + "{\"x\":null,\"z\":3}" + std::string(9999, '}');
  std::string expected = deep + "{\"y\":2,\"z\":3}" + std::string(9999, '}');
  Json result = merge_patch(J(target), J(patch));
  EXPECT_EQ(to_json_text(result), expected);
  EXPECT_EQ(result, J(expected));
}

TEST(MergePatch, LeavesInputsUnchanged) {
  Json target = J(R"({"a":{"b":1},"c":2})");
  Json patch = J(R"({"a":{"b":null},"c":null})");
  Json result = merge_patch(target, patch);
  EXPECT_EQ(to_json_text(result), R"({"a":{}})");
  EXPECT_EQ(to_json_text(target), R"({"a":{"b":1},"c":2})");
  EXPECT_EQ(to_json_text(patch), R"({"a":{"b":null},"c":null})");
}

TEST(FoldMergePatch, EmptyIsNoValue) { EXPECT_FALSE(fold_merge_patch({}).has_value()); }

TEST(FoldMergePatch, FirstPatch) {
  auto null_only = fold_merge_patch({Json()});
  ASSERT_TRUE(null_only.has_value());
  EXPECT_TRUE(null_only->is_null());
  EXPECT_EQ(*fold_merge_patch({J("\"a\"")}), J("\"a\""));
  EXPECT_EQ(*fold_merge_patch({J("[1,null]")}), J("[1,null]"));
  // An object first patch is applied to {}: its nulls disappear.
  EXPECT_EQ(to_json_text(*fold_merge_patch({J(R"({"a":null,"b":1,"c":{"d":null}})")})), R"({"b":1,"c":{}})");
}

TEST(FoldMergePatch, ShoppingCart) {
  auto state = fold_merge_patch({J(R"({"trousers": 3})"), J(R"({"trousers": 1})"), J(R"({"status": "paid"})")});
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(to_json_text(*state), R"({"trousers":1,"status":"paid"})");
  EXPECT_EQ(to_json_text(*fold_merge_patch({J(R"({"trousers": 3})")})), R"({"trousers":3})");
}

TEST(FoldMergePatch, ScalarsAndObjectsReplaceEachOther) {
  EXPECT_EQ(*fold_merge_patch({J("1"), J(R"({"a":1})")}), J(R"({"a":1})"));
  EXPECT_EQ(*fold_merge_patch({J(R"({"a":1})"), J("5")}), J("5"));
  EXPECT_EQ(*fold_merge_patch({J(R"({"a":1})"), J("null")}), J("null"));
  EXPECT_EQ(*fold_merge_patch({J(R"({"a":1,"b":2})"), J(R"({"a":null})"), J(R"({"c":{"d":1}})")}),
            J(R"({"b":2,"c":{"d":1}})"));
}

}  // namespace
}  // namespace chronicle::core
