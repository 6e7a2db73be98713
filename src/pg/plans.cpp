// plans.cpp: prepared SPI plans per relation and query kind, and the small
// hash-table helpers the other caches share.
#include "plans.hpp"

namespace chronicle::pg {

struct PlanKey {
  Oid relid;
  int kind;
};
struct PlanEntry {
  PlanKey key;
  SPIPlanPtr plan;
  bool stale;           // the relation changed since the plan was made
  char name[2 * NAMEDATALEN + 8];  // the qualified name its SQL uses
};
static HTAB* plans = nullptr;

// oid_hash creates a hash table keyed by an Oid.
HTAB* oid_hash(const char* name, Size entrysize, MemoryContext cxt, long size) {
  HASHCTL ctl;
  memset(&ctl, 0, sizeof(ctl));
  ctl.keysize = sizeof(Oid);
  ctl.entrysize = entrysize;
  ctl.hcxt = cxt;
  return hash_create(name, size, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

// qualified_name returns relid's schema-qualified, quoted name.
char* qualified_name(Oid relid) {
  return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

// cached_plan returns the prepared plan of (relid, kind).
SPIPlanPtr cached_plan(Oid relid, PlanKind kind, PlanSql sql, int nargs, const Oid* types) {
  if (plans == nullptr) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(PlanKey);
    ctl.entrysize = sizeof(PlanEntry);
    ctl.hcxt = TopMemoryContext;
    plans = hash_create("chronicle plans", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  }
  PlanKey key;
  memset(&key, 0, sizeof(key));
  key.relid = relid;
  key.kind = kind;
  bool found;
  auto* e = static_cast<PlanEntry*>(hash_search(plans, &key, HASH_FIND, &found));
  if (found && e->stale) {
    // The plan cache revalidates a kept plan by itself; only a new name (or
    // no table) means new SQL. The old plan is not freed: it may be running
    // further up this backend's stack.
    char* now = get_rel_name(relid) ? qualified_name(relid) : nullptr;
    if (now != nullptr && strcmp(now, e->name) == 0) e->stale = false;
    else found = false;
  }
  if (found) return e->plan;
  char* name = qualified_name(relid);
  SPIPlanPtr plan = SPI_prepare(sql(relid, kind), nargs, const_cast<Oid*>(types));
  if (plan == nullptr) elog(ERROR, "chronicle: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
  SPI_keepplan(plan);
  e = static_cast<PlanEntry*>(hash_search(plans, &key, HASH_ENTER, &found));
  e->plan = plan;
  e->stale = false;
  strlcpy(e->name, name, sizeof(e->name));
  return plan;
}

// forget_plans marks the plans of a changed relation stale (all on
// InvalidOid). It frees nothing: an invalidation can arrive while one of
// them is executing.
static void forget_plans(Datum, Oid relid) {
  if (plans == nullptr) return;
  HASH_SEQ_STATUS it;
  PlanEntry* e;
  hash_seq_init(&it, plans);
  while ((e = static_cast<PlanEntry*>(hash_seq_search(&it))) != nullptr)
    if (relid == InvalidOid || e->key.relid == relid) e->stale = true;
}

// init_plans registers the invalidation callback.
void init_plans() { CacheRegisterRelcacheCallback(forget_plans, (Datum)0); }

}  // namespace chronicle::pg
