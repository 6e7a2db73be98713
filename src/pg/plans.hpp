// plans.hpp: the per-backend caches of chronicle's glue: prepared SPI plans
// per relation and query kind, and oid-keyed hash tables.
#pragma once
#include "pg.hpp"

namespace chronicle::pg {

// PlanKind names the queries chronicle prepares per relation.
enum PlanKind {
  PLAN_APPEND,         // INSERT … RETURNING position, version (event table)
  PLAN_READ_STREAM,    // the events of one stream known by a time
  PLAN_READ_ALL,       // every event known by a time
  PLAN_READ_HISTORY,   // the events of one stream, by position
  PLAN_CAPTURE_FLUSH,  // INSERT … FROM ROWS FROM (unnest …) (tracked event table)
};

// PlanSql makes the SQL of a plan kind for a relation (palloc'd).
using PlanSql = char* (*)(Oid relid, PlanKind kind);

// cached_plan returns the prepared plan of (relid, kind), preparing it with
// sql() on first use; it is dropped when the relation changes. SPI must be
// connected.
SPIPlanPtr cached_plan(Oid relid, PlanKind kind, PlanSql sql, int nargs, const Oid* types);

// oid_hash creates a hash table keyed by an Oid at the start of its entries.
HTAB* oid_hash(const char* name, Size entrysize, MemoryContext cxt, long size = 16);

// qualified_name returns relid's schema-qualified, quoted name (palloc'd).
char* qualified_name(Oid relid);

// init_plans registers the plan cache's invalidation; called from _PG_init.
void init_plans();

}  // namespace chronicle::pg
