// capture.hpp: CDC of tracked tables (SPEC §5), shared with as-of, restore
// and the schema-change event trigger.
#pragma once
#include "pg.hpp"

namespace chronicle::pg {

// capture_suppressed names the event table whose tracked table chronicle
// itself is changing without recording (apply_due); InvalidOid otherwise.
extern Oid capture_suppressed;

// tracked_event_table returns the event table named by rel's capture
// trigger (schema-qualified, quoted), or nullptr when rel is not tracked.
const char* tracked_event_table(Relation rel);

// relid_of_name resolves a qualified, quoted table name under lockmode
// (InvalidOid when missing_ok and absent).
Oid relid_of_name(const char* name, LOCKMODE lockmode, bool missing_ok);

// record_table_event records a table-level event ("truncate", "schema")
// under the empty stream; all_time gives it the valid range of all time.
void record_table_event(Relation rel, const char* evname, const char* type, Datum payload, bool all_time);

// schema_payload describes rel's columns as jsonb.
Datum schema_payload(Relation rel);

// flush_pending records the captured changes still buffered (the flush
// trigger at statement end, pre-commit, and table-level events).
void flush_pending();

// forget_pending drops buffered changes of an aborted subtransaction (all of
// them, and the buffers, at transaction end).
void forget_pending(bool xact_end, SubTransactionId aborted);

// encode_stream returns the stream of a primary key's values (palloc'd).
char* encode_stream(int nparts, const Oid* types, const Datum* values);

// cover_partition adds the statement triggers to a new partition of a
// tracked table (from the event trigger).
void cover_partition(Relation rel);

// init_capture registers cache invalidations; called from _PG_init.
void init_capture();

}  // namespace chronicle::pg
