// fuzz_timeline.cpp: timeline (replay.hpp), the valid-time fold with
// coalescing. Each input line is "valid_from valid_to payload": two points
// (integers or "inf"/"-inf") and a JSON payload; lines whose payload does not
// parse are skipped. The result is checked against a naive fold at every
// boundary point: its periods are non-empty, ordered and disjoint, start and
// end at boundaries, cover exactly the points where some event applies,
// carry there the fold_merge_patch of the payloads that apply (in input
// order), and no two adjacent periods carry equal values. Mismatched inputs
// throw Error XX000.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "fuzz_util.hpp"
#include "json.hpp"
#include "replay.hpp"

using chronicle::core::Json;
using chronicle::core::Micros;
using chronicle::core::Period;
using chronicle::core::TimelinePeriod;
namespace core = chronicle::core;
namespace fuzz = chronicle::fuzz;

namespace {

// describe renders the input and the result for a failure message.
std::string describe(const std::vector<Period>& valid, const std::vector<Json>& payloads,
                     const std::vector<TimelinePeriod>& got) {
  std::string out = "input:\n";
  for (std::size_t i = 0; i < valid.size(); ++i)
    out += "  " + fuzz::show(valid[i]) + " " + core::to_json_text(payloads[i]) + "\n";
  out += "timeline:\n";
  for (const TimelinePeriod& p : got) out += "  " + fuzz::show(p.period) + " " + core::to_json_text(p.value) + "\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<Period> valid;
  std::vector<Json> payloads;
  for (std::string_view line : fuzz::lines(std::string_view(reinterpret_cast<const char*>(data), size))) {
    auto tok = fuzz::tokens(line);
    if (tok.size() < 3 || valid.size() == 32) continue;
    auto from = fuzz::to_micros(tok[0]), to = fuzz::to_micros(tok[1]);
    if (!from || !to) continue;
    auto payload = fuzz::try_parse(fuzz::rest_after(line, 2));
    if (!payload) continue;
    valid.push_back(Period{*from, *to});
    payloads.push_back(std::move(*payload));
  }

  std::vector<TimelinePeriod> got = core::timeline(valid, payloads);
  auto what = [&] { return describe(valid, payloads, got); };

  std::vector<Micros> bounds = core::boundaries(valid);
  for (std::size_t k = 0; k < got.size(); ++k) {
    const Period& p = got[k].period;
    FUZZ_CHECK(!p.empty(), "an empty period\n" + what());
    FUZZ_CHECK(std::binary_search(bounds.begin(), bounds.end(), p.from) &&
                   std::binary_search(bounds.begin(), bounds.end(), p.to),
               "a period does not end at boundaries\n" + what());
    if (k > 0) {
      const TimelinePeriod& before = got[k - 1];
      FUZZ_CHECK(before.period.to <= p.from, "periods overlap or are out of order\n" + what());
      if (before.period.to == p.from)
        FUZZ_CHECK(before.value != got[k].value, "adjacent periods with equal values are not coalesced\n" + what());
    }
  }

  // At every boundary (each elementary interval starts at one), the naive fold.
  for (Micros t : bounds) {
    std::vector<Json> applying;
    for (std::size_t i = 0; i < valid.size(); ++i)
      if (valid[i].contains(t)) applying.push_back(payloads[i]);
    std::optional<Json> want = core::fold_merge_patch(applying);
    const TimelinePeriod* covering = nullptr;
    for (const TimelinePeriod& p : got)
      if (p.period.contains(t)) covering = &p;
    if (!want) {
      FUZZ_CHECK(!covering, "a period covers " + fuzz::show(t) + " where no event applies\n" + what());
    } else {
      FUZZ_CHECK(covering, "no period covers " + fuzz::show(t) + "\n" + what());
      FUZZ_CHECK(covering->value == *want,
                 "wrong value at " + fuzz::show(t) + ": expected " + core::to_json_text(*want) + "\n" + what());
    }
  }

  // One payload too many is refused.
  if (!payloads.empty()) {
    std::vector<Json> more = payloads;
    more.push_back(Json::null());
    bool refused = false;
    try {
      core::timeline(valid, more);
    } catch (const core::Error& e) {
      refused = e.sqlstate() == "XX000";
    }
    FUZZ_CHECK(refused, "timeline accepted " + std::to_string(more.size()) + " payloads for " +
                            std::to_string(valid.size()) + " periods");
  }
  return 0;
}
