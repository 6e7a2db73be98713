// rows_test.cpp: primary-key encoding of tracked tables' streams and the
// assertion-semantics fold of captured changes (RowFold), checked against a
// plain std::map reference on a long random sequence; ReverseFold, fed the
// same changes newest first, checked against RowFold fed them forward.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "json.hpp"
#include "rows.hpp"

namespace chronicle::core {
namespace {

// J parses text, for brevity in expectations.
Json J(const std::string& text) { return parse_json(text); }

// sqlstate_of returns the SQLSTATE of the Error f throws (fails the test and
// returns "" when it throws nothing).
template <typename F>
std::string sqlstate_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.sqlstate();
  }
  ADD_FAILURE() << "no Error thrown";
  return "";
}

// insert makes an insert of image at key.
Change insert(const std::string& key, const std::string& image) {
  Change c;
  c.op = ChangeOp::Insert;
  c.key = key;
  c.image = J(image);
  return c;
}

// snapshot makes a snapshot of image at key.
Change snapshot(const std::string& key, const std::string& image) {
  Change c = insert(key, image);
  c.op = ChangeOp::Snapshot;
  return c;
}

// update makes an update of key assigning columns, with the row image after it.
Change update(const std::string& key, std::vector<std::string> assigned, const std::string& image) {
  Change c;
  c.op = ChangeOp::Update;
  c.key = key;
  c.image = J(image);
  c.assigned = std::move(assigned);
  return c;
}

// erase makes a delete of key.
Change erase(const std::string& key) {
  Change c;
  c.op = ChangeOp::Delete;
  c.key = key;
  return c;
}

// truncate makes a truncate.
Change truncate() {
  Change c;
  c.op = ChangeOp::Truncate;
  return c;
}

// schema makes a schema change with the given column renames.
Change schema(std::vector<std::pair<std::string, std::string>> renames) {
  Change c;
  c.op = ChangeOp::Schema;
  c.renames = std::move(renames);
  return c;
}

// row_text returns the serialised row held for key, or "absent".
std::string row_text(const RowFold& fold, const std::string& key) {
  const Json* row = fold.find(key);
  return row ? to_json_text(*row) : "absent";
}

// ---------------------------------------------------------------- keys

TEST(RowKey, SingleColumnIsTheTextItself) {
  EXPECT_EQ(encode_key({"42"}), "42");
  EXPECT_EQ(encode_key({"abc"}), "abc");
  EXPECT_EQ(encode_key({""}), "");
  EXPECT_EQ(encode_key({"[\"a\",\"b\"]"}), "[\"a\",\"b\"]");
  EXPECT_EQ(decode_key("42", 1), std::vector<std::string>{"42"});
  EXPECT_EQ(decode_key("[\"a\",\"b\"]", 1), std::vector<std::string>{"[\"a\",\"b\"]"});
  EXPECT_EQ(decode_key("", 1), std::vector<std::string>{""});
}

TEST(RowKey, CompositeIsACompactJsonArrayOfStrings) {
  EXPECT_EQ(encode_key({"a", "42"}), R"(["a","42"])");
  EXPECT_EQ(encode_key({"", ""}), R"(["",""])");
  EXPECT_EQ(encode_key({"x", "y", "z"}), R"(["x","y","z"])");
  EXPECT_EQ(encode_key({"a\"b", "c\\d"}), R"(["a\"b","c\\d"])");
  EXPECT_EQ(encode_key({"line\nbreak", "tab\t"}), R"(["line\nbreak","tab\t"])");
  EXPECT_EQ(encode_key({"caf\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC"}), "[\"caf\xC3\xA9\",\"\xE6\x97\xA5\xE6\x9C\xAC\"]");
  // Escaped exactly as to_json_text escapes strings.
  std::string odd = std::string("\x01\x1f\"\\/ \xF0\x9F\x98\x80", 10);
  EXPECT_EQ(encode_key({odd, "1"}), to_json_text(Json::array({Json::string(odd), Json::string("1")})));
}

TEST(RowKey, RoundTrips) {
  const std::vector<std::vector<std::string>> keys = {
      {"a", "42"},
      {"", ""},
      {"a\"b", "c\\d"},
      {"\"", "\\"},
      {"[\"a\"", "\"b\"]"},
      {"a,b", "c"},
      {"a", "b,c"},
      {"caf\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x98\x80"},
      {std::string("\x01\x02\b\f\n\r\t\x1f", 8), "\x7f"},
      {"\\u0041", "\\\"", "null"},
  };
  for (const auto& parts : keys) {
    std::string stream = encode_key(parts);
    EXPECT_EQ(decode_key(stream, parts.size()), parts) << stream;
  }
  for (const auto& one : {"42", "", "a\"b", "[\"a\",\"b\"]", "caf\xC3\xA9"})
    EXPECT_EQ(decode_key(encode_key({one}), 1), std::vector<std::string>{one});
}

TEST(RowKey, InjectiveForAGivenNumberOfColumns) {
  EXPECT_NE(encode_key({"a,b", "c"}), encode_key({"a", "b,c"}));
  EXPECT_NE(encode_key({"a\",\"b", "c"}), encode_key({"a", "b\",\"c"}));
  EXPECT_NE(encode_key({"", "ab"}), encode_key({"a", "b"}));
  EXPECT_NE(encode_key({"1", "2"}), encode_key({"12", ""}));
}

TEST(RowKey, NoColumnsIsRefused) {
  EXPECT_EQ(sqlstate_of([] { encode_key({}); }), "22023");
  EXPECT_EQ(sqlstate_of([] { decode_key("42", 0); }), "22023");
}

TEST(RowKey, MalformedCompositeStreams) {
  EXPECT_EQ(sqlstate_of([] { decode_key("42", 2); }), "22P02");          // a number
  EXPECT_EQ(sqlstate_of([] { decode_key("abc", 2); }), "22P02");         // not JSON
  EXPECT_EQ(sqlstate_of([] { decode_key("", 2); }), "22P02");            // empty
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\"", 2); }), "22P02");      // unterminated
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\",\"b\"]x", 2); }), "22P02");  // trailing garbage
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\"]", 2); }), "22P02");     // too few
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\",\"b\",\"c\"]", 2); }), "22P02");  // too many
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\",1]", 2); }), "22P02");   // not a string
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\",null]", 2); }), "22P02");
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\",[\"b\"]]", 2); }), "22P02");
  EXPECT_EQ(sqlstate_of([] { decode_key("{\"a\":\"b\"}", 2); }), "22P02");  // an object
  EXPECT_EQ(sqlstate_of([] { decode_key("\"a\"", 2); }), "22P02");       // a lone string
  EXPECT_EQ(sqlstate_of([] { decode_key("[\"a\\x\",\"b\"]", 2); }), "22P02");  // bad escape
}

TEST(RowKey, MalformedMessageNamesTheStream) {
  try {
    decode_key("[\"a\"]", 2);
    FAIL() << "no Error thrown";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("malformed key"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[\"a\"]"), std::string::npos) << e.what();
    EXPECT_FALSE(e.detail().empty());
  }
}

// ---------------------------------------------------------------- ops

TEST(RowChangeOp, ExactLowerCaseNames) {
  EXPECT_EQ(parse_change_op("snapshot"), ChangeOp::Snapshot);
  EXPECT_EQ(parse_change_op("insert"), ChangeOp::Insert);
  EXPECT_EQ(parse_change_op("update"), ChangeOp::Update);
  EXPECT_EQ(parse_change_op("delete"), ChangeOp::Delete);
  EXPECT_EQ(parse_change_op("truncate"), ChangeOp::Truncate);
  EXPECT_EQ(parse_change_op("schema"), ChangeOp::Schema);
  for (const char* other : {"", "INSERT", "Insert", "insert ", " insert", "inserted", "upsert", "del", "merge"})
    EXPECT_EQ(parse_change_op(other), std::nullopt) << other;
  EXPECT_EQ(parse_change_op(std::string_view("insert\0", 7)), std::nullopt);
}

// ---------------------------------------------------------------- fold

TEST(RowFold, StartsEmpty) {
  RowFold fold;
  EXPECT_EQ(fold.size(), 0u);
  EXPECT_TRUE(fold.rows().empty());
  EXPECT_EQ(fold.find("1"), nullptr);
}

TEST(RowFold, InsertAndSnapshotSetTheWholeRow) {
  RowFold fold;
  fold.apply(snapshot("1", R"({"id":1,"name":"a","qty":1})"));
  fold.apply(insert("2", R"({"id":2,"name":"b"})"));
  EXPECT_EQ(fold.size(), 2u);
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":"a","qty":1})");
  EXPECT_EQ(row_text(fold, "2"), R"({"id":2,"name":"b"})");
  // A later insert of the same key replaces the whole row, dropping columns.
  fold.apply(insert("1", R"({"id":1,"qty":9})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"qty":9})");
  fold.apply(snapshot("2", R"({"id":2})"));
  EXPECT_EQ(row_text(fold, "2"), R"({"id":2})");
  EXPECT_EQ(fold.size(), 2u);
}

TEST(RowFold, UpdateTouchesOnlyAssignedColumns) {
  RowFold fold;
  fold.apply(insert("1", R"({"id":1,"name":"a","qty":1})"));
  fold.apply(update("1", {"qty"}, R"({"id":1,"name":"zzz","qty":2})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":"a","qty":2})");
  fold.apply(update("1", {"name", "qty"}, R"({"id":1,"name":"b","qty":3})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":"b","qty":3})");
  // Member order is kept; the value may change kind.
  fold.apply(update("1", {"name"}, R"({"qty":0,"name":null,"id":7})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":null,"qty":3})");
  // Assigning nothing changes nothing.
  fold.apply(update("1", {}, R"({"id":5,"name":"x","qty":5})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":null,"qty":3})");
}

TEST(RowFold, UpdateOfAMissingRowIsANoOp) {
  RowFold fold;
  fold.apply(update("1", {"qty"}, R"({"id":1,"qty":2})"));
  EXPECT_EQ(fold.size(), 0u);
  EXPECT_EQ(fold.find("1"), nullptr);
  fold.apply(insert("2", R"({"id":2,"qty":1})"));
  fold.apply(update("1", {"qty"}, R"({"id":1,"qty":2})"));
  EXPECT_EQ(fold.size(), 1u);
  EXPECT_EQ(row_text(fold, "2"), R"({"id":2,"qty":1})");
  // After a delete the key is missing again.
  fold.apply(erase("2"));
  fold.apply(update("2", {"qty"}, R"({"id":2,"qty":5})"));
  EXPECT_EQ(fold.size(), 0u);
}

TEST(RowFold, UpdateOfAColumnTheRowLacksAppendsIt) {
  RowFold fold;
  fold.apply(insert("1", R"({"id":1,"name":"a"})"));
  fold.apply(update("1", {"qty", "name"}, R"({"id":1,"name":"b","qty":4})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":"b","qty":4})");
  // A column listed twice is appended once.
  fold.apply(update("1", {"extra", "extra"}, R"({"extra":true})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":"b","qty":4,"extra":true})");
}

TEST(RowFold, UpdateOfAColumnTheImageLacksLeavesIt) {
  RowFold fold;
  fold.apply(insert("1", R"({"id":1,"name":"a","qty":1})"));
  // qty was dropped since: the image no longer carries it.
  fold.apply(update("1", {"qty", "name"}, R"({"id":1,"name":"b"})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":"b","qty":1})");
  fold.apply(update("1", {"gone"}, R"({"id":1})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"name":"b","qty":1})");
}

TEST(RowFold, DeleteAndTruncate) {
  RowFold fold;
  fold.apply(insert("1", R"({"id":1})"));
  fold.apply(insert("2", R"({"id":2})"));
  fold.apply(insert("3", R"({"id":3})"));
  fold.apply(erase("2"));
  EXPECT_EQ(fold.size(), 2u);
  EXPECT_EQ(fold.find("2"), nullptr);
  fold.apply(erase("2"));  // deleting a missing row is a no-op
  fold.apply(erase("9"));
  EXPECT_EQ(fold.size(), 2u);
  fold.apply(truncate());
  EXPECT_EQ(fold.size(), 0u);
  EXPECT_TRUE(fold.rows().empty());
  fold.apply(truncate());
  EXPECT_EQ(fold.size(), 0u);
  // Rows come back after a truncate.
  fold.apply(insert("2", R"({"id":2,"v":"again"})"));
  EXPECT_EQ(row_text(fold, "2"), R"({"id":2,"v":"again"})");
  fold.apply(update("1", {"v"}, R"({"id":1,"v":"x"})"));
  EXPECT_EQ(fold.find("1"), nullptr);
}

TEST(RowFold, SnapshotThenChanges) {
  RowFold fold;
  fold.apply(snapshot("1", R"({"id":1,"s":"open"})"));
  fold.apply(snapshot("2", R"({"id":2,"s":"open"})"));
  fold.apply(update("1", {"s"}, R"({"id":1,"s":"closed"})"));
  fold.apply(erase("2"));
  fold.apply(insert("3", R"({"id":3,"s":"new"})"));
  auto rows = fold.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, "1");
  EXPECT_EQ(to_json_text(*rows[0].second), R"({"id":1,"s":"closed"})");
  EXPECT_EQ(rows[1].first, "3");
  EXPECT_EQ(to_json_text(*rows[1].second), R"({"id":3,"s":"new"})");
}

TEST(RowFold, RenameThenLaterImages) {
  RowFold fold;
  fold.apply(insert("1", R"({"id":1,"qty":1,"note":"n"})"));
  fold.apply(insert("2", R"({"id":2,"note":"m"})"));
  fold.apply(schema({{"qty", "quantity"}}));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"quantity":1,"note":"n"})");
  EXPECT_EQ(row_text(fold, "2"), R"({"id":2,"note":"m"})");  // no qty: unchanged
  // Later images use the new name.
  fold.apply(update("1", {"quantity"}, R"({"id":1,"quantity":5,"note":"n"})"));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"quantity":5,"note":"n"})");
  fold.apply(update("2", {"quantity"}, R"({"id":2,"quantity":7,"note":"m"})"));
  EXPECT_EQ(row_text(fold, "2"), R"({"id":2,"note":"m","quantity":7})");
  fold.apply(insert("3", R"({"id":3,"quantity":3})"));
  EXPECT_EQ(row_text(fold, "3"), R"({"id":3,"quantity":3})");
  // Renames apply in order: a chain moves the value along.
  fold.apply(schema({{"note", "memo"}, {"memo", "remark"}}));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"quantity":5,"remark":"n"})");
  EXPECT_EQ(row_text(fold, "3"), R"({"id":3,"quantity":3})");
  // A swap through a temporary name.
  fold.apply(schema({{"quantity", "tmp"}, {"remark", "quantity"}, {"tmp", "remark"}}));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"remark":5,"quantity":"n"})");
  // Renaming to itself changes nothing; an empty schema change neither.
  fold.apply(schema({{"id", "id"}}));
  fold.apply(schema({}));
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1,"remark":5,"quantity":"n"})");
  EXPECT_EQ(fold.size(), 3u);
}

TEST(RowFold, RenameOntoAnExistingNameReplacesIt) {
  RowFold fold;
  fold.apply(insert("1", R"({"id":1,"a":"old a","b":"old b"})"));
  fold.apply(insert("2", R"({"id":2,"b":"only b"})"));
  fold.apply(schema({{"a", "b"}}));
  const Json* row = fold.find("1");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(*row, J(R"({"id":1,"b":"old a"})"));
  EXPECT_EQ(row->members().size(), 2u);
  EXPECT_EQ(row->find("a"), nullptr);
  EXPECT_EQ(row_text(fold, "2"), R"({"id":2,"b":"only b"})");  // no a: unchanged
}

TEST(RowFold, RowsAreOrderedByKeyBytes) {
  RowFold fold;
  for (const char* key : {"b", "a", "10", "9", "caf\xC3\xA9", "", "B", "[\"a\",\"1\"]", "a\x01"})
    fold.apply(insert(key, R"({})"));
  auto rows = fold.rows();
  std::vector<std::string> keys;
  for (const auto& [key, row] : rows) {
    keys.push_back(key);
    EXPECT_EQ(row, fold.find(key));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"", "10", "9", "B", "[\"a\",\"1\"]", "a", "a\x01", "b", "caf\xC3\xA9"}));
}

TEST(RowFold, NonObjectImagesAreRefused) {
  RowFold fold;
  EXPECT_EQ(sqlstate_of([&] { fold.apply(insert("1", "[1]")); }), "22023");
  EXPECT_EQ(sqlstate_of([&] { fold.apply(snapshot("1", "3")); }), "22023");
  Change null_insert;
  null_insert.op = ChangeOp::Insert;
  null_insert.key = "1";
  EXPECT_EQ(sqlstate_of([&] { fold.apply(null_insert); }), "22023");
  EXPECT_EQ(fold.size(), 0u);
  fold.apply(insert("1", R"({"id":1})"));
  EXPECT_EQ(sqlstate_of([&] { fold.apply(update("1", {"id"}, "\"x\"")); }), "22023");
  EXPECT_EQ(row_text(fold, "1"), R"({"id":1})");
  // Delete and truncate carry no image.
  fold.apply(erase("1"));
  fold.apply(truncate());
  EXPECT_EQ(fold.size(), 0u);
}

// ---------------------------------------------------------------- randomized

// RefRow is the reference's row: column name to value, order ignored.
using RefRow = std::map<std::string, Json>;

// Reference is the simplest fold of the same semantics, over std::map.
struct Reference {
  std::map<std::string, RefRow> rows;

  // apply applies one change to the reference's rows.
  void apply(const Change& c) {
    switch (c.op) {
      case ChangeOp::Snapshot:
      case ChangeOp::Insert: {
        RefRow row;
        for (const auto& [name, value] : c.image.members()) row[name] = value;
        rows[c.key] = row;
        break;
      }
      case ChangeOp::Update: {
        auto found = rows.find(c.key);
        if (found == rows.end()) break;
        for (const auto& column : c.assigned)
          if (const Json* value = c.image.find(column)) found->second[column] = *value;
        break;
      }
      case ChangeOp::Delete: rows.erase(c.key); break;
      case ChangeOp::Truncate: rows.clear(); break;
      case ChangeOp::Schema:
        for (const auto& [from, to] : c.renames)
          for (auto& [key, row] : rows) {
            auto found = row.find(from);
            if (from == to || found == row.end()) continue;
            Json value = found->second;
            row.erase(found);
            row[to] = value;
          }
        break;
    }
  }
};

// expect_same checks that fold holds exactly the reference's rows, in key order.
void expect_same(const RowFold& fold, const Reference& ref, int step) {
  ASSERT_EQ(fold.size(), ref.rows.size()) << "step " << step;
  auto rows = fold.rows();
  ASSERT_EQ(rows.size(), ref.rows.size()) << "step " << step;
  auto expected = ref.rows.begin();
  for (const auto& [key, row] : rows) {
    ASSERT_EQ(key, expected->first) << "step " << step;
    ASSERT_TRUE(row->is_object());
    RefRow actual;
    for (const auto& [name, value] : row->members()) {
      ASSERT_TRUE(actual.emplace(name, value).second) << "duplicate member " << name << " at step " << step;
    }
    ASSERT_EQ(actual, expected->second) << "key " << key << " at step " << step << ": " << to_json_text(*row);
    ++expected;
  }
}

TEST(RowFold, MatchesAReferenceOnARandomSequence) {
  std::mt19937 rng(20240611);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> columns = {"id", "a", "b", "c", "d", "e"};
  auto random_value = [&]() -> Json {
    switch (pick(4)) {
      case 0: return Json::number(std::to_string(pick(100)));
      case 1: return Json::string("s" + std::to_string(pick(100)));
      case 2: return Json::null();
      default: return Json::boolean(pick(2) == 1);
    }
  };
  auto random_image = [&](int density) {
    std::vector<Json::Member> members;
    for (const auto& column : columns)
      if (pick(10) < density) members.emplace_back(column, random_value());
    std::shuffle(members.begin(), members.end(), rng);
    return Json::object(std::move(members));
  };
  auto random_key = [&]() {
    int k = pick(60);
    return k % 3 == 0 ? encode_key({std::to_string(k), "x\"" + std::to_string(k % 7)}) : std::to_string(k);
  };

  RowFold fold;
  Reference ref;
  const int steps = 30000;
  for (int step = 0; step < steps; ++step) {
    Change c;
    int roll = pick(1000);
    if (roll < 300) {
      c.op = ChangeOp::Insert;
    } else if (roll < 330) {
      c.op = ChangeOp::Snapshot;
    } else if (roll < 800) {
      c.op = ChangeOp::Update;
    } else if (roll < 990) {
      c.op = ChangeOp::Delete;
    } else if (roll < 993) {
      c.op = ChangeOp::Truncate;
    } else {
      c.op = ChangeOp::Schema;
    }
    switch (c.op) {
      case ChangeOp::Snapshot:
      case ChangeOp::Insert:
        c.key = random_key();
        c.image = random_image(7);
        break;
      case ChangeOp::Update: {
        c.key = random_key();
        c.image = random_image(8);
        int n = pick(4);
        for (int i = 0; i < n; ++i) c.assigned.push_back(columns[pick(static_cast<int>(columns.size()))]);
        break;
      }
      case ChangeOp::Delete: c.key = random_key(); break;
      case ChangeOp::Truncate: break;
      case ChangeOp::Schema: {
        int n = 1 + pick(3);
        for (int i = 0; i < n; ++i)
          c.renames.emplace_back(columns[pick(static_cast<int>(columns.size()))],
                                 columns[pick(static_cast<int>(columns.size()))]);
        break;
      }
    }
    fold.apply(c);
    ref.apply(c);
    if (step % 97 == 0 || step == steps - 1) {
      expect_same(fold, ref, step);
      if (HasFatalFailure()) return;
    }
    ASSERT_EQ(fold.size(), ref.rows.size()) << "step " << step;
  }
}


// ---------------------------------------------------------------- reverse fold

// Feed says how reverse() hands changes to a ReverseFold.
enum class Feed {
  Caller,  // as the as-of caller does: stop when done, skip settled keys,
           // null images for Delete/Truncate and for Updates wants() refuses
  Full,    // every change with its image, whatever the fold says
  Skip,    // as Caller, but Updates wants() refuses are not fed at all
};

// reverse feeds changes newest first to a fresh ReverseFold and returns it.
ReverseFold reverse(const std::vector<Change>& changes, Feed feed = Feed::Caller) {
  ReverseFold fold;
  for (auto c = changes.rbegin(); c != changes.rend(); ++c) {
    if (feed == Feed::Full) {
      fold.apply(*c);
      continue;
    }
    if (fold.done()) break;
    if (c->op == ChangeOp::Truncate) {
      fold.apply(*c);
      continue;
    }
    if (fold.settled(c->key)) continue;
    Change fed = *c;
    bool refused = c->op == ChangeOp::Update && !fold.wants(c->key, c->assigned);
    if (refused && feed == Feed::Skip) continue;
    if (c->op == ChangeOp::Delete || refused) fed.image = Json::null();
    fold.apply(fed);
  }
  return fold;
}

// forward feeds changes in recording order to a fresh RowFold and returns it.
RowFold forward(const std::vector<Change>& changes) {
  RowFold fold;
  for (const auto& c : changes) fold.apply(c);
  return fold;
}

// texts_of serialises ReverseFold::rows as key=row lines, member order kept.
std::vector<std::string> texts_of(const std::vector<std::pair<std::string, Json>>& rows) {
  std::vector<std::string> out;
  for (const auto& [key, row] : rows) out.push_back(key + "=" + to_json_text(row));
  return out;
}

// texts_of serialises RowFold::rows as key=row lines, member order kept.
std::vector<std::string> texts_of(const std::vector<std::pair<std::string, const Json*>>& rows) {
  std::vector<std::string> out;
  for (const auto& [key, row] : rows) out.push_back(key + "=" + to_json_text(*row));
  return out;
}

// reverse_texts returns the rows ReverseFold makes of changes, serialised.
std::vector<std::string> reverse_texts(const std::vector<Change>& changes, Feed feed = Feed::Caller) {
  return texts_of(reverse(changes, feed).rows());
}

// forward_texts returns the rows RowFold makes of changes, serialised.
std::vector<std::string> forward_texts(const std::vector<Change>& changes) {
  return texts_of(forward(changes).rows());
}

// lines is a list of expected key=row lines, for brevity.
using lines = std::vector<std::string>;

TEST(ReverseFold, StartsEmpty) {
  ReverseFold fold;
  EXPECT_FALSE(fold.done());
  EXPECT_FALSE(fold.settled("1"));
  EXPECT_TRUE(fold.wants("1", {"a"}));
  EXPECT_FALSE(fold.wants("1", {}));  // assigning nothing records nothing
  EXPECT_TRUE(fold.rows().empty());
}

TEST(ReverseFold, NewerUpdatesLaidOverTheSnapshot) {
  std::vector<Change> changes = {
      snapshot("1", R"({"id":1,"name":"a","qty":1})"),
      update("1", {"qty"}, R"({"id":1,"name":"a","qty":2})"),
      update("1", {"name"}, R"({"id":1,"name":"b","qty":2})"),
  };
  ReverseFold fold;
  fold.apply(changes[2]);
  EXPECT_FALSE(fold.settled("1"));
  EXPECT_FALSE(fold.wants("1", {"name"}));
  EXPECT_TRUE(fold.wants("1", {"qty"}));
  EXPECT_TRUE(fold.wants("1", {"name", "qty"}));
  EXPECT_TRUE(fold.rows().empty());  // no row until an insert or snapshot settles it
  fold.apply(changes[1]);
  EXPECT_FALSE(fold.wants("1", {"qty", "name"}));
  EXPECT_TRUE(fold.wants("1", {"id"}));
  fold.apply(changes[0]);
  EXPECT_TRUE(fold.settled("1"));
  EXPECT_FALSE(fold.wants("1", {"id"}));
  EXPECT_FALSE(fold.done());
  EXPECT_EQ(texts_of(fold.rows()), (lines{R"(1={"id":1,"name":"b","qty":2})"}));
  EXPECT_EQ(reverse_texts(changes), forward_texts(changes));
}

TEST(ReverseFold, TheNewestUpdateOfAColumnWins) {
  std::vector<Change> changes = {
      insert("1", R"({"id":1,"qty":0})"),
      update("1", {"qty"}, R"({"id":1,"qty":1})"),
      update("1", {"qty"}, R"({"id":1,"qty":2})"),
      update("1", {"qty"}, R"({"id":1,"qty":3})"),
  };
  EXPECT_EQ(reverse_texts(changes), (lines{R"(1={"id":1,"qty":3})"}));
  EXPECT_EQ(reverse_texts(changes, Feed::Full), (lines{R"(1={"id":1,"qty":3})"}));
  EXPECT_EQ(reverse_texts(changes), forward_texts(changes));
}

TEST(ReverseFold, OlderChangesOfASettledKeyAreIgnored) {
  ReverseFold fold;
  fold.apply(insert("1", R"({"id":1,"v":"new"})"));
  EXPECT_TRUE(fold.settled("1"));
  fold.apply(update("1", {"v"}, R"({"id":1,"v":"old"})"));
  fold.apply(insert("1", R"({"id":1,"v":"older"})"));
  fold.apply(erase("1"));
  // The caller need not read images of settled keys: a null one is fine.
  Change unread = insert("1", "{}");
  unread.image = Json::null();
  fold.apply(unread);
  EXPECT_EQ(texts_of(fold.rows()), (lines{R"(1={"id":1,"v":"new"})"}));
}

TEST(ReverseFold, TruncateInTheMiddle) {
  std::vector<Change> changes = {
      insert("1", R"({"id":1,"v":"a"})"),
      insert("2", R"({"id":2,"v":"b"})"),
      update("2", {"v"}, R"({"id":2,"v":"c"})"),
      truncate(),
      insert("3", R"({"id":3,"v":"d"})"),
      update("1", {"v"}, R"({"id":1,"v":"e"})"),  // no row: asserts nothing
      update("3", {"v"}, R"({"id":3,"v":"f"})"),
      insert("4", R"({"id":4})"),
  };
  EXPECT_EQ(forward_texts(changes), (lines{R"(3={"id":3,"v":"f"})", R"(4={"id":4})"}));
  EXPECT_EQ(reverse_texts(changes), forward_texts(changes));
  EXPECT_EQ(reverse_texts(changes, Feed::Full), forward_texts(changes));

  ReverseFold fold;
  for (std::size_t i = changes.size(); i-- > 4;) fold.apply(changes[i]);
  EXPECT_FALSE(fold.done());
  EXPECT_FALSE(fold.settled("1"));
  fold.apply(changes[3]);
  EXPECT_TRUE(fold.done());
  for (const char* key : {"1", "2", "3", "4", "never seen"}) {
    EXPECT_TRUE(fold.settled(key)) << key;
    EXPECT_FALSE(fold.wants(key, {"v", "w"})) << key;
  }
  // Everything older is ignored, even images that would be refused.
  fold.apply(insert("1", R"({"id":1,"v":"a"})"));
  fold.apply(insert("5", "[1]"));
  fold.apply(update("1", {"v"}, "\"x\""));
  fold.apply(truncate());
  EXPECT_EQ(texts_of(fold.rows()), forward_texts(changes));
}

TEST(ReverseFold, TruncateAsTheNewestChangeLeavesNothing) {
  std::vector<Change> changes = {insert("1", R"({"id":1})"), update("1", {"id"}, R"({"id":2})"), truncate()};
  ReverseFold fold = reverse(changes);
  EXPECT_TRUE(fold.done());
  EXPECT_TRUE(fold.rows().empty());
}

TEST(ReverseFold, DeleteThenInsert) {
  std::vector<Change> changes = {
      insert("1", R"({"id":1,"v":"first","w":1})"),
      update("1", {"v"}, R"({"id":1,"v":"first'","w":1})"),
      erase("1"),
      insert("1", R"({"id":1,"v":"second"})"),
      update("1", {"w"}, R"({"id":1,"v":"second","w":2})"),
  };
  EXPECT_EQ(forward_texts(changes), (lines{R"(1={"id":1,"v":"second","w":2})"}));
  EXPECT_EQ(reverse_texts(changes), forward_texts(changes));
  EXPECT_EQ(reverse_texts(changes, Feed::Full), forward_texts(changes));
}

TEST(ReverseFold, InsertThenDeleteLeavesNoRow) {
  std::vector<Change> changes = {
      insert("1", R"({"id":1,"v":"a"})"),
      insert("2", R"({"id":2,"v":"b"})"),
      erase("1"),
      update("1", {"v"}, R"({"id":1,"v":"after"})"),  // no row: asserts nothing
  };
  ReverseFold fold;
  fold.apply(changes[3]);
  EXPECT_FALSE(fold.settled("1"));
  fold.apply(changes[2]);
  EXPECT_TRUE(fold.settled("1"));
  EXPECT_FALSE(fold.wants("1", {"id"}));
  fold.apply(changes[1]);
  fold.apply(changes[0]);
  EXPECT_EQ(texts_of(fold.rows()), (lines{R"(2={"id":2,"v":"b"})"}));
  EXPECT_EQ(reverse_texts(changes), forward_texts(changes));
}

TEST(ReverseFold, UpdatesOnlyLeaveNoRow) {
  std::vector<Change> changes = {
      update("1", {"v"}, R"({"id":1,"v":"a"})"),
      update("2", {"v"}, R"({"id":2,"v":"b"})"),
      update("1", {"w"}, R"({"id":1,"v":"a","w":1})"),
  };
  ReverseFold fold = reverse(changes);
  EXPECT_FALSE(fold.done());
  EXPECT_FALSE(fold.settled("1"));
  EXPECT_TRUE(fold.rows().empty());
  EXPECT_TRUE(forward(changes).rows().empty());
}

TEST(ReverseFold, AColumnTheImageLacksStaysOpen) {
  std::vector<Change> changes = {
      insert("1", R"({"id":1,"name":"a","qty":1})"),
      update("1", {"qty"}, R"({"id":1,"name":"a","qty":2})"),
      update("1", {"qty", "name"}, R"({"id":1,"name":"b"})"),  // qty dropped from the image
      update("1", {"gone"}, R"({"id":1})"),
  };
  ReverseFold fold;
  fold.apply(changes[3]);
  EXPECT_TRUE(fold.wants("1", {"gone"}));  // nothing recorded for it
  fold.apply(changes[2]);
  EXPECT_TRUE(fold.wants("1", {"qty"}));
  EXPECT_FALSE(fold.wants("1", {"name"}));
  fold.apply(changes[1]);
  EXPECT_FALSE(fold.wants("1", {"qty"}));
  fold.apply(changes[0]);
  EXPECT_EQ(texts_of(fold.rows()), (lines{R"(1={"id":1,"name":"b","qty":2})"}));
  EXPECT_EQ(texts_of(fold.rows()), forward_texts(changes));
  EXPECT_EQ(reverse_texts(changes), forward_texts(changes));
}

TEST(ReverseFold, AppendedColumnsKeepRowFoldsOrder) {
  // RowFold appends a column the row lacks where the oldest update setting it
  // comes, in that update's assigned order.
  std::vector<Change> changes = {
      insert("1", R"({"id":1})"),
      update("1", {"b"}, R"({"id":1,"b":1})"),
      update("1", {"c", "a"}, R"({"id":1,"a":1,"b":1,"c":1})"),
      update("1", {"b"}, R"({"id":1,"a":1,"b":2,"c":1})"),
      update("1", {"a", "id"}, R"({"id":7,"a":2,"b":2,"c":1})"),
      update("1", {"d", "d"}, R"({"id":7,"a":2,"b":2,"c":1,"d":0})"),
  };
  EXPECT_EQ(forward_texts(changes), (lines{R"(1={"id":7,"b":2,"c":1,"a":2,"d":0})"}));
  EXPECT_EQ(reverse_texts(changes), forward_texts(changes));
  EXPECT_EQ(reverse_texts(changes, Feed::Full), forward_texts(changes));
}

TEST(ReverseFold, AnUpdateWhoseImageLacksAColumnDoesNotPlaceIt) {
  // The oldest update assigns b but its image lacks it: RowFold does not
  // append b there, so a comes first. Fed that image, ReverseFold agrees.
  std::vector<Change> changes = {
      insert("1", R"({"id":1})"),
      update("1", {"b"}, R"({"id":1})"),
      update("1", {"a"}, R"({"id":1,"a":1})"),
      update("1", {"b"}, R"({"id":1,"a":1,"b":2})"),
  };
  EXPECT_EQ(forward_texts(changes), (lines{R"(1={"id":1,"a":1,"b":2})"}));
  EXPECT_EQ(reverse_texts(changes, Feed::Full), forward_texts(changes));
  // Fed a null image (wants() said no), the update is taken to carry b:
  // the same values, b placed first.
  ReverseFold fold = reverse(changes, Feed::Caller);
  auto rows = fold.rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].second, J(R"({"id":1,"a":1,"b":2})"));
  EXPECT_EQ(to_json_text(rows[0].second), R"({"id":1,"b":2,"a":1})");
}

TEST(ReverseFold, NullImagesOfRefusedUpdatesKeepRowFoldsOrder) {
  // The update of b the fold no longer wants still places b before a (as
  // RowFold appends it there) when it is fed with a null image; left out,
  // only the values are the same.
  std::vector<Change> changes = {
      insert("1", R"({"id":1})"),
      update("1", {"b"}, R"({"id":1,"b":1})"),
      update("1", {"a"}, R"({"id":1,"a":1,"b":1})"),
      update("1", {"b"}, R"({"id":1,"a":1,"b":2})"),
  };
  EXPECT_EQ(forward_texts(changes), (lines{R"(1={"id":1,"b":2,"a":1})"}));
  EXPECT_EQ(reverse_texts(changes, Feed::Caller), forward_texts(changes));
  EXPECT_EQ(reverse_texts(changes, Feed::Skip), (lines{R"(1={"id":1,"a":1,"b":2})"}));
}

TEST(ReverseFold, AnUpdateWithANullImageRecordsNothing) {
  ReverseFold fold;
  Change blind = update("1", {"v"}, "{}");
  blind.image = Json::null();
  fold.apply(blind);
  EXPECT_TRUE(fold.wants("1", {"v"}));
  fold.apply(insert("1", R"({"id":1,"v":"a"})"));
  EXPECT_EQ(texts_of(fold.rows()), (lines{R"(1={"id":1,"v":"a"})"}));
}

TEST(ReverseFold, RowsAreOrderedByKeyBytes) {
  ReverseFold fold;
  for (const char* key : {"b", "a", "10", "9", "caf\xC3\xA9", "", "B", "[\"a\",\"1\"]", "a\x01"})
    fold.apply(insert(key, R"({})"));
  fold.apply(erase("zz"));
  fold.apply(update("y", {"v"}, R"({"v":1})"));
  std::vector<std::string> keys;
  for (const auto& [key, row] : fold.rows()) {
    keys.push_back(key);
    EXPECT_EQ(to_json_text(row), "{}");
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"", "10", "9", "B", "[\"a\",\"1\"]", "a", "a\x01", "b", "caf\xC3\xA9"}));
}

TEST(ReverseFold, NonObjectImagesAreRefused) {
  ReverseFold fold;
  EXPECT_EQ(sqlstate_of([&] { fold.apply(insert("1", "[1]")); }), "22023");
  EXPECT_EQ(sqlstate_of([&] { fold.apply(snapshot("1", "3")); }), "22023");
  Change null_insert = insert("1", "{}");
  null_insert.image = Json::null();
  EXPECT_EQ(sqlstate_of([&] { fold.apply(null_insert); }), "22023");
  EXPECT_EQ(sqlstate_of([&] { fold.apply(update("1", {"id"}, "\"x\"")); }), "22023");
  EXPECT_FALSE(fold.settled("1"));
  EXPECT_TRUE(fold.rows().empty());
  fold.apply(insert("1", R"({"id":1})"));
  EXPECT_EQ(texts_of(fold.rows()), (lines{R"(1={"id":1})"}));
}

// RandomChanges draws changes of a few keys and columns, with no Schema op.
struct RandomChanges {
  std::mt19937 rng;
  bool images_carry_assigned;  // an update's image always holds the columns it assigns
  const std::vector<std::string> columns = {"id", "a", "b", "c", "d", "e", "f"};

  // pick returns a number in [0, n).
  int pick(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }

  // value returns a random scalar.
  Json value() {
    switch (pick(4)) {
      case 0: return Json::number(std::to_string(pick(1000)));
      case 1: return Json::string("s" + std::to_string(pick(1000)));
      case 2: return Json::null();
      default: return Json::boolean(pick(2) == 1);
    }
  }

  // image returns an object of a random subset of the columns, shuffled,
  // holding every column in must.
  Json image(int density, const std::vector<std::string>& must = {}) {
    std::vector<Json::Member> members;
    for (const auto& column : columns)
      if (pick(10) < density || contains(must, column)) members.emplace_back(column, value());
    std::shuffle(members.begin(), members.end(), rng);
    return Json::object(std::move(members));
  }

  // contains reports whether names holds name.
  static bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  }

  // key returns one of 40 keys, a third of them composite.
  std::string key() {
    int k = pick(40);
    return k % 3 == 0 ? encode_key({std::to_string(k), "x" + std::to_string(k % 5)}) : std::to_string(k);
  }

  // next returns a random change.
  Change next() {
    Change c;
    int roll = pick(1000);
    if (roll < 150) {
      c.op = ChangeOp::Insert;
    } else if (roll < 180) {
      c.op = ChangeOp::Snapshot;
    } else if (roll < 850) {
      c.op = ChangeOp::Update;
    } else if (roll < 997) {
      c.op = ChangeOp::Delete;
    } else {
      c.op = ChangeOp::Truncate;
    }
    switch (c.op) {
      case ChangeOp::Snapshot:
      case ChangeOp::Insert:
        c.key = key();
        c.image = image(5);  // often lacks columns later updates set: they get appended
        break;
      case ChangeOp::Update: {
        c.key = key();
        int n = pick(4);
        for (int i = 0; i < n; ++i) c.assigned.push_back(columns[pick(static_cast<int>(columns.size()))]);
        c.image = images_carry_assigned ? image(3, c.assigned) : image(6);
        break;
      }
      case ChangeOp::Delete: c.key = key(); break;
      case ChangeOp::Truncate:
      case ChangeOp::Schema: break;
    }
    return c;
  }
};

// check_prefixes compares, for prefixes of changes, ReverseFold fed backward
// against RowFold fed forward: serialised rows (member order included) when
// exact, else the rows as values (member order ignored).
void check_prefixes(const std::vector<Change>& changes, Feed feed, bool exact) {
  RowFold fold;
  for (std::size_t n = 0; n < changes.size(); ++n) {
    fold.apply(changes[n]);
    if ((n + 1) % 250 != 0 && n + 1 != changes.size()) continue;
    std::vector<Change> prefix(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(n + 1));
    auto rows = reverse(prefix, feed).rows();
    if (exact) {
      ASSERT_EQ(texts_of(rows), texts_of(fold.rows())) << "after " << n + 1 << " changes";
      continue;
    }
    auto expected = fold.rows();
    ASSERT_EQ(rows.size(), expected.size()) << "after " << n + 1 << " changes";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].first, expected[i].first) << "after " << n + 1 << " changes";
      ASSERT_EQ(rows[i].second, *expected[i].second)
          << "key " << rows[i].first << " after " << n + 1 << " changes: " << to_json_text(rows[i].second)
          << " vs " << to_json_text(*expected[i].second);
    }
  }
}

// random_changes draws count changes from a fixed seed.
std::vector<Change> random_changes(unsigned seed, bool images_carry_assigned, int count) {
  RandomChanges gen{std::mt19937(seed), images_carry_assigned};
  std::vector<Change> changes;
  changes.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) changes.push_back(gen.next());
  return changes;
}

TEST(ReverseFold, MatchesRowFoldFedEveryImage) {
  // Images often lack assigned columns; fed every image, the rows are the
  // same to the member order.
  auto changes = random_changes(20240612, false, 6000);
  check_prefixes(changes, Feed::Full, true);
}

TEST(ReverseFold, MatchesRowFoldFedAsTheCallerDoes) {
  // Images often lack assigned columns; fed as the caller does (null images
  // where wants() says no), the rows hold the same values.
  auto changes = random_changes(20240613, false, 6000);
  check_prefixes(changes, Feed::Caller, false);
  check_prefixes(changes, Feed::Skip, false);
  check_prefixes(random_changes(20240614, true, 6000), Feed::Skip, false);
}

TEST(ReverseFold, MatchesRowFoldExactlyWhenImagesCarryTheirColumns) {
  // Images carry the columns they assign (and lack others, so updates
  // append): fed as the caller does, the rows are the same to the member order.
  auto changes = random_changes(20240614, true, 6000);
  check_prefixes(changes, Feed::Caller, true);
  check_prefixes(changes, Feed::Full, true);
}

TEST(ReverseFold, RandomSequencesExerciseEveryPath) {
  // Guards the generator: the sequences above must append columns, hit
  // truncates and leave rows.
  auto changes = random_changes(20240612, false, 6000);
  int truncates = 0;
  for (const auto& c : changes) truncates += c.op == ChangeOp::Truncate;
  EXPECT_GE(truncates, 5);
  std::size_t rows = 0, appended = 0;
  RowFold fold;
  std::map<std::string, std::size_t> image_size;  // members of each key's last insert or snapshot
  for (std::size_t n = 0; n < changes.size(); ++n) {
    const Change& c = changes[n];
    fold.apply(c);
    if (c.op == ChangeOp::Insert || c.op == ChangeOp::Snapshot) image_size[c.key] = c.image.members().size();
    if (n % 250 == 249) {
      rows += fold.size();
      for (const auto& [key, row] : fold.rows()) appended += row->members().size() > image_size[key];
    }
  }
  EXPECT_GT(rows, 100u);
  EXPECT_GT(appended, 10u);
}

}  // namespace
}  // namespace chronicle::core
