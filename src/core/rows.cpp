// rows.cpp: primary-key encoding of tracked tables' streams and the
// assertion-semantics fold of captured changes (SPEC §5).
#include "rows.hpp"

#include <algorithm>
#include <utility>

#include "error.hpp"

namespace chronicle::core {

namespace {

// contains reports whether names holds name (a linear scan: column lists are short).
bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// require_object throws Error("22023") unless a change's row image is an object.
void require_object(const Change& change, const char* what) {
  if (!change.image.is_object())
    throw Error("22023", std::string("the row image of ") + what + " change must be a json object",
                "The change for key \"" + change.key + "\" carries a " +
                    (change.image.is_null() ? "null" : "non-object") + " image.");
}

// updated_row returns row with the columns in assigned set from image: a
// column the row holds keeps its place, one it lacks is appended, and an
// assigned column the image lacks (dropped since) is left as it is. It
// returns nullopt when the update assigns nothing the image carries.
std::optional<Json> updated_row(const Json& row, const Json& image, const std::vector<std::string>& assigned) {
  bool touches = false;
  for (const auto& column : assigned)
    if (image.find(column)) {
      touches = true;
      break;
    }
  if (!touches) return std::nullopt;

  std::vector<Json::Member> members;
  members.reserve(row.members().size() + assigned.size());
  for (const auto& [name, value] : row.members()) {
    const Json* assigned_value = contains(assigned, name) ? image.find(name) : nullptr;
    members.emplace_back(name, assigned_value ? *assigned_value : value);
  }
  std::size_t held = members.size();
  for (const auto& column : assigned) {
    const Json* value = image.find(column);
    if (!value || row.find(column)) continue;
    auto end = members.begin() + static_cast<std::ptrdiff_t>(held);
    bool appended = std::any_of(end, members.end(), [&](const Json::Member& m) { return m.first == column; });
    if (!appended) members.emplace_back(column, *value);
  }
  return Json::object(std::move(members));
}

// renamed_row returns row with member from renamed to to (the renamed value
// replaces a member already named to), or nullopt when row has no member from.
std::optional<Json> renamed_row(const Json& row, const std::string& from, const std::string& to) {
  if (from == to || !row.find(from)) return std::nullopt;
  std::vector<Json::Member> members;
  members.reserve(row.members().size());
  for (const auto& [name, value] : row.members()) {
    if (name == to) continue;
    members.emplace_back(name == from ? to : name, value);
  }
  return Json::object(std::move(members));
}

}  // namespace

// encode_key makes the stream name of a primary key from its columns' texts.
std::string encode_key(const std::vector<std::string>& parts) {
  if (parts.empty())
    throw Error("22023", "a primary key needs at least one column",
                "encode_key was called with no key columns.");
  if (parts.size() == 1) return parts.front();
  std::vector<Json> items;
  items.reserve(parts.size());
  for (const auto& part : parts) items.push_back(Json::string(part));
  return to_json_text(Json::array(std::move(items)));
}

// decode_key splits a stream name back into the texts of nparts key columns.
std::vector<std::string> decode_key(std::string_view stream, std::size_t nparts) {
  if (nparts == 0)
    throw Error("22023", "a primary key needs at least one column",
                "decode_key was called with no key columns.");
  if (nparts == 1) return {std::string(stream)};
  const std::string expected = "a JSON array of " + std::to_string(nparts) + " strings";
  auto malformed = [&](const std::string& why) {
    return Error("22P02", "malformed key \"" + std::string(stream) + "\"",
                 "A key of " + std::to_string(nparts) + " columns is " + expected + "; " + why + ".");
  };
  Json parsed;
  try {
    parsed = parse_json(stream);
  } catch (const Error& e) {
    throw malformed(std::string("it is not valid JSON (") + e.what() + ")");
  }
  if (parsed.kind() != Json::Kind::Array) throw malformed("it is not an array");
  if (parsed.items().size() != nparts)
    throw malformed("it has " + std::to_string(parsed.items().size()) + " elements");
  std::vector<std::string> parts;
  parts.reserve(nparts);
  for (const Json& item : parsed.items()) {
    if (item.kind() != Json::Kind::String) throw malformed("an element is not a string");
    parts.push_back(item.text());
  }
  return parts;
}

// parse_change_op maps an event type to the kind of change it records.
std::optional<ChangeOp> parse_change_op(std::string_view type) {
  if (type == "snapshot") return ChangeOp::Snapshot;
  if (type == "insert") return ChangeOp::Insert;
  if (type == "update") return ChangeOp::Update;
  if (type == "delete") return ChangeOp::Delete;
  if (type == "truncate") return ChangeOp::Truncate;
  if (type == "schema") return ChangeOp::Schema;
  return std::nullopt;
}

// RowFold::apply applies one change to the rows held, with assertion semantics.
void RowFold::apply(const Change& change) {
  switch (change.op) {
    case ChangeOp::Snapshot:
    case ChangeOp::Insert: {
      require_object(change, change.op == ChangeOp::Snapshot ? "a snapshot" : "an insert");
      auto found = rows_.find(change.key);
      if (found != rows_.end()) found->second = change.image;
      else rows_.emplace(change.key, change.image);
      return;
    }
    case ChangeOp::Update: {
      require_object(change, "an update");
      auto found = rows_.find(change.key);
      if (found == rows_.end()) return;  // no row: the update asserts nothing here
      if (auto row = updated_row(found->second, change.image, change.assigned)) found->second = std::move(*row);
      return;
    }
    case ChangeOp::Delete:
      rows_.erase(change.key);
      return;
    case ChangeOp::Truncate:
      rows_.clear();
      return;
    case ChangeOp::Schema:
      for (const auto& [from, to] : change.renames)
        for (auto& entry : rows_)
          if (auto row = renamed_row(entry.second, from, to)) entry.second = std::move(*row);
      return;
  }
}

// RowFold::rows lists the rows held in byte order of their keys.
std::vector<std::pair<std::string, const Json*>> RowFold::rows() const {
  std::vector<std::pair<std::string, const Json*>> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) out.emplace_back(key, &row);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// RowFold::find returns the row held for key, or nullptr.
const Json* RowFold::find(const std::string& key) const {
  auto found = rows_.find(key);
  return found == rows_.end() ? nullptr : &found->second;
}

}  // namespace chronicle::core
