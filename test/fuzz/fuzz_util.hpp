// fuzz_util.hpp: shared by the libFuzzer targets in test/fuzz: the small
// text formats the inputs are decoded from, and the check that turns a
// violated property into a crash libFuzzer records.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "json.hpp"
#include "period.hpp"

namespace chronicle::fuzz {

using core::Micros;

// fail reports a violated property and aborts, which libFuzzer records as a
// crash with the input that caused it.
[[noreturn]] inline void fail(const char* file, int line, const char* what, const std::string& detail) {
  std::fprintf(stderr, "\n%s:%d: property violated: %s\n%s\n", file, line, what, detail.c_str());
  std::abort();
}

// FUZZ_CHECK aborts with the failed condition and a detail when cond is false.
#define FUZZ_CHECK(cond, detail)                                               \
  do {                                                                         \
    if (!(cond)) ::chronicle::fuzz::fail(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)

// lines splits data at '\n' (a final line without '\n' counts; empty lines too).
inline std::vector<std::string_view> lines(std::string_view data) {
  std::vector<std::string_view> out;
  while (!data.empty()) {
    std::size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      out.push_back(data);
      break;
    }
    out.push_back(data.substr(0, nl));
    data.remove_prefix(nl + 1);
  }
  return out;
}

// tokens splits a line at spaces and tabs, dropping empty tokens.
inline std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// rest_after returns what follows the first n tokens of line (the JSON part
// of a line such as "0 10 {\"a\": 1}"), or an empty view.
inline std::string_view rest_after(std::string_view line, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < n; ++k) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
  }
  return line.substr(i);
}

// to_int reads a decimal integer token ("-12"), saturating at the int64
// range; nullopt when the token is not one.
inline std::optional<std::int64_t> to_int(std::string_view tok) {
  bool negative = !tok.empty() && tok[0] == '-';
  if (negative || (!tok.empty() && tok[0] == '+')) tok.remove_prefix(1);
  if (tok.empty()) return std::nullopt;
  std::uint64_t v = 0;
  bool big = false;
  for (char c : tok) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10)
      big = true;
    else
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (big || v > kMax) return std::numeric_limits<std::int64_t>::min();
    return -static_cast<std::int64_t>(v);
  }
  if (big || v > kMax) return std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(v);
}

// kMinTimestamp / kEndTimestamp bound PostgreSQL's finite timestamptz:
// MIN_TIMESTAMP (4714-11-24 BC) <= t < END_TIMESTAMP (294277-01-01).
constexpr Micros kMinTimestamp = -211813488000000000LL;
constexpr Micros kEndTimestamp = 9223371331200000000LL;

// to_micros reads a point: "inf", "-inf" or an integer number of microseconds.
inline std::optional<Micros> to_micros(std::string_view tok) {
  if (tok == "inf" || tok == "infinity") return core::kInfinity;
  if (tok == "-inf" || tok == "-infinity") return core::kMinusInfinity;
  return to_int(tok);
}

// in_range clamps a finite point into timestamptz's range (the infinities
// stay), which is what every Micros of the extension is.
inline Micros in_range(Micros t) {
  if (t == core::kInfinity || t == core::kMinusInfinity) return t;
  if (t < kMinTimestamp) return kMinTimestamp;
  if (t >= kEndTimestamp) return kEndTimestamp - 1;
  return t;
}

// show renders a point for a failure message.
inline std::string show(Micros t) {
  if (t == core::kInfinity) return "inf";
  if (t == core::kMinusInfinity) return "-inf";
  return std::to_string(t);
}

// show renders a period for a failure message.
inline std::string show(const core::Period& p) { return "[" + show(p.from) + ", " + show(p.to) + ")"; }

// try_parse parses text as JSON, or nullopt when it is not valid JSON
// (core::Error 22P02 is the documented outcome; anything else escapes).
inline std::optional<core::Json> try_parse(std::string_view text) {
  try {
    return core::parse_json(text);
  } catch (const core::Error& e) {
    FUZZ_CHECK(e.sqlstate() == "22P02", "parse_json threw SQLSTATE " + e.sqlstate() + ": " + e.what());
    return std::nullopt;
  }
}

}  // namespace chronicle::fuzz
