// stream.cpp: the log in position order (SPEC §4): read(), consumer groups
// (consume, commit, reset) and each event table's NOTIFY channel.
//
// Commits that wrote events are serialised in position order (txtime.cpp):
// the committed events any snapshot sees are a prefix of the final order,
// less the holes of rolled-back transactions. A forward scan of the primary
// key from the last position read is therefore gapless, with no waiting and
// no lock, on the primary and on replicas alike.
#include "capture.hpp"
#include "eventtable.hpp"
#include "plans.hpp"
#include "txtime.hpp"

namespace chronicle::pg {

// log_of resolves a read()/consume() argument, an event table or a tracked
// table, to the event table to read, after checking that the caller may
// SELECT from the table it named (42501).
static Oid log_of(Oid relid) {
  Relation rel = try_relation_open(relid, AccessShareLock);
  if (rel == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
  if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
    aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind), RelationGetRelationName(rel));
  Oid ev = relid;
  const char* tracked = tracked_event_table(rel);
  if (tracked != nullptr) {
    ev = relid_of_name(tracked, AccessShareLock, false);
  } else if (rel->rd_rel->relkind != RELKIND_RELATION) {
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("\"%s\" is neither a chronicle event table nor a tracked table",
                           RelationGetRelationName(rel))));
  } else {
    (void)event_table_info(rel);  // 42809 unless an event table
  }
  relation_close(rel, AccessShareLock);
  return ev;
}

// open_log opens an event table and its primary key on position.
static Relation open_log(Oid ev, Relation* pk, const EventTableInfo** info) {
  Relation rel = table_open(ev, AccessShareLock);
  *info = event_table_info(rel);
  Oid pkoid = RelationGetPrimaryKeyIndex(rel);
  if (!OidIsValid(pkoid))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("event table \"%s\" has lost its primary key", RelationGetRelationName(rel))));
  *pk = index_open(pkoid, AccessShareLock);
  if ((*pk)->rd_index->indnkeyatts != 1 || (*pk)->rd_index->indkey.values[0] != (*info)->att[C_POSITION])
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("the primary key of event table \"%s\" is not (position)", RelationGetRelationName(rel))));
  return rel;
}

// begin_position_scan starts a scan of the primary key, from after upwards
// (forward) or from the end (backward, after < 0).
static IndexScanDesc begin_position_scan(Relation ev, Relation pk, Snapshot snap, int64 after, ScanKeyData* key) {
  int nkeys = after >= 0 ? 1 : 0;
  if (nkeys) ScanKeyInit(key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(after));
#if PG_VERSION_NUM >= 180000
  IndexScanDesc scan = index_beginscan(ev, pk, snap, nullptr, nkeys, 0);
#else
  IndexScanDesc scan = index_beginscan(ev, pk, snap, nkeys, 0);
#endif
  index_rescan(scan, nkeys ? key : nullptr, nkeys, nullptr, 0);
  return scan;
}

// is_uncommitted tells whether the slot's event was written by this
// transaction: its position is provisional until commit, so it is not read.
static bool is_uncommitted(TupleTableSlot* slot, Oid relid, int64 position) {
  bool isnull;
  TransactionId xmin = DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull));
  return TransactionIdIsCurrentTransactionId(xmin) && is_own_write(relid, position);
}

// emit_after puts up to max committed events of ev with position > after
// into the function's result, in position order.
static void emit_after(FunctionCallInfo fcinfo, Oid evrelid, int64 after, int32 max) {
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  Relation pk;
  const EventTableInfo* info;
  Relation ev = open_log(evrelid, &pk, &info);
  Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
  ScanKeyData key;
  IndexScanDesc scan = begin_position_scan(ev, pk, snap, after, &key);
  TupleTableSlot* slot = table_slot_create(ev, nullptr);
  Datum values[C_NCOLS];
  bool nulls[C_NCOLS];
  int32 n = 0;
  while (n < max && index_getnext_slot(scan, ForwardScanDirection, slot)) {
    CHECK_FOR_INTERRUPTS();
    slot_getallattrs(slot);
    for (int c = 0; c < C_NCOLS; c++) {
      values[c] = slot->tts_values[info->att[c] - 1];
      nulls[c] = slot->tts_isnull[info->att[c] - 1];
    }
    if (is_uncommitted(slot, evrelid, DatumGetInt64(values[C_POSITION]))) continue;
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    n++;
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  UnregisterSnapshot(snap);
  index_close(pk, AccessShareLock);
  table_close(ev, AccessShareLock);
}

// newest_position returns the position of the newest committed event of
// ev (0 when it has none).
static int64 newest_position(Oid evrelid) {
  Relation pk;
  const EventTableInfo* info;
  Relation ev = open_log(evrelid, &pk, &info);
  Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
  ScanKeyData key;
  IndexScanDesc scan = begin_position_scan(ev, pk, snap, -1, &key);
  TupleTableSlot* slot = table_slot_create(ev, nullptr);
  int64 newest = 0;
  while (index_getnext_slot(scan, BackwardScanDirection, slot)) {
    bool isnull;
    int64 p = DatumGetInt64(slot_getattr(slot, info->att[C_POSITION], &isnull));
    if (is_uncommitted(slot, evrelid, p)) continue;
    newest = p;
    break;
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  UnregisterSnapshot(snap);
  index_close(pk, AccessShareLock);
  table_close(ev, AccessShareLock);
  return newest;
}

// Queries on chronicle.consumer_offsets; they run as the bootstrap superuser
// (the table is chronicle's own, not granted to anyone) once the caller's
// SELECT privilege on the table has been checked.
enum OffsetQuery { Q_CLAIM, Q_CURRENT, Q_CREATE, Q_ADVANCE, Q_SET, Q_NQUERIES };
static const char* const kOffsetSql[Q_NQUERIES] = {
    "SELECT position FROM chronicle.consumer_offsets "
    "WHERE grp OPERATOR(pg_catalog.=) $1 AND tbl OPERATOR(pg_catalog.=) $2 FOR UPDATE SKIP LOCKED",
    "SELECT position FROM chronicle.consumer_offsets "
    "WHERE grp OPERATOR(pg_catalog.=) $1 AND tbl OPERATOR(pg_catalog.=) $2",
    "INSERT INTO chronicle.consumer_offsets (grp, tbl, position) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
    "INSERT INTO chronicle.consumer_offsets AS o (grp, tbl, position, committed_at) "
    "VALUES ($1, $2, $3, pg_catalog.now()) ON CONFLICT (grp, tbl) DO UPDATE "
    "SET position = excluded.position, committed_at = excluded.committed_at "
    "WHERE o.position OPERATOR(pg_catalog.<=) excluded.position RETURNING o.position",
    "INSERT INTO chronicle.consumer_offsets AS o (grp, tbl, position, committed_at) "
    "VALUES ($1, $2, $3, pg_catalog.now()) ON CONFLICT (grp, tbl) DO UPDATE "
    "SET position = excluded.position, committed_at = excluded.committed_at RETURNING o.position",
};
static SPIPlanPtr offset_plans[Q_NQUERIES];

// run_offset runs an offsets query (SPI connected, as the superuser) and
// returns the position it yields, or -1 when it yields no row.
static int64 run_offset(OffsetQuery q, Datum grp, Oid ev, int64 position) {
  if (offset_plans[q] == nullptr) {
    Oid types[3] = {TEXTOID, REGCLASSOID, INT8OID};
    int nargs = (q == Q_ADVANCE || q == Q_SET) ? 3 : 2;
    SPIPlanPtr plan = SPI_prepare(kOffsetSql[q], nargs, types);
    if (plan == nullptr) elog(ERROR, "chronicle: preparing a consumer offset query failed: %s",
                              SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0) elog(ERROR, "chronicle: SPI_keepplan failed");
    offset_plans[q] = plan;
  }
  Datum args[3] = {grp, ObjectIdGetDatum(ev), Int64GetDatum(position)};
  int rc = SPI_execute_plan(offset_plans[q], args, nullptr, false, 0);
  if (rc < 0) elog(ERROR, "chronicle: a consumer offset query failed: %s", SPI_result_code_string(rc));
  if (SPI_processed == 0 || SPI_tuptable == nullptr) return -1;
  bool isnull;
  return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

// OffsetSession brackets offsets queries: SPI, and the superuser.
struct OffsetSession {
  SavedUser saved;
};

// offsets_begin connects SPI and becomes the bootstrap superuser.
static OffsetSession offsets_begin() {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  return OffsetSession{become(BOOTSTRAP_SUPERUSERID)};
}

// offsets_end undoes offsets_begin.
static void offsets_end(const OffsetSession& s) {
  restore_user(s.saved);
  SPI_finish();
}

// claim locks the group's offset row for this transaction, creating it at
// 0 on first use, and returns the offset; -1 when another member's
// transaction holds it.
static int64 claim(Datum grp, Oid ev) {
  OffsetSession s = offsets_begin();
  int64 offset = run_offset(Q_CLAIM, grp, ev, 0);
  if (offset < 0 && run_offset(Q_CURRENT, grp, ev, 0) < 0) {
    (void)run_offset(Q_CREATE, grp, ev, 0);
    offset = run_offset(Q_CLAIM, grp, ev, 0);
  }
  offsets_end(s);
  return offset;
}

// checked_position reads argument n, a position between 0 and the newest
// committed event of ev (22023 otherwise).
static int64 checked_position(FunctionCallInfo fcinfo, int n, Oid ev) {
  require_arg(fcinfo, n, "position");
  int64 position = PG_GETARG_INT64(n);
  if (position < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("position must not be negative: " INT64_FORMAT, position)));
  int64 newest = newest_position(ev);
  if (position > newest)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("position " INT64_FORMAT " is beyond the newest event of \"%s\" (" INT64_FORMAT ")",
                           position, get_rel_name(ev), newest),
                    errhint("Commit the position of the last event the consumer processed.")));
  return position;
}

// group_arg reads the group name argument (22004 when null, 22023 when empty).
static Datum group_arg(FunctionCallInfo fcinfo) {
  require_arg(fcinfo, 0, "grp");
  if (VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)) == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("consumer group name must not be empty")));
  return PG_GETARG_DATUM(0);
}

// max_arg reads a batch size argument (22023 below 1).
static int32 max_arg(FunctionCallInfo fcinfo, int n) {
  require_arg(fcinfo, n, "max");
  int32 max = PG_GETARG_INT32(n);
  if (max < 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("max must be at least 1, not %d", max)));
  return max;
}

}  // namespace chronicle::pg

using namespace chronicle::pg;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_read);
PG_FUNCTION_INFO_V1(chronicle_consume);
PG_FUNCTION_INFO_V1(chronicle_commit);
PG_FUNCTION_INFO_V1(chronicle_reset);
PG_FUNCTION_INFO_V1(chronicle_channel);
PG_FUNCTION_INFO_V1(chronicle_on_drop);
}

// chronicle_read(tbl, after, max) returns the next committed events after
// a position, in position order.
extern "C" Datum chronicle_read(PG_FUNCTION_ARGS) {
  require_arg(fcinfo, 0, "tbl");
  require_arg(fcinfo, 1, "after");
  int64 after = PG_GETARG_INT64(1);
  if (after < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("after must not be negative: " INT64_FORMAT, after),
                    errhint("Read from the start with after => 0.")));
  int32 max = max_arg(fcinfo, 2);
  Oid ev = log_of(PG_GETARG_OID(0));
  flush_pending();
  InitMaterializedSRF(fcinfo, 0);
  emit_after(fcinfo, ev, after, max);
  return (Datum)0;
}

// chronicle_consume(grp, tbl, max) claims the group for this transaction
// and returns the next events after its committed offset (none while
// another member's transaction holds the claim).
extern "C" Datum chronicle_consume(PG_FUNCTION_ARGS) {
  Datum grp = group_arg(fcinfo);
  require_arg(fcinfo, 1, "tbl");
  int32 max = max_arg(fcinfo, 2);
  Oid ev = log_of(PG_GETARG_OID(1));
  if (!IsTransactionBlock())
    ereport(WARNING, (errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
                      errmsg("chronicle.consume() outside a transaction block holds its claim only for this statement"),
                      errhint("Run it and chronicle.commit() between BEGIN and COMMIT, so that another member "
                              "cannot take the same batch.")));
  InitMaterializedSRF(fcinfo, 0);
  int64 offset = claim(grp, ev);
  if (offset >= 0) emit_after(fcinfo, ev, offset, max);
  return (Datum)0;
}

// chronicle_commit(grp, tbl, position) stores the group's offset; it only
// moves forward.
extern "C" Datum chronicle_commit(PG_FUNCTION_ARGS) {
  Datum grp = group_arg(fcinfo);
  require_arg(fcinfo, 1, "tbl");
  Oid ev = log_of(PG_GETARG_OID(1));
  int64 position = checked_position(fcinfo, 2, ev);
  OffsetSession s = offsets_begin();
  int64 stored = run_offset(Q_ADVANCE, grp, ev, position);
  int64 current = stored < 0 ? run_offset(Q_CURRENT, grp, ev, 0) : stored;
  offsets_end(s);
  if (stored < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("cannot move the offset of consumer group \"%s\" on \"%s\" back from " INT64_FORMAT
                           " to " INT64_FORMAT,
                           text_to_cstring(DatumGetTextPP(grp)), get_rel_name(ev), current, position),
                    errhint("To replay from an earlier position, use chronicle.reset().")));
  PG_RETURN_INT64(stored);
}

// chronicle_reset(grp, tbl, position) sets the group's offset anywhere.
extern "C" Datum chronicle_reset(PG_FUNCTION_ARGS) {
  Datum grp = group_arg(fcinfo);
  require_arg(fcinfo, 1, "tbl");
  Oid ev = log_of(PG_GETARG_OID(1));
  int64 position = checked_position(fcinfo, 2, ev);
  OffsetSession s = offsets_begin();
  int64 stored = run_offset(Q_SET, grp, ev, position);
  offsets_end(s);
  PG_RETURN_INT64(stored);
}

// chronicle_channel(tbl) returns the NOTIFY channel of an event table (of
// a tracked table's event table).
extern "C" Datum chronicle_channel(PG_FUNCTION_ARGS) {
  require_arg(fcinfo, 0, "tbl");
  Oid ev = log_of(PG_GETARG_OID(0));
  PG_RETURN_TEXT_P(cstring_to_text(notify_channel(ev)));
}

// chronicle_on_drop is the sql_drop event trigger: it forgets the offsets
// of tables that no longer exist.
extern "C" Datum chronicle_on_drop(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("chronicle.on_drop() must be called as an event trigger")));
  Oid nsp = get_namespace_oid("chronicle", true);
  if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("consumer_offsets", nsp))) PG_RETURN_VOID();
  OffsetSession s = offsets_begin();
  int rc = SPI_execute(
      "DELETE FROM chronicle.consumer_offsets AS o WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class AS c "
      "WHERE c.oid OPERATOR(pg_catalog.=) o.tbl::pg_catalog.oid)",
      false, 0);
  offsets_end(s);
  if (rc != SPI_OK_DELETE) elog(ERROR, "chronicle: forgetting dropped consumer offsets failed: %s",
                                SPI_result_code_string(rc));
  PG_RETURN_VOID();
}
