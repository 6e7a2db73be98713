// chronicle.cpp: the module's entry point: magic block and _PG_init.
#include "capture.hpp"
#include "error.hpp"
#include "eventtable.hpp"
#include "guc.hpp"
#include "plans.hpp"
#include "txtime.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

void chronicle_init_append();

// _PG_init registers chronicle's callbacks when the library is loaded.
extern "C" void _PG_init(void) {
  // Long loops in src/core stop when a cancel or terminate request arrives.
  chronicle::core::cancel_pending = &QueryCancelPending;
  chronicle::core::die_pending = &ProcDiePending;
  chronicle::pg::init_plans();
  chronicle::pg::init_eventtable_cache();
  chronicle::pg::init_txtime();
  chronicle_init_append();
  chronicle::pg::init_capture();
  chronicle::pg::define_gucs();
}
