// txtime.cpp: provisional stamps, the commit-time check and restamp, and the
// readers' horizon (doc/design.md, "Transaction time").
#include <algorithm>

#include "plans.hpp"
#include "txtime.hpp"

#include "capture.hpp"
#include "guard.hpp"
#include "period.hpp"

namespace chronicle::pg {

bool bypass_immutability = false;

// The stamp lock, an advisory-type lock in a key space user advisory locks
// never use (their fourth field is 1 or 2). A writer takes it (exclusive) at
// pre-commit and holds it to its end, past its commit record: commits that
// wrote events are serialised in stamp and position order, so what any
// snapshot, standby, subscriber or logical decoder sees is a prefix of the
// final order (SPEC §4, §6). Readers take it briefly to promise a horizon.
// The commit NOTIFY (one per table) takes PostgreSQL's own notify lock
// after it, which serialises committing notifiers anyway.
static void stamp_lock_tag(LOCKTAG* tag) {
  SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, 0x6368726fU /* "chro" */, 0x6e69636cU, 0x4348);
}

// TableWrites lists the provisional positions this transaction wrote.
struct TableWrites {
  Oid relid;
  Oid seqid;
  Oid stampedid;
  Oid owner;
  int64* pos;
  int n;
  int cap;
};

// VersionKey identifies a stream of a table in the version cache.
struct VersionKey {
  Oid relid;
  int len;
  const char* stream;
};
struct VersionEntry {
  VersionKey key;
  int32 version;
};

static HTAB* xact_tables = nullptr;     // relid -> TableWrites
static HTAB* xact_versions = nullptr;   // (relid, stream) -> last version
static TimestampTz xact_stamp = 0;      // provisional stamp, 0 = none yet
static bool force_restamp = false;      // a subtransaction that wrote aborted

// The clock moves this transaction made as a reader, in order: a commit may
// keep its provisional stamp past promises it made to itself, not to others.
struct ClockMove {
  TimestampTz before, after;
};
static ClockMove* own_moves = nullptr;
static int own_moves_n = 0, own_moves_cap = 0;

// note_own_move remembers that this transaction moved the clock.
static void note_own_move(TimestampTz before, TimestampTz after) {
  if (own_moves_n == own_moves_cap) {
    own_moves_cap = own_moves_cap ? own_moves_cap * 2 : 8;
    own_moves = static_cast<ClockMove*>(
        own_moves ? repalloc_huge(own_moves, sizeof(ClockMove) * own_moves_cap)
                  : MemoryContextAlloc(TopTransactionContext, sizeof(ClockMove) * own_moves_cap));
  }
  own_moves[own_moves_n++] = ClockMove{before, after};
}

// foreign_last peels this transaction's own latest clock moves off last.
static TimestampTz foreign_last(TimestampTz last) {
  for (int i = own_moves_n - 1; i >= 0 && own_moves[i].after == last; i--) last = own_moves[i].before;
  return last;
}

// Restamp context read by chronicle._restamp_map / _restamp_is_own.
static const int64* restamp_old = nullptr;
static const int64* restamp_new = nullptr;
static int restamp_n = 0;

// find_sorted returns the index of v in the ascending array a[0..n), or -1.
static int find_sorted(const int64* a, int n, int64 v) {
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (a[mid] == v) return mid;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

// become switches to role with a restricted security context.
SavedUser become(Oid role) {
  SavedUser s;
  GetUserIdAndSecContext(&s.uid, &s.sec);
  SetUserIdAndSecContext(role, s.sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
  return s;
}

// restore_user undoes become.
void restore_user(const SavedUser& s) { SetUserIdAndSecContext(s.uid, s.sec); }

static Oid cached_clock = InvalidOid;

// forget_clock drops the cached oid of chronicle.clock when it changes.
static void forget_clock(Datum, Oid relid) {
  if (relid == InvalidOid || relid == cached_clock) cached_clock = InvalidOid;
}

// clock_oid returns the oid of chronicle.clock.
static Oid clock_oid() {
  if (OidIsValid(cached_clock)) return cached_clock;
  Oid nsp = get_namespace_oid("chronicle", false);
  Oid oid = get_relname_relid("clock", nsp);
  if (!OidIsValid(oid))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("sequence chronicle.clock is missing")));
  cached_clock = oid;
  return oid;
}

// seq_last reads a sequence's last value (whoever drew it), bypassing
// privileges: chronicle reads only its own sequences.
static int64 seq_last(Oid seq) {
  SavedUser s = become(BOOTSTRAP_SUPERUSERID);
  LOCAL_FCINFO(fcinfo, 1);
  InitFunctionCallInfoData(*fcinfo, nullptr, 1, InvalidOid, nullptr, nullptr);
  fcinfo->args[0].value = ObjectIdGetDatum(seq);
  fcinfo->args[0].isnull = false;
  Datum d = pg_sequence_last_value(fcinfo);
  restore_user(s);
  return fcinfo->isnull ? PG_INT64_MIN : DatumGetInt64(d);
}

// clock_last reads the last stamp handed out or promised.
static TimestampTz clock_last(Oid clock) { return seq_last(clock); }

// seq_set sets a sequence of chronicle's (bypassing privileges).
static void seq_set(Oid seq, int64 v) {
  SavedUser s = become(BOOTSTRAP_SUPERUSERID);
  DirectFunctionCall2(setval_oid, ObjectIdGetDatum(seq), Int64GetDatum(v));
  restore_user(s);
}

// clock_set moves the clock to t.
static void clock_set(Oid clock, TimestampTz t) {
  SavedUser s = become(BOOTSTRAP_SUPERUSERID);
  DirectFunctionCall2(setval_oid, ObjectIdGetDatum(clock), Int64GetDatum(t));
  restore_user(s);
}

// stabilize fixes the reader's horizon T: known_at, or the clock for "now"
// (NULL or a future known_at). Under the stamp lock no writer is between
// stamping and visibility, so every stamp <= L, the last stamp handed out or
// promised, is committed and visible to the snapshot taken next. When T > L
// the reader promises T by moving the clock to it (exclusive mode): every
// later commit is then stamped after T. Historical reads (T <= L) write
// nothing, but wait like the others for a commit in progress.
ReadHorizon stabilize(bool known_at_null, TimestampTz known_at) {
  ReadHorizon h;
  h.now = GetCurrentTimestamp();
  h.include_own = known_at_null || known_at >= h.now;
  h.known_at = h.include_own ? h.now : known_at;
  LOCKTAG stamp;
  stamp_lock_tag(&stamp);
  Oid clock = clock_oid();
  (void)LockAcquire(&stamp, ExclusiveLock, false, false);  // stamped writers are visible now
  TimestampTz last = clock_last(clock);
  if (h.known_at > last) {
    if (RecoveryInProgress() || XactReadOnly) {
      h.known_at = last;  // a read-only reader cannot promise: it answers as of L
    } else {
      clock_set(clock, h.known_at);
      note_own_move(last, h.known_at);
    }
  }
  LockRelease(&stamp, ExclusiveLock, false);
  return h;
}

// own_stamp returns this transaction's provisional stamp, or DT_NOBEGIN.
TimestampTz own_stamp() { return xact_stamp == 0 ? DT_NOBEGIN : xact_stamp; }

// provisional_stamp returns (and on first use fixes) the transaction's
// provisional recorded_at.
TimestampTz provisional_stamp() {
  if (xact_stamp == 0) xact_stamp = GetCurrentTimestamp();
  return xact_stamp;
}

// note_write appends position to the transaction's list for info's table.
void note_write(const EventTableInfo* info, int64 position) {
  if (xact_tables == nullptr) xact_tables = oid_hash("chronicle writes", sizeof(TableWrites), TopTransactionContext, 8);
  bool found;
  auto* w = static_cast<TableWrites*>(hash_search(xact_tables, &info->relid, HASH_ENTER, &found));
  if (!found) {
    w->seqid = info->seqid;
    w->stampedid = info->stampedid;
    w->owner = info->owner;
    w->cap = 16;
    w->n = 0;
    w->pos = static_cast<int64*>(MemoryContextAlloc(TopTransactionContext, sizeof(int64) * w->cap));
  }
  if (w->n == w->cap) {
    w->cap *= 2;
    w->pos = static_cast<int64*>(repalloc_huge(w->pos, sizeof(int64) * w->cap));
  }
  w->pos[w->n++] = position;
}

// version_hash hashes a VersionKey.
static uint32 version_hash(const void* key, Size) {
  auto* k = static_cast<const VersionKey*>(key);
  return hash_bytes(reinterpret_cast<const unsigned char*>(k->stream), k->len) ^ k->relid;
}

// version_match compares two VersionKeys (0 = equal).
static int version_match(const void* a, const void* b, Size) {
  auto* x = static_cast<const VersionKey*>(a);
  auto* y = static_cast<const VersionKey*>(b);
  if (x->relid != y->relid || x->len != y->len) return 1;
  return memcmp(x->stream, y->stream, x->len);
}

// cached_version returns the stream's last version written by this
// transaction, or -1.
int32 cached_version(Oid relid, const char* stream, int len) {
  if (xact_versions == nullptr) return -1;
  VersionKey k{relid, len, stream};
  bool found;
  auto* e = static_cast<VersionEntry*>(hash_search(xact_versions, &k, HASH_FIND, &found));
  return found ? e->version : -1;
}

// remember_version stores the stream's last version for this transaction.
void remember_version(Oid relid, const char* stream, int len, int32 version) {
  if (xact_versions == nullptr) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(VersionKey);
    ctl.entrysize = sizeof(VersionEntry);
    ctl.hash = version_hash;
    ctl.match = version_match;
    ctl.hcxt = TopTransactionContext;
    xact_versions = hash_create("chronicle versions", 64, &ctl,
                                HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
  }
  VersionKey k{relid, len, stream};
  bool found;
  auto* e = static_cast<VersionEntry*>(hash_search(xact_versions, &k, HASH_ENTER, &found));
  if (!found) {
    char* copy = static_cast<char*>(MemoryContextAlloc(TopTransactionContext, len + 1));
    memcpy(copy, stream, len);
    copy[len] = '\0';
    e->key.stream = copy;
  }
  e->version = version;
}

// restamp_table renumbers this transaction's rows of one table with fresh
// positions (in the same order) and the final stamp.
static void restamp_table(TableWrites* w, TimestampTz stamp, TimestampTz provisional) {
  char* relname = get_rel_name(w->relid);
  if (relname == nullptr) return;
  int64* fresh = static_cast<int64*>(palloc_extended(sizeof(int64) * w->n, MCXT_ALLOC_HUGE));
  for (int i = 0; i < w->n; i++) fresh[i] = nextval_internal(w->seqid, false);
  char* sql = psprintf(
      "UPDATE %s AS t SET position = chronicle._restamp_map(t.position), recorded_at = $1, "
      "valid_from = CASE WHEN t.valid_from OPERATOR(pg_catalog.=) $2 AND t.valid_to OPERATOR(pg_catalog.>) $1 "
      "THEN $1 ELSE t.valid_from END, "
      "supersedes = chronicle._restamp_map(t.supersedes) "
      "WHERE t.position OPERATOR(pg_catalog.>=) $3 AND t.position OPERATOR(pg_catalog.<=) $4 "
      "AND chronicle._restamp_is_own(t.position) RETURNING t.position",
      quote_qualified_identifier(get_namespace_name(get_rel_namespace(w->relid)), relname));
  Oid argtypes[4] = {TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID};
  Datum args[4] = {TimestampTzGetDatum(stamp), TimestampTzGetDatum(provisional),
                   Int64GetDatum(w->pos[0]), Int64GetDatum(w->pos[w->n - 1])};
  restamp_old = w->pos;
  restamp_new = fresh;
  restamp_n = w->n;
  bypass_immutability = true;
  SavedUser s = become(w->owner);
  int rc = SPI_execute_with_args(sql, 4, argtypes, args, nullptr, false, 0);
  restore_user(s);
  bypass_immutability = false;
  restamp_old = restamp_new = nullptr;
  restamp_n = 0;
  if (rc != SPI_OK_UPDATE_RETURNING) elog(ERROR, "chronicle: restamp failed: %s", SPI_result_code_string(rc));
  // Now the stamped positions, less those of rolled-back subtransactions.
  w->n = static_cast<int>(SPI_processed);
  for (int i = 0; i < w->n; i++) {
    bool isnull;
    w->pos[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
  }
  std::sort(w->pos, w->pos + w->n);
}

// stamp_at_commit fixes the transaction's stamp and positions under the
// stamp lock, which it holds until the transaction ends, and queues one
// NOTIFY per table it wrote to.
static void stamp_at_commit() {
  if (xact_tables == nullptr || hash_get_num_entries(xact_tables) == 0) return;
  LOCKTAG stamp;
  stamp_lock_tag(&stamp);
  (void)LockAcquire(&stamp, ExclusiveLock, false, false);
  Oid clock = clock_oid();
  TimestampTz last = clock_last(clock);
  TimestampTz provisional = xact_stamp;
  bool keep = !force_restamp && provisional > foreign_last(last);
  // Positions: kept when all are above the highest one stamped so far.
  HASH_SEQ_STATUS it;
  TableWrites* w;
  hash_seq_init(&it, xact_tables);
  while ((w = static_cast<TableWrites*>(hash_seq_search(&it))) != nullptr)
    if (w->n > 0 && w->pos[0] <= seq_last(w->stampedid)) keep = false;
  TimestampTz stamp_at = provisional;
  if (!keep) {
    TimestampTz clock_now = GetCurrentTimestamp();
    guarded([&] { stamp_at = core::next_stamp(clock_now, last); });
    // Make the last command's rows visible; pre-commit has no snapshot.
    CommandCounterIncrement();
    PushActiveSnapshot(GetTransactionSnapshot());
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
    hash_seq_init(&it, xact_tables);
    while ((w = static_cast<TableWrites*>(hash_seq_search(&it))) != nullptr)
      if (w->n > 0) restamp_table(w, stamp_at, provisional);
    SPI_finish();
    PopActiveSnapshot();
  }
  hash_seq_init(&it, xact_tables);
  while ((w = static_cast<TableWrites*>(hash_seq_search(&it))) != nullptr) {
    if (w->n == 0) continue;
    seq_set(w->stampedid, w->pos[w->n - 1]);
    Async_Notify(notify_channel(w->relid), psprintf(INT64_FORMAT, w->pos[w->n - 1]));
  }
  clock_set(clock, stamp_at);
}

// notify_channel names an event table's NOTIFY channel after its oid.
char* notify_channel(Oid relid) { return psprintf("chronicle_%u", relid); }

// is_own_write searches this transaction's (ascending) positions of relid.
bool is_own_write(Oid relid, int64 position) {
  if (xact_tables == nullptr) return false;
  bool found;
  auto* w = static_cast<TableWrites*>(hash_search(xact_tables, &relid, HASH_FIND, &found));
  return found && find_sorted(w->pos, w->n, position) >= 0;
}

// reset_xact forgets the transaction's state (its memory goes with it).
static void reset_xact() {
  xact_tables = nullptr;
  xact_versions = nullptr;
  xact_stamp = 0;
  force_restamp = false;
  own_moves = nullptr;
  own_moves_n = own_moves_cap = 0;
  reset_session_flags();
  restamp_old = restamp_new = nullptr;
  restamp_n = 0;
}

// xact_callback stamps at pre-commit and resets at the end.
static void xact_callback(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
      flush_pending();  // changes whose statement trigger did not run
      stamp_at_commit();
      break;
    case XACT_EVENT_PRE_PREPARE:
      flush_pending();
      if (xact_tables != nullptr && hash_get_num_entries(xact_tables) > 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot PREPARE a transaction that wrote to a chronicle event table"),
                        errdetail("Transaction time is assigned at commit.")));
      break;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PREPARE:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PARALLEL_ABORT:
      forget_pending(true, InvalidSubTransactionId);
      reset_xact();
      break;
    default:
      break;
  }
}

// subxact_callback: rows of an aborted subtransaction leave holes, and the
// version cache may name versions that no longer exist.
static void subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId, void*) {
  if (event == SUBXACT_EVENT_ABORT_SUB) {
    forget_pending(false, mySubid);
    if (xact_tables != nullptr) force_restamp = true;
    if (xact_versions != nullptr) {
      hash_destroy(xact_versions);
      xact_versions = nullptr;
    }
    reset_session_flags();
  }
}

// init_txtime registers the callbacks.
void init_txtime() {
  CacheRegisterRelcacheCallback(forget_clock, (Datum)0);
  RegisterXactCallback(xact_callback, nullptr);
  RegisterSubXactCallback(subxact_callback, nullptr);
}

// restamp_index finds position among the restamped old positions, or -1.
static int restamp_index(int64 position) { return find_sorted(restamp_old, restamp_n, position); }

}  // namespace chronicle::pg

using namespace chronicle::pg;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_provisional_stamp);
PG_FUNCTION_INFO_V1(chronicle_restamp_is_own);
PG_FUNCTION_INFO_V1(chronicle_restamp_map);
}

// chronicle_provisional_stamp returns the transaction's provisional
// recorded_at: the default that routes a new event to its partition.
extern "C" Datum chronicle_provisional_stamp(PG_FUNCTION_ARGS) { PG_RETURN_TIMESTAMPTZ(provisional_stamp()); }

// chronicle_restamp_is_own tells whether a position is being restamped.
extern "C" Datum chronicle_restamp_is_own(PG_FUNCTION_ARGS) {
  PG_RETURN_BOOL(restamp_n > 0 && restamp_index(PG_GETARG_INT64(0)) >= 0);
}

// chronicle_restamp_map maps an old position to its new one (else itself).
extern "C" Datum chronicle_restamp_map(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  int64 p = PG_GETARG_INT64(0);
  int i = restamp_n > 0 ? restamp_index(p) : -1;
  PG_RETURN_INT64(i >= 0 ? restamp_new[i] : p);
}
