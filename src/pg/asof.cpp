// asof.cpp: reading tracked tables (SPEC §5): as_of(), history(), diff()
// and the schema-change recorder. Captured changes are streamed from the
// event table in recording order through an SPI cursor and folded with
// assertion semantics by src/core (rows.hpp); rows come back typed through
// jsonb_populate_record.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <string>
#include <vector>

#include "capture.hpp"
#include "eventtable.hpp"
#include "guard.hpp"
#include "replay.hpp"
#include "rows.hpp"
#include "txtime.hpp"

extern "C" {
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/array.h"
#include "utils/regproc.h"
#include "utils/typcache.h"
}

namespace chronicle::pg {

// Tracked identifies a (possibly untracked or dropped-and-recreated)
// tracked table and its event table.
struct Tracked {
  Oid relid;
  Oid rowtype;
  Oid evrelid;
  Oid evowner;
  char* evname;  // quoted, qualified
};

// find_tracked resolves the row type of a tracked table (as_of(NULL::t))
// to the table and its event table; raises 42809 or 55000, and 42501 without
// SELECT on the table or under row-level security there.
static Tracked find_tracked(Oid rowtype) {
  Oid relid = typeidTypeRelid(rowtype);
  if (!OidIsValid(relid))
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("%s is not the row type of a table", format_type_be(rowtype)),
                    errhint("Pass a null of the table's row type, as in chronicle.as_of(NULL::public.orders).")));
  Relation rel = relation_open(relid, AccessShareLock);
  if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
                    errhint("Pass a null of a tracked table's row type, as in chronicle.as_of(NULL::public.orders).")));
  flush_pending();  // this transaction's changes of a statement still running
  const char* ev = tracked_event_table(rel);
  char* evname = nullptr;
  Oid evrelid = InvalidOid;
  if (ev != nullptr) {
    evname = pstrdup(ev);
  } else {
    // Untracked tables keep their history in <table>_events.
    char* evrel = psprintf("%s_events", RelationGetRelationName(rel));
    evrelid = get_relname_relid(evrel, RelationGetNamespace(rel));
    if (OidIsValid(evrelid) && get_attnum(evrelid, "assigned") != InvalidAttrNumber)
      evname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), evrel);
  }
  if (evname == nullptr)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("table \"%s\" is not tracked", RelationGetRelationName(rel)),
                    errhint("Start capturing its changes with chronicle.track('%s').",
                            RelationGetRelationName(rel))));
  if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
    aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
  // Past versions of rows cannot be shown to a policy: refuse rather than leak.
  if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("cannot reconstruct rows of \"%s\" under row-level security", RelationGetRelationName(rel)),
                    errdetail("Row-level security applies to you on this table, and chronicle does not apply "
                              "its policies to past versions of rows."),
                    errhint("Query the history as the table's owner or as a role with BYPASSRLS.")));
  relation_close(rel, AccessShareLock);
  Tracked t;
  t.relid = relid;
  t.rowtype = rowtype;
  t.evname = evname;
  t.evrelid = relid_of_name(evname, AccessShareLock, false);
  t.evowner = event_table_info_oid(t.evrelid)->owner;
  return t;
}

// Typed turns jsonb row images into rows of a table's type.
struct Typed {
  FmgrInfo flinfo;
};

// typed_init prepares jsonb_populate_record(NULL::rowtype, image).
static void typed_init(Typed* t, Oid rowtype) {
  fmgr_info(F_JSONB_POPULATE_RECORD, &t->flinfo);
  t->flinfo.fn_expr = reinterpret_cast<Node*>(
      makeFuncExpr(F_JSONB_POPULATE_RECORD, rowtype,
                   list_make2(makeNullConst(rowtype, -1, InvalidOid), makeNullConst(JSONBOID, -1, InvalidOid)),
                   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
}

// typed_row returns the row (a composite Datum) of a JSON image text.
static Datum typed_row(Typed* t, const char* image) {
  LOCAL_FCINFO(fc, 2);
  InitFunctionCallInfoData(*fc, &t->flinfo, 2, InvalidOid, nullptr, nullptr);
  fc->args[0].value = (Datum)0;
  fc->args[0].isnull = true;
  fc->args[1].value = DirectFunctionCall1(jsonb_in, CStringGetDatum(image));
  fc->args[1].isnull = false;
  Datum d = FunctionCallInvoke(fc);
  if (fc->isnull) elog(ERROR, "chronicle: jsonb_populate_record returned null");
  return d;
}

// FoldState is the C++ state of one fold; it lives in palloc'd memory and
// is destroyed by a memory context callback, so an ERROR cannot leak it.
struct Epoch {
  int64 position;  // the schema event that starts it
  std::unordered_map<std::string, std::string> to_current;  // its names -> current names
};
struct FoldState {
  core::ReverseFold fold;
  std::vector<Epoch> epochs;  // by position
  core::Change scratch;       // the change being fed
};
struct FoldHolder {
  FoldState* state;
  MemoryContextCallback cb;
};

// destroy_fold runs FoldState's destructor when its memory goes.
static void destroy_fold(void* arg) {
  auto* h = static_cast<FoldHolder*>(arg);
  if (h->state != nullptr) {
    h->state->~FoldState();
    h->state = nullptr;
  }
}

// new_fold creates a FoldState owned by CurrentMemoryContext.
static FoldHolder* new_fold() {
  auto* h = static_cast<FoldHolder*>(palloc0(sizeof(FoldHolder)));
  void* mem = palloc(sizeof(FoldState));
  guarded([&] { h->state = new (mem) FoldState(); });
  h->cb.func = destroy_fold;
  h->cb.arg = h;
  MemoryContextRegisterResetCallback(CurrentMemoryContext, &h->cb);
  return h;
}

// malloc_str copies a string to malloc'd memory (inside the guard).
static char* malloc_str(const std::string& s) {
  char* p = static_cast<char*>(malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// Columns is attnum -> name of a table's columns, as plain arrays.
struct Columns {
  int n = 0;
  int* attnum = nullptr;
  char** name = nullptr;
};

// current_columns returns the live columns of relid.
static Columns current_columns(Oid relid) {
  Relation rel = relation_open(relid, AccessShareLock);
  TupleDesc desc = RelationGetDescr(rel);
  Columns c;
  c.attnum = static_cast<int*>(palloc(sizeof(int) * (desc->natts + 1)));
  c.name = static_cast<char**>(palloc(sizeof(char*) * (desc->natts + 1)));
  for (int i = 0; i < desc->natts; i++) {
    Form_pg_attribute a = TupleDescAttr(desc, i);
    if (a->attisdropped) continue;
    c.attnum[c.n] = a->attnum;
    c.name[c.n] = pstrdup(NameStr(a->attname));
    c.n++;
  }
  relation_close(rel, AccessShareLock);
  return c;
}

// load_epochs reads the schema events of t (SPI connected) and stores, for
// each, how its column names map to the current ones.
static void load_epochs(const Tracked& t, FoldState* st, const Columns& now) {
  SavedUser s = become(t.evowner);
  int rc = SPI_execute(
      psprintf("SELECT e.position, (c OPERATOR(pg_catalog.->>) 'attnum')::int, c OPERATOR(pg_catalog.->>) 'name' "
               "FROM %s AS e, pg_catalog.jsonb_array_elements(e.payload OPERATOR(pg_catalog.->) 'columns') AS c "
               "WHERE e.stream OPERATOR(pg_catalog.=) '' AND e.type OPERATOR(pg_catalog.=) 'schema' "
               "ORDER BY e.position",
               t.evname),
      true, 0);
  restore_user(s);
  if (rc != SPI_OK_SELECT) elog(ERROR, "chronicle: reading schema events failed");
  uint64 n = SPI_processed;
  int64* pos = static_cast<int64*>(palloc(sizeof(int64) * (n + 1)));
  int* att = static_cast<int*>(palloc(sizeof(int) * (n + 1)));
  char** name = static_cast<char**>(palloc(sizeof(char*) * (n + 1)));
  for (uint64 i = 0; i < n; i++) {
    bool isnull;
    HeapTuple tup = SPI_tuptable->vals[i];
    pos[i] = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
    att[i] = DatumGetInt32(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
    name[i] = TextDatumGetCString(SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull));
  }
  guarded([&] {
    // Each epoch's columns, attnum -> name, oldest first.
    std::vector<std::map<int, std::string>> cols;
    for (uint64 i = 0; i < n;) {
      uint64 j = i;
      cols.emplace_back();
      for (; j < n && pos[j] == pos[i]; j++) cols.back()[att[j]] = name[j];
      Epoch e;
      e.position = pos[i];
      st->epochs.push_back(std::move(e));
      i = j;
    }
    // Walk from the current columns back through the epochs, keeping each
    // epoch's attnum -> current name (empty: dropped since). Within a
    // table's life an attnum names one column whatever its renames, and a
    // later column gets a greater attnum. A logical dump and restore
    // renumbers the columns after a dropped one: a newer layout with a
    // column numbered at most the older epoch's highest attnum yet absent
    // from it marks such a boundary, across which columns match by name (a
    // schema event is recorded at every ALTER TABLE, so the names agree).
    std::map<int, std::string> newer_names;  // the newer layout: attnum -> its name
    std::map<int, std::string> newer_current;  // and -> current name
    for (int k = 0; k < now.n; k++) newer_names[now.attnum[k]] = newer_current[now.attnum[k]] = now.name[k];
    for (size_t ei = cols.size(); ei-- > 0;) {
      const auto& c = cols[ei];
      int highest = c.empty() ? 0 : c.rbegin()->first;
      bool renumbered = false;
      for (const auto& [attnum, nm] : newer_names)
        if (attnum <= highest && c.count(attnum) == 0) renumbered = true;
      std::map<int, std::string> current;
      for (const auto& [attnum, old] : c) {
        std::string target;
        if (!renumbered) {
          auto it = newer_current.find(attnum);
          if (it != newer_current.end()) target = it->second;
        } else {
          for (const auto& [a, nm] : newer_names)
            if (nm == old) target = newer_current[a];
        }
        current[attnum] = target;
        if (target.empty())
          st->epochs[ei].to_current[old] = std::string("\x01") + "dropped-" + std::to_string(ei) + "-" + std::to_string(attnum);
        else if (target != old)
          st->epochs[ei].to_current[old] = target;
      }
      newer_names = c;
      newer_current = std::move(current);
    }
  });
}

// to_current maps a column name of an epoch to its current name.
static const std::string& to_current(const Epoch* e, const std::string& name) {
  if (e == nullptr) return name;
  auto it = e->to_current.find(name);
  return it == e->to_current.end() ? name : it->second;
}

// superseded_positions returns the positions superseded by a change known
// at h (corrections of captured changes are rare), read through the partial
// index on supersedes, so it never depends on the planner's statistics.
static HTAB* superseded_positions(const Tracked& t, const ReadHorizon& h, TimestampTz bound) {
  HASHCTL ctl;
  memset(&ctl, 0, sizeof(ctl));
  ctl.keysize = sizeof(int64);
  ctl.entrysize = sizeof(int64);
  ctl.hcxt = CurrentMemoryContext;
  HTAB* superseded = hash_create("chronicle superseded", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  Relation ev = table_open(t.evrelid, AccessShareLock);
  const EventTableInfo* info = event_table_info(ev);
  if (!OidIsValid(info->supersedes_idx))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("event table \"%s\" has lost its unique index on supersedes", RelationGetRelationName(ev))));
  Relation idx = index_open(info->supersedes_idx, AccessShareLock);
  Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
#if PG_VERSION_NUM >= 180000
  IndexScanDesc scan = index_beginscan(ev, idx, snap, nullptr, 0, 0);
#else
  IndexScanDesc scan = index_beginscan(ev, idx, snap, 0, 0);
#endif
  index_rescan(scan, nullptr, 0, nullptr, 0);
  TupleTableSlot* slot = table_slot_create(ev, nullptr);
  while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
    bool isnull;
    TimestampTz rec = DatumGetTimestampTz(slot_getattr(slot, info->att[C_RECORDED_AT], &isnull));
    if (rec > bound) continue;
    bool own = TransactionIdIsCurrentTransactionId(
        DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull)));
    if (own ? !h.include_own : rec > h.known_at) continue;
    Datum sup = slot_getattr(slot, info->att[C_SUPERSEDES], &isnull);
    if (isnull) continue;
    int64 pos = DatumGetInt64(sup);
    hash_search(superseded, &pos, HASH_ENTER, nullptr);
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  UnregisterSnapshot(snap);
  index_close(idx, AccessShareLock);
  table_close(ev, AccessShareLock);
  return superseded;
}

// change_op maps a captured event's type to its ChangeOp; false for other
// events (schema events, chronicle's markers).
static bool change_op(text* type, core::ChangeOp* op) {
  const char* p = VARDATA_ANY(type);
  int len = VARSIZE_ANY_EXHDR(type);
#define IS(s) (len == (int)sizeof(s) - 1 && memcmp(p, s, len) == 0)
  if (IS("update")) *op = core::ChangeOp::Update;
  else if (IS("insert")) *op = core::ChangeOp::Insert;
  else if (IS("snapshot")) *op = core::ChangeOp::Snapshot;
  else if (IS("delete")) *op = core::ChangeOp::Delete;
  else if (IS("truncate")) *op = core::ChangeOp::Truncate;
  else return false;
#undef IS
  return true;
}

// fold_table folds the captured changes of t known at h and valid at
// valid_at, newest first, through a backward scan of the event table's
// primary key: images are read only for the changes that still decide a row,
// and the scan stops at a truncate. The state is owned by the current memory
// context (SPI connected).
// begin_scan starts a backward-able scan of the event table: by position
// (stream == nullptr) or of one stream through the (stream, version) index.
static IndexScanDesc begin_scan(Relation ev, Relation idx, Snapshot snap, const char* stream, ScanKeyData* key) {
  int nkeys = 0;
  if (stream != nullptr) {
    ScanKeyInit(key, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(stream));
    key->sk_collation = idx->rd_indcollation[0];
    nkeys = 1;
  }
#if PG_VERSION_NUM >= 180000
  IndexScanDesc scan = index_beginscan(ev, idx, snap, nullptr, nkeys, 0);
#else
  IndexScanDesc scan = index_beginscan(ev, idx, snap, nkeys, 0);
#endif
  index_rescan(scan, nkeys ? key : nullptr, nkeys, nullptr, 0);
  return scan;
}

// newest_truncate returns the position of the newest truncate known at h
// and valid at valid_at (0 when none): for one row, nothing older matters.
static int64 newest_truncate(Relation ev, const EventTableInfo* info, Snapshot snap, const ReadHorizon& h,
                             TimestampTz bound, TimestampTz valid_at, HTAB* superseded) {
  Relation idx = index_open(info->stream_version_idx, AccessShareLock);
  ScanKeyData key;
  IndexScanDesc scan = begin_scan(ev, idx, snap, "", &key);
  TupleTableSlot* slot = table_slot_create(ev, nullptr);
  int64 found_pos = 0;
  while (index_getnext_slot(scan, BackwardScanDirection, slot)) {
    bool isnull, found;
    TimestampTz rec = DatumGetTimestampTz(slot_getattr(slot, info->att[C_RECORDED_AT], &isnull));
    TimestampTz vf = DatumGetTimestampTz(slot_getattr(slot, info->att[C_VALID_FROM], &isnull));
    TimestampTz vt = DatumGetTimestampTz(slot_getattr(slot, info->att[C_VALID_TO], &isnull));
    if (rec > bound || !(vf <= valid_at && valid_at < vt)) continue;
    bool own = TransactionIdIsCurrentTransactionId(
        DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull)));
    if (own ? !h.include_own : rec > h.known_at) continue;
    text* type = DatumGetTextPP(slot_getattr(slot, info->att[C_TYPE], &isnull));
    if (VARSIZE_ANY_EXHDR(type) != 8 || memcmp(VARDATA_ANY(type), "truncate", 8) != 0) continue;
    int64 pos = DatumGetInt64(slot_getattr(slot, info->att[C_POSITION], &isnull));
    hash_search(superseded, &pos, HASH_FIND, &found);
    if (found) continue;
    found_pos = pos;
    break;
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  index_close(idx, AccessShareLock);
  return found_pos;
}

static FoldHolder* fold_table(const Tracked& t, const ReadHorizon& h, TimestampTz valid_at, const Columns& now,
                              const char* only_stream = nullptr) {
  FoldHolder* holder = new_fold();
  FoldState* st = holder->state;
  load_epochs(t, st, now);
  TimestampTz bound = h.include_own ? std::max(h.known_at, own_stamp()) : h.known_at;
  HTAB* superseded = superseded_positions(t, h, bound);

  Relation ev = table_open(t.evrelid, AccessShareLock);
  const EventTableInfo* info = event_table_info(ev);
  AttrNumber att_assigned = get_attnum(t.evrelid, "assigned");
  Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
  // One row: its stream through the (stream, version) index (version order
  // is recording order), back to the newest truncate that applies.
  int64 floor_pos = only_stream ? newest_truncate(ev, info, snap, h, bound, valid_at, superseded) : 0;
  Relation pk = index_open(only_stream ? info->stream_version_idx : RelationGetPrimaryKeyIndex(ev), AccessShareLock);
  ScanKeyData key;
  IndexScanDesc scan = begin_scan(ev, pk, snap, only_stream, &key);
  TupleTableSlot* slot = table_slot_create(ev, nullptr);
  MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "chronicle fold row", ALLOCSET_DEFAULT_SIZES);
  size_t epoch = st->epochs.size();  // index of the epoch of the current row + 1
  int64 count = 0;
  bool stop = false;
  while (!stop && index_getnext_slot(scan, BackwardScanDirection, slot)) {
    if (++count % 10000 == 0) CHECK_FOR_INTERRUPTS();
    bool isnull;
    TimestampTz rec = DatumGetTimestampTz(slot_getattr(slot, info->att[C_RECORDED_AT], &isnull));
    if (rec > bound) continue;
    TimestampTz vf = DatumGetTimestampTz(slot_getattr(slot, info->att[C_VALID_FROM], &isnull));
    TimestampTz vt = DatumGetTimestampTz(slot_getattr(slot, info->att[C_VALID_TO], &isnull));
    if (!(vf <= valid_at && valid_at < vt)) continue;
    TransactionId xmin = DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull));
    bool own = TransactionIdIsCurrentTransactionId(xmin);
    if (own ? !h.include_own : rec > h.known_at) continue;
    int64 pos = DatumGetInt64(slot_getattr(slot, info->att[C_POSITION], &isnull));
    if (pos < floor_pos) break;  // a truncate removed everything older
    bool found;
    hash_search(superseded, &pos, HASH_FIND, &found);
    if (found) continue;
    core::ChangeOp op;
    if (!change_op(DatumGetTextPP(slot_getattr(slot, info->att[C_TYPE], &isnull)), &op)) continue;
    while (epoch > 0 && st->epochs[epoch - 1].position > pos) epoch--;

    MemoryContext old = MemoryContextSwitchTo(row_cxt);
    text* stream = DatumGetTextPP(slot_getattr(slot, info->att[C_STREAM], &isnull));
    const char* sdata = VARDATA_ANY(stream);
    int slen = VARSIZE_ANY_EXHDR(stream);
    int nassigned = 0;
    char** assigned = nullptr;
    if (op == core::ChangeOp::Update && att_assigned != InvalidAttrNumber) {
      Datum a = slot_getattr(slot, att_assigned, &isnull);
      if (!isnull) {
        Datum* elems;
        bool* nulls;
        deconstruct_array(DatumGetArrayTypeP(a), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nassigned);
        assigned = static_cast<char**>(palloc(sizeof(char*) * (nassigned + 1)));
        for (int k = 0; k < nassigned; k++) assigned[k] = nulls[k] ? pstrdup("") : TextDatumGetCString(elems[k]);
      }
    }
    bool need_image = false;
    const Epoch* e = epoch > 0 ? &st->epochs[epoch - 1] : nullptr;
    guarded([&] {
      core::Change& c = st->scratch;
      c.op = op;
      c.key.assign(sdata, slen);
      c.image = core::Json();
      c.assigned.clear();
      if (st->fold.done()) {
        stop = true;
        return;
      }
      if (op == core::ChangeOp::Truncate) {
        st->fold.apply(c);
        stop = st->fold.done();
        return;
      }
      if (st->fold.settled(c.key)) return;
      if (op == core::ChangeOp::Delete) {
        st->fold.apply(c);
        return;
      }
      for (int k = 0; k < nassigned; k++) c.assigned.push_back(to_current(e, assigned[k]));
      if (op == core::ChangeOp::Update && !st->fold.wants(c.key, c.assigned)) return;
      need_image = true;
    });
    if (need_image) {
      Datum p = slot_getattr(slot, info->att[C_PAYLOAD], &isnull);
      if (!isnull) {  // an erased image decides nothing
        Jsonb* jb = DatumGetJsonbP(p);
        char* image = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
        guarded([&] {
          core::Change& c = st->scratch;
          core::Json parsed = core::parse_json(image);
          if (e != nullptr && !e->to_current.empty() && parsed.is_object()) {
            std::vector<core::Json::Member> members = parsed.members();
            for (auto& m : members) m.first = to_current(e, m.first);
            parsed = core::Json::object(std::move(members));
          }
          c.image = std::move(parsed);
          st->fold.apply(c);
        });
      }
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(row_cxt);
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  UnregisterSnapshot(snap);
  index_close(pk, AccessShareLock);
  table_close(ev, AccessShareLock);
  MemoryContextDelete(row_cxt);
  return holder;
}

// Shape is a table's row type, prepared for building rows straight from
// JSON values: each column's input function reads the value's text (what
// row_to_json wrote is its output text); json/jsonb columns read the JSON
// text itself. Array and composite columns (written as JSON arrays and
// objects) need jsonb_populate_record: then fast is false.
struct Shape {
  TupleDesc desc;
  int natts;
  char** names;  // nullptr for dropped columns
  bool* jsonish;
  FmgrInfo* in;
  Oid* ioparam;
  bool fast;
};

// shape_of prepares the row type rowtype.
static Shape shape_of(Oid rowtype) {
  Shape sh;
  sh.desc = lookup_rowtype_tupdesc_copy(rowtype, -1);
  sh.natts = sh.desc->natts;
  sh.names = static_cast<char**>(palloc0(sizeof(char*) * (sh.natts + 1)));
  sh.jsonish = static_cast<bool*>(palloc0(sizeof(bool) * (sh.natts + 1)));
  sh.in = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * (sh.natts + 1)));
  sh.ioparam = static_cast<Oid*>(palloc0(sizeof(Oid) * (sh.natts + 1)));
  sh.fast = true;
  for (int i = 0; i < sh.natts; i++) {
    Form_pg_attribute a = TupleDescAttr(sh.desc, i);
    if (a->attisdropped) continue;
    sh.names[i] = pstrdup(NameStr(a->attname));
    Oid base = getBaseType(a->atttypid);
    sh.jsonish[i] = base == JSONOID || base == JSONBOID;
    if (!sh.jsonish[i] && (OidIsValid(get_element_type(base)) || type_is_rowtype(base))) sh.fast = false;
    Oid infunc;
    getTypeInputInfo(a->atttypid, &infunc, &sh.ioparam[i]);
    fmgr_info(infunc, &sh.in[i]);
  }
  return sh;
}

// fields_of extracts a row's column texts for sh (malloc'd; nullptr = SQL
// NULL), inside the guard.
static char** fields_of(const core::Json& row, const Shape& sh) {
  char** f = static_cast<char**>(calloc(sh.natts + 1, sizeof(char*)));
  if (f == nullptr) throw std::bad_alloc();
  for (int i = 0; i < sh.natts; i++) {
    if (sh.names[i] == nullptr) continue;
    const core::Json* v = row.find(sh.names[i]);
    if (v == nullptr || v->is_null()) continue;
    if (sh.jsonish[i] || v->kind() == core::Json::Kind::Array || v->kind() == core::Json::Kind::Object)
      f[i] = malloc_str(core::to_json_text(*v));
    else if (v->kind() == core::Json::Kind::Bool)
      f[i] = malloc_str(v->as_bool() ? "true" : "false");
    else
      f[i] = malloc_str(v->text());
  }
  return f;
}

// free_fields frees what fields_of made.
static void free_fields(char** f, int natts) {
  if (f == nullptr) return;
  for (int i = 0; i < natts; i++) free(f[i]);
  free(f);
}

// build_row forms a row of sh from its column texts.
static HeapTuple build_row(const Shape& sh, char** f) {
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (sh.natts + 1)));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * (sh.natts + 1)));
  for (int i = 0; i < sh.natts; i++) {
    Form_pg_attribute a = TupleDescAttr(sh.desc, i);
    nulls[i] = f[i] == nullptr || a->attisdropped;
    values[i] = nulls[i] ? (Datum)0 : InputFunctionCall(&sh.in[i], f[i], sh.ioparam[i], a->atttypmod);
  }
  return heap_form_tuple(sh.desc, values, nulls);
}

// RowsOut is a fold's rows copied out of C++ (malloc'd): keys, JSON texts
// (when asked for, or when the shape is not fast) and column texts.
struct RowsOut {
  size_t n = 0;
  char** keys = nullptr;
  char** images = nullptr;
  char*** fields = nullptr;
  int natts = 0;
};

// rows_out copies the fold's rows (sorted by key) out of C++, with the
// table's current column names.
static RowsOut rows_out(FoldState* st, const Shape& sh, bool want_images) {
  RowsOut out;
  out.natts = sh.natts;
  guarded([&] {
    auto rows = st->fold.rows();
    out.keys = static_cast<char**>(calloc(rows.size() + 1, sizeof(char*)));
    out.images = static_cast<char**>(calloc(rows.size() + 1, sizeof(char*)));
    out.fields = static_cast<char***>(calloc(rows.size() + 1, sizeof(char**)));
    if (!out.keys || !out.images || !out.fields) throw std::bad_alloc();
    for (const auto& [key, json] : rows) {
      out.keys[out.n] = malloc_str(key);
      if (want_images || !sh.fast) {
        // Only the current columns: what a dropped column held is invisible.
        std::vector<core::Json::Member> visible;
        for (int i = 0; i < sh.natts; i++) {
          if (sh.names[i] == nullptr) continue;
          const core::Json* v = json.find(sh.names[i]);
          if (v != nullptr) visible.emplace_back(sh.names[i], *v);
        }
        out.images[out.n] = malloc_str(core::to_json_text(core::Json::object(std::move(visible))));
      }
      if (sh.fast) out.fields[out.n] = fields_of(json, sh);
      out.n++;
    }
  });
  return out;
}

// free_rows frees what rows_out copied.
static void free_rows(RowsOut* r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->keys[i]);
    free(r->images[i]);
    free_fields(r->fields[i], r->natts);
  }
  free(r->keys);
  free(r->images);
  free(r->fields);
  r->n = 0;
}

// row_datum returns row i of rows as a composite Datum of sh's type.
static Datum row_datum(const Shape& sh, Typed* typed, const RowsOut& rows, size_t i) {
  if (sh.fast) return heap_copy_tuple_as_datum(build_row(sh, rows.fields[i]), sh.desc);
  return typed_row(typed, rows.images[i]);
}

// horizon_args reads (known_at, valid_at) arguments.
static void horizon_args(FunctionCallInfo fcinfo, int known_arg, int valid_arg, ReadHorizon* h,
                         TimestampTz* valid_at) {
  bool known_null = PG_ARGISNULL(known_arg);
  *h = stabilize(known_null, known_null ? 0 : PG_GETARG_TIMESTAMPTZ(known_arg));
  *valid_at = PG_ARGISNULL(valid_arg) ? h->now : PG_GETARG_TIMESTAMPTZ(valid_arg);
}

// row_type_of returns the row type of argument 0 (NULL::table).
static Oid row_type_of(FunctionCallInfo fcinfo) {
  Oid t = get_fn_expr_argtype(fcinfo->flinfo, 0);
  if (!OidIsValid(t)) elog(ERROR, "chronicle: could not determine the row type");
  return t;
}

// key_stream returns the stream of the primary key given as the arguments
// from first_arg on (each converted to its key column's type, so that it
// encodes as the captured keys do).
static char* key_stream(FunctionCallInfo fcinfo, const Tracked& t, int first_arg) {
  int nkeys = PG_NARGS() - first_arg;
  Oid keytypes[INDEX_MAX_KEYS];
  {
    Relation rel = relation_open(t.relid, AccessShareLock);
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    int want = 0;
    if (OidIsValid(pk)) {
      Relation idx = index_open(pk, AccessShareLock);
      want = idx->rd_index->indnkeyatts;
      for (int i = 0; i < want && i < INDEX_MAX_KEYS; i++)
        keytypes[i] = TupleDescAttr(RelationGetDescr(rel), idx->rd_index->indkey.values[i] - 1)->atttypid;
      index_close(idx, AccessShareLock);
    }
    if (want > 0 && nkeys != want)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("table \"%s\" has a primary key of %d column(s), but %d key value(s) were given",
                             RelationGetRelationName(rel), want, nkeys)));
    relation_close(rel, AccessShareLock);
  }
  if (nkeys < 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("a key is required")));
  Oid* types = static_cast<Oid*>(palloc(sizeof(Oid) * nkeys));
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * nkeys));
  for (int i = 0; i < nkeys; i++) {
    if (PG_ARGISNULL(i + first_arg))
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("key part %d must not be null", i + 1)));
    // Each value as the key column's type (a literal '2024-01-31' for a
    // date key), so it encodes as the captured keys do.
    Oid given = get_fn_expr_argtype(fcinfo->flinfo, i + first_arg);
    types[i] = keytypes[i];
    values[i] = PG_GETARG_DATUM(i + first_arg);
    if (given != keytypes[i]) {
      Oid out, in, ioparam;
      bool varlena;
      getTypeOutputInfo(given, &out, &varlena);
      getTypeInputInfo(keytypes[i], &in, &ioparam);
      values[i] = OidInputFunctionCall(in, OidOutputFunctionCall(out, values[i]), ioparam, -1);
    }
  }
  return encode_stream(nkeys, types, values);
}

}  // namespace chronicle::pg

using namespace chronicle::pg;
namespace core = chronicle::core;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_as_of);
PG_FUNCTION_INFO_V1(chronicle_row_history);
PG_FUNCTION_INFO_V1(chronicle_diff);
PG_FUNCTION_INFO_V1(chronicle_record_schema);
}

// chronicle_as_of implements chronicle.as_of(NULL::t, known_at, valid_at).
extern "C" Datum chronicle_as_of(PG_FUNCTION_ARGS) {
  Tracked t = find_tracked(row_type_of(fcinfo));
  ReadHorizon h;
  TimestampTz valid_at;
  horizon_args(fcinfo, 1, 2, &h, &valid_at);
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  MemoryContext outer = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  MemoryContext spi = MemoryContextSwitchTo(outer);
  // as_of(NULL::t, known_at, valid_at, key…): one row, through its stream.
  char* stream = PG_NARGS() > 3 ? key_stream(fcinfo, t, 3) : nullptr;
  Columns now = current_columns(t.relid);
  Shape sh = shape_of(t.rowtype);
  FoldHolder* fold = fold_table(t, h, valid_at, now, stream);
  RowsOut rows = rows_out(fold->state, sh, false);
  destroy_fold(fold);
  Typed typed;
  typed_init(&typed, t.rowtype);
  MemoryContext per_row = AllocSetContextCreate(CurrentMemoryContext, "chronicle as_of row", ALLOCSET_DEFAULT_SIZES);
  for (size_t i = 0; i < rows.n; i++) {
    MemoryContext old = MemoryContextSwitchTo(per_row);
    if (sh.fast) {
      tuplestore_puttuple(rsinfo->setResult, build_row(sh, rows.fields[i]));
    } else {
      HeapTupleHeader hdr = DatumGetHeapTupleHeader(typed_row(&typed, rows.images[i]));
      HeapTupleData tuple;
      tuple.t_len = HeapTupleHeaderGetDatumLength(hdr);
      ItemPointerSetInvalid(&tuple.t_self);
      tuple.t_tableOid = InvalidOid;
      tuple.t_data = hdr;
      tuplestore_puttuple(rsinfo->setResult, &tuple);
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(per_row);
    if (i % 1000 == 0) CHECK_FOR_INTERRUPTS();
  }
  free_rows(&rows);
  MemoryContextSwitchTo(spi);
  SPI_finish();
  return (Datum)0;
}

// chronicle_diff implements chronicle.diff(NULL::t, from_known, to_known,
// valid_at): rows added, removed and changed between two transaction times.
extern "C" Datum chronicle_diff(PG_FUNCTION_ARGS) {
  Tracked t = find_tracked(row_type_of(fcinfo));
  if (PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument \"from_known\" must not be null")));
  ReadHorizon h1 = stabilize(false, PG_GETARG_TIMESTAMPTZ(1));
  ReadHorizon h2 = stabilize(PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_TIMESTAMPTZ(2));
  TimestampTz valid_at = PG_ARGISNULL(3) ? h2.now : PG_GETARG_TIMESTAMPTZ(3);
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  MemoryContext outer = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  MemoryContext spi = MemoryContextSwitchTo(outer);
  Columns now = current_columns(t.relid);
  Shape sh = shape_of(t.rowtype);
  FoldHolder* f1 = fold_table(t, h1, valid_at, now);
  RowsOut a = rows_out(f1->state, sh, true);
  destroy_fold(f1);
  FoldHolder* f2 = fold_table(t, h2, valid_at, now);
  RowsOut b = rows_out(f2->state, sh, true);
  destroy_fold(f2);
  Typed typed;
  typed_init(&typed, t.rowtype);
  size_t i = 0, j = 0;
  while (i < a.n || j < b.n) {
    int cmp = i >= a.n ? 1 : j >= b.n ? -1 : strcmp(a.keys[i], b.keys[j]);
    const char* change;
    const char* key;
    Datum before = (Datum)0, after = (Datum)0;
    bool no_before = true, no_after = true;
    if (cmp < 0) {
      change = "removed", key = a.keys[i], before = row_datum(sh, &typed, a, i), no_before = false;
      i++;
    } else if (cmp > 0) {
      change = "added", key = b.keys[j], after = row_datum(sh, &typed, b, j), no_after = false;
      j++;
    } else {
      bool same = strcmp(a.images[i], b.images[j]) == 0;
      change = "changed", key = a.keys[i];
      if (!same) {
        before = row_datum(sh, &typed, a, i), no_before = false;
        after = row_datum(sh, &typed, b, j), no_after = false;
      }
      i++, j++;
      if (same) continue;
    }
    Datum values[4] = {CStringGetTextDatum(change), CStringGetTextDatum(key), before, after};
    bool nulls[4] = {false, false, no_before, no_after};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  free_rows(&a);
  free_rows(&b);
  MemoryContextSwitchTo(spi);
  SPI_finish();
  return (Datum)0;
}

// chronicle_row_history implements chronicle.history(NULL::t, VARIADIC key):
// every captured change of one row with its valid and transaction ranges.
extern "C" Datum chronicle_row_history(PG_FUNCTION_ARGS) {
  Tracked t = find_tracked(row_type_of(fcinfo));
  Datum streamd = CStringGetTextDatum(key_stream(fcinfo, t, 1));
  (void)stabilize(true, 0);
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  MemoryContext outer = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Columns now = current_columns(t.relid);
  // The schema epochs, to give each change the table's current column names.
  FoldHolder* epochs = new_fold();
  load_epochs(t, epochs->state, now);
  Oid qtypes[1] = {TEXTOID};
  Datum args[1] = {streamd};
  SavedUser s = become(t.evowner);
  int rc = SPI_execute_with_args(
      psprintf("SELECT e.position, e.type, e.payload::pg_catalog.text, e.assigned, e.valid_from, e.valid_to, e.recorded_at, "
               "(SELECT s.recorded_at FROM %s AS s WHERE s.supersedes OPERATOR(pg_catalog.=) e.position), e.meta "
               "FROM %s AS e WHERE e.stream OPERATOR(pg_catalog.=) $1 ORDER BY e.position",
               t.evname, t.evname),
      1, qtypes, args, nullptr, false, 0);
  restore_user(s);
  if (rc != SPI_OK_SELECT) elog(ERROR, "chronicle: reading history failed");
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("no row with key %s in the history of \"%s\"", TextDatumGetCString(streamd),
                           get_rel_name(t.relid)),
                    errhint("chronicle.as_of(NULL::%s, known_at, valid_at, key…) answers with no row instead.",
                            get_rel_name(t.relid))));
  Typed typed;
  MemoryContext spi = MemoryContextSwitchTo(outer);
  typed_init(&typed, t.rowtype);
  for (uint64 i = 0; i < SPI_processed; i++) {
    CHECK_FOR_INTERRUPTS();  // no C++ object lives here: the guards are below
    HeapTuple tup = SPI_tuptable->vals[i];
    TupleDesc td = SPI_tuptable->tupdesc;
    bool isnull;
    Datum values[9];
    bool nulls[9];
    values[0] = SPI_getbinval(tup, td, 1, &nulls[0]);
    values[1] = SPI_getbinval(tup, td, 2, &nulls[1]);
    Datum img = SPI_getbinval(tup, td, 3, &isnull);
    nulls[2] = isnull;
    // The image and assigned have the column names of their schema epoch:
    // map them to the current ones by attnum.
    int64 pos = DatumGetInt64(values[0]);
    const Epoch* e = nullptr;
    for (const Epoch& ep : epochs->state->epochs)
      if (ep.position < pos) e = &ep;
    if (!isnull) {
      const char* image_text = TextDatumGetCString(img);
      char* renamed = nullptr;
      guarded([&] {
        core::Json parsed = core::parse_json(image_text);
        if (e != nullptr && !e->to_current.empty() && parsed.is_object()) {
          std::vector<core::Json::Member> members = parsed.members();
          for (auto& m : members) m.first = to_current(e, m.first);
          parsed = core::Json::object(std::move(members));
        }
        renamed = malloc_str(core::to_json_text(parsed));
      });
      values[2] = typed_row(&typed, renamed);
      free(renamed);
    }
    values[3] = SPI_getbinval(tup, td, 4, &nulls[3]);
    if (!nulls[3] && e != nullptr && !e->to_current.empty()) {
      Datum* elems;
      bool* enulls;
      int ne;
      deconstruct_array(DatumGetArrayTypeP(values[3]), TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &ne);
      for (int k = 0; k < ne; k++) {
        if (enulls[k]) continue;
        const char* name = TextDatumGetCString(elems[k]);
        const char* mapped = nullptr;
        guarded([&] {
          auto it = e->to_current.find(name);
          if (it != e->to_current.end() && it->second.rfind("\x01", 0) != 0) mapped = it->second.c_str();
        });
        if (mapped != nullptr) elems[k] = CStringGetTextDatum(mapped);
      }
      int lb = 1;
      values[3] = PointerGetDatum(construct_md_array(elems, enulls, 1, &ne, &lb, TEXTOID, -1, false, TYPALIGN_INT));
    }
    values[4] = SPI_getbinval(tup, td, 5, &nulls[4]);
    values[5] = SPI_getbinval(tup, td, 6, &nulls[5]);
    values[6] = SPI_getbinval(tup, td, 7, &nulls[6]);
    values[7] = SPI_getbinval(tup, td, 8, &nulls[7]);
    if (nulls[7]) {
      values[7] = TimestampTzGetDatum(DT_NOEND);
      nulls[7] = false;
    }
    values[8] = SPI_getbinval(tup, td, 9, &nulls[8]);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  MemoryContextSwitchTo(spi);
  SPI_finish();
  return (Datum)0;
}

// chronicle_record_schema records a schema event for a tracked table whose
// columns changed since its last schema event (called by the event trigger).
extern "C" Datum chronicle_record_schema(PG_FUNCTION_ARGS) {
  Oid relid = PG_GETARG_OID(0);
  Relation rel = try_relation_open(relid, AccessShareLock);
  if (rel == nullptr) PG_RETURN_BOOL(false);
  const char* ev = tracked_event_table(rel);
  if (ev == nullptr) {
    relation_close(rel, AccessShareLock);
    PG_RETURN_BOOL(false);
  }
  if (rel->rd_rel->relispartition) {  // a partition: its parent's schema counts
    cover_partition(rel);
    relation_close(rel, AccessShareLock);
    PG_RETURN_BOOL(false);
  }
  Datum payload = schema_payload(rel);
  // Nothing to record when the columns are as the last schema event says,
  // or only renumbered by a logical dump and restore (a column numbered at
  // most the last event's highest attnum yet absent from it; load_epochs
  // matches such layouts by name).
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  const char* cols = "pg_catalog.jsonb_array_elements(%s OPERATOR(pg_catalog.->) 'columns')";
  const char* attnum = "(%s OPERATOR(pg_catalog.->>) 'attnum')::pg_catalog.int4";
  const char* shape =
      "(SELECT pg_catalog.jsonb_agg(c OPERATOR(pg_catalog.-) 'attnum'::pg_catalog.text "
      "ORDER BY (c OPERATOR(pg_catalog.->>) 'attnum')::pg_catalog.int4) FROM %s AS c)";
  char* sql = psprintf(
      "SELECT e.payload OPERATOR(pg_catalog.=) $1 OR (%s OPERATOR(pg_catalog.=) %s AND EXISTS ("
      "SELECT FROM %s AS n WHERE %s OPERATOR(pg_catalog.<=) (SELECT pg_catalog.max(%s) FROM %s AS o) "
      "AND NOT EXISTS (SELECT FROM %s AS o WHERE %s OPERATOR(pg_catalog.=) %s))) "
      "FROM %s AS e WHERE e.stream OPERATOR(pg_catalog.=) '' AND e.type OPERATOR(pg_catalog.=) 'schema' "
      "ORDER BY e.position DESC LIMIT 1",
      psprintf(shape, psprintf(cols, "e.payload")), psprintf(shape, psprintf(cols, "$1")),
      psprintf(cols, "$1"), psprintf(attnum, "n"), psprintf(attnum, "o"), psprintf(cols, "e.payload"),
      psprintf(cols, "e.payload"), psprintf(attnum, "o"), psprintf(attnum, "n"), ev);
  Oid types[1] = {JSONBOID};
  Datum args[1] = {payload};
  int rc = SPI_execute_with_args(sql, 1, types, args, nullptr, true, 1);
  // track() records the first schema event: an event table without one is
  // being restored (pg_restore --data-only runs ALTER TABLE before COPY).
  bool same = rc == SPI_OK_SELECT && SPI_processed == 0;
  if (rc == SPI_OK_SELECT && SPI_processed == 1) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    same = !isnull && DatumGetBool(d);
  }
  SPI_finish();
  if (!same) record_table_event(rel, ev, "schema", payload, true);
  relation_close(rel, AccessShareLock);
  PG_RETURN_BOOL(!same);
}
