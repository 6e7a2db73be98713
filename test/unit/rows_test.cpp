// rows_test.cpp: primary-key encoding of tracked tables' streams and the
// assertion-semantics fold of captured changes (RowFold), checked against a
// plain std::map reference on a long random sequence.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace chronicle::core
