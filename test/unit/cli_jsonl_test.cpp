// cli_jsonl_test.cpp: JSON Lines encoding of the chronicle client
// (src/cli/jsonl.hpp), from binary-format fields.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "jsonl.hpp"

using namespace chronicle::cli;

namespace {

std::string str(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string ts(std::int64_t micros) {
  std::string out;
  append_timestamp(out, micros);
  return out;
}

// Microseconds per day; day counts from 2000-01-01 checked against
// PostgreSQL's to_json() under TimeZone UTC.
constexpr std::int64_t kDay = 86400000000LL;

TEST(CliJsonl, Strings) {
  EXPECT_EQ(str("cart-1"), "\"cart-1\"");
  EXPECT_EQ(str(""), "\"\"");
  EXPECT_EQ(str("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(str("l1\nl2\tx\r\b\f"), "\"l1\\nl2\\tx\\r\\b\\f\"");
  EXPECT_EQ(str(std::string_view("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\x7f\"");
  EXPECT_EQ(str(std::string_view("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(str("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");  // UTF-8 copied
  EXPECT_EQ(str("</script>"), "\"</script>\"");
}

TEST(CliJsonl, Timestamps) {
  EXPECT_EQ(ts(0), "\"2000-01-01T00:00:00+00:00\"");
  EXPECT_EQ(ts(1), "\"2000-01-01T00:00:00.000001+00:00\"");
  EXPECT_EQ(ts(123456), "\"2000-01-01T00:00:00.123456+00:00\"");
  EXPECT_EQ(ts(500000), "\"2000-01-01T00:00:00.5+00:00\"");  // trailing zeros dropped
  EXPECT_EQ(ts(-1), "\"1999-12-31T23:59:59.999999+00:00\"");
  EXPECT_EQ(ts(59 * kDay + 3723000000LL), "\"2000-02-29T01:02:03+00:00\"");  // leap day
  // 2026-11-27 21:14:58.1234: 9827 days after 2000-01-01.
  EXPECT_EQ(ts(9827 * kDay + (21 * 3600 + 14 * 60 + 58) * 1000000LL + 123400),
            "\"2026-11-27T21:14:58.1234+00:00\"");
  // 1850-01-01: 54786 days before.
  EXPECT_EQ(ts(-54786 * kDay), "\"1850-01-01T00:00:00+00:00\"");
  EXPECT_EQ(ts(-54786 * kDay - 1), "\"1849-12-31T23:59:59.999999+00:00\"");
  // 0001-01-01 is 730119 days before; the day before it is 1 BC (year 0).
  EXPECT_EQ(ts(-730119 * kDay), "\"0001-01-01T00:00:00+00:00\"");
  EXPECT_EQ(ts(-730120 * kDay), "\"0001-12-31T00:00:00+00:00 BC\"");
  EXPECT_EQ(ts(-730485 * kDay), "\"0001-01-01T00:00:00+00:00 BC\"");
  EXPECT_EQ(ts(-730486 * kDay), "\"0002-12-31T00:00:00+00:00 BC\"");
  EXPECT_EQ(ts(std::numeric_limits<std::int64_t>::max()), "\"infinity\"");
  EXPECT_EQ(ts(std::numeric_limits<std::int64_t>::min()), "\"-infinity\"");
  // The largest timestamptz, 294276-12-31 23:59:59.999999 (PostgreSQL's
  // END_TIMESTAMP - 1).
  EXPECT_EQ(ts(9223371331199999999LL), "\"294276-12-31T23:59:59.999999+00:00\"");
}

// Binary is one event's fields in binary format, owning their bytes.
struct Binary {
  std::string bytes[EVENT_COLUMNS];
  bool null[EVENT_COLUMNS] = {};
  EventFields fields() const {
    EventFields e;
    for (int i = 0; i < EVENT_COLUMNS; ++i) {
      e.data[i] = null[i] ? nullptr : bytes[i].data();
      e.size[i] = null[i] ? 0 : bytes[i].size();
    }
    return e;
  }
};

std::string be(std::int64_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
  return s;
}

Binary sample() {
  Binary b;
  b.bytes[COL_POSITION] = be(17, 8);
  b.bytes[COL_STREAM] = "cart-1";
  b.bytes[COL_VERSION] = be(3, 4);
  b.bytes[COL_TYPE] = "item added";
  b.bytes[COL_PAYLOAD] = std::string("\x01") + "{\"sku\": \"a\\\"b\", \"qty\": 2}";
  b.null[COL_META] = true;
  b.bytes[COL_VALID_FROM] = be(123456, 8);
  b.bytes[COL_VALID_TO] = be(std::numeric_limits<std::int64_t>::max(), 8);
  b.bytes[COL_RECORDED_AT] = be(200000, 8);
  return b;
}

TEST(CliJsonl, Event) {
  std::string out;
  append_event(out, sample().fields());
  EXPECT_EQ(out,
            "{\"position\":17,\"stream\":\"cart-1\",\"version\":3,\"type\":\"item added\","
            "\"payload\":{\"sku\": \"a\\\"b\", \"qty\": 2},\"meta\":null,"
            "\"valid_from\":\"2000-01-01T00:00:00.123456+00:00\",\"valid_to\":\"infinity\","
            "\"recorded_at\":\"2000-01-01T00:00:00.2+00:00\"}\n");
  // Appends: a second event follows on its own line.
  Binary b = sample();
  b.bytes[COL_POSITION] = be(9223372036854775807LL, 8);
  b.bytes[COL_STREAM] = "s\n";
  b.bytes[COL_VERSION] = be(2147483647, 4);
  b.bytes[COL_PAYLOAD] = "\x01null";
  b.null[COL_META] = false;
  b.bytes[COL_META] = "\x01{}";
  append_event(out, b.fields());
  EXPECT_EQ(out.substr(out.find('\n') + 1),
            "{\"position\":9223372036854775807,\"stream\":\"s\\n\",\"version\":2147483647,\"type\":\"item added\","
            "\"payload\":null,\"meta\":{},\"valid_from\":\"2000-01-01T00:00:00.123456+00:00\",\"valid_to\":\"infinity\","
            "\"recorded_at\":\"2000-01-01T00:00:00.2+00:00\"}\n");
}

TEST(CliJsonl, BadBinaryIsRefused) {
  std::string out = "kept\n";
  Binary b = sample();
  b.bytes[COL_POSITION] = "1234";
  EXPECT_THROW(append_event(out, b.fields()), FormatError);
  b = sample();
  b.bytes[COL_PAYLOAD] = "{}";  // no jsonb version byte
  EXPECT_THROW(append_event(out, b.fields()), FormatError);
  b = sample();
  b.bytes[COL_RECORDED_AT] = "2026";
  EXPECT_THROW(append_event(out, b.fields()), FormatError);
  b = sample();
  b.null[COL_POSITION] = true;
  EXPECT_THROW(append_event(out, b.fields()), FormatError);
  EXPECT_EQ(out, "kept\n");  // a refused event leaves nothing behind
}

TEST(CliJsonl, LongFieldsAndEveryByte) {
  Binary b = sample();
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  b.bytes[COL_STREAM] = all + all;
  b.bytes[COL_TYPE] = std::string(100000, '\n');
  b.bytes[COL_PAYLOAD] = "\x01" + std::string(300000, '7');
  std::string out;
  append_event(out, b.fields());
  std::string stream;
  append_json_string(stream, all + all);
  EXPECT_NE(out.find(",\"stream\":" + stream + ",\"version\":3,"), std::string::npos);
  EXPECT_EQ(out.size(), 12 + 2 + 10 + stream.size() + 11 + 1 + 8 + 200002 + 11 + 300000 + 8 + 4 + 14 + 34 + 12 + 10 + 15 + 29 + 2);
  EXPECT_EQ(out.back(), '\n');
}

}  // namespace
