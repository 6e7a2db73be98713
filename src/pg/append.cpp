// append.cpp: writing events: the stamping trigger behind INSERT, COPY and
// append(), the immutability trigger, correct(), retract() and erase().
#include "capture.hpp"
#include "eventtable.hpp"
#include "plans.hpp"

extern "C" {
#include "executor/executor.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
}
#include "txtime.hpp"

namespace chronicle::pg {

// Set by append()/correct()/retract() around their INSERT; read by the
// stamping trigger, which consumes them.
static bool internal_write = false;   // supersedes and '$' types allowed
static bool have_expected = false;
static int32 expected_version = 0;

// refuse_system_column raises 428C9 for a caller-supplied system column.
[[noreturn]] static void refuse_system_column(Relation rel, int col) {
  ereport(ERROR, (errcode(ERRCODE_GENERATED_ALWAYS),
                  errmsg("cannot insert a value into column \"%s\" of event table \"%s\"",
                         kColNames[col], RelationGetRelationName(rel)),
                  errdetail("Column \"%s\" is assigned by chronicle.", kColNames[col]),
                  errhint("Insert only stream, type, payload, valid_from, valid_to and meta.")));
  pg_unreachable();
}

// require_value raises 23502 for a null stream, type or payload.
static void require_value(Relation rel, bool isnull, int col) {
  if (isnull)
    ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
                    errmsg("null value in column \"%s\" of event table \"%s\"", kColNames[col],
                           RelationGetRelationName(rel))));
}

// stamp_row fills the system columns of a new event row and returns it.
static HeapTuple stamp_row(Relation rel, HeapTuple tuple) {
  const EventTableInfo* info = event_table_info(rel);  // rel's columns
  // A row routed to a partition is the partitioned event table's event.
  Relation root = info->root == info->relid ? rel : table_open(info->root, NoLock);
  const EventTableInfo* rinfo = info->root == info->relid ? info : event_table_info(root);
  TupleDesc desc = RelationGetDescr(rel);
  int natts = desc->natts;
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * natts));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * natts));
  bool* repl = static_cast<bool*>(palloc0(sizeof(bool) * natts));
  heap_deform_tuple(tuple, desc, values, nulls);
#define ATT(c) (info->att[c] - 1)

  bool internal = internal_write;
  internal_write = false;
  bool check_expected = have_expected;
  have_expected = false;

  if (!nulls[ATT(C_POSITION)]) refuse_system_column(root, C_POSITION);
  if (!nulls[ATT(C_VERSION)]) refuse_system_column(root, C_VERSION);
  // (A partitioned event table routes rows by its default, the provisional stamp.)
  if (!nulls[ATT(C_RECORDED_AT)] && DatumGetTimestampTz(values[ATT(C_RECORDED_AT)]) != provisional_stamp())
    refuse_system_column(root, C_RECORDED_AT);
  if (!nulls[ATT(C_SUPERSEDES)] && !internal) refuse_system_column(root, C_SUPERSEDES);
  require_value(root, nulls[ATT(C_STREAM)], C_STREAM);
  require_value(root, nulls[ATT(C_TYPE)], C_TYPE);
  if (!internal) require_value(root, nulls[ATT(C_PAYLOAD)], C_PAYLOAD);

  text* type = DatumGetTextPP(values[ATT(C_TYPE)]);
  if (!internal && VARSIZE_ANY_EXHDR(type) > 0 && VARDATA_ANY(type)[0] == '$')
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("event type \"%s\" is reserved", text_to_cstring(type)),
                    errdetail("Types beginning with \"$\" are chronicle's own markers.")));

  TimestampTz stamp = provisional_stamp();
  if (nulls[ATT(C_VALID_FROM)]) {
    values[ATT(C_VALID_FROM)] = TimestampTzGetDatum(stamp);
    nulls[ATT(C_VALID_FROM)] = false;
    repl[ATT(C_VALID_FROM)] = true;
  }
  if (nulls[ATT(C_VALID_TO)]) {
    values[ATT(C_VALID_TO)] = TimestampTzGetDatum(DT_NOEND);
    nulls[ATT(C_VALID_TO)] = false;
    repl[ATT(C_VALID_TO)] = true;
  }
  TimestampTz vf = DatumGetTimestampTz(values[ATT(C_VALID_FROM)]);
  TimestampTz vt = DatumGetTimestampTz(values[ATT(C_VALID_TO)]);
  if (vf >= vt)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("valid_from must be earlier than valid_to"),
                    errdetail("valid_from is %s and valid_to is %s.", pstrdup(timestamptz_to_str(vf)),
                              pstrdup(timestamptz_to_str(vt)))));

  text* stream = DatumGetTextPP(values[ATT(C_STREAM)]);
  const char* sdata = VARDATA_ANY(stream);
  int slen = VARSIZE_ANY_EXHDR(stream);
  int32 current = cached_version(rinfo->relid, sdata, slen);
  if (current < 0) current = lookup_version(root, rinfo, PointerGetDatum(stream));
  if (check_expected && current != expected_version)
    ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                    errmsg("version conflict on stream \"%s\": expected version %d, actual version %d",
                           text_to_cstring(stream), expected_version, current),
                    errhint("Read the stream again and retry.")));
  if (current == PG_INT32_MAX)
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("stream \"%s\" has reached its last version", text_to_cstring(stream))));
  int32 version = current + 1;
  int64 position = nextval_internal(rinfo->seqid, false);
  remember_version(rinfo->relid, sdata, slen, version);
  note_write(rinfo, position);
  if (root != rel) table_close(root, NoLock);

  values[ATT(C_POSITION)] = Int64GetDatum(position);
  nulls[ATT(C_POSITION)] = false;
  repl[ATT(C_POSITION)] = true;
  values[ATT(C_VERSION)] = Int32GetDatum(version);
  nulls[ATT(C_VERSION)] = false;
  repl[ATT(C_VERSION)] = true;
  values[ATT(C_RECORDED_AT)] = TimestampTzGetDatum(stamp);
  nulls[ATT(C_RECORDED_AT)] = false;
  repl[ATT(C_RECORDED_AT)] = true;
#undef ATT
  return heap_modify_tuple(tuple, desc, values, nulls, repl);
}

// append_sql makes the INSERT of append(), correct() and retract().
static char* append_sql(Oid relid, PlanKind) {
  return psprintf("INSERT INTO %s (stream, type, payload, valid_from, valid_to, meta, supersedes) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position, version",
                  qualified_name(relid));
}

// NewEvent is one row for insert_event.
struct NewEvent {
  Datum stream, type, payload, valid_from, valid_to, meta, supersedes;
  bool payload_null, valid_from_null, valid_to_null, meta_null, supersedes_null;
};

struct CheckCache {
  Oid relid;
  List* exprs;  // planned, in CacheMemoryContext
};
static HTAB* check_cache = nullptr;

// forget_checks drops the prepared CHECK constraints of a changed table.
static void forget_checks(Datum, Oid relid) {
  if (check_cache == nullptr) return;
  if (relid == InvalidOid) {
    hash_destroy(check_cache);
    check_cache = nullptr;
    return;
  }
  hash_search(check_cache, &relid, HASH_REMOVE, nullptr);
}

// planned_checks returns rel's CHECK constraints, planned, in the order of
// its constraint list (what ExecRelCheck would build on each call).
static List* planned_checks(Relation rel) {
  Oid relid = RelationGetRelid(rel);
  if (check_cache == nullptr) check_cache = oid_hash("chronicle checks", sizeof(CheckCache), CacheMemoryContext);
  bool found;
  auto* e = static_cast<CheckCache*>(hash_search(check_cache, &relid, HASH_FIND, &found));
  if (found) return e->exprs;
  TupleConstr* constr = rel->rd_att->constr;
  MemoryContext old = MemoryContextSwitchTo(CacheMemoryContext);
  List* exprs = NIL;
  for (int i = 0; i < constr->num_check; i++)
    exprs = lappend(exprs, expression_planner(static_cast<Expr*>(stringToNode(constr->check[i].ccbin))));
  MemoryContextSwitchTo(old);
  e = static_cast<CheckCache*>(hash_search(check_cache, &relid, HASH_ENTER, &found));
  e->exprs = exprs;
  return exprs;
}

// insert_direct inserts one event without SPI, through the executor entry
// that logical replication's apply worker uses: BEFORE triggers (the stamping
// trigger among them), constraints, indexes and AFTER triggers run as for an
// INSERT. Returns false, doing nothing, when it cannot be used (row-level
// security on the table, a partitioned table): insert_event then goes
// through SPI.
static bool insert_direct(Oid relid, const NewEvent& ev, int64* position, int32* version) {
  if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED) return false;
  if (get_rel_relkind(relid) != RELKIND_RELATION) return false;  // partitioned: rows are routed
  if (pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
    aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
  Relation rel = table_open(relid, RowExclusiveLock);
  const EventTableInfo* info = event_table_info(rel);
  EState* estate = CreateExecutorState();
  RangeTblEntry* rte = makeNode(RangeTblEntry);
  rte->rtekind = RTE_RELATION;
  rte->relid = relid;
  rte->relkind = RELKIND_RELATION;
  rte->rellockmode = RowExclusiveLock;
#if PG_VERSION_NUM >= 160000
  ExecInitRangeTable(estate, list_make1(rte), NIL);
#else
  ExecInitRangeTable(estate, list_make1(rte));
#endif
  ResultRelInfo* rri = makeNode(ResultRelInfo);
  InitResultRelInfo(rri, rel, 1, nullptr, 0);
  ExecOpenIndices(rri, false);
  // CHECK constraints from the planned expressions kept per table, rather
  // than parsed from the catalog on every call.
  if (rel->rd_att->constr != nullptr && rel->rd_att->constr->num_check > 0) {
    List* checks = planned_checks(rel);
    int n = rel->rd_att->constr->num_check;
    rri->ri_ConstraintExprs = static_cast<ExprState**>(palloc0(sizeof(ExprState*) * n));
    ListCell* lc;
    int i = 0;
    foreach (lc, checks) rri->ri_ConstraintExprs[i++] = ExecInitExpr(static_cast<Expr*>(lfirst(lc)), nullptr);
  }
  TupleDesc desc = RelationGetDescr(rel);
  TupleTableSlot* slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
  ExecClearTuple(slot);
  for (int i = 0; i < desc->natts; i++) {
    slot->tts_values[i] = (Datum)0;
    slot->tts_isnull[i] = true;
  }
#define SET(c, v, isnull)                              \
  do {                                                 \
    slot->tts_values[info->att[c] - 1] = (v);          \
    slot->tts_isnull[info->att[c] - 1] = (isnull);     \
  } while (0)
  SET(C_STREAM, ev.stream, false);
  SET(C_TYPE, ev.type, false);
  SET(C_PAYLOAD, ev.payload, ev.payload_null);
  SET(C_VALID_FROM, ev.valid_from, ev.valid_from_null);
  SET(C_VALID_TO, ev.valid_to, ev.valid_to_null);
  SET(C_META, ev.meta, ev.meta_null);
  SET(C_SUPERSEDES, ev.supersedes, ev.supersedes_null);
#undef SET
  // Defaults of other columns (a user's extra columns): as INSERT would.
  for (int i = 0; i < desc->natts; i++) {
    Form_pg_attribute a = TupleDescAttr(desc, i);
    if (a->attisdropped || !slot->tts_isnull[i] || !a->atthasdef) continue;
    bool ours = false;  // chronicle's columns are the stamping trigger's business
    for (int c = 0; c < C_NCOLS; c++) ours = ours || info->att[c] == a->attnum;
    if (ours) continue;
    Expr* def = reinterpret_cast<Expr*>(build_column_default(rel, a->attnum));
    if (def == nullptr) continue;
    ExprState* es = ExecPrepareExpr(def, estate);
    slot->tts_values[i] = ExecEvalExprSwitchContext(es, GetPerTupleExprContext(estate), &slot->tts_isnull[i]);
  }
  ExecStoreVirtualTuple(slot);
  // Two first appends to one stream could both read version v and insert
  // v + 1; the second would then fail on the unique index. The stream's
  // lock, from the version lookup (in the stamping trigger) until the index
  // entry exists, makes the second see the first's row and wait for it.
  // (Later appends of this transaction to the stream use the cached version:
  // the row already written makes other appenders wait.)
  text* stream = DatumGetTextPP(ev.stream);
  bool first = cached_version(relid, VARDATA_ANY(stream), VARSIZE_ANY_EXHDR(stream)) < 0;
  if (first) lock_stream(relid, ev.stream);
  ExecSimpleRelationInsert(rri, estate, slot);
  if (first) unlock_stream(relid, ev.stream);
  bool isnull;
  *position = DatumGetInt64(slot_getattr(slot, info->att[C_POSITION], &isnull));
  *version = DatumGetInt32(slot_getattr(slot, info->att[C_VERSION], &isnull));
  ExecCloseIndices(rri);
  ExecResetTupleTable(estate->es_tupleTable, false);
  FreeExecutorState(estate);
  table_close(rel, NoLock);
  return true;
}

// position_version returns (position, version) as fcinfo's row type.
static Datum position_version(FunctionCallInfo fcinfo, int64 position, int32 version) {
  // The blessed result descriptor is kept for the call site.
  auto td = static_cast<TupleDesc>(fcinfo->flinfo->fn_extra);
  if (td == nullptr) {
    MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
    if (get_call_result_type(fcinfo, nullptr, &td) != TYPEFUNC_COMPOSITE)
      elog(ERROR, "chronicle: return type must be a row type");
    td = BlessTupleDesc(CreateTupleDescCopy(td));
    MemoryContextSwitchTo(old);
    fcinfo->flinfo->fn_extra = td;
  }
  Datum out[2] = {Int64GetDatum(position), Int32GetDatum(version)};
  bool outnulls[2] = {false, false};
  return HeapTupleGetDatum(heap_form_tuple(td, out, outnulls));
}

// insert_event inserts one event through the table's stamping trigger and
// returns (position, version) as a composite for fcinfo.
static Datum insert_event(FunctionCallInfo fcinfo, Oid relid, const NewEvent& ev, bool internal,
                          bool with_expected, int32 expected) {
  int64 position;
  int32 version;
  internal_write = internal;
  have_expected = with_expected;
  expected_version = expected;
  // The direct path for plain appends; with expected_version or a
  // supersedes, SPI in a subtransaction reports races precisely.
  bool direct = !with_expected && !internal && insert_direct(relid, ev, &position, &version);
  internal_write = false;
  have_expected = false;
  if (direct) return position_version(fcinfo, position, version);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  static const Oid types[7] = {TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID, INT8OID};
  SPIPlanPtr plan = cached_plan(relid, PLAN_APPEND, append_sql, 7, types);
  Datum args[7] = {ev.stream, ev.type, ev.payload, ev.valid_from, ev.valid_to, ev.meta, ev.supersedes};
  char nulls[7] = {' ', ' ', ev.payload_null ? 'n' : ' ', ev.valid_from_null ? 'n' : ' ',
                   ev.valid_to_null ? 'n' : ' ', ev.meta_null ? 'n' : ' ',
                   ev.supersedes_null ? 'n' : ' '};
  internal_write = internal;
  have_expected = with_expected;
  expected_version = expected;
  MemoryContext caller = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  // With expected_version, the INSERT runs in a subtransaction so that a
  // race lost on the (stream, version) index can be reported with the
  // version that won it.
  if (with_expected) {
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(caller);
  }
  int rc = 0;
  PG_TRY();
  {
    rc = SPI_execute_plan(plan, args, nulls, false, 1);
    if (with_expected) {
      ReleaseCurrentSubTransaction();
      MemoryContextSwitchTo(caller);
      CurrentResourceOwner = owner;
    }
  }
  PG_CATCH();
  {
    internal_write = false;
    have_expected = false;
    MemoryContextSwitchTo(caller);
    ErrorData* ed = CopyErrorData();
    FlushErrorState();
    if (with_expected) {
      RollbackAndReleaseCurrentSubTransaction();
      MemoryContextSwitchTo(caller);
      CurrentResourceOwner = owner;
    }
    if (ed->sqlerrcode == ERRCODE_UNIQUE_VIOLATION) {
      const char* sv_index = get_rel_name(event_table_info_oid(relid)->stream_version_idx);
      bool on_supersedes = ed->constraint_name && sv_index && strcmp(ed->constraint_name, sv_index) != 0;
      if (on_supersedes)
        ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                        errmsg("event at position %lld was superseded concurrently",
                               (long long)DatumGetInt64(ev.supersedes)),
                        errdetail("%s", ed->message), errhint("Retry the transaction.")));
      if (with_expected) {
        Relation rel = table_open(relid, AccessShareLock);
        int32 actual = lookup_version(rel, event_table_info(rel), ev.stream);
        table_close(rel, AccessShareLock);
        ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                        errmsg("version conflict on stream \"%s\": expected version %d, actual version %d",
                               TextDatumGetCString(ev.stream), expected, actual),
                        errdetail("A concurrent transaction appended to the stream first."),
                        errhint("Read the stream again and retry.")));
      }
      ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                      errmsg("concurrent append to stream \"%s\"", TextDatumGetCString(ev.stream)),
                      errdetail("%s", ed->message), errhint("Retry the transaction.")));
    }
    // The caller called append(), not our internal INSERT: drop its context.
    ed->context = nullptr;
    ed->internalquery = nullptr;
    ed->cursorpos = ed->internalpos = 0;
    ReThrowError(ed);
  }
  PG_END_TRY();
  internal_write = false;
  have_expected = false;
  if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
    elog(ERROR, "chronicle: INSERT into event table returned %s", SPI_result_code_string(rc));
  bool isnull;
  position = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
  SPI_finish();
  return position_version(fcinfo, position, version);
}

// Target is the event a correction or retraction replaces.
struct Target {
  Datum stream, type, valid_from, valid_to;
};

// find_target loads the event at position and checks it is not superseded.
static Target find_target(Oid relid, int64 position) {
  char* rel = qualified_name(relid);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Oid types[1] = {INT8OID};
  Datum args[1] = {Int64GetDatum(position)};
  SPIPlanPtr plan = SPI_prepare(
      psprintf("SELECT stream, type, valid_from, valid_to, "
               "(SELECT s.position FROM %s AS s WHERE s.supersedes OPERATOR(pg_catalog.=) e.position) "
               "FROM %s AS e WHERE e.position OPERATOR(pg_catalog.=) $1", rel, rel),
      1, types);
  if (plan == nullptr) elog(ERROR, "chronicle: preparing the position lookup failed");
  int rc = SPI_execute_plan(plan, args, nullptr, false, 1);
  if (rc != SPI_OK_SELECT) elog(ERROR, "chronicle: looking up position failed");
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("no event at position %lld in \"%s\"", (long long)position, get_rel_name(relid))));
  // A partitioned table has no unique index on supersedes: corrections of
  // one stream queue up on its lock and look again at the newest state.
  if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE) {
    bool isnull, was_free;
    (void)SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &was_free);
    lock_stream(relid, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    rc = SPI_execute_snapshot(plan, args, nullptr, GetLatestSnapshot(), InvalidSnapshot, false, false, 1);
    if (rc != SPI_OK_SELECT || SPI_processed == 0) elog(ERROR, "chronicle: looking up position failed");
    (void)SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);
    if (was_free && !isnull)  // as the unique index of an unpartitioned table reports it
      ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                      errmsg("event at position %lld was superseded concurrently", (long long)position),
                      errhint("Retry the transaction.")));
  }
  HeapTuple tup = SPI_tuptable->vals[0];
  TupleDesc td = SPI_tuptable->tupdesc;
  bool isnull;
  Datum by = SPI_getbinval(tup, td, 5, &isnull);
  if (!isnull)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("event at position %lld is already superseded by position %lld",
                           (long long)position, (long long)DatumGetInt64(by)),
                    errhint("Correct or retract the event that superseded it.")));
  Target t;
  t.stream = SPI_datumTransfer(SPI_getbinval(tup, td, 1, &isnull), false, -1);
  t.type = SPI_datumTransfer(SPI_getbinval(tup, td, 2, &isnull), false, -1);
  t.valid_from = SPI_getbinval(tup, td, 3, &isnull);
  t.valid_to = SPI_getbinval(tup, td, 4, &isnull);
  char* type = TextDatumGetCString(t.type);
  if (type[0] == '$')
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("event at position %lld is a \"%s\" marker and cannot be corrected or retracted",
                           (long long)position, type)));
  SPI_finish();
  return t;
}

// check_event_table raises unless relid is an event table.
static void check_event_table(Oid relid) { (void)event_table_info_oid(relid); }

}  // namespace chronicle::pg

using namespace chronicle::pg;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_event_stamp);
PG_FUNCTION_INFO_V1(chronicle_event_immutable);
PG_FUNCTION_INFO_V1(chronicle_append);
PG_FUNCTION_INFO_V1(chronicle_correct);
PG_FUNCTION_INFO_V1(chronicle_retract);
PG_FUNCTION_INFO_V1(chronicle_erase);
}

// chronicle_event_stamp is the BEFORE INSERT row trigger of event tables.
extern "C" Datum chronicle_event_stamp(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "chronicle.event_stamp() must be called as a trigger");
  auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
      !TRIGGER_FIRED_BY_INSERT(td->tg_event))
    elog(ERROR, "chronicle.event_stamp() must be a BEFORE INSERT row trigger");
  // The commit-time restamp moving a row to another partition re-inserts it.
  if (bypass_immutability) return PointerGetDatum(td->tg_trigtuple);
  return PointerGetDatum(stamp_row(td->tg_relation, td->tg_trigtuple));
}

// chronicle_event_immutable refuses UPDATE, DELETE and TRUNCATE.
extern "C" Datum chronicle_event_immutable(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "chronicle.event_immutable() must be called as a trigger");
  auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (bypass_immutability) return PointerGetDatum(nullptr);
  const char* op = TRIGGER_FIRED_BY_UPDATE(td->tg_event)   ? "update"
                   : TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "delete from"
                                                          : "truncate";
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("cannot %s event table \"%s\": events are immutable", op,
                         RelationGetRelationName(td->tg_relation)),
                  errhint("Record a change with chronicle.correct() or chronicle.retract().")));
  PG_RETURN_NULL();
}

// chronicle_append implements chronicle.append().
extern "C" Datum chronicle_append(PG_FUNCTION_ARGS) {
  require_arg(fcinfo, 0, "tbl");
  Oid relid = PG_GETARG_OID(0);
  check_event_table(relid);
  require_arg(fcinfo, 1, "stream");
  require_arg(fcinfo, 2, "type");
  require_arg(fcinfo, 3, "payload");
  NewEvent ev{};
  ev.stream = PG_GETARG_DATUM(1);
  ev.type = PG_GETARG_DATUM(2);
  ev.payload = PG_GETARG_DATUM(3);
  ev.valid_from_null = PG_ARGISNULL(4);
  if (!ev.valid_from_null) ev.valid_from = PG_GETARG_DATUM(4);
  ev.valid_to_null = PG_ARGISNULL(5);
  if (!ev.valid_to_null) ev.valid_to = PG_GETARG_DATUM(5);
  ev.meta_null = PG_ARGISNULL(6);
  if (!ev.meta_null) ev.meta = PG_GETARG_DATUM(6);
  ev.supersedes_null = true;
  bool with_expected = !PG_ARGISNULL(7);
  int32 expected = with_expected ? PG_GETARG_INT32(7) : 0;
  if (with_expected && expected < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("expected_version must not be negative")));
  return insert_event(fcinfo, relid, ev, false, with_expected, expected);
}

// chronicle_correct implements chronicle.correct().
extern "C" Datum chronicle_correct(PG_FUNCTION_ARGS) {
  require_arg(fcinfo, 0, "tbl");
  Oid relid = PG_GETARG_OID(0);
  check_event_table(relid);
  require_arg(fcinfo, 1, "position");
  require_arg(fcinfo, 2, "payload");
  if (get_attnum(relid, "assigned") != InvalidAttrNumber)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot correct an event of a tracked table's history"),
                    errdetail("A captured change is corrected by a new change of the table."),
                    errhint("Change the row with UPDATE under chronicle.valid_from / chronicle.valid_to, or retract the event.")));
  int64 position = PG_GETARG_INT64(1);
  Target t = find_target(relid, position);
  NewEvent ev{};
  ev.stream = t.stream;
  ev.type = PG_ARGISNULL(6) ? t.type : PG_GETARG_DATUM(6);
  if (!PG_ARGISNULL(6)) {
    char* type = TextDatumGetCString(ev.type);
    if (type[0] == '$')
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("event type \"%s\" is reserved", type)));
  }
  ev.payload = PG_GETARG_DATUM(2);
  ev.valid_from = PG_ARGISNULL(3) ? t.valid_from : PG_GETARG_DATUM(3);
  ev.valid_to = PG_ARGISNULL(4) ? t.valid_to : PG_GETARG_DATUM(4);
  ev.meta_null = PG_ARGISNULL(5);
  if (!ev.meta_null) ev.meta = PG_GETARG_DATUM(5);
  ev.supersedes = Int64GetDatum(position);
  return insert_event(fcinfo, relid, ev, true, false, 0);
}

// chronicle_retract implements chronicle.retract().
extern "C" Datum chronicle_retract(PG_FUNCTION_ARGS) {
  require_arg(fcinfo, 0, "tbl");
  Oid relid = PG_GETARG_OID(0);
  check_event_table(relid);
  require_arg(fcinfo, 1, "position");
  int64 position = PG_GETARG_INT64(1);
  Target t = find_target(relid, position);
  NewEvent ev{};
  ev.stream = t.stream;
  ev.type = CStringGetTextDatum(kRetractType);
  ev.payload_null = true;
  ev.valid_from = t.valid_from;
  ev.valid_to = t.valid_to;
  ev.meta_null = PG_ARGISNULL(2);
  if (!ev.meta_null) ev.meta = PG_GETARG_DATUM(2);
  ev.supersedes = Int64GetDatum(position);
  return insert_event(fcinfo, relid, ev, true, false, 0);
}

// chronicle_erase implements chronicle.erase(): payloads become null, a
// "$erase" marker records the erasure.
extern "C" Datum chronicle_erase(PG_FUNCTION_ARGS) {
  require_arg(fcinfo, 0, "tbl");
  require_arg(fcinfo, 1, "stream");
  Oid relid = PG_GETARG_OID(0);
  const EventTableInfo* info = event_table_info_oid(relid);
  Oid admin = get_role_oid("chronicle_admin", true);
  if (!OidIsValid(admin) || !has_privs_of_role(GetUserId(), admin))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to erase events"),
                    errdetail("Only roles granted chronicle_admin may erase.")));
  Oid owner = info->owner;
  char* rel = qualified_name(relid);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Oid types[1] = {TEXTOID};
  Datum args[1] = {PG_GETARG_DATUM(1)};
  // The UPDATE runs with session_replication_role = replica: no ordinary
  // trigger fires, neither chronicle's immutability trigger nor any the
  // owner may have added (which could otherwise rewrite events meanwhile).
  int nest = NewGUCNestLevel();
  (void)set_config_option("session_replication_role", "replica", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                          0, false);
  SavedUser s = become(owner);
  int rc = SPI_execute_with_args(
      psprintf("UPDATE %s SET payload = NULL WHERE stream OPERATOR(pg_catalog.=) $1 AND payload IS NOT NULL", rel), 1,
      types, args, nullptr, false, 0);
  restore_user(s);
  AtEOXact_GUC(true, nest);
  if (rc != SPI_OK_UPDATE) elog(ERROR, "chronicle: erasure failed");
  int64 erased = (int64)SPI_processed;
  SPI_finish();

  StringInfoData meta;
  initStringInfo(&meta);
  appendStringInfo(&meta, "{\"erased_events\": %lld, \"erased_by\": ", (long long)erased);
  escape_json(&meta, GetUserNameFromId(GetUserId(), false));
  appendStringInfoChar(&meta, '}');
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Oid itypes[3] = {TEXTOID, TEXTOID, JSONBOID};
  Datum iargs[3] = {PG_GETARG_DATUM(1), CStringGetTextDatum(kEraseType),
                    DirectFunctionCall1(jsonb_in, CStringGetDatum(meta.data))};
  internal_write = true;
  s = become(owner);
  rc = SPI_execute_with_args(
      psprintf("INSERT INTO %s (stream, type, payload, meta) VALUES ($1, $2, NULL, $3)", rel), 3,
      itypes, iargs, nullptr, false, 0);
  restore_user(s);
  internal_write = false;
  if (rc != SPI_OK_INSERT) elog(ERROR, "chronicle: recording the erasure failed");
  SPI_finish();
  PG_RETURN_INT64(erased);
}

// reset_session_flags clears the flags that chronicle sets around its own
// writes; called when a (sub)transaction aborts.
void chronicle::pg::reset_session_flags() {
  internal_write = false;
  have_expected = false;
  capture_suppressed = InvalidOid;
  bypass_immutability = false;
}

// init_append registers the plan cache invalidation; called from _PG_init.
void chronicle_init_append() { CacheRegisterRelcacheCallback(forget_checks, (Datum)0); }
