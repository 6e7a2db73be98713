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
// SELECT from the table it named and is not subject to row-level security
// there (42501).
static Oid log_of(Oid relid) {
  Relation rel = open_arg_relation(relid, AccessShareLock);
  if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
    aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind), RelationGetRelationName(rel));
  Oid ev = relid;
  const char* tracked = tracked_event_table(rel);
  if (tracked != nullptr) {
    ev = relid_of_name(tracked, AccessShareLock, false);
  } else if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) {
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("\"%s\" is neither a chronicle event table nor a tracked table",
                           RelationGetRelationName(rel))));
  } else {
    const EventTableInfo* info = event_table_info(rel);  // 42809 unless an event table
    if (info->root != relid)
      ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                      errmsg("\"%s\" is a partition of event table \"%s\"", RelationGetRelationName(rel),
                             get_rel_name(info->root)),
                      errhint("Read the partitioned event table: its log spans every partition.")));
  }
  relation_close(rel, AccessShareLock);
  // The log is read through its primary key, not a query: row-level
  // security could not filter it, so a caller subject to it is refused.
  if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED ||
      check_enable_rls(ev, InvalidOid, true) == RLS_ENABLED)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("cannot read the log of \"%s\" under row-level security", get_rel_name(relid)),
                    errdetail("Row-level security applies to you on this table; chronicle's log functions "
                              "read every event."),
                    errhint("Read events with chronicle.events() or a query, which apply the policies.")));
  return ev;
}

// PartScan is a scan of one table's primary key on position.
struct PartScan {
  Relation rel, pk;
  const EventTableInfo* info;  // this table's columns
  IndexScanDesc scan;
  TupleTableSlot* slot;
  ScanKeyData key;
  bool live;   // the slot holds the scan's next row
  int64 head;  // its position
  bool exact;  // the table's rows are read()'s rows (no extra or dropped column)
};

// LogScan reads an event table in position order: through its primary key,
// or, for a partitioned event table, through each leaf partition's, merged
// (partitions by recorded_at hold ranges of positions, but a default
// partition may hold several).
struct LogScan {
  Oid root;
  Snapshot snap;
  ScanDirection dir;
  int n;
  PartScan* parts;
  int taken;  // the part whose row the caller has, to advance next
};

// part_open opens one table and starts a scan of its primary key: from
// after upwards (forward) or from the end (backward).
static void part_open(PartScan* p, Oid relid, Snapshot snap, int64 after, ScanDirection dir) {
  p->rel = table_open(relid, AccessShareLock);
  p->info = event_table_info(p->rel);
  Oid pkoid = RelationGetPrimaryKeyIndex(p->rel);
  if (!OidIsValid(pkoid))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("event table \"%s\" has lost its primary key", RelationGetRelationName(p->rel))));
  p->pk = index_open(pkoid, AccessShareLock);
  if (p->pk->rd_index->indkey.values[0] != p->info->att[C_POSITION])
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("the primary key of event table \"%s\" does not begin with position",
                           RelationGetRelationName(p->rel))));
  int nkeys = ScanDirectionIsForward(dir) ? 1 : 0;
  if (nkeys) ScanKeyInit(&p->key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(after));
#if PG_VERSION_NUM >= 180000
  p->scan = index_beginscan(p->rel, p->pk, snap, nullptr, nkeys, 0);
#else
  p->scan = index_beginscan(p->rel, p->pk, snap, nkeys, 0);
#endif
  index_rescan(p->scan, nkeys ? &p->key : nullptr, nkeys, nullptr, 0);
  p->slot = table_slot_create(p->rel, nullptr);
  p->live = false;
  p->exact = RelationGetDescr(p->rel)->natts == C_NCOLS;
  for (int c = 0; c < C_NCOLS; c++) p->exact = p->exact && p->info->att[c] == c + 1;
}

// part_advance moves a part to its next row.
static void part_advance(PartScan* p, ScanDirection dir) {
  p->live = index_getnext_slot(p->scan, dir, p->slot);
  if (p->live) {
    bool isnull;
    p->head = DatumGetInt64(slot_getattr(p->slot, p->info->att[C_POSITION], &isnull));
  }
}

// is_uncommitted tells whether an event was written by this transaction:
// its position is provisional until commit, so it is not read.
static bool is_uncommitted(TupleTableSlot* slot, Oid root, int64 position) {
  bool isnull;
  TransactionId xmin = DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull));
  return TransactionIdIsCurrentTransactionId(xmin) && is_own_write(root, position);
}

// part_has_committed tells whether a part holds an event committed for
// snap (not this transaction's own).
static bool part_has_committed(const PartScan* p, Snapshot snap, Oid root) {
#if PG_VERSION_NUM >= 180000
  IndexScanDesc scan = index_beginscan(p->rel, p->pk, snap, nullptr, 0, 0);
#else
  IndexScanDesc scan = index_beginscan(p->rel, p->pk, snap, 0, 0);
#endif
  index_rescan(scan, nullptr, 0, nullptr, 0);
  TupleTableSlot* slot = table_slot_create(p->rel, nullptr);
  bool found = false;
  while (!found && index_getnext_slot(scan, BackwardScanDirection, slot)) {
    bool isnull;
    found = !is_uncommitted(slot, root, DatumGetInt64(slot_getattr(slot, p->info->att[C_POSITION], &isnull)));
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  return found;
}

// log_scan_begin starts reading event table ev after a position (forward)
// or from its end (backward). Of a partitioned event table it opens the
// default partition and the ranged ones from the newest down to the first
// that proves the older ones hold nothing to read: one with committed
// events, all at or before `after` (forward), or with any (backward).
static LogScan log_scan_begin(Oid ev, int64 after, ScanDirection dir) {
  LogScan ls;
  ls.root = event_table_info_oid(ev)->root;
  ls.dir = dir;
  ls.snap = RegisterSnapshot(GetTransactionSnapshot());
  bool partitioned = get_rel_relkind(ev) == RELKIND_PARTITIONED_TABLE;
  int ndefault = 0;
  List* rels = partitioned ? partitions_newest_first(ev, &ndefault) : list_make1_oid(ev);
  ls.parts = static_cast<PartScan*>(palloc0(sizeof(PartScan) * (list_length(rels) + 1)));
  ls.n = 0;
  for (int i = 0; i < list_length(rels); i++) {
    PartScan* p = &ls.parts[ls.n++];
    part_open(p, list_nth_oid(rels, i), ls.snap, after, dir);
    part_advance(p, dir);
    if (!partitioned || i < ndefault) continue;
    if ((ScanDirectionIsBackward(dir) || !p->live) && part_has_committed(p, ls.snap, ls.root)) break;
  }
  ls.taken = -1;
  return ls;
}

// log_scan_next returns the part holding the next committed event in scan
// order, or nullptr at the end.
static PartScan* log_scan_next(LogScan* ls) {
  for (;;) {
    CHECK_FOR_INTERRUPTS();
    if (ls->taken >= 0) part_advance(&ls->parts[ls->taken], ls->dir);
    ls->taken = -1;
    for (int i = 0; i < ls->n; i++) {
      const PartScan& p = ls->parts[i];
      if (!p.live) continue;
      if (ls->taken < 0 || (ScanDirectionIsForward(ls->dir) ? p.head < ls->parts[ls->taken].head
                                                            : p.head > ls->parts[ls->taken].head))
        ls->taken = i;
    }
    if (ls->taken < 0) return nullptr;
    PartScan* p = &ls->parts[ls->taken];
    if (!is_uncommitted(p->slot, ls->root, p->head)) return p;
  }
}

// log_scan_end closes the scans.
static void log_scan_end(LogScan* ls) {
  for (int i = 0; i < ls->n; i++) {
    PartScan& p = ls->parts[i];
    index_endscan(p.scan);
    ExecDropSingleTupleTableSlot(p.slot);
    index_close(p.pk, AccessShareLock);
    table_close(p.rel, AccessShareLock);
  }
  UnregisterSnapshot(ls->snap);
}

// emit_after puts up to max committed events of ev with position > after
// into the function's result, in position order.
static void emit_after(FunctionCallInfo fcinfo, Oid ev, int64 after, int32 max) {
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  LogScan ls = log_scan_begin(ev, after, ForwardScanDirection);
  Datum values[C_NCOLS];
  bool nulls[C_NCOLS];
  PartScan* p;
  for (int32 n = 0; n < max && (p = log_scan_next(&ls)) != nullptr; n++) {
    if (p->exact) {  // one copy of the stored tuple
      tuplestore_puttupleslot(rsinfo->setResult, p->slot);
      continue;
    }
    slot_getallattrs(p->slot);
    for (int c = 0; c < C_NCOLS; c++) {
      values[c] = p->slot->tts_values[p->info->att[c] - 1];
      nulls[c] = p->slot->tts_isnull[p->info->att[c] - 1];
    }
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  log_scan_end(&ls);
}

// newest_position returns the position of the newest committed event of
// ev (0 when it has none).
static int64 newest_position(Oid ev) {
  LogScan ls = log_scan_begin(ev, -1, BackwardScanDirection);
  PartScan* p = log_scan_next(&ls);
  int64 newest = p != nullptr ? p->head : 0;
  log_scan_end(&ls);
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

// try_lock_group takes, without waiting, a transaction lock on a group
// of an event table; false when another transaction holds it.
static bool try_lock_group(Datum grp, Oid ev) {
  text* g = DatumGetTextPP(grp);
  uint32 h = hash_bytes(reinterpret_cast<const unsigned char*>(VARDATA_ANY(g)), VARSIZE_ANY_EXHDR(g));
  LOCKTAG tag;
  SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, ev, h, 0x4347);
  return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

// claim locks the group's offset row for this transaction, creating it at
// 0 on first use, and returns the offset; -1 when another member's
// transaction holds it.
static int64 claim(Datum grp, Oid ev) {
  OffsetSession s = offsets_begin();
  int64 offset = run_offset(Q_CLAIM, grp, ev, 0);
  // A new group's row is created under a lock that a second member does
  // not wait for (it would wait on the first member's uncommitted row).
  if (offset < 0 && run_offset(Q_CURRENT, grp, ev, 0) < 0 && try_lock_group(grp, ev)) {
    (void)run_offset(Q_CREATE, grp, ev, 0);
    offset = run_offset(Q_CLAIM, grp, ev, 0);
  }
  offsets_end(s);
  return offset;
}

// checked_position reads argument n, a position between 0 and the newest
// committed event of ev (22023 otherwise).
static int64 checked_position(FunctionCallInfo fcinfo, int n, Oid ev, const char* hint) {
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
                    errhint("%s", hint)));
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
  InitMaterializedSRF(fcinfo, 0);
  int64 offset = claim(grp, ev);
  if (offset >= 0) emit_after(fcinfo, ev, offset, max);
  return (Datum)0;
}

// OffsetCall is the checked (grp, tbl, position) of commit() and reset().
struct OffsetCall {
  Datum grp;
  Oid ev;
  int64 position;
};

// offset_call checks the arguments of commit() and reset().
static OffsetCall offset_call(FunctionCallInfo fcinfo, const char* hint) {
  OffsetCall c;
  c.grp = group_arg(fcinfo);
  require_arg(fcinfo, 1, "tbl");
  c.ev = log_of(PG_GETARG_OID(1));
  c.position = checked_position(fcinfo, 2, c.ev, hint);
  return c;
}

// chronicle_commit(grp, tbl, position) stores the group's offset; it only
// moves forward.
extern "C" Datum chronicle_commit(PG_FUNCTION_ARGS) {
  OffsetCall c = offset_call(fcinfo, "Commit the position of the last event the consumer processed.");
  OffsetSession s = offsets_begin();
  int64 stored = run_offset(Q_ADVANCE, c.grp, c.ev, c.position);
  int64 current = stored < 0 ? run_offset(Q_CURRENT, c.grp, c.ev, 0) : stored;
  offsets_end(s);
  if (stored < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("cannot move the offset of consumer group \"%s\" on \"%s\" back from " INT64_FORMAT
                           " to " INT64_FORMAT,
                           text_to_cstring(DatumGetTextPP(c.grp)), get_rel_name(c.ev), current, c.position),
                    errhint("To replay from an earlier position, use chronicle.reset().")));
  PG_RETURN_INT64(stored);
}

// chronicle_reset(grp, tbl, position) sets the group's offset anywhere.
extern "C" Datum chronicle_reset(PG_FUNCTION_ARGS) {
  OffsetCall c = offset_call(fcinfo, "Reset to a position at or before the newest event (0: replay from the start).");
  OffsetSession s = offsets_begin();
  int64 stored = run_offset(Q_SET, c.grp, c.ev, c.position);
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
// of tables that no longer exist and warns when a protection trigger of an
// event table was dropped.
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
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  warn_dropped_protection();
  SPI_finish();
  PG_RETURN_VOID();
}
