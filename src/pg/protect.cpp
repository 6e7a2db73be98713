// protect.cpp: warnings when chronicle's protection of an event table is
// disabled or dropped (SPEC §7). Nobody can rewrite events through DML while
// the triggers stand; a superuser can take them down, and is told.
#include "eventtable.hpp"

namespace chronicle::pg {

// kProtection names the triggers that keep an event table append-only.
static const char* const kProtection[] = {"zz_chronicle_stamp", "chronicle_immutable", "chronicle_immutable_truncate"};

// warn_unprotected warns about each protection trigger of rel, an event
// table or partition, that is disabled or missing.
static void warn_unprotected(Relation rel) {
  TriggerDesc* td = rel->trigdesc;
  if (td == nullptr) return;
  Oid nsp = get_namespace_oid("chronicle", true);
  const Trigger* found[3] = {nullptr, nullptr, nullptr};
  for (int i = 0; i < td->numtriggers; i++)
    for (int k = 0; k < 3; k++)
      if (strcmp(td->triggers[i].tgname, kProtection[k]) == 0 && get_func_namespace(td->triggers[i].tgfoid) == nsp)
        found[k] = &td->triggers[i];
  if (found[0] == nullptr) return;  // not an event table
  for (int k = 0; k < 3; k++) {
    if (found[k] != nullptr && found[k]->tgenabled != TRIGGER_DISABLED) continue;
    ereport(WARNING,
            (errcode(ERRCODE_WARNING),
             errmsg("event table \"%s\" is not protected: trigger %s is %s", RelationGetRelationName(rel),
                    kProtection[k], found[k] == nullptr ? "missing" : "disabled"),
             errdetail(k == 0 ? "New events are not stamped: their positions and recorded_at are not chronicle's."
                              : "UPDATE, DELETE or TRUNCATE can now rewrite recorded history."),
             found[k] != nullptr ? errhint("ALTER TABLE %s ENABLE TRIGGER %s;", RelationGetRelationName(rel),
                                           kProtection[k])
                                 : 0));
  }
}

// warn_dropped_protection warns, in a sql_drop event trigger, about each
// protection trigger the command dropped by name.
void warn_dropped_protection() {
  int rc = SPI_execute(
      "SELECT object_identity FROM pg_catalog.pg_event_trigger_dropped_objects() "
      "WHERE original AND object_type OPERATOR(pg_catalog.=) 'trigger' "
      "AND (object_identity OPERATOR(pg_catalog.~~) 'zz\\_chronicle\\_stamp on %' "
      "OR object_identity OPERATOR(pg_catalog.~~) 'chronicle\\_immutable on %' "
      "OR object_identity OPERATOR(pg_catalog.~~) 'chronicle\\_immutable\\_truncate on %')",
      true, 0);
  if (rc != SPI_OK_SELECT) elog(ERROR, "chronicle: reading the dropped objects failed: %s", SPI_result_code_string(rc));
  for (uint64 i = 0; i < SPI_processed; i++)
    ereport(WARNING, (errcode(ERRCODE_WARNING),
                      errmsg("chronicle's protection trigger %s was dropped",
                             SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1)),
                      errdetail("Events of that table can now be rewritten or stamped by hand."),
                      errhint("Recreate the table with chronicle.create_event_table() and copy its events, or "
                              "restore the trigger as chronicle.create_event_table() defines it.")));
}

}  // namespace chronicle::pg

using namespace chronicle::pg;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_check_protection);
}

// protect_partitions gives each leaf partition of rel (rel itself when it
// is a partition) of an event table its immutability triggers when it has
// none yet: partitions created or attached by hand (statement triggers are
// not inherited).
static void protect_partitions(Relation rel) {
  List* parts = rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE
                    ? find_all_inheritors(RelationGetRelid(rel), AccessShareLock, nullptr)
                    : (rel->rd_rel->relispartition ? list_make1_oid(RelationGetRelid(rel)) : NIL);
  ListCell* lc;
  foreach (lc, parts) {
    Oid part = lfirst_oid(lc);
    if (get_rel_relkind(part) != RELKIND_RELATION) continue;
    Relation p = relation_open(part, AccessShareLock);
    bool needs = is_event_table(p);
    for (int i = 0; needs && p->trigdesc != nullptr && i < p->trigdesc->numtriggers; i++)
      needs = strcmp(p->trigdesc->triggers[i].tgname, "chronicle_immutable") != 0;
    relation_close(p, AccessShareLock);
    if (!needs) continue;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "chronicle: SPI_connect failed");
    Oid types[1] = {REGCLASSOID};
    Datum args[1] = {ObjectIdGetDatum(part)};
    int rc = SPI_execute_with_args("SELECT chronicle._protect($1)", 1, types, args, nullptr, false, 0);
    SPI_finish();
    if (rc != SPI_OK_SELECT) elog(ERROR, "chronicle: protecting a partition failed");
  }
}

// chronicle_check_protection(tbl, warn) protects new partitions of event
// tables and, with warn, warns when an event table's protection triggers
// are disabled or missing; called by the CREATE/ALTER TABLE event trigger.
extern "C" Datum chronicle_check_protection(PG_FUNCTION_ARGS) {
  Relation rel = try_relation_open(PG_GETARG_OID(0), AccessShareLock);
  if (rel == nullptr) PG_RETURN_VOID();
  if (rel->rd_rel->relkind == RELKIND_RELATION || rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) {
    protect_partitions(rel);
    if (PG_GETARG_BOOL(1)) {
      relation_close(rel, AccessShareLock);
      rel = relation_open(PG_GETARG_OID(0), AccessShareLock);  // with the triggers just made
      warn_unprotected(rel);
    }
  }
  relation_close(rel, AccessShareLock);
  PG_RETURN_VOID();
}
