// read.cpp: the reading functions of SPEC §3: events(), state(), history()
// and timeline(). Rows come through cached SPI plans; the chronological
// reduce itself is src/core's (replay.hpp), called through the guard.
#include <algorithm>
#include <vector>

#include "capture.hpp"
#include "eventtable.hpp"
#include "guard.hpp"
#include "plans.hpp"
#include "replay.hpp"
#include "txtime.hpp"

namespace chronicle::pg {

// read_sql makes the reading queries.
static char* read_sql(Oid relid, PlanKind kind) {
  const char* cols =
      "SELECT xmin, position, stream, version, type, payload, meta, valid_from, valid_to, recorded_at, supersedes "
      "FROM %s ";
  const char* where = kind == PLAN_READ_STREAM
                          ? "WHERE stream OPERATOR(pg_catalog.=) $1 AND recorded_at OPERATOR(pg_catalog.<=) $2"
                      : kind == PLAN_READ_ALL ? "WHERE recorded_at OPERATOR(pg_catalog.<=) $1"
                                              : "WHERE stream OPERATOR(pg_catalog.=) $1 ORDER BY position";
  return psprintf("%s%s", psprintf(cols, qualified_name(relid)), where);
}
// Column numbers (1-based) in the reading queries.
enum { Q_XMIN = 1, Q_POSITION, Q_STREAM, Q_VERSION, Q_TYPE, Q_PAYLOAD, Q_META, Q_VALID_FROM,
       Q_VALID_TO, Q_RECORDED_AT, Q_SUPERSEDES };

// read_plan returns the cached plan of a reading query (SPI connected).
static SPIPlanPtr read_plan(Oid relid, PlanKind kind) {
  Oid types[2];
  int nargs = 0;
  if (kind != PLAN_READ_ALL) types[nargs++] = TEXTOID;
  if (kind != PLAN_READ_HISTORY) types[nargs++] = TIMESTAMPTZOID;
  return cached_plan(relid, kind, read_sql, nargs, types);
}

// Row is one loaded event, plain data for the core.
struct Row {
  int64 position;
  int64 supersedes;
  bool has_supersedes;
  TimestampTz recorded_at, valid_from, valid_to;
  int kind;  // core::EventKind
  bool own;
  bool payload_null;
};

// Loaded is the result of load_rows: SPI's tuples and their plain rows.
struct Loaded {
  uint64 n;
  HeapTuple* tuples;
  TupleDesc desc;
  Row* rows;
};

// getdatum reads column col of a loaded tuple.
static Datum getdatum(const Loaded& l, uint64 i, int col, bool* isnull) {
  return SPI_getbinval(l.tuples[i], l.desc, col, isnull);
}

// load_rows runs a reading query (SPI connected) and extracts its rows.
static Loaded load_rows(Oid relid, PlanKind kind, Datum stream, TimestampTz known_at) {
  Datum args[2];
  int nargs = 0;
  if (kind != PLAN_READ_ALL) args[nargs++] = stream;
  if (kind != PLAN_READ_HISTORY) args[nargs++] = TimestampTzGetDatum(known_at);
  // (own rows carry the provisional stamp; the core filters exactly)
  int rc = SPI_execute_plan(read_plan(relid, kind), args, nullptr, false, 0);
  if (rc != SPI_OK_SELECT) elog(ERROR, "chronicle: reading events failed: %s", SPI_result_code_string(rc));
  Loaded l;
  l.n = SPI_processed;
  l.tuples = SPI_tuptable->vals;
  l.desc = SPI_tuptable->tupdesc;
  l.rows = static_cast<Row*>(palloc_extended(sizeof(Row) * (l.n + 1), MCXT_ALLOC_HUGE));
  for (uint64 i = 0; i < l.n; i++) {
    CHECK_FOR_INTERRUPTS();
    Row& r = l.rows[i];
    bool isnull;
    r.own = TransactionIdIsCurrentTransactionId(DatumGetTransactionId(getdatum(l, i, Q_XMIN, &isnull)));
    r.position = DatumGetInt64(getdatum(l, i, Q_POSITION, &isnull));
    Datum sup = getdatum(l, i, Q_SUPERSEDES, &isnull);
    r.has_supersedes = !isnull;
    r.supersedes = isnull ? 0 : DatumGetInt64(sup);
    r.recorded_at = DatumGetTimestampTz(getdatum(l, i, Q_RECORDED_AT, &isnull));
    r.valid_from = DatumGetTimestampTz(getdatum(l, i, Q_VALID_FROM, &isnull));
    r.valid_to = DatumGetTimestampTz(getdatum(l, i, Q_VALID_TO, &isnull));
    text* type = DatumGetTextPP(getdatum(l, i, Q_TYPE, &isnull));
    const char* t = VARDATA_ANY(type);
    int tlen = VARSIZE_ANY_EXHDR(type);
    if (tlen > 0 && t[0] == '$')
      r.kind = (tlen == 8 && memcmp(t, kRetractType, 8) == 0) ? int(core::EventKind::Retraction)
                                                               : int(core::EventKind::Marker);
    else
      r.kind = int(core::EventKind::Ordinary);
    (void)getdatum(l, i, Q_PAYLOAD, &r.payload_null);
  }
  return l;
}

// to_refs converts plain rows to the core's EventRefs (inside the guard).
static std::vector<core::EventRef> to_refs(const Loaded& l) {
  std::vector<core::EventRef> refs(l.n);
  for (uint64 i = 0; i < l.n; i++) {
    const Row& r = l.rows[i];
    core::EventRef& e = refs[i];
    e.position = r.position;
    if (r.has_supersedes) e.supersedes = r.supersedes;
    e.recorded_at = r.recorded_at;
    e.valid = core::Period{r.valid_from, r.valid_to};
    e.kind = core::EventKind(r.kind);
    e.own = r.own;
  }
  return refs;
}

// replay computes the replay order into order (capacity l.n) and returns
// how many events are visible.
static uint64 replay(const Loaded& l, const ReadHorizon& h, bool with_valid_at, TimestampTz valid_at,
                     uint64* order) {
  uint64 count = 0;
  guarded([&] {
    core::Horizon hz{h.known_at, h.include_own};
    auto items = core::replay_order(to_refs(l), hz,
                                    with_valid_at ? std::optional<core::Micros>(valid_at) : std::nullopt);
    for (const auto& it : items) order[count++] = it.index;
  });
  return count;
}

// payload_text returns the event's payload as JSON text (palloc'd).
static char* payload_text(const Loaded& l, uint64 i) {
  bool isnull;
  Datum d = getdatum(l, i, Q_PAYLOAD, &isnull);
  if (isnull) return nullptr;
  Jsonb* jb = DatumGetJsonbP(d);
  return JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
}

// jsonb_from_malloced turns a malloc'd JSON text into jsonb and frees it.
static Datum jsonb_from_malloced(char* text) {
  char* copy = pstrdup(text);
  free(text);
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(copy));
}

// malloc_copy copies a std::string to malloc'd memory (never palloc inside
// the guard); throws std::bad_alloc on failure.
static char* malloc_copy(const std::string& s) {
  char* p = static_cast<char*>(malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// begin_read checks the table and promises the horizon (known_at_arg < 0:
// the function has no known_at, it reads as known now).
static ReadHorizon begin_read(FunctionCallInfo fcinfo, int known_at_arg) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument \"tbl\" must not be null")));
  (void)event_table_info_oid(PG_GETARG_OID(0));
  flush_pending();  // captured changes of a statement still running
  bool known_null = known_at_arg < 0 || PG_ARGISNULL(known_at_arg);
  return stabilize(known_null, known_null ? 0 : PG_GETARG_TIMESTAMPTZ(known_at_arg));
}

// prefilter is the recorded_at bound of the reading query: the horizon, or
// the reader's own provisional stamp when its own events are included.
static TimestampTz prefilter(const ReadHorizon& h) {
  return h.include_own ? std::max(h.known_at, own_stamp()) : h.known_at;
}

// require_stream raises 22004 for a null stream argument.
static void require_stream(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument \"stream\" must not be null")));
}

}  // namespace chronicle::pg

using namespace chronicle::pg;
namespace core = chronicle::core;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_events);
PG_FUNCTION_INFO_V1(chronicle_state);
PG_FUNCTION_INFO_V1(chronicle_history);
PG_FUNCTION_INFO_V1(chronicle_timeline);
}

// chronicle_events implements chronicle.events(tbl, stream, known_at, valid_at).
extern "C" Datum chronicle_events(PG_FUNCTION_ARGS) {
  ReadHorizon h = begin_read(fcinfo, 2);
  Oid relid = PG_GETARG_OID(0);
  bool all = PG_ARGISNULL(1);
  bool with_valid_at = !PG_ARGISNULL(3);
  TimestampTz valid_at = with_valid_at ? PG_GETARG_TIMESTAMPTZ(3) : 0;
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Loaded l = load_rows(relid, all ? PLAN_READ_ALL : PLAN_READ_STREAM, all ? 0 : PG_GETARG_DATUM(1), prefilter(h));
  uint64* order = static_cast<uint64*>(palloc_extended(sizeof(uint64) * (l.n + 1), MCXT_ALLOC_HUGE));
  uint64 count = replay(l, h, with_valid_at, valid_at, order);
  for (uint64 k = 0; k < count; k++) {
    uint64 i = order[k];
    Datum values[11];
    bool nulls[11];
    values[0] = Int64GetDatum(int64(k + 1));
    nulls[0] = false;
    for (int c = Q_POSITION; c <= Q_SUPERSEDES; c++)
      values[c - 1] = getdatum(l, i, c, &nulls[c - 1]);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    CHECK_FOR_INTERRUPTS();
  }
  SPI_finish();
  return (Datum)0;
}

// chronicle_state implements chronicle.state(tbl, stream, valid_at, known_at).
extern "C" Datum chronicle_state(PG_FUNCTION_ARGS) {
  require_stream(fcinfo, 1);
  ReadHorizon h = begin_read(fcinfo, 3);
  Oid relid = PG_GETARG_OID(0);
  TimestampTz valid_at = PG_ARGISNULL(2) ? h.now : PG_GETARG_TIMESTAMPTZ(2);
  MemoryContext outer = CurrentMemoryContext;  // what must outlive SPI_finish
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Loaded l = load_rows(relid, PLAN_READ_STREAM, PG_GETARG_DATUM(1), prefilter(h));
  uint64* order = static_cast<uint64*>(palloc_extended(sizeof(uint64) * (l.n + 1), MCXT_ALLOC_HUGE));
  uint64 count = replay(l, h, true, valid_at, order);
  MemoryContext spi = MemoryContextSwitchTo(outer);
  char** texts = static_cast<char**>(palloc_extended(sizeof(char*) * (count + 1), MCXT_ALLOC_HUGE));
  uint64 ntexts = 0;
  for (uint64 k = 0; k < count; k++) {
    CHECK_FOR_INTERRUPTS();
    char* t = payload_text(l, order[k]);  // erased payloads are tombstones
    if (t != nullptr) texts[ntexts++] = t;
  }
  MemoryContextSwitchTo(spi);
  SPI_finish();
  char* folded = nullptr;
  guarded([&] {
    std::vector<core::Json> patches;
    patches.reserve(ntexts);
    for (uint64 k = 0; k < ntexts; k++) {
      if (k % 1024 == 0) core::poll_cancel();
      patches.push_back(core::parse_json(texts[k]));
    }
    auto result = core::fold_merge_patch(patches);
    if (result) folded = malloc_copy(core::to_json_text(*result));
  });
  if (folded == nullptr) PG_RETURN_NULL();
  return jsonb_from_malloced(folded);
}

// chronicle_history implements chronicle.history(tbl, stream).
extern "C" Datum chronicle_history(PG_FUNCTION_ARGS) {
  require_stream(fcinfo, 1);
  (void)begin_read(fcinfo, -1);  // history is as known now
  Oid relid = PG_GETARG_OID(0);
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Loaded l = load_rows(relid, PLAN_READ_HISTORY, PG_GETARG_DATUM(1), 0);
  TimestampTz* until = static_cast<TimestampTz*>(palloc_extended(sizeof(TimestampTz) * (l.n + 1), MCXT_ALLOC_HUGE));
  guarded([&] {
    core::Horizon hz{core::kInfinity, true};
    auto at = core::superseded_at(to_refs(l), hz);
    for (uint64 i = 0; i < l.n; i++) until[i] = at[i];
  });
  for (uint64 i = 0; i < l.n; i++) {
    CHECK_FOR_INTERRUPTS();
    Datum values[10];
    bool nulls[10];
    values[0] = getdatum(l, i, Q_POSITION, &nulls[0]);
    values[1] = getdatum(l, i, Q_VERSION, &nulls[1]);
    values[2] = getdatum(l, i, Q_TYPE, &nulls[2]);
    values[3] = getdatum(l, i, Q_PAYLOAD, &nulls[3]);
    values[4] = getdatum(l, i, Q_META, &nulls[4]);
    values[5] = getdatum(l, i, Q_VALID_FROM, &nulls[5]);
    values[6] = getdatum(l, i, Q_VALID_TO, &nulls[6]);
    values[7] = getdatum(l, i, Q_RECORDED_AT, &nulls[7]);
    values[8] = TimestampTzGetDatum(until[i]);
    nulls[8] = false;
    values[9] = getdatum(l, i, Q_SUPERSEDES, &nulls[9]);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  SPI_finish();
  return (Datum)0;
}

// chronicle_timeline implements chronicle.timeline(tbl, stream, known_at).
extern "C" Datum chronicle_timeline(PG_FUNCTION_ARGS) {
  require_stream(fcinfo, 1);
  ReadHorizon h = begin_read(fcinfo, 2);
  Oid relid = PG_GETARG_OID(0);
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  MemoryContext outer = CurrentMemoryContext;  // what must outlive SPI_finish
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
  Loaded l = load_rows(relid, PLAN_READ_STREAM, PG_GETARG_DATUM(1), prefilter(h));
  uint64* order = static_cast<uint64*>(palloc_extended(sizeof(uint64) * (l.n + 1), MCXT_ALLOC_HUGE));
  uint64 count = replay(l, h, false, 0, order);
  MemoryContext spi = MemoryContextSwitchTo(outer);
  char** texts = static_cast<char**>(palloc_extended(sizeof(char*) * (count + 1), MCXT_ALLOC_HUGE));
  TimestampTz* from = static_cast<TimestampTz*>(palloc_extended(sizeof(TimestampTz) * (count + 1), MCXT_ALLOC_HUGE));
  TimestampTz* to = static_cast<TimestampTz*>(palloc_extended(sizeof(TimestampTz) * (count + 1), MCXT_ALLOC_HUGE));
  uint64 n = 0;
  for (uint64 k = 0; k < count; k++) {
    CHECK_FOR_INTERRUPTS();
    char* t = payload_text(l, order[k]);
    if (t == nullptr) continue;
    texts[n] = t;
    from[n] = l.rows[order[k]].valid_from;
    to[n] = l.rows[order[k]].valid_to;
    n++;
  }
  MemoryContextSwitchTo(spi);
  SPI_finish();
  // Results are malloc'd inside the guard: periods and JSON texts.
  uint64 nout = 0;
  TimestampTz* out_from = nullptr;
  TimestampTz* out_to = nullptr;
  char** out_text = nullptr;
  guarded([&] {
    std::vector<core::Period> periods;
    std::vector<core::Json> payloads;
    for (uint64 k = 0; k < n; k++) {
      if (k % 1024 == 0) core::poll_cancel();
      periods.push_back(core::Period{from[k], to[k]});
      payloads.push_back(core::parse_json(texts[k]));
    }
    auto tl = core::timeline(periods, payloads);
    out_from = static_cast<TimestampTz*>(calloc(tl.size() + 1, sizeof(TimestampTz)));
    out_to = static_cast<TimestampTz*>(calloc(tl.size() + 1, sizeof(TimestampTz)));
    out_text = static_cast<char**>(calloc(tl.size() + 1, sizeof(char*)));
    if (!out_from || !out_to || !out_text) throw std::bad_alloc();
    for (const auto& p : tl) {
      out_from[nout] = p.period.from;
      out_to[nout] = p.period.to;
      out_text[nout] = malloc_copy(core::to_json_text(p.value));
      nout++;
    }
  });
  for (uint64 k = 0; k < nout; k++) {
    Datum values[3] = {TimestampTzGetDatum(out_from[k]), TimestampTzGetDatum(out_to[k]),
                       jsonb_from_malloced(out_text[k])};
    bool nulls[3] = {false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  free(out_from);
  free(out_to);
  free(out_text);
  return (Datum)0;
}
