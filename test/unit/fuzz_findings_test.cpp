// fuzz_findings_test.cpp: what the libFuzzer targets of test/fuzz found in
// src/core, one test per finding, each with its minimized input, so that a
// fix stays fixed. A test of a finding not fixed yet is DISABLED_ (run it
// with --gtest_also_run_disabled_tests) and says so.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json.hpp"
#include "period.hpp"
#include "replay.hpp"

namespace chronicle::core {
namespace {

// Finding 1 (fixed): timeline folded every payload that applies over each
// elementary interval from scratch, so a stream whose events are each valid
// from their time on (the usual shape: [t_i, infinity)) cost n(n+1)/2 merge
// patches: about 3 s for 1000 events, 15 s for 2000, 95 s for 4000 (-O2).
// timeline now continues the previous interval's fold when an interval only
// adds later events. This test checks the values of such a timeline; it is
// not timed (the machines are shared), but a return to the quadratic fold
// would make it take minutes under the sanitizers.
TEST(FuzzFindings, TimelineOfOpenEndedEvents) {
  constexpr int kEvents = 3000;
  std::vector<Period> valid;
  std::vector<Json> payloads;
  for (int i = 0; i < kEvents; ++i) {
    valid.push_back(Period{i, kInfinity});
    payloads.push_back(parse_json("{\"k" + std::to_string(i % 10) + "\":" + std::to_string(i) + "}"));
  }
  std::vector<TimelinePeriod> tl = timeline(valid, payloads);
  ASSERT_EQ(tl.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(tl.back().period, (Period{kEvents - 1, kInfinity}));
  EXPECT_EQ(tl.back().value, parse_json(R"({"k0":2990,"k1":2991,"k2":2992,"k3":2993,"k4":2994,
                                            "k5":2995,"k6":2996,"k7":2997,"k8":2998,"k9":2999})"));
  // Every intermediate state too: period i holds the last value of each key.
  for (int i = 0; i < kEvents; i += 499) {
    Json expected = parse_json("{}");
    for (int j = 0; j <= i; ++j) expected = merge_patch(expected, payloads[j]);
    EXPECT_EQ(tl[i].value, expected) << "period " << i;
  }
}

}  // namespace
}  // namespace chronicle::core
