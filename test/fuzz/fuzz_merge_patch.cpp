// fuzz_merge_patch.cpp: RFC 7396 merge patch. The input is JSON lines (one
// document per line; lines that do not parse are skipped). merge_patch of
// every ordered pair must equal the RFC's recursive pseudo-code (values and
// member order: kept members in target order, new ones in patch order), be
// idempotent, and fold_merge_patch of all lines must equal merge_patch
// applied one line at a time.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.hpp"
#include "json.hpp"

using chronicle::core::Json;
using chronicle::core::merge_patch;
using chronicle::core::to_json_text;
namespace fuzz = chronicle::fuzz;

namespace {

// reference_patch is RFC 7396 §2 written as the RFC writes it.
Json reference_patch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  std::vector<Json::Member> members;
  if (target.is_object()) members = target.members();
  for (const auto& [name, value] : patch.members()) {
    std::size_t at = 0;
    while (at < members.size() && members[at].first != name) ++at;
    if (value.is_null()) {
      if (at < members.size()) members.erase(members.begin() + static_cast<std::ptrdiff_t>(at));
    } else if (at < members.size()) {
      members[at].second = reference_patch(members[at].second, value);
    } else {
      members.emplace_back(name, reference_patch(Json::null(), value));
    }
  }
  return Json::object(std::move(members));
}

// same fails unless a and b are equal, member order included.
void same(const Json& a, const Json& b, const std::string& what) {
  FUZZ_CHECK(a == b, what + ": " + to_json_text(a) + " vs " + to_json_text(b));
  FUZZ_CHECK(to_json_text(a) == to_json_text(b),
             what + " (member order): " + to_json_text(a) + " vs " + to_json_text(b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Json> docs;
  for (std::string_view line : fuzz::lines(text)) {
    if (docs.size() == 12) break;  // pairs are quadratic
    if (auto doc = fuzz::try_parse(line)) docs.push_back(std::move(*doc));
  }
  if (docs.empty()) {
    FUZZ_CHECK(!chronicle::core::fold_merge_patch(docs), "fold_merge_patch of nothing is a value");
    return 0;
  }

  for (const Json& target : docs)
    for (const Json& patch : docs) {
      Json merged = merge_patch(target, patch);
      std::string what = "merge_patch(" + to_json_text(target) + ", " + to_json_text(patch) + ")";
      same(merged, reference_patch(target, patch), what + " vs RFC 7396");
      same(merge_patch(merged, patch), merged, what + " applied twice");
      if (patch.is_object()) FUZZ_CHECK(merged.is_object(), what + " is not an object");
    }

  // fold_merge_patch: the first patch applies to {} when it is an object.
  std::optional<Json> folded = chronicle::core::fold_merge_patch(docs);
  FUZZ_CHECK(folded.has_value(), "fold_merge_patch of " + std::to_string(docs.size()) + " patches is nullopt");
  Json step = docs[0].is_object() ? merge_patch(Json::object({}), docs[0]) : docs[0];
  Json reference = reference_patch(Json::object({}), docs[0]);
  if (!docs[0].is_object()) reference = docs[0];
  for (std::size_t i = 1; i < docs.size(); ++i) {
    step = merge_patch(step, docs[i]);
    reference = reference_patch(reference, docs[i]);
  }
  same(*folded, step, "fold_merge_patch vs merge_patch one at a time");
  same(*folded, reference, "fold_merge_patch vs RFC 7396");
  return 0;
}
