// json.hpp: a small JSON document model with RFC 7396 merge patch, used to
// fold event payloads (chronicle.state, chronicle.timeline).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chronicle::core {

// Json is an immutable-by-convention JSON value. Numbers keep their source
// text so no precision is lost; object members keep insertion order and
// unique keys (a later duplicate key replaces the earlier one, as jsonb does).
class Json {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, Json>;

  Json() = default;  // null
  static Json null() { return Json(); }
  static Json boolean(bool b);
  static Json number(std::string text);  // text must be a valid JSON number
  static Json string(std::string s);     // unescaped UTF-8 contents
  static Json array(std::vector<Json> items);
  static Json object(std::vector<Member> members);

  Kind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == Kind::Null; }
  bool is_object() const noexcept { return kind_ == Kind::Object; }
  bool as_bool() const noexcept { return bool_; }
  const std::string& text() const noexcept { return text_; }  // number text or string contents
  const std::vector<Json>& items() const noexcept { return items_; }
  const std::vector<Member>& members() const noexcept { return members_; }
  const Json* find(std::string_view key) const noexcept;

  bool operator==(const Json& other) const;  // deep equality; object member order ignored
  bool operator!=(const Json& other) const { return !(*this == other); }

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;
  std::vector<Json> items_;
  std::vector<Member> members_;
};

// parse_json parses one JSON text (RFC 8259); trailing garbage, invalid
// escapes or nesting deeper than max_depth throw Error("22P02").
Json parse_json(std::string_view text, int max_depth = 10000);

// to_json_text serialises compactly (no insignificant whitespace); strings are
// escaped as JSON requires.
std::string to_json_text(const Json& value);

// merge_patch applies patch to target as RFC 7396 says: a non-object patch
// replaces the target; an object patch sets its keys recursively and a null
// member removes the key.
Json merge_patch(const Json& target, const Json& patch);

// fold_merge_patch folds patches in order starting from "no value"; the
// result is nullopt only when patches is empty. (The first patch is applied to
// an empty object when it is an object, and stands as it is otherwise.)
std::optional<Json> fold_merge_patch(const std::vector<Json>& patches);

}  // namespace chronicle::core
