// fuzz_rows.cpp: RowFold and ReverseFold (rows.hpp) on random sequences of
// captured changes, one per line, oldest first:
//     i KEY {image}          insert        s KEY {image}   snapshot
//     u KEY a,b {image}      update of columns a and b ("-": none)
//     d KEY                  delete        t               truncate
//     r OLD NEW [OLD NEW…]   schema change renaming columns
// Each line is also an event type for parse_change_op. Lines that do not
// decode are skipped; a non-object image must make RowFold throw Error
// 22023. Checked: RowFold against a plain map model of
// the header's rules (values and member order); ReverseFold fed the changes
// newest first (schema changes left out, as its header requires) against
// RowFold fed them forward, both by a caller that passes every image (same
// rows, same member order) and by one that uses settled()/wants()/done() to
// skip images (same rows; same member order when every update's image
// carries the columns it assigns).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "fuzz_util.hpp"
#include "json.hpp"
#include "rows.hpp"

using chronicle::core::Change;
using chronicle::core::ChangeOp;
using chronicle::core::Json;
using chronicle::core::ReverseFold;
using chronicle::core::RowFold;
using chronicle::core::to_json_text;
namespace core = chronicle::core;
namespace fuzz = chronicle::fuzz;

namespace {

using Members = std::vector<Json::Member>;

// find_member returns the index of name in row, or row.size().
std::size_t find_member(const Members& row, const std::string& name) {
  std::size_t i = 0;
  while (i < row.size() && row[i].first != name) ++i;
  return i;
}

// Model is RowFold's documented behaviour written plainly.
struct Model {
  std::map<std::string, Members> rows;

  void apply(const Change& c) {
    switch (c.op) {
      case ChangeOp::Snapshot:
      case ChangeOp::Insert:
        rows[c.key] = c.image.members();
        return;
      case ChangeOp::Update: {
        auto found = rows.find(c.key);
        if (found == rows.end()) return;
        for (const std::string& column : c.assigned) {
          const Json* value = c.image.find(column);
          if (!value) continue;  // dropped since: left as it is
          std::size_t at = find_member(found->second, column);
          if (at < found->second.size())
            found->second[at].second = *value;
          else
            found->second.emplace_back(column, *value);
        }
        return;
      }
      case ChangeOp::Delete:
        rows.erase(c.key);
        return;
      case ChangeOp::Truncate:
        rows.clear();
        return;
      case ChangeOp::Schema:
        for (const auto& [from, to] : c.renames)
          for (auto& [key, row] : rows) {
            if (from == to || find_member(row, from) == row.size()) continue;
            std::size_t old = find_member(row, to);
            if (old < row.size()) row.erase(row.begin() + static_cast<std::ptrdiff_t>(old));
            row[find_member(row, from)].first = to;
          }
        return;
    }
  }
};

// decode_change reads one line; nullopt when it does not decode or when its
// image is not an object (after checking that RowFold refuses that).
std::optional<Change> decode_change(std::string_view line) {
  auto tok = fuzz::tokens(line);
  if (tok.empty() || tok[0].size() != 1) return std::nullopt;
  Change c;
  std::size_t image_at = 0;
  switch (tok[0][0]) {
    case 'i':
      c.op = ChangeOp::Insert;
      image_at = 2;
      break;
    case 's':
      c.op = ChangeOp::Snapshot;
      image_at = 2;
      break;
    case 'u':
      c.op = ChangeOp::Update;
      image_at = 3;
      break;
    case 'd':
      c.op = ChangeOp::Delete;
      break;
    case 't':
      c.op = ChangeOp::Truncate;
      return c;
    case 'r':
      c.op = ChangeOp::Schema;
      for (std::size_t k = 1; k + 1 < tok.size(); k += 2) c.renames.emplace_back(tok[k], tok[k + 1]);
      return c;
    default:
      return std::nullopt;
  }
  if (tok.size() < 2) return std::nullopt;
  c.key = std::string(tok[1]);
  if (c.op == ChangeOp::Delete) return c;
  if (tok.size() <= image_at) return std::nullopt;
  if (c.op == ChangeOp::Update && tok[2] != "-") {
    std::string_view cols = tok[2];
    while (!cols.empty()) {
      std::size_t comma = cols.find(',');
      std::string_view col = cols.substr(0, comma);
      if (!col.empty()) c.assigned.emplace_back(col);
      if (comma == std::string_view::npos) break;
      cols.remove_prefix(comma + 1);
    }
  }
  auto image = fuzz::try_parse(fuzz::rest_after(line, image_at));
  if (!image) return std::nullopt;
  c.image = std::move(*image);
  if (!c.image.is_object()) {
    RowFold scratch;
    bool refused = false;
    try {
      scratch.apply(c);
    } catch (const core::Error& e) {
      refused = e.sqlstate() == "22023";
    }
    FUZZ_CHECK(refused, "RowFold accepted a non-object image: " + std::string(line));
    return std::nullopt;
  }
  return c;
}

// check_change_op checks parse_change_op on a line taken as an event type.
void check_change_op(std::string_view type) {
  static const char* names[] = {"snapshot", "insert", "update", "delete", "truncate", "schema"};
  std::optional<ChangeOp> want;
  for (int k = 0; k < 6; ++k)
    if (type == names[k]) want = static_cast<ChangeOp>(k);
  FUZZ_CHECK(core::parse_change_op(type) == want, "parse_change_op(\"" + std::string(type) + "\")");
}

// text_of renders rows (key and exact member order) for comparison.
std::string text_of(const std::vector<std::pair<std::string, Json>>& rows) {
  std::string out;
  for (const auto& [key, row] : rows) out += key + " " + to_json_text(row) + "\n";
  return out;
}

// rows_of copies RowFold's rows.
std::vector<std::pair<std::string, Json>> rows_of(const RowFold& fold) {
  std::vector<std::pair<std::string, Json>> out;
  for (const auto& [key, row] : fold.rows()) out.emplace_back(key, *row);
  return out;
}

// equal_rows compares rows by key and value, member order ignored.
bool equal_rows(const std::vector<std::pair<std::string, Json>>& a,
                const std::vector<std::pair<std::string, Json>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || a[i].second != b[i].second) return false;
  return true;
}

// describe renders the changes for a failure message.
std::string describe(const std::vector<Change>& changes) {
  static const char* ops = "siudtr";
  std::string out = "changes, oldest first:\n";
  for (const Change& c : changes) {
    out += std::string("  ") + ops[static_cast<int>(c.op)] + " " + c.key;
    for (const auto& a : c.assigned) out += " " + a;
    for (const auto& [from, to] : c.renames) out += " " + from + "->" + to;
    if (c.image.is_object()) out += " " + to_json_text(c.image);
    out += "\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<Change> changes;
  for (std::string_view line : fuzz::lines(std::string_view(reinterpret_cast<const char*>(data), size))) {
    check_change_op(line);
    if (changes.size() < 64)
      if (auto c = decode_change(line)) changes.push_back(std::move(*c));
  }

  // RowFold against the model, schema changes included.
  RowFold fold;
  Model model;
  for (const Change& c : changes) {
    fold.apply(c);
    model.apply(c);
  }
  std::vector<std::pair<std::string, Json>> want;
  for (const auto& [key, members] : model.rows) want.emplace_back(key, Json::object(members));
  std::vector<std::pair<std::string, Json>> got = rows_of(fold);
  FUZZ_CHECK(text_of(got) == text_of(want),
             "RowFold:\n" + text_of(got) + "model:\n" + text_of(want) + describe(changes));
  FUZZ_CHECK(fold.size() == want.size(), "RowFold::size disagrees with rows()");
  for (const auto& [key, row] : want)
    FUZZ_CHECK(fold.find(key) && *fold.find(key) == row, "RowFold::find(" + key + ")");

  // ReverseFold against RowFold, without schema changes.
  std::vector<Change> plain;
  bool images_carry_assigned = true;
  for (const Change& c : changes) {
    if (c.op == ChangeOp::Schema) continue;
    plain.push_back(c);
    if (c.op == ChangeOp::Update)
      for (const auto& column : c.assigned)
        if (!c.image.find(column)) images_carry_assigned = false;
  }
  RowFold forward;
  for (const Change& c : plain) forward.apply(c);
  std::vector<std::pair<std::string, Json>> forward_rows = rows_of(forward);

  ReverseFold eager;
  for (auto c = plain.rbegin(); c != plain.rend(); ++c) eager.apply(*c);
  FUZZ_CHECK(text_of(eager.rows()) == text_of(forward_rows), "ReverseFold, every image passed:\n" +
                                                                 text_of(eager.rows()) + "RowFold:\n" +
                                                                 text_of(forward_rows) + describe(plain));

  ReverseFold lazy;
  for (auto c = plain.rbegin(); c != plain.rend() && !lazy.done(); ++c) {
    Change fed = *c;
    bool skip_image = c->op == ChangeOp::Update ? !lazy.wants(c->key, c->assigned)
                                                : c->op != ChangeOp::Truncate && lazy.settled(c->key);
    if (skip_image) fed.image = Json::null();
    lazy.apply(fed);
  }
  FUZZ_CHECK(equal_rows(lazy.rows(), forward_rows), "ReverseFold, images skipped:\n" + text_of(lazy.rows()) +
                                                        "RowFold:\n" + text_of(forward_rows) + describe(plain));
  if (images_carry_assigned)
    FUZZ_CHECK(text_of(lazy.rows()) == text_of(forward_rows), "ReverseFold member order, images skipped:\n" +
                                                                  text_of(lazy.rows()) + "RowFold:\n" +
                                                                  text_of(forward_rows) + describe(plain));
  return 0;
}
