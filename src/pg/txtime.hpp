// txtime.hpp: transaction time (SPEC §1). Events get a provisional stamp and
// position when written; at commit, under the commit lock, they are kept when
// still in commit order and renumbered otherwise. Readers promise a horizon
// so that no later commit can land at or before a time they have answered.
// doc/design.md explains the protocol and its cost.
#pragma once
#include "eventtable.hpp"
#include "pg.hpp"

namespace chronicle::pg {

// ReadHorizon is what a reading function may see: events recorded at or
// before known_at, and its own transaction's events when include_own is set.
struct ReadHorizon {
  TimestampTz known_at;  // committed events recorded at or before it are known
  TimestampTz now;
  bool include_own;
};

// stabilize turns a caller's known_at (NULL = now) into a horizon that no
// later commit can invalidate (SPEC §1.3); a future known_at means now.
ReadHorizon stabilize(bool known_at_null, TimestampTz known_at);

// own_stamp returns this transaction's provisional stamp, or DT_NOBEGIN
// when it has written no event.
TimestampTz own_stamp();

// provisional_stamp returns this transaction's provisional recorded_at.
TimestampTz provisional_stamp();

// note_write records that this transaction wrote position into info's table.
void note_write(const EventTableInfo* info, int64 position);

// is_own_write tells whether this transaction wrote position into relid
// (its position is provisional until commit).
bool is_own_write(Oid relid, int64 position);

// notify_channel returns the NOTIFY channel of an event table (palloc'd).
char* notify_channel(Oid relid);

// cached_version returns the version this transaction last gave stream in
// relid, or -1 when it has written none; remember_version stores one.
int32 cached_version(Oid relid, const char* stream, int len);
void remember_version(Oid relid, const char* stream, int len, int32 version);

// bypass_immutability is set while chronicle itself rewrites event rows
// (restamp at commit, erasure); the immutability trigger lets those through.
extern bool bypass_immutability;

// reset_session_flags clears chronicle's write flags (append.cpp); called
// when a transaction or subtransaction aborts.
void reset_session_flags();

// init_txtime registers the transaction callbacks; called from _PG_init.
void init_txtime();

// run_as_owner runs SPI work as owner with a restricted security context.
struct SavedUser {
  Oid uid;
  int sec;
};
SavedUser become(Oid role);
void restore_user(const SavedUser& s);

}  // namespace chronicle::pg
