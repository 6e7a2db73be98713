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

// ---------------------------------------------------------------- ReverseFold
//
// Member order: RowFold keeps the row's members where they are and appends a
// column the row lacks when an update first sets it, so the final row is the
// settling image's members followed by the other recorded columns in the
// order of the oldest update that set them (then their place in its assigned
// list). Pending::columns is kept in exactly that order: each older Update
// moves the columns it sets to the front, in its assigned order. An Update
// fed with a null image (wants() said no: all its columns are already
// recorded) is taken to carry the columns it assigned, which holds whenever
// images carry their assigned columns; a caller that passes the image anyway
// gets RowFold's order in every case.

namespace {

// find_column returns the index of name in columns from first on, or npos.
std::size_t find_column(const std::vector<std::pair<std::string, Json>>& columns, std::size_t first,
                        const std::string& name) {
  for (std::size_t i = first; i < columns.size(); ++i)
    if (columns[i].first == name) return i;
  return std::string::npos;
}

// release_columns frees the recorded columns of a key that needs them no more.
void release_columns(std::vector<std::pair<std::string, Json>>& columns) {
  std::vector<std::pair<std::string, Json>>().swap(columns);
}

}  // namespace

// ReverseFold::settled tells whether no older change can affect key.
bool ReverseFold::settled(const std::string& key) const {
  if (done_) return true;
  auto found = keys_.find(key);
  return found != keys_.end() && found->second.settled;
}

// ReverseFold::wants tells whether an Update of key assigning these columns
// would record a value (one of them is still open).
bool ReverseFold::wants(const std::string& key, const std::vector<std::string>& assigned) const {
  if (done_ || assigned.empty()) return false;
  auto found = keys_.find(key);
  if (found == keys_.end()) return true;
  const Pending& pending = found->second;
  if (pending.settled) return false;
  for (const auto& column : assigned)
    if (find_column(pending.columns, 0, column) == std::string::npos) return true;
  return false;
}

// ReverseFold::apply feeds the next older change, with one lookup of its key.
void ReverseFold::apply(const Change& change) {
  if (done_) return;
  switch (change.op) {
    case ChangeOp::Truncate:
      for (auto& entry : keys_) {
        Pending& pending = entry.second;
        if (pending.settled) continue;
        pending.settled = true;
        pending.present = false;
        release_columns(pending.columns);
      }
      done_ = true;
      return;
    case ChangeOp::Schema:
      return;  // not fed: the caller renames images to one set of names
    case ChangeOp::Snapshot:
    case ChangeOp::Insert:
    case ChangeOp::Update:
    case ChangeOp::Delete:
      break;
  }

  Pending& pending = keys_.try_emplace(change.key).first->second;
  if (pending.settled) return;  // a newer change decided this key
  auto& columns = pending.columns;

  switch (change.op) {
    case ChangeOp::Update: {
      const bool have_image = !change.image.is_null();
      if (have_image) require_object(change, "an update");
      // Move the columns this update sets to the front, in its assigned
      // order, recording those still open; [0, front) holds them.
      std::size_t front = 0;
      for (const auto& column : change.assigned) {
        if (find_column(columns, 0, column) < front) continue;  // listed twice
        const Json* value = have_image ? change.image.find(column) : nullptr;
        std::size_t at = find_column(columns, front, column);
        if (at != std::string::npos) {
          if (have_image && !value) continue;  // the image lacks it: this update leaves it
          std::rotate(columns.begin() + static_cast<std::ptrdiff_t>(front),
                      columns.begin() + static_cast<std::ptrdiff_t>(at),
                      columns.begin() + static_cast<std::ptrdiff_t>(at) + 1);
        } else {
          if (!value) continue;  // still open: an older change decides it
          columns.emplace(columns.begin() + static_cast<std::ptrdiff_t>(front), column, *value);
        }
        ++front;
      }
      return;
    }
    case ChangeOp::Snapshot:
    case ChangeOp::Insert: {
      require_object(change, change.op == ChangeOp::Snapshot ? "a snapshot" : "an insert");
      if (columns.empty()) {
        pending.row = change.image;
      } else {
        const auto& image = change.image.members();
        std::vector<Json::Member> members;
        members.reserve(image.size() + columns.size());
        members.insert(members.end(), image.begin(), image.end());
        const std::size_t held = members.size();
        for (auto& [name, value] : columns) {
          auto end = members.begin() + static_cast<std::ptrdiff_t>(held);
          // An init-capture: C++17 cannot capture a structured binding (clang refuses it).
          auto in_image =
              std::find_if(members.begin(), end, [&name = name](const Json::Member& m) { return m.first == name; });
          if (in_image != end) in_image->second = std::move(value);
          else members.emplace_back(std::move(name), std::move(value));
        }
        pending.row = Json::object(std::move(members));
      }
      pending.settled = true;
      pending.present = true;
      release_columns(columns);
      return;
    }
    case ChangeOp::Delete:
      pending.settled = true;
      pending.present = false;
      release_columns(columns);
      return;
    case ChangeOp::Truncate:
    case ChangeOp::Schema:
      return;  // handled above
  }
}

// ReverseFold::rows lists the rows present in byte order of their keys.
std::vector<std::pair<std::string, Json>> ReverseFold::rows() const {
  std::vector<const std::pair<const std::string, Pending>*> present;
  for (const auto& entry : keys_)
    if (entry.second.present) present.push_back(&entry);
  std::sort(present.begin(), present.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  std::vector<std::pair<std::string, Json>> out;
  out.reserve(present.size());
  for (const auto* entry : present) out.emplace_back(entry->first, entry->second.row);
  return out;
}

}  // namespace chronicle::core
