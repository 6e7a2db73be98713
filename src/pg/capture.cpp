// capture.cpp: CDC (SPEC §5): track()/untrack() and the capture triggers
// that turn every INSERT, UPDATE, DELETE and TRUNCATE of a tracked table into
// an event of its event table. Row images and keys are built straight from
// the tuple; events go in through one cached INSERT plan per event table.
#include <string>
#include <vector>

#include "capture.hpp"
#include "eventtable.hpp"
#include "guard.hpp"
#include "guc.hpp"
#include "plans.hpp"
#include "rows.hpp"
#include "txtime.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/regproc.h"
}

namespace chronicle::pg {

Oid capture_suppressed = InvalidOid;
// The command that truncated a tracked (parent) table, so that the
// truncate triggers of its partitions record nothing more.
static CommandId truncating_tracked = 0;
static bool truncating_valid = false;

// TrackInfo is the cached description of a tracked relation (or partition).
struct TrackInfo {
  Oid relid;
  Oid evrelid;   // its event table
  Oid evowner;   // who writes the events
  int nkeys;
  AttrNumber keyatt[INDEX_MAX_KEYS];
  Oid keytype[INDEX_MAX_KEYS];
  FmgrInfo keyout[INDEX_MAX_KEYS];
};
static HTAB* track_cache = nullptr;

// invalidate_track drops the cached description of relid (all on InvalidOid).
static void invalidate_track(Datum, Oid relid) {
  if (track_cache == nullptr) return;
  if (relid == InvalidOid) {
    hash_destroy(track_cache);
    track_cache = nullptr;
    return;
  }
  HASH_SEQ_STATUS it;
  TrackInfo* t;
  hash_seq_init(&it, track_cache);
  while ((t = static_cast<TrackInfo*>(hash_seq_search(&it))) != nullptr)
    if (t->relid == relid || t->evrelid == relid) hash_search(track_cache, &t->relid, HASH_REMOVE, nullptr);
}

// primary_key fills nkeys/keyatt with rel's primary key columns; false when
// it has none.
static bool primary_key(Relation rel, int* nkeys, AttrNumber* keyatt) {
  Oid pk = RelationGetPrimaryKeyIndex(rel);
  if (!OidIsValid(pk)) return false;
  Relation idx = index_open(pk, AccessShareLock);
  *nkeys = idx->rd_index->indnkeyatts;
  for (int i = 0; i < *nkeys; i++) keyatt[i] = idx->rd_index->indkey.values[i];
  index_close(idx, AccessShareLock);
  return true;
}

// relid_of_name resolves a schema-qualified, quoted table name (a capture
// trigger's argument) under lockmode; InvalidOid when missing_ok and absent.
Oid relid_of_name(const char* name, LOCKMODE lockmode, bool missing_ok) {
#if PG_VERSION_NUM >= 160000
  List* names = stringToQualifiedNameList(name, nullptr);
#else
  List* names = stringToQualifiedNameList(name);
#endif
  return RangeVarGetRelid(makeRangeVarFromNameList(names), lockmode, missing_ok);
}

// resolve_event_table finds the event table a capture trigger names.
static Oid resolve_event_table(const char* name) {
  Oid relid = relid_of_name(name, NoLock, true);
  if (!OidIsValid(relid))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("event table %s of a tracked table does not exist", name),
                    errhint("Run chronicle.untrack() on the table, then chronicle.track() to start a new history.")));
  return relid;
}

// track_info returns the cached description of a tracked relation whose
// capture trigger names the event table evname.
static const TrackInfo* track_info(Relation rel, const char* evname) {
  Oid relid = RelationGetRelid(rel);
  if (track_cache == nullptr) track_cache = oid_hash("chronicle tracked tables", sizeof(TrackInfo), CacheMemoryContext, 32);
  bool found;
  auto* t = static_cast<TrackInfo*>(hash_search(track_cache, &relid, HASH_FIND, &found));
  if (found) return t;
  TrackInfo tmp;
  memset(&tmp, 0, sizeof(tmp));
  tmp.relid = relid;
  tmp.evrelid = resolve_event_table(evname);
  const EventTableInfo* ev = event_table_info_oid(tmp.evrelid);
  tmp.evowner = ev->owner;
  if (!primary_key(rel, &tmp.nkeys, tmp.keyatt))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("tracked table \"%s\" has no primary key", RelationGetRelationName(rel))));
  TupleDesc desc = RelationGetDescr(rel);
  for (int i = 0; i < tmp.nkeys; i++) {
    Oid out;
    bool varlena;
    tmp.keytype[i] = TupleDescAttr(desc, tmp.keyatt[i] - 1)->atttypid;
    getTypeOutputInfo(tmp.keytype[i], &out, &varlena);
    fmgr_info_cxt(out, &tmp.keyout[i], CacheMemoryContext);
  }
  t = static_cast<TrackInfo*>(hash_search(track_cache, &relid, HASH_ENTER, &found));
  *t = tmp;
  return t;
}

// style_dependent tells whether a type's text form depends on settings
// (DateStyle, TimeZone, IntervalStyle, extra_float_digits, bytea_output,
// lc_monetary): its key text is then made under fixed settings.
static bool style_dependent(Oid type) {
  char category;
  bool preferred;
  get_type_category_preferred(getBaseType(type), &category, &preferred);
  Oid base = getBaseType(type);
  return category == TYPCATEGORY_DATETIME || category == TYPCATEGORY_TIMESPAN || base == FLOAT4OID ||
         base == FLOAT8OID || base == BYTEAOID || base == CASHOID;
}

// encode_stream returns the stream of a primary key's values: each part's
// text form (under fixed settings where the text depends on them), one part
// as it is, several as a JSON array (src/core encode_key).
char* encode_stream(int nparts, const Oid* types, const Datum* values) {
  bool fixed = false;
  for (int i = 0; i < nparts; i++) fixed = fixed || style_dependent(types[i]);
  int nest = 0;
  if (fixed) {
    nest = NewGUCNestLevel();
    const char* settings[][2] = {{"datestyle", "ISO, YMD"}, {"timezone", "UTC"}, {"intervalstyle", "postgres"},
                                 {"extra_float_digits", "1"}, {"bytea_output", "hex"}, {"lc_monetary", "C"}};
    for (auto& kv : settings)
      (void)set_config_option(kv[0], kv[1], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  }
  char* parts[INDEX_MAX_KEYS];
  for (int i = 0; i < nparts; i++) {
    Oid out;
    bool varlena;
    getTypeOutputInfo(types[i], &out, &varlena);
    parts[i] = OidOutputFunctionCall(out, values[i]);
  }
  if (fixed) AtEOXact_GUC(true, nest);
  if (nparts == 1) return parts[0];
  char* encoded = nullptr;
  guarded([&] {
    std::vector<std::string> v(parts, parts + nparts);
    std::string s = core::encode_key(v);
    encoded = static_cast<char*>(malloc(s.size() + 1));
    if (encoded == nullptr) throw std::bad_alloc();
    memcpy(encoded, s.c_str(), s.size() + 1);
  });
  char* result = pstrdup(encoded);
  free(encoded);
  return result;
}

// key_of returns the stream (encoded primary key) of a row.
static Datum key_of(const TrackInfo* t, HeapTuple tuple, TupleDesc desc) {
  Datum values[INDEX_MAX_KEYS];
  for (int i = 0; i < t->nkeys; i++) {
    bool isnull;
    values[i] = heap_getattr(tuple, t->keyatt[i], desc, &isnull);
    if (isnull)
      ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION), errmsg("primary key column is null")));
  }
  if (t->nkeys == 1 && !style_dependent(t->keytype[0]))
    return CStringGetTextDatum(OutputFunctionCall(const_cast<FmgrInfo*>(&t->keyout[0]), values[0]));
  return CStringGetTextDatum(encode_stream(t->nkeys, t->keytype, values));
}

// ToJsonb calls to_jsonb() on rows of one type, straight from the tuple.
struct ToJsonb {
  Oid rowtype = InvalidOid;
  FmgrInfo flinfo;
};
static ToJsonb to_jsonb_cache;

// image_of returns a row as jsonb, column names as keys.
static Datum image_of(HeapTuple tuple, TupleDesc desc) {
  Oid rowtype = desc->tdtypeid;
  if (to_jsonb_cache.rowtype != rowtype) {
    to_jsonb_cache.rowtype = InvalidOid;
    fmgr_info_cxt(F_TO_JSONB, &to_jsonb_cache.flinfo, TopMemoryContext);
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    to_jsonb_cache.flinfo.fn_expr = reinterpret_cast<Node*>(
        makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(makeNullConst(rowtype, -1, InvalidOid)), InvalidOid,
                     InvalidOid, COERCE_EXPLICIT_CALL));
    MemoryContextSwitchTo(old);
    to_jsonb_cache.rowtype = rowtype;
  }
  return FunctionCall1(&to_jsonb_cache.flinfo, heap_copy_tuple_as_datum(tuple, desc));
}

// capture_meta_jsonb returns the meta of a captured change: who and from
// where, plus chronicle.meta. Cached for the transaction while the session
// user, application_name and chronicle.meta stay the same.
static MemoryContext meta_cxt = nullptr;  // child of TopTransactionContext
static Datum meta_cached = (Datum)0;
static Oid meta_user = InvalidOid;
static char* meta_app = nullptr;
static char* meta_extra = nullptr;

// same_text compares two possibly null strings.
static bool same_text(const char* a, const char* b) {
  return (a == nullptr || b == nullptr) ? a == b : strcmp(a, b) == 0;
}

static Datum capture_meta_jsonb() {
  const char* app = GetConfigOption("application_name", true, false);
  const char* extra = capture_meta();
  Oid user = GetSessionUserId();
  if (meta_cxt != nullptr && user == meta_user && same_text(app, meta_app) && same_text(extra, meta_extra))
    return meta_cached;
  if (meta_cxt == nullptr)
    meta_cxt = AllocSetContextCreate(TopTransactionContext, "chronicle meta", ALLOCSET_SMALL_SIZES);
  else
    MemoryContextReset(meta_cxt);
  MemoryContext old = MemoryContextSwitchTo(meta_cxt);
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoString(&buf, "{\"user\": ");
  escape_json(&buf, GetUserNameFromId(user, false));
  appendStringInfoString(&buf, ", \"application\": ");
  escape_json(&buf, app ? app : "");
  appendStringInfoChar(&buf, '}');
  Datum meta = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
  // chronicle.meta cannot pass for someone else: user and application win.
  if (extra != nullptr)
    meta = DirectFunctionCall2(jsonb_concat, DirectFunctionCall1(jsonb_in, CStringGetDatum(extra)), meta);
  meta_cached = meta;
  meta_user = user;
  meta_app = app ? pstrdup(app) : nullptr;
  meta_extra = extra ? pstrdup(extra) : nullptr;
  MemoryContextSwitchTo(old);
  return meta_cached;
}

// Change is one event to record.
struct Captured {
  Datum stream;
  const char* type;
  Datum payload;
  bool payload_null;
  Datum assigned;  // text[]
  bool assigned_null;
};

// flush_sql makes the INSERT that writes a batch of captured changes
// (parallel arrays) into an event table, in array order.
static char* flush_sql(Oid evrelid, PlanKind) {
  return psprintf(
      "INSERT INTO %s (stream, type, payload, valid_from, valid_to, meta, assigned) "
      "SELECT u.s, u.t, u.p, u.vf, u.vt, u.m, u.a::pg_catalog.text[] "
      "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
      "pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7)) "
      "AS u(s, t, p, vf, vt, m, a)",
      qualified_name(evrelid));
}

// ValidRange is the valid time of this transaction's captured changes.
struct ValidRange {
  TimeSetting from, to;
  // contains_present: the range contains the statement's start time.
  bool contains_present() const {
    TimestampTz now = GetCurrentStatementStartTimestamp();
    return (!from.set || from.value <= now) && (!to.set || now < to.value);
  }
};

// valid_range reads chronicle.valid_from/valid_to and checks them.
static ValidRange valid_range() {
  ValidRange r{capture_valid_from(), capture_valid_to()};
  if (r.from.set && r.to.set && r.from.value >= r.to.value)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("chronicle.valid_from must be earlier than chronicle.valid_to")));
  return r;
}

// Pending holds the captured changes of one event table until the end of
// the statement that made them (the flush trigger), or pre-commit.
enum { P_STREAM, P_TYPE, P_PAYLOAD, P_VF, P_VT, P_META, P_ASSIGNED, P_NCOLS };
static const Oid kPendingTypes[P_NCOLS] = {TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID,
                                           TIMESTAMPTZOID, JSONBOID, TEXTOID};
struct Pending {
  Oid evrelid;
  Oid evowner;
  int n, cap;
  Datum* col[P_NCOLS];
  bool* null[P_NCOLS];
  SubTransactionId* subid;
};
static MemoryContext pending_cxt = nullptr;  // child of TopTransactionContext
static HTAB* pending = nullptr;

// pending_for returns the buffer of an event table.
static Pending* pending_for(const TrackInfo* t) {
  if (pending_cxt == nullptr) {
    pending_cxt = AllocSetContextCreate(TopTransactionContext, "chronicle pending changes", ALLOCSET_DEFAULT_SIZES);
    pending = nullptr;
  }
  if (pending == nullptr) pending = oid_hash("chronicle pending", sizeof(Pending), pending_cxt, 8);
  bool found;
  auto* p = static_cast<Pending*>(hash_search(pending, &t->evrelid, HASH_ENTER, &found));
  if (!found) {
    p->evowner = t->evowner;
    p->n = 0;
    p->cap = 64;
    for (int c = 0; c < P_NCOLS; c++) {
      p->col[c] = static_cast<Datum*>(MemoryContextAlloc(pending_cxt, sizeof(Datum) * p->cap));
      p->null[c] = static_cast<bool*>(MemoryContextAlloc(pending_cxt, sizeof(bool) * p->cap));
    }
    p->subid = static_cast<SubTransactionId*>(MemoryContextAlloc(pending_cxt, sizeof(SubTransactionId) * p->cap));
  }
  if (p->n == p->cap) {
    p->cap *= 2;
    for (int c = 0; c < P_NCOLS; c++) {
      p->col[c] = static_cast<Datum*>(repalloc_huge(p->col[c], sizeof(Datum) * p->cap));
      p->null[c] = static_cast<bool*>(repalloc_huge(p->null[c], sizeof(bool) * p->cap));
    }
    p->subid = static_cast<SubTransactionId*>(repalloc_huge(p->subid, sizeof(SubTransactionId) * p->cap));
  }
  return p;
}

// buffer adds captured changes to their event table's pending batch.
static void buffer(const TrackInfo* t, const Captured* changes, int n, const ValidRange& r,
                   bool all_time) {
  Datum meta = capture_meta_jsonb();
  for (int i = 0; i < n; i++) {
    Pending* p = pending_for(t);
    MemoryContext old = MemoryContextSwitchTo(pending_cxt);
    const Captured& c = changes[i];
    int k = p->n++;
    p->subid[k] = GetCurrentSubTransactionId();
    p->col[P_STREAM][k] = datumCopy(c.stream, false, -1);
    p->null[P_STREAM][k] = false;
    p->col[P_TYPE][k] = CStringGetTextDatum(c.type);
    p->null[P_TYPE][k] = false;
    p->null[P_PAYLOAD][k] = c.payload_null;
    p->col[P_PAYLOAD][k] = c.payload_null ? (Datum)0 : datumCopy(c.payload, false, -1);
    p->null[P_VF][k] = !(all_time || r.from.set);
    p->col[P_VF][k] = TimestampTzGetDatum(all_time ? DT_NOBEGIN : r.from.value);
    p->null[P_VT][k] = all_time || !r.to.set;
    p->col[P_VT][k] = TimestampTzGetDatum(r.to.value);
    p->col[P_META][k] = datumCopy(meta, false, -1);
    p->null[P_META][k] = false;
    p->null[P_ASSIGNED][k] = c.assigned_null;
    p->col[P_ASSIGNED][k] =
        c.assigned_null ? (Datum)0 : CStringGetTextDatum(OidOutputFunctionCall(F_ARRAY_OUT, c.assigned));
    MemoryContextSwitchTo(old);
  }
}

// flush_pending inserts every pending change into its event table, as the
// event table's owner, one INSERT per event table.
void flush_pending() {
  if (pending == nullptr) return;
  HASH_SEQ_STATUS it;
  Pending* p;
  bool connected = false, pushed = false;
  hash_seq_init(&it, pending);
  while ((p = static_cast<Pending*>(hash_seq_search(&it))) != nullptr) {
    if (p->n == 0) continue;
    if (!connected) {
      if (!ActiveSnapshotSet()) {  // pre-commit runs without one
        CommandCounterIncrement();
        PushActiveSnapshot(GetTransactionSnapshot());
        pushed = true;
      }
      if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
      connected = true;
    }
    Datum args[P_NCOLS];
    int dims[1] = {p->n};
    int lbs[1] = {1};
    for (int c = 0; c < P_NCOLS; c++) {
      int16 len;
      bool byval;
      char align;
      get_typlenbyvalalign(kPendingTypes[c], &len, &byval, &align);
      args[c] = PointerGetDatum(construct_md_array(p->col[c], p->null[c], 1, dims, lbs, kPendingTypes[c], len,
                                                   byval, align));
    }
    int n = p->n;
    p->n = 0;  // taken, whatever happens next
    SavedUser s = become(p->evowner);
    static const Oid types[P_NCOLS] = {TEXTARRAYOID, TEXTARRAYOID, JSONBARRAYOID, TIMESTAMPTZARRAYOID,
                                       TIMESTAMPTZARRAYOID, JSONBARRAYOID, TEXTARRAYOID};
    int rc = SPI_execute_plan(cached_plan(p->evrelid, PLAN_CAPTURE_FLUSH, flush_sql, P_NCOLS, types), args,
                              nullptr, false, 0);
    restore_user(s);
    if (rc != SPI_OK_INSERT || SPI_processed != (uint64)n)
      elog(ERROR, "chronicle: recording captured changes failed: %s", SPI_result_code_string(rc));
  }
  if (connected) SPI_finish();
  if (pushed) PopActiveSnapshot();
  if (pending_cxt != nullptr) MemoryContextReset(pending_cxt);
  pending = nullptr;
}

// forget_pending drops what a failed subtransaction (or transaction)
// captured; at transaction end everything goes with its memory.
void forget_pending(bool xact_end, SubTransactionId aborted) {
  if (xact_end) {
    pending_cxt = nullptr;
    pending = nullptr;
    meta_cxt = nullptr;
    return;
  }
  if (pending == nullptr) return;
  HASH_SEQ_STATUS it;
  Pending* p;
  hash_seq_init(&it, pending);
  while ((p = static_cast<Pending*>(hash_seq_search(&it))) != nullptr)
    while (p->n > 0 && p->subid[p->n - 1] >= aborted) p->n--;
}

// assigned_columns returns the columns an UPDATE assigned: its SET list
// (tg_updatedcols) and any column whose value changed (a BEFORE trigger);
// *changed tells whether any value differs.
static Datum assigned_columns(TriggerData* td, HeapTuple oldt, HeapTuple newt, bool* changed) {
  TupleDesc desc = RelationGetDescr(td->tg_relation);
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * (desc->natts + 1)));
  int n = 0;
  *changed = false;
  for (int i = 0; i < desc->natts; i++) {
    Form_pg_attribute a = TupleDescAttr(desc, i);
    if (a->attisdropped) continue;
    bool n1, n2;
    Datum d1 = heap_getattr(oldt, a->attnum, desc, &n1);
    Datum d2 = heap_getattr(newt, a->attnum, desc, &n2);
    bool differs = n1 != n2 || (!n1 && !datumIsEqual(d1, d2, a->attbyval, a->attlen));
    bool in_set = td->tg_updatedcols != nullptr &&
                  bms_is_member(a->attnum - FirstLowInvalidHeapAttributeNumber, td->tg_updatedcols);
    if (differs) *changed = true;
    if (differs || in_set) names[n++] = CStringGetTextDatum(NameStr(a->attname));
  }
  return PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}

// trigger_event_table returns the event table named by the trigger.
static const char* trigger_event_table(TriggerData* td) {
  if (td->tg_trigger->tgnargs != 1)
    elog(ERROR, "chronicle capture trigger must name its event table");
  return td->tg_trigger->tgargs[0];
}

// capture_row records the change a row trigger sees; valid_range r.
static void capture_row(TriggerData* td, const ValidRange& r) {
  Relation rel = td->tg_relation;
  TupleDesc desc = RelationGetDescr(rel);
  const TrackInfo* t = track_info(rel, trigger_event_table(td));
  Captured changes[2];
  int n = 0;
  if (TRIGGER_FIRED_BY_INSERT(td->tg_event)) {
    HeapTuple newt = td->tg_trigtuple;
    changes[n++] = Captured{key_of(t, newt, desc), "insert", image_of(newt, desc), false, 0, true};
  } else if (TRIGGER_FIRED_BY_DELETE(td->tg_event)) {
    HeapTuple oldt = td->tg_trigtuple;
    changes[n++] = Captured{key_of(t, oldt, desc), "delete", image_of(oldt, desc), false, 0, true};
  } else {
    HeapTuple oldt = td->tg_trigtuple, newt = td->tg_newtuple;
    Datum oldkey = key_of(t, oldt, desc), newkey = key_of(t, newt, desc);
    if (strcmp(TextDatumGetCString(oldkey), TextDatumGetCString(newkey)) != 0) {
      changes[n++] = Captured{oldkey, "delete", image_of(oldt, desc), false, 0, true};
      changes[n++] = Captured{newkey, "insert", image_of(newt, desc), false, 0, true};
    } else {
      bool changed;
      Datum assigned = assigned_columns(td, oldt, newt, &changed);
      // An update that changes nothing is recorded only when it asserts a
      // valid range of its own.
      if (!changed && !r.from.set && !r.to.set) return;
      changes[n++] = Captured{newkey, "update", image_of(newt, desc), false, assigned, false};
    }
  }
  buffer(t, changes, n, r, false);
}

// record_table_event records a table-level event (truncate, schema) under
// the empty stream.
void record_table_event(Relation rel, const char* evname, const char* type, Datum payload,
                        bool all_time) {
  const TrackInfo* t = track_info(rel, evname);
  ValidRange r = all_time ? ValidRange{{false, 0}, {false, 0}} : valid_range();
  Captured c{CStringGetTextDatum(""), type, payload, false, 0, true};
  buffer(t, &c, 1, r, all_time);
  flush_pending();
}

// schema_payload describes rel's columns: attnum, name and type of each.
Datum schema_payload(Relation rel) {
  TupleDesc desc = RelationGetDescr(rel);
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoString(&buf, "{\"columns\": [");
  bool first = true;
  for (int i = 0; i < desc->natts; i++) {
    Form_pg_attribute a = TupleDescAttr(desc, i);
    if (a->attisdropped) continue;
    appendStringInfo(&buf, "%s{\"attnum\": %d, \"name\": ", first ? "" : ", ", a->attnum);
    escape_json(&buf, NameStr(a->attname));
    appendStringInfoString(&buf, ", \"type\": ");
    escape_json(&buf, format_type_with_typemod(a->atttypid, a->atttypmod));
    appendStringInfoChar(&buf, '}');
    first = false;
  }
  appendStringInfoString(&buf, "]}");
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

// cover_partition gives a partition of a tracked table (created or attached
// after track) the statement triggers that partitions do not inherit.
void cover_partition(Relation rel) {
  if (!rel->rd_rel->relispartition) return;
  const char* ev = tracked_event_table(rel);  // the cloned row trigger says it
  if (ev == nullptr) return;
  TriggerDesc* td = rel->trigdesc;
  for (int i = 0; td != nullptr && i < td->numtriggers; i++)
    if (strcmp(td->triggers[i].tgname, "zz_chronicle_capture_flush") == 0) return;
  char* q = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
  const char* lit = quote_literal_cstr(ev);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  const char* ddl[] = {"CREATE TRIGGER zz_chronicle_capture_truncate BEFORE TRUNCATE ON %s "
                       "FOR EACH STATEMENT EXECUTE FUNCTION chronicle.capture(%s)",
                       "CREATE TRIGGER zz_chronicle_capture_flush AFTER INSERT OR UPDATE OR DELETE ON %s "
                       "FOR EACH STATEMENT EXECUTE FUNCTION chronicle.capture_flush(%s)"};
  for (const char* d : ddl)
    if (SPI_execute(psprintf(d, q, lit), false, 0) != SPI_OK_UTILITY)
      elog(ERROR, "chronicle: creating the capture triggers failed");
  SPI_finish();
}

// init_capture registers the cache invalidations; called from _PG_init.
void init_capture() {
  CacheRegisterRelcacheCallback(invalidate_track, (Datum)0);
}

// is_tracked tells whether rel has chronicle's capture trigger and returns
// the event table it names.
const char* tracked_event_table(Relation rel) {
  TriggerDesc* td = rel->trigdesc;
  if (td == nullptr) return nullptr;
  Oid nsp = get_namespace_oid("chronicle", true);
  for (int i = 0; i < td->numtriggers; i++) {
    const Trigger* t = &td->triggers[i];
    if (strcmp(t->tgname, "zz_chronicle_capture") == 0 && t->tgnargs == 1 &&
        get_func_namespace(t->tgfoid) == nsp)
      return t->tgargs[0];
  }
  return nullptr;
}

// snapshot_rows records every existing row of rel as a snapshot event,
// with a NOTICE every 100,000 rows.
static int64 snapshot_rows(Relation rel, const char* evname, const char* type, bool all_time) {
  const TrackInfo* t = track_info(rel, evname);
  TupleDesc desc = RelationGetDescr(rel);
  // A partitioned table is read whole; a plain table or a partition alone.
  char* sql = psprintf("SELECT * FROM %s%s",
                       rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
                       quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                  RelationGetRelationName(rel)));
  SPIPlanPtr plan = SPI_prepare(sql, 0, nullptr);
  Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
  ValidRange r = all_time ? ValidRange{{false, 0}, {false, 0}} : valid_range();
  int64 total = 0;
  MemoryContext batch = AllocSetContextCreate(CurrentMemoryContext, "chronicle snapshot", ALLOCSET_DEFAULT_SIZES);
  for (;;) {
    SPI_cursor_fetch(portal, true, 1000);
    uint64 got = SPI_processed;
    if (got == 0) break;
    SPITupleTable* tt = SPI_tuptable;
    MemoryContext old = MemoryContextSwitchTo(batch);
    for (uint64 i = 0; i < got; i++) {
      // The cursor's tuples have the query's descriptor, which is rel's.
      Captured c{key_of(t, tt->vals[i], desc), type, image_of(tt->vals[i], desc), false, 0, true};
      buffer(t, &c, 1, r, all_time);
      total++;
      if (total % 10000 == 0) flush_pending();
      if (total % 100000 == 0)
        ereport(NOTICE, (errmsg("chronicle.track: %lld rows of \"%s\" recorded", (long long)total,
                                RelationGetRelationName(rel))));
      CHECK_FOR_INTERRUPTS();
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(batch);
    SPI_freetuptable(tt);
  }
  SPI_cursor_close(portal);
  MemoryContextDelete(batch);
  flush_pending();
  return total;
}

// key_exists tells whether the row a BEFORE INSERT trigger sees has a key
// that the table already holds (latest snapshot).
static bool key_exists(TriggerData* td) {
  Relation rel = td->tg_relation;
  const TrackInfo* t = track_info(rel, td->tg_trigger->tgargs[0]);
  TupleDesc desc = RelationGetDescr(rel);
  StringInfoData q;
  initStringInfo(&q);
  appendStringInfo(&q, "SELECT FROM %s WHERE ",
                   quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                              RelationGetRelationName(rel)));
  Datum values[INDEX_MAX_KEYS];
  for (int i = 0; i < t->nkeys; i++) {
    bool isnull;
    values[i] = heap_getattr(td->tg_trigtuple, t->keyatt[i], desc, &isnull);
    appendStringInfo(&q, "%s%s OPERATOR(pg_catalog.=) $%d", i ? " AND " : "",
                     quote_identifier(NameStr(TupleDescAttr(desc, t->keyatt[i] - 1)->attname)), i + 1);
  }
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  int rc = SPI_execute_with_args(q.data, t->nkeys, const_cast<Oid*>(t->keytype), values, nullptr, true, 1);
  bool exists = rc == SPI_OK_SELECT && SPI_processed > 0;
  SPI_finish();
  return exists;
}

// open_owned_tracked opens argument 0 of untrack() / apply_due(): a tracked
// table the caller owns (22004, 42501 or 55000 otherwise).
static Relation open_owned_tracked(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument \"tbl\" must not be null")));
  Oid relid = PG_GETARG_OID(0);
  Relation rel = open_arg_relation(relid, ShareRowExclusiveLock);
  if (!pg_class_ownercheck(relid, GetUserId()))
    aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
  if (tracked_event_table(rel) == nullptr)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("table \"%s\" is not tracked", RelationGetRelationName(rel))));
  return rel;
}

}  // namespace chronicle::pg

using namespace chronicle::pg;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_capture);
PG_FUNCTION_INFO_V1(chronicle_capture_guard);
PG_FUNCTION_INFO_V1(chronicle_track);
PG_FUNCTION_INFO_V1(chronicle_untrack);
PG_FUNCTION_INFO_V1(chronicle_apply_due);
PG_FUNCTION_INFO_V1(chronicle_capture_flush);
}

// chronicle_capture_flush is the AFTER STATEMENT trigger of tracked tables:
// it records the changes the statement's row triggers captured.
extern "C" Datum chronicle_capture_flush(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "chronicle.capture_flush() must be called as a trigger");
  flush_pending();
  return PointerGetDatum(nullptr);
}

// chronicle_capture is the AFTER ROW (insert, update, delete) and BEFORE
// TRUNCATE trigger of tracked tables.
extern "C" Datum chronicle_capture(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "chronicle.capture() must be called as a trigger");
  auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (OidIsValid(capture_suppressed) &&
      track_info(td->tg_relation, trigger_event_table(td))->evrelid == capture_suppressed)
    return PointerGetDatum(nullptr);
  if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event)) {
    ValidRange r = valid_range();
    if (!r.contains_present())
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("cannot truncate tracked table \"%s\" with a valid range that does not contain the present",
                             RelationGetRelationName(td->tg_relation)),
                      errhint("RESET chronicle.valid_from and chronicle.valid_to, or delete the rows instead.")));
    Relation rel = td->tg_relation;
    if (!rel->rd_rel->relispartition) {
      record_table_event(rel, trigger_event_table(td), "truncate", DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")), false);
      truncating_tracked = GetCurrentCommandId(false);
      truncating_valid = true;
      return PointerGetDatum(nullptr);
    }
    // A partition truncated on its own: its rows are deleted. (When the
    // tracked parent is truncated, its truncate event says it all.)
    if (truncating_valid && truncating_tracked == GetCurrentCommandId(false)) return PointerGetDatum(nullptr);
    flush_pending();
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
    (void)snapshot_rows(rel, trigger_event_table(td), "delete", false);
    SPI_finish();
    return PointerGetDatum(nullptr);
  }
  if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
    elog(ERROR, "chronicle.capture() must be an AFTER row trigger or a TRUNCATE trigger");
  ValidRange r = valid_range();
  capture_row(td, r);
  return PointerGetDatum(nullptr);
}

// chronicle_capture_guard is the BEFORE ROW trigger of tracked tables: a
// change whose valid range does not contain the present is recorded here and
// the physical change is skipped, so the table keeps the state valid now.
extern "C" Datum chronicle_capture_guard(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "chronicle.capture_guard() must be called as a trigger");
  auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  HeapTuple proceed = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
  if (OidIsValid(capture_suppressed) &&
      track_info(td->tg_relation, trigger_event_table(td))->evrelid == capture_suppressed)
    return PointerGetDatum(proceed);
  ValidRange r = valid_range();
  if (r.contains_present()) return PointerGetDatum(proceed);  // the AFTER trigger records it
  // An INSERT of a key the table holds is left to the executor: ON CONFLICT
  // DO UPDATE comes back here as an UPDATE (recorded with its SET columns,
  // not applied), DO NOTHING does nothing, a plain INSERT fails as it would.
  if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && key_exists(td)) return PointerGetDatum(proceed);
  capture_row(td, r);
  return PointerGetDatum(nullptr);
}

// chronicle_track implements chronicle.track(tbl): checks, the event table,
// the triggers and the snapshot of existing rows.
extern "C" Datum chronicle_track(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument \"tbl\" must not be null")));
  Oid relid = PG_GETARG_OID(0);
  Relation rel = open_arg_relation(relid, ShareRowExclusiveLock);
  const char* relname = RelationGetRelationName(rel);
  char kind = rel->rd_rel->relkind;
  if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("cannot track \"%s\": it is not a table", relname),
                    errdetail("Only ordinary and partitioned tables can be tracked; views, materialized views and foreign tables cannot."),
                    errhint("Track the table the view or foreign table reads from.")));
  if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot track temporary table \"%s\"", relname),
                    errhint("History must outlive the session: track a permanent table.")));
  if (rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot track unlogged table \"%s\"", relname),
                    errhint("A crash would empty the table but not its history: ALTER TABLE %s SET LOGGED first.",
                            quote_identifier(relname))));
  if (!pg_class_ownercheck(relid, GetUserId()))
    aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, relname);
  if (is_event_table(rel))
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("cannot track \"%s\": it is a chronicle event table", relname),
                    errdetail("An event table is already a history: it is append-only."),
                    errhint("Read it with chronicle.read() or chronicle.events().")));
  int nkeys;
  AttrNumber keyatt[INDEX_MAX_KEYS];
  if (!primary_key(rel, &nkeys, keyatt))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("cannot track \"%s\": it has no primary key", relname),
                    errdetail("Each row's history is the stream of its primary key."),
                    errhint("Add one with ALTER TABLE %s ADD PRIMARY KEY (…).", quote_identifier(relname))));
  if (tracked_event_table(rel) != nullptr)
    ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT), errmsg("table \"%s\" is already tracked", relname)));

  char* nsp = get_namespace_name(RelationGetNamespace(rel));
  char* evrel = psprintf("%.*s_events", pg_mbcliplen(relname, strlen(relname), NAMEDATALEN - 1 - 7), relname);
  char* evname = quote_qualified_identifier(nsp, evrel);
  char* qualified = quote_qualified_identifier(nsp, relname);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Oid existing = get_relname_relid(evrel, RelationGetNamespace(rel));
  bool reused = false;
  if (OidIsValid(existing)) {
    // A table tracked before (then untracked or dropped) continues its history.
    Relation ev = relation_open(existing, AccessShareLock);
    bool ok = ev->rd_rel->relkind == RELKIND_RELATION && get_attnum(existing, "assigned") != InvalidAttrNumber;
    if (ok) (void)event_table_info(ev);
    relation_close(ev, AccessShareLock);
    if (!ok)
      ereport(ERROR, (errcode(ERRCODE_DUPLICATE_TABLE),
                      errmsg("cannot track \"%s\": relation %s already exists and is not its event table", relname, evname),
                      errhint("Rename or drop %s.", evname)));
    reused = true;
  } else {
    Oid argtypes[1] = {TEXTOID};
    Datum args[1] = {CStringGetTextDatum(evname)};
    if (SPI_execute_with_args("SELECT chronicle.create_event_table($1)", 1, argtypes, args, nullptr, false, 0) != SPI_OK_SELECT)
      elog(ERROR, "chronicle: creating the event table failed");
    if (SPI_execute(psprintf("ALTER TABLE %s ADD COLUMN assigned pg_catalog.text[]", evname), false, 0) != SPI_OK_UTILITY)
      elog(ERROR, "chronicle: creating the event table failed");
    if (SPI_execute(psprintf("COMMENT ON TABLE %s IS %s", evname,
                             quote_literal_cstr(psprintf("chronicle history of %s", qualified))), false, 0) != SPI_OK_UTILITY)
      elog(ERROR, "chronicle: commenting the event table failed");
  }
  const char* lit = quote_literal_cstr(evname);
  const char* ddl[] = {
      "CREATE TRIGGER zz_chronicle_capture_guard BEFORE INSERT OR UPDATE OR DELETE ON %s "
      "FOR EACH ROW EXECUTE FUNCTION chronicle.capture_guard(%s)",
      "CREATE TRIGGER zz_chronicle_capture AFTER INSERT OR UPDATE OR DELETE ON %s "
      "FOR EACH ROW EXECUTE FUNCTION chronicle.capture(%s)",
      "CREATE TRIGGER zz_chronicle_capture_truncate BEFORE TRUNCATE ON %s "
      "FOR EACH STATEMENT EXECUTE FUNCTION chronicle.capture(%s)",
      "CREATE TRIGGER zz_chronicle_capture_flush AFTER INSERT OR UPDATE OR DELETE ON %s "
      "FOR EACH STATEMENT EXECUTE FUNCTION chronicle.capture_flush(%s)"};
  for (const char* d : ddl)
    if (SPI_execute(psprintf(d, qualified, lit), false, 0) != SPI_OK_UTILITY)
      elog(ERROR, "chronicle: creating the capture triggers failed");
  // Row triggers reach the partitions by themselves; statement triggers do
  // not: a partition truncated or written on its own needs them too.
  if (kind == RELKIND_PARTITIONED_TABLE) {
    ListCell* lc;
    foreach (lc, find_all_inheritors(relid, NoLock, nullptr)) {
      Oid child = lfirst_oid(lc);
      if (child == relid) continue;
      char* cq = qualified_name(child);
      for (int i = 2; i < 4; i++)
        if (SPI_execute(psprintf(ddl[i], cq, lit), false, 0) != SPI_OK_UTILITY)
          elog(ERROR, "chronicle: creating the capture triggers failed");
    }
  }
  CommandCounterIncrement();
  relation_close(rel, NoLock);
  rel = relation_open(relid, NoLock);  // with its new triggers
  record_table_event(rel, evname, "schema", schema_payload(rel), true);
  int64 rows;
  if (reused) {
    // What happened while the table was not tracked is unknown: from now on
    // the table holds exactly its rows; the history before stays as it was.
    record_table_event(rel, evname, "truncate", DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")), false);
    rows = snapshot_rows(rel, evname, "snapshot", false);
  } else {
    rows = snapshot_rows(rel, evname, "snapshot", true);
  }
  SPI_finish();
  ereport(NOTICE, (errmsg("tracking %s: %lld existing rows recorded as snapshot events in %s%s", qualified,
                          (long long)rows, evname, reused ? " (history continued)" : "")));
  relation_close(rel, NoLock);
  PG_RETURN_OID(get_relname_relid(evrel, get_namespace_oid(nsp, false)));
}

// chronicle_untrack implements chronicle.untrack(tbl): drops the capture
// triggers and keeps the history.
extern "C" Datum chronicle_untrack(PG_FUNCTION_ARGS) {
  Relation rel = open_owned_tracked(fcinfo);
  Oid relid = RelationGetRelid(rel);
  const char* relname = RelationGetRelationName(rel);
  const char* ev = tracked_event_table(rel);
  if (rel->rd_rel->relispartition)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("cannot untrack \"%s\": it is a partition of a tracked table", relname),
                    errhint("Untrack the partitioned table.")));
  // The event table may be gone (dropped by hand): the triggers go anyway.
  Oid evrelid = relid_of_name(ev, NoLock, true);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  const char* names[] = {"zz_chronicle_capture_guard", "zz_chronicle_capture", "zz_chronicle_capture_truncate",
                         "zz_chronicle_capture_flush"};
  List* rels = rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ? find_all_inheritors(relid, NoLock, nullptr)
                                                                  : list_make1_oid(relid);
  ListCell* lc;
  foreach (lc, rels) {
    Oid r = lfirst_oid(lc);
    char* rq = qualified_name(r);
    for (const char* n : names) {
      // Partitions' clones of the parent's row triggers go with the parent's.
      if (r != relid && (strcmp(n, "zz_chronicle_capture") == 0 || strcmp(n, "zz_chronicle_capture_guard") == 0))
        continue;
      if (SPI_execute(psprintf("DROP TRIGGER IF EXISTS %s ON %s", n, rq), false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "chronicle: dropping the capture triggers failed");
    }
  }
  SPI_finish();
  relation_close(rel, NoLock);
  if (!OidIsValid(evrelid)) PG_RETURN_NULL();
  PG_RETURN_OID(evrelid);
}

// chronicle_apply_due implements chronicle.apply_due(tbl): the table is made
// equal to its as-of now, with capture suppressed (history has it already).
extern "C" Datum chronicle_apply_due(PG_FUNCTION_ARGS) {
  Relation rel = open_owned_tracked(fcinfo);
  Oid relid = RelationGetRelid(rel);
  Oid evrelid = track_info(rel, tracked_event_table(rel))->evrelid;
  relation_close(rel, NoLock);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Oid types[1] = {REGCLASSOID};
  Datum args[1] = {ObjectIdGetDatum(relid)};
  capture_suppressed = evrelid;  // reset on error by the abort callbacks
  int rc = SPI_execute_with_args("SELECT chronicle._sync($1, NULL, NULL)", 1, types, args, nullptr, false, 1);
  capture_suppressed = InvalidOid;
  if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "chronicle: apply_due failed");
  bool isnull;
  int64 n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  SPI_finish();
  PG_RETURN_INT64(n);
}
