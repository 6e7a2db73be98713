// cli_jsonl_test.cpp: JSON Lines encoding of the chronicle client
// (src/cli/jsonl.hpp).
#include <gtest/gtest.h>

#include <cstring>

#include "jsonl.hpp"

using namespace chronicle::cli;

namespace {

std::string str(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string ts(std::string_view s) {
  std::string out;
  append_timestamp(out, s);
  return out;
}

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
  EXPECT_EQ(ts("2026-11-27 21:14:58.123456+00"), "\"2026-11-27T21:14:58.123456+00:00\"");
  EXPECT_EQ(ts("2026-11-27 21:14:58+01"), "\"2026-11-27T21:14:58+01:00\"");
  EXPECT_EQ(ts("2026-11-27 21:14:58.5-03:30"), "\"2026-11-27T21:14:58.5-03:30\"");
  EXPECT_EQ(ts("1850-01-01 00:00:00+00:53:28"), "\"1850-01-01T00:00:00+00:53:28\"");
  EXPECT_EQ(ts("infinity"), "\"infinity\"");
  EXPECT_EQ(ts("-infinity"), "\"-infinity\"");
  EXPECT_EQ(ts("0044-03-15 12:00:00+00 BC"), "\"0044-03-15T12:00:00+00:00 BC\"");
  EXPECT_EQ(ts("12026-11-27 21:14:58+00"), "\"12026-11-27T21:14:58+00:00\"");
  // Not ISO (another DateStyle): kept as it is, never cut.
  EXPECT_EQ(ts("Fri Nov 27 21:14:58 2026 UTC"), "\"Fri Nov 27 21:14:58 2026 UTC\"");
  EXPECT_EQ(ts("2026-11-27 21:1"), "\"2026-11-27 21:1\"");
  EXPECT_EQ(ts(""), "\"\"");
}

EventText event(std::vector<const char*> v) {
  EventText e;
  for (int i = 0; i < EVENT_COLUMNS; ++i) {
    e.data[i] = v[static_cast<std::size_t>(i)];
    e.size[i] = e.data[i] == nullptr ? 0 : std::strlen(e.data[i]);
  }
  return e;
}

TEST(CliJsonl, Event) {
  std::string out;
  append_event(out, event({"17", "cart-1", "3", "item added", "{\"sku\": \"a\\\"b\", \"qty\": 2}", nullptr,
                           "2026-11-27 21:14:58.123456+00", "infinity", "2026-11-27 21:14:58.2+00"}));
  EXPECT_EQ(out,
            "{\"position\":17,\"stream\":\"cart-1\",\"version\":3,\"type\":\"item added\","
            "\"payload\":{\"sku\": \"a\\\"b\", \"qty\": 2},\"meta\":null,"
            "\"valid_from\":\"2026-11-27T21:14:58.123456+00:00\",\"valid_to\":\"infinity\","
            "\"recorded_at\":\"2026-11-27T21:14:58.2+00:00\"}\n");
  // Appends: a second event follows on its own line.
  append_event(out, event({"18", "s\n", "1", "t", "null", "{}", "2026-01-01 00:00:00+00", "2026-01-02 00:00:00+00",
                           "2026-01-01 00:00:01+00"}));
  EXPECT_EQ(out.substr(out.find('\n') + 1),
            "{\"position\":18,\"stream\":\"s\\n\",\"version\":1,\"type\":\"t\",\"payload\":null,\"meta\":{},"
            "\"valid_from\":\"2026-01-01T00:00:00+00:00\",\"valid_to\":\"2026-01-02T00:00:00+00:00\","
            "\"recorded_at\":\"2026-01-01T00:00:01+00:00\"}\n");
}

}  // namespace
