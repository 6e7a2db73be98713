// fuzz_key.cpp: primary-key encoding (encode_key / decode_key). The input's
// NUL-separated pieces are the key's parts (a PostgreSQL text never holds a
// NUL, so any other byte may appear in a part). decode_key(encode_key(k),
// n) must give k back for every part list; two different lists of the same
// length (the first and second half of the parts) must not encode alike;
// a one-part key is its own text. The whole input is also decoded as a stream
// name for 1 to 4 parts: it must either throw Error 22P02 or give parts that
// encode and decode back to themselves.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "fuzz_util.hpp"
#include "rows.hpp"

using chronicle::core::decode_key;
using chronicle::core::encode_key;
using chronicle::core::Error;

namespace {

// joined renders a part list for a failure message.
std::string joined(const std::vector<std::string>& parts) {
  std::string out = "{";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "|" : "") + parts[i];
  return out + "}";
}

// round_trip checks that parts encode to a stream that decodes back to them.
std::string round_trip(const std::vector<std::string>& parts) {
  std::string stream = encode_key(parts);
  if (parts.size() == 1) FUZZ_CHECK(stream == parts[0], "a one-part key is not its own text: " + stream);
  std::vector<std::string> back;
  try {
    back = decode_key(stream, parts.size());
  } catch (const Error& e) {
    FUZZ_CHECK(false, "decode_key refused encode_key's " + stream + ": " + e.detail());
  }
  FUZZ_CHECK(back == parts, "decode(encode(" + joined(parts) + ")) = " + joined(back) + " via " + stream);
  return stream;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == '\0') {
      parts.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  std::string whole = round_trip(parts);

  // Injective for a given number of parts: the two halves, when they differ.
  std::size_t half = parts.size() / 2;
  if (half > 0) {
    std::vector<std::string> a(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(half));
    std::vector<std::string> b(parts.begin() + static_cast<std::ptrdiff_t>(half),
                               parts.begin() + static_cast<std::ptrdiff_t>(2 * half));
    std::string ea = round_trip(a), eb = round_trip(b);
    FUZZ_CHECK((ea == eb) == (a == b),
               "encode_key(" + joined(a) + ") and encode_key(" + joined(b) + ") are both " + ea);
  }
  // Every prefix of the parts, so that short lists are tried often.
  for (std::size_t n = 1; n < parts.size() && n <= 4; ++n)
    round_trip(std::vector<std::string>(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(n)));

  // The input as a stream name.
  for (std::size_t n = 1; n <= 4; ++n) {
    std::vector<std::string> decoded;
    try {
      decoded = decode_key(text, n);
    } catch (const Error& e) {
      FUZZ_CHECK(n > 1 && e.sqlstate() == "22P02", "decode_key threw " + e.sqlstate() + ": " + e.what());
      continue;
    }
    FUZZ_CHECK(decoded.size() == n,
               "decode_key gave " + std::to_string(decoded.size()) + " parts for " + std::to_string(n));
    round_trip(decoded);
  }

  // No parts at all is refused with 22023, both ways.
  bool refused = false;
  try {
    encode_key({});
  } catch (const Error& e) {
    refused = e.sqlstate() == "22023";
  }
  FUZZ_CHECK(refused, "encode_key of no parts did not throw 22023");
  (void)whole;
  return 0;
}
