// rows.hpp: the row state of tracked tables (SPEC §5): primary-key encoding
// and the assertion-semantics fold of captured changes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "json.hpp"

namespace chronicle::core {

// encode_key turns the text forms of a primary key's columns into a stream
// name: a one-column key is its text as it is ("42", "abc"); a composite key
// is a JSON array of strings ("[\"a\",\"42\"]"). A null part throws
// Error("23502"). Injective for a given number of key columns.
std::string encode_key(const std::vector<std::string>& parts);

// decode_key is encode_key's inverse for nparts columns; throws
// Error("22P02") on a malformed stream name.
std::vector<std::string> decode_key(std::string_view stream, std::size_t nparts);

// ChangeOp is the kind of a captured change.
enum class ChangeOp { Snapshot, Insert, Update, Delete, Truncate, Schema };

// parse_change_op maps an event type ("snapshot", "insert", "update",
// "delete", "truncate", "schema") to a ChangeOp; anything else is nullopt.
std::optional<ChangeOp> parse_change_op(std::string_view type);

// Change is one captured change, already known to apply (visible as known
// at T and valid at V); changes are applied in recording order.
struct Change {
  ChangeOp op = ChangeOp::Insert;
  std::string key;                    // the stream; empty for Truncate/Schema
  Json image;                         // the row image (an object); null for Delete/Truncate
  std::vector<std::string> assigned;  // Update: the columns it assigned
  // Schema: column renames, old name -> new name, applied to every row held.
  std::vector<std::pair<std::string, std::string>> renames;
};

// RowFold holds the rows of a tracked table while changes are applied in
// recording order with assertion semantics: Snapshot and Insert set the
// whole row; Update sets its assigned columns where the row exists (taking
// their values from its image) and does nothing where it does not; Delete
// removes the row; Truncate removes every row; Schema renames keys of every
// row held (a rename to a name already present replaces it).
class RowFold {
 public:
  void apply(const Change& change);
  std::size_t size() const noexcept { return rows_.size(); }
  // rows returns the rows held, ordered by key (byte order) for stable output.
  std::vector<std::pair<std::string, const Json*>> rows() const;
  // find returns the row held for key, or nullptr.
  const Json* find(const std::string& key) const;

 private:
  std::unordered_map<std::string, Json> rows_;
};

// ReverseFold computes the same rows as RowFold from the same changes fed
// in the opposite order (newest first), touching as little as possible:
// a key is settled by its newest Insert/Snapshot (the row: that image with
// the columns of newer Updates laid over it, the newest Update of a column
// winning) or by its newest Delete (no row); a Truncate settles every key
// not settled yet as absent and ends the fold; Updates of a key never
// settled (no older Insert/Snapshot) leave no row. Schema changes are not
// fed: images must already use one set of column names (the caller renames
// them).
class ReverseFold {
 public:
  // settled tells whether key needs no older change (the caller may skip
  // reading its image); done tells that no older change matters at all.
  bool settled(const std::string& key) const;
  bool done() const noexcept { return done_; }
  // wants tells which of an Update's assigned columns are still open for
  // key (the caller parses the image only if one is).
  bool wants(const std::string& key, const std::vector<std::string>& assigned) const;
  // apply feeds the next older change (its image parsed when needed: a null
  // Json for Delete/Truncate, or when wants() said no).
  void apply(const Change& change);
  // rows returns the rows, ordered by key (byte order), like RowFold::rows.
  std::vector<std::pair<std::string, Json>> rows() const;

 private:
  struct Pending {
    std::vector<std::pair<std::string, Json>> columns;  // newest value of each column seen
    bool settled = false;
    bool present = false;
    Json row;
  };
  std::unordered_map<std::string, Pending> keys_;
  bool done_ = false;
};

}  // namespace chronicle::core
