// eventtable.hpp: recognising event tables and caching what the hot paths
// need to know about them (column numbers, sequence, indexes).
#pragma once
#include "pg.hpp"

namespace chronicle::pg {

// The columns every event table has, in the order of EventTableInfo::att.
enum Col {
  C_POSITION, C_STREAM, C_VERSION, C_TYPE, C_PAYLOAD, C_META,
  C_VALID_FROM, C_VALID_TO, C_RECORDED_AT, C_SUPERSEDES, C_NCOLS
};
extern const char* const kColNames[C_NCOLS];

// Reserved event types (chronicle's own markers start with '$').
constexpr const char* kRetractType = "$retract";
constexpr const char* kEraseType = "$erase";

// EventTableInfo is the cached description of one event table.
struct EventTableInfo {
  Oid relid;
  Oid seqid;               // the position sequence (OWNED BY position)
  Oid stampedid;           // the highest position stamped (OWNED BY recorded_at)
  Oid stream_version_idx;  // unique index on (stream, version)
  Oid supersedes_idx;      // partial unique index on supersedes (InvalidOid if gone)
  Oid owner;
  Oid root;                // the event table a partition belongs to (else relid)
  bool partitioned;        // a partitioned table (partitioned by recorded_at)
  AttrNumber att[C_NCOLS];
};

// event_table_info returns the description of rel, or raises 42809 when
// rel is not a chronicle event table.
const EventTableInfo* event_table_info(Relation rel);

// is_event_table tells whether rel has chronicle's stamping trigger.
bool is_event_table(Relation rel);

// open_arg_relation opens a relation named by a function argument (42P01
// when the oid names none).
Relation open_arg_relation(Oid relid, LOCKMODE lockmode);

// event_table_info_oid opens relid briefly and returns its description.
// A partition of a partitioned event table is described as an event table
// whose root names the partitioned one.
const EventTableInfo* event_table_info_oid(Oid relid);

// lookup_version returns the highest committed (or own earlier) version of
// stream in the table, 0 when the stream has none, using the freshest snapshot.
int32 lookup_version(Relation rel, const EventTableInfo* info, Datum stream);

// lock_stream serialises, until they end, the transactions that write one
// stream of a partitioned event table (versions, corrections).
void lock_stream(Oid relid, Datum stream);

// unlock_stream releases lock_stream's lock before the transaction ends
// (append holds it only from its version lookup to its index entry).
void unlock_stream(Oid relid, Datum stream);

// partitions_newest_first lists the leaf partitions of a partitioned event
// table: the default one first (*ndefault is 1, else 0), then the others
// from the newest range to the oldest.
List* partitions_newest_first(Oid relid, int* ndefault);

// warn_dropped_protection warns, in a sql_drop event trigger, about each of
// chronicle's protection triggers the command dropped (protect.cpp).
void warn_dropped_protection();

// require_arg raises 22004 when argument n (called name) is null.
void require_arg(FunctionCallInfo fcinfo, int n, const char* name);

// init_eventtable_cache registers the relcache callback; called from _PG_init.
void init_eventtable_cache();

}  // namespace chronicle::pg
