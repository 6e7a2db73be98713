// eventtable.cpp: recognising event tables and caching their layout.
#include "eventtable.hpp"

namespace chronicle::pg {

const char* const kColNames[C_NCOLS] = {"position", "stream", "version", "type", "payload",
                                        "meta", "valid_from", "valid_to", "recorded_at",
                                        "supersedes"};
static const Oid kColTypes[C_NCOLS] = {INT8OID, TEXTOID, INT4OID, TEXTOID, JSONBOID,
                                       JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
                                       TIMESTAMPTZOID, INT8OID};

static HTAB* info_cache = nullptr;

// invalidate_info drops the cached description of relid (all on InvalidOid).
static void invalidate_info(Datum, Oid relid) {
  if (info_cache == nullptr) return;
  if (relid == InvalidOid) {
    hash_destroy(info_cache);
    info_cache = nullptr;
    return;
  }
  hash_search(info_cache, &relid, HASH_REMOVE, nullptr);
}

// require_arg raises 22004 when a required argument is null.
void require_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("argument \"%s\" must not be null", name)));
}

// init_eventtable_cache registers the relcache callback.
void init_eventtable_cache() { CacheRegisterRelcacheCallback(invalidate_info, (Datum)0); }

// is_chronicle_trigger tells whether rel has chronicle's stamping trigger.
static bool has_stamp_trigger(Relation rel) {
  TriggerDesc* td = rel->trigdesc;
  if (td == nullptr) return false;
  Oid nsp = get_namespace_oid("chronicle", true);
  for (int i = 0; i < td->numtriggers; i++) {
    const Trigger* t = &td->triggers[i];
    if (strcmp(t->tgname, "zz_chronicle_stamp") == 0 && get_func_namespace(t->tgfoid) == nsp)
      return true;
  }
  return false;
}

// is_event_table tells whether rel (a table or partition) is an event table.
bool is_event_table(Relation rel) { return has_stamp_trigger(rel); }

// not_event_table raises the error for a relation that is not an event table.
[[noreturn]] static void not_event_table(Relation rel) {
  ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                  errmsg("\"%s\" is not a chronicle event table", RelationGetRelationName(rel)),
                  errhint("Create one with chronicle.create_event_table().")));
  pg_unreachable();
}

// describe builds the description of rel (an event table) into info.
static void describe(Relation rel, EventTableInfo* info) {
  TupleDesc desc = RelationGetDescr(rel);
  info->relid = RelationGetRelid(rel);
  info->owner = rel->rd_rel->relowner;
  info->partitioned = rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE;
  info->root = info->relid;
  if (rel->rd_rel->relispartition) info->root = llast_oid(get_partition_ancestors(info->relid));
  for (int c = 0; c < C_NCOLS; c++) {
    info->att[c] = InvalidAttrNumber;
    for (int i = 0; i < desc->natts; i++) {
      Form_pg_attribute a = TupleDescAttr(desc, i);
      if (!a->attisdropped && strcmp(NameStr(a->attname), kColNames[c]) == 0) {
        if (a->atttypid != kColTypes[c])
          ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                          errmsg("column \"%s\" of event table \"%s\" has type %s, expected %s",
                                 kColNames[c], RelationGetRelationName(rel),
                                 format_type_be(a->atttypid), format_type_be(kColTypes[c]))));
        info->att[c] = a->attnum;
      }
    }
    if (info->att[c] == InvalidAttrNumber)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("event table \"%s\" has no column \"%s\"",
                             RelationGetRelationName(rel), kColNames[c])));
  }
  info->seqid = info->stampedid = InvalidOid;
  ListCell* sc;
  foreach (sc, getOwnedSequences(info->root)) {
    Oid seq = lfirst_oid(sc), tbl;
    int32 col;
    if (!sequenceIsOwned(seq, DEPENDENCY_AUTO, &tbl, &col)) continue;
    if (col == info->att[C_POSITION] && !OidIsValid(info->seqid)) info->seqid = seq;
    if (col == info->att[C_RECORDED_AT] && !OidIsValid(info->stampedid)) info->stampedid = seq;
  }
  if (!OidIsValid(info->seqid) || !OidIsValid(info->stampedid))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("event table \"%s\" has lost one of its sequences",
                           RelationGetRelationName(rel))));
  info->stream_version_idx = InvalidOid;
  info->supersedes_idx = InvalidOid;
  List* indexes = RelationGetIndexList(rel);
  ListCell* lc;
  foreach (lc, indexes) {
    Relation idx = index_open(lfirst_oid(lc), AccessShareLock);
    Form_pg_index ix = idx->rd_index;
    // (stream, version), or (stream, version, recorded_at) when partitioned
    if (ix->indisunique && ix->indnkeyatts >= 2 && ix->indkey.values[0] == info->att[C_STREAM] &&
        ix->indkey.values[1] == info->att[C_VERSION] &&
        (ix->indnkeyatts == 2 || (ix->indnkeyatts == 3 && ix->indkey.values[2] == info->att[C_RECORDED_AT])))
      info->stream_version_idx = RelationGetRelid(idx);
    if (ix->indnkeyatts == 1 && ix->indkey.values[0] == info->att[C_SUPERSEDES])
      info->supersedes_idx = RelationGetRelid(idx);
    index_close(idx, AccessShareLock);
  }
  if (!OidIsValid(info->stream_version_idx))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("event table \"%s\" has lost its unique index on (stream, version)",
                           RelationGetRelationName(rel))));
}

// event_table_info returns the cached description of rel.
const EventTableInfo* event_table_info(Relation rel) {
  Oid relid = RelationGetRelid(rel);
  if (info_cache == nullptr) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(EventTableInfo);
    ctl.hcxt = CacheMemoryContext;
    info_cache = hash_create("chronicle event tables", 64, &ctl,
                             HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  }
  bool found;
  auto* info = static_cast<EventTableInfo*>(hash_search(info_cache, &relid, HASH_FIND, &found));
  if (found) return info;
  if (!has_stamp_trigger(rel)) not_event_table(rel);
  EventTableInfo tmp;
  describe(rel, &tmp);
  info = static_cast<EventTableInfo*>(hash_search(info_cache, &relid, HASH_ENTER, &found));
  *info = tmp;
  return info;
}

// open_arg_relation opens a relation named by a function argument; an oid
// that names none (a dropped table) raises 42P01, not an internal error.
Relation open_arg_relation(Oid relid, LOCKMODE lockmode) {
  Relation rel = try_relation_open(relid, lockmode);
  if (rel == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
  return rel;
}

// event_table_info_oid opens relid and returns its description.
const EventTableInfo* event_table_info_oid(Oid relid) {
  Relation rel = open_arg_relation(relid, AccessShareLock);
  if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
    not_event_table(rel);
  const EventTableInfo* info = event_table_info(rel);
  relation_close(rel, AccessShareLock);
  return info;
}

// lookup_version_in finds the stream's highest version through the
// (stream, version) index, backwards. It reads with a dirty snapshot: when
// that version was written by a transaction still in progress, it waits for
// it to end (as the unique index would) and looks again, so concurrent
// appends to one stream queue up instead of failing, and versions have no
// gaps.
static int32 lookup_version_in(Relation rel, const EventTableInfo* info, Datum stream) {
  Relation idx = index_open(info->stream_version_idx, AccessShareLock);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  int32 version = 0;
  int rescans = 0;
  for (;;) {
    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    ScanKeyData key;
    ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, stream);
    key.sk_collation = idx->rd_indcollation[0];
#if PG_VERSION_NUM >= 180000
    IndexScanDesc scan = index_beginscan(rel, idx, &dirty, nullptr, 1, 0);
#else
    IndexScanDesc scan = index_beginscan(rel, idx, &dirty, 1, 0);
#endif
    index_rescan(scan, &key, 1, nullptr, 0);
    TransactionId wait_for = InvalidTransactionId;
    version = 0;
    // As index_getnext_slot, counting the entries whose row is gone: a
    // btree scan reads a leaf page's entries at once, so a row renumbered
    // at commit by a transaction that committed since (its old version
    // dead, its new one entered after the page was read) would be missed,
    // and an older version taken for the newest. Such a scan is repeated.
    bool found = false, skipped = false;
    for (;;) {
      if (!scan->xs_heap_continue) {
        if (index_getnext_tid(scan, BackwardScanDirection) == nullptr) break;
      }
      if (index_fetch_heap(scan, slot)) {
        found = true;
        break;
      }
      if (!scan->xs_heap_continue) skipped = true;
    }
    if (found) {
      if (TransactionIdIsValid(dirty.xmin) && !TransactionIdIsCurrentTransactionId(dirty.xmin)) {
        wait_for = dirty.xmin;
      } else {
        bool isnull;
        Datum d = slot_getattr(slot, info->att[C_VERSION], &isnull);
        if (!isnull) version = DatumGetInt32(d);
      }
    }
    index_endscan(scan);
    if (skipped && rescans++ < 1) continue;
    if (!TransactionIdIsValid(wait_for)) break;
    XactLockTableWait(wait_for, rel, &slot->tts_tid, XLTW_InsertIndex);
  }
  ExecDropSingleTupleTableSlot(slot);
  index_close(idx, AccessShareLock);
  return version;
}

// partitions_newest_first lists the leaf partitions of a partitioned event
// table, locked AccessShare: the default partition first (it may hold rows
// of any time), then the others from the newest bound to the oldest. Events
// of the ranged partitions follow their bounds in stamp, position and
// per-stream version order.
List* partitions_newest_first(Oid relid, int* ndefault) {
  Relation rel = relation_open(relid, AccessShareLock);
  PartitionDesc pd = RelationGetPartitionDesc(rel, true);
  int def = pd->boundinfo != nullptr ? pd->boundinfo->default_index : -1;
  List* parts = NIL;
  if (def >= 0 && pd->is_leaf[def]) parts = lappend_oid(parts, pd->oids[def]);
  *ndefault = list_length(parts);
  for (int i = pd->nparts - 1; i >= 0; i--)
    if (i != def && pd->is_leaf[i]) parts = lappend_oid(parts, pd->oids[i]);
  relation_close(rel, NoLock);
  return parts;
}

// stream_lock_tag names the lock of one stream of an event table.
static void stream_lock_tag(LOCKTAG* tag, Oid relid, Datum stream) {
  text* s = DatumGetTextPP(stream);
  uint32 h = hash_bytes(reinterpret_cast<const unsigned char*>(VARDATA_ANY(s)), VARSIZE_ANY_EXHDR(s));
  SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, relid, h, 0x4353);
}

// lock_stream serialises the writers of one stream of a partitioned event
// table until they end: its partitions cannot have a unique index on
// (stream, version) alone, so versions are handed out under this lock.
void lock_stream(Oid relid, Datum stream) {
  LOCKTAG tag;
  stream_lock_tag(&tag, relid, stream);
  (void)LockAcquire(&tag, ExclusiveLock, false, false);
}

// unlock_stream releases lock_stream's lock before the transaction ends.
void unlock_stream(Oid relid, Datum stream) {
  LOCKTAG tag;
  stream_lock_tag(&tag, relid, stream);
  LockRelease(&tag, ExclusiveLock, false);
}

// lookup_version finds the stream's highest version: in the table's
// (stream, version) index, or, for a partitioned event table, under the
// stream's lock, in every partition.
int32 lookup_version(Relation rel, const EventTableInfo* info, Datum stream) {
  if (!info->partitioned) return lookup_version_in(rel, info, stream);
  lock_stream(info->relid, stream);
  int32 version = 0;
  int ndefault;
  List* parts = partitions_newest_first(info->relid, &ndefault);
  for (int i = 0; i < list_length(parts); i++) {
    Relation part = table_open(list_nth_oid(parts, i), AccessShareLock);
    int32 v = lookup_version_in(part, event_table_info(part), stream);
    table_close(part, NoLock);
    if (v > version) version = v;
    if (i >= ndefault && v > 0) break;  // older ranges hold older versions
  }
  return version;
}

}  // namespace chronicle::pg
