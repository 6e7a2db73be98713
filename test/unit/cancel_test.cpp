// cancel_test.cpp: core's long loops stop when the host's cancel or
// terminate flag is set (error.hpp, STYLE rule 6).
#include <gtest/gtest.h>

#include <csignal>
#include <vector>

#include "error.hpp"
#include "json.hpp"
#include "period.hpp"
#include "replay.hpp"

namespace chronicle::core {
namespace {

// FlagScope points core at a local flag for one test.
struct FlagScope {
  volatile std::sig_atomic_t flag = 0;
  FlagScope() { cancel_pending = &flag; }
  ~FlagScope() { cancel_pending = nullptr; }
};

TEST(Cancel, FoldMergePatchStopsWhenCancelled) {
  FlagScope scope;
  std::vector<Json> patches(100, parse_json(R"({"a": 1})"));
  EXPECT_TRUE(fold_merge_patch(patches).has_value());
  scope.flag = 1;
  try {
    (void)fold_merge_patch(patches);
    FAIL() << "fold_merge_patch ignored the cancel flag";
  } catch (const Cancelled& e) {
    EXPECT_EQ(e.sqlstate(), "57014");
  }
}

TEST(Cancel, TimelineStopsWhenCancelled) {
  FlagScope scope;
  std::vector<Period> valid{Period{0, 10}, Period{5, kInfinity}};
  std::vector<Json> payloads{parse_json(R"({"a": 1})"), parse_json(R"({"b": 2})")};
  EXPECT_EQ(timeline(valid, payloads).size(), 3u);
  scope.flag = 1;
  EXPECT_THROW((void)timeline(valid, payloads), Cancelled);
}

TEST(Cancel, NoFlagNeverCancels) {
  ASSERT_EQ(cancel_pending, nullptr);
  EXPECT_NO_THROW(poll_cancel());
}

}  // namespace
}  // namespace chronicle::core
