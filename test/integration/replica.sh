#!/usr/bin/env bash
# test/integration/replica.sh: SPEC §6, logical replication. A subscriber (a
# CQRS read replica) answers as-of queries exactly as the publisher does for
# every known_at it has received. Set-up as doc/replication.md describes it.
#
# Publisher (wal_level = logical): an event table with corrections and a
# retraction, an event table partitioned by day, a tracked table with
# inserts, updates, deletes, a backdated change (SET LOCAL
# chronicle.valid_from) and a change bounded in the past, all in one
# publication (publish_via_partition_root). The subscriber gets the schema from
# `pg_dump --schema-only` of the publisher (chronicle comes with the dump's
# CREATE EXTENSION), then CREATE SUBSCRIPTION ... copy_data = true. After it
# caught up, a fixed set of queries (events, state, timeline, history,
# as_of, diff, read) for a fixed set of known_at values taken on the
# publisher (before, between and after the writes, and every recorded_at and
# the instant before it) must print exactly the same on both. Then more
# writes (while the subscription streams; a writer renumbered at commit; a
# schema change of the tracked table), catch up, compare again. Also: no
# NOTIFY is sent on the subscriber; restore() into a new table and a
# consumer group work there; and a follower of read() on the subscriber,
# while 3 writers write on the publisher, sees every event once, in position
# order, and nothing rolled back.
#
# Clusters: $CHRONICLE_IT_BASE-replica-pub and -sub (the base defaults to
# $CHRONICLE_TEST_DIR-it, /tmp/chronicle-test-it), ports from $PGPORT_START.
source "$(dirname "$0")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
need_root
export PGTZ=UTC PGDATESTYLE='ISO, YMD'
BASE=${CHRONICLE_IT_BASE:-${CHRONICLE_TEST_DIR:-/tmp/chronicle-test}-it}
PUBDIR=$BASE-replica-pub
SUBDIR=$BASE-replica-sub
WORK=$(mktemp -d)
FOLLOWER=
trap 'set +e; [ -z "$FOLLOWER" ] || kill "$FOLLOWER" 2>/dev/null; grep -h -E "ERROR|FATAL" "$PUBDIR/server.log" "$SUBDIR/server.log" | grep -v "due to administrator command" | sed "s/^/# server log: /" | head -10;
      stop_cluster "$PUBDIR"; stop_cluster "$SUBDIR"; rm -rf "$WORK"' EXIT

CHRONICLE_PGCONF="wal_level = logical" start_cluster "$PUBDIR"
PUB_HOST=$PGHOST PUB_PORT=$PGPORT
PGPORT_START=$((PUB_PORT + 1)) start_cluster "$SUBDIR"
SUB_HOST=$PGHOST SUB_PORT=$PGPORT
unset PGHOST PGPORT

# pub / sub run psql on the publisher / subscriber (unaligned, tuples only).
pub() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$PUB_HOST" -p "$PUB_PORT" -d app "$@"; }
sub() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$SUB_HOST" -p "$SUB_PORT" -d app "$@"; }
createdb -h "$PUB_HOST" -p "$PUB_PORT" app
createdb -h "$SUB_HOST" -p "$SUB_PORT" app

# T records a known_at on the publisher: a moment between two writes.
T() { pub -c "SELECT clock_timestamp()" >>"$WORK/known_at"; }

say "publisher: schema, first writes, publication"
T
pub >/dev/null <<'SQL'
CREATE EXTENSION chronicle;
SELECT chronicle.create_event_table('ledger');
SELECT chronicle.create_event_table('journal', partition_by => 'day');
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL, note text);
INSERT INTO accounts VALUES (1, 'ann', 100, NULL), (2, 'bob', 50, NULL);
SELECT chronicle.track('accounts');
-- journal is partitioned: published through its root, so that the
-- subscriber routes rows into its own partitions.
CREATE PUBLICATION chronicle_pub FOR TABLE ledger, journal, accounts, accounts_events
  WITH (publish_via_partition_root = true);
SQL
T
pub >/dev/null <<'SQL'
SELECT position FROM chronicle.append('ledger', 'acc-1', 'opened', '{"owner": "ann", "balance": 0}');
BEGIN;
SELECT position FROM chronicle.append('ledger', 'acc-1', 'deposited', '{"balance": 100}');
SELECT position FROM chronicle.append('ledger', 'acc-2', 'opened', '{"owner": "bob", "balance": 0}');
SELECT position FROM chronicle.append('ledger', 'acc-2', 'deposited', '{"balance": 50}', valid_from => '2026-01-01');
SELECT position FROM chronicle.append('journal', 'j-1', 'noted', '{"text": "first"}');
SELECT position FROM chronicle.append('journal', 'j-2', 'noted', '{"text": "backdated"}', valid_from => '2026-01-01');
COMMIT;
SQL
T
pub >/dev/null <<'SQL'
-- A correction of acc-1's deposit, a retraction of acc-2's backdated one,
-- a bounded append.
SELECT position FROM chronicle.correct('ledger', (SELECT position FROM ledger WHERE stream = 'acc-1' AND type = 'deposited'), '{"balance": 110}');
SELECT position FROM chronicle.retract('ledger', (SELECT position FROM ledger WHERE stream = 'acc-2' AND type = 'deposited'), meta => '{"reason": "bounced"}');
SELECT position FROM chronicle.append('ledger', 'acc-2', 'frozen', '{"frozen": true}', valid_from => '2026-02-01', valid_to => '2026-03-01');
SELECT position FROM chronicle.correct('journal', (SELECT position FROM journal WHERE stream = 'j-1'), '{"text": "first, corrected"}');
SELECT position FROM chronicle.retract('journal', (SELECT position FROM journal WHERE stream = 'j-2'));
UPDATE accounts SET balance = 110 WHERE id = 1;
INSERT INTO accounts VALUES (3, 'cy', 0, 'new');
SQL
T
pub >/dev/null <<'SQL'
BEGIN;
SET LOCAL chronicle.valid_from = '2026-01-01';
SET LOCAL chronicle.meta = '{"reason": "backdated: bob paid in January"}';
UPDATE accounts SET balance = 75, note = 'backdated' WHERE id = 2;
COMMIT;
BEGIN;
SET LOCAL chronicle.valid_from = '2026-03-01';
SET LOCAL chronicle.valid_to = '2026-04-01';
UPDATE accounts SET note = 'march only' WHERE id = 1;
COMMIT;
DELETE FROM accounts WHERE id = 3;
SQL
T

# caught_up WHAT: waits (60 s at most) until the subscriber's tables hold the
# same rows as the publisher's; false when they never do.
fingerprint() {
  "$1" -c "SELECT (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY position), '')) FROM ledger t),
                  (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY position), '')) FROM journal t),
                  (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY position), '')) FROM accounts_events t),
                  (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM accounts t)"
}
caught_up() {
  local want i
  want=$(fingerprint pub)
  for i in $(seq 1 120); do
    if [ "$(fingerprint sub 2>/dev/null)" == "$want" ]; then echo "# caught up after ~$((i / 2)) s"; return 0; fi
    sleep 0.5
  done
  return 1
}

say "subscriber: schema from pg_dump --schema-only, subscription"
pg_dump -h "$PUB_HOST" -p "$PUB_PORT" --schema-only --no-publications --no-subscriptions app >"$WORK/schema.sql"
sub -f "$WORK/schema.sql" >"$WORK/restore.log" 2>&1 || { cat "$WORK/restore.log"; not_ok "schema restores on the subscriber"; }
check "chronicle installed on the subscriber by the dump" "chronicle" \
  "$(sub -c "SELECT extname FROM pg_extension WHERE extname = 'chronicle'")"
check "the subscriber's tables are empty before the subscription" "0 0 0" \
  "$(sub -F' ' -c "SELECT (SELECT count(*) FROM ledger), (SELECT count(*) FROM accounts_events), (SELECT count(*) FROM accounts)")"
sub -c "CREATE SUBSCRIPTION chronicle_sub CONNECTION 'host=$PUB_HOST port=$PUB_PORT dbname=app user=postgres'
        PUBLICATION chronicle_pub WITH (copy_data = true)"
if caught_up; then ok "subscriber caught up (initial copy)"; else not_ok "subscriber caught up (initial copy)"; fi

# The known_at values: the moments between writes, every recorded_at, the
# microsecond before each, and the infinities.
pub -c "SELECT recorded_at FROM ledger UNION SELECT recorded_at FROM accounts_events UNION SELECT recorded_at FROM journal
        UNION SELECT recorded_at - interval '1 microsecond' FROM journal
        UNION SELECT recorded_at - interval '1 microsecond' FROM ledger
        UNION SELECT recorded_at - interval '1 microsecond' FROM accounts_events" >>"$WORK/known_at"
printf '%s\n' '-infinity' 'infinity' >>"$WORK/known_at"
sort -u -o "$WORK/known_at" "$WORK/known_at"

# queries FILE: writes the comparison queries, one block per known_at, to FILE.
# Each line of output names what it answers, so that a diff says where.
queries() {
  {
    echo "SET TimeZone = 'UTC';"
    echo "SET DateStyle = 'ISO, YMD';"
    # read() has no known_at: the whole log, in pages, for both tables.
    echo "SELECT 'read ledger', r::text FROM chronicle.read('ledger', 0, 3) r;"
    echo "SELECT 'read ledger', r::text FROM chronicle.read('ledger', 3, 1000) r;"
    echo "SELECT 'read journal', r::text FROM chronicle.read('journal', 0, 1000) r;"
    echo "SELECT 'read accounts', r::text FROM chronicle.read('accounts', 0, 1000) r;"
    echo "SELECT 'read accounts_events', r::text FROM chronicle.read('accounts_events', 2, 5) r;"
    while read -r t; do
      for v in "$t" 2026-01-15 2026-03-15 infinity; do
        echo "SELECT 'events $t $v', e::text FROM chronicle.events('ledger', known_at => '$t', valid_at => '$v') e;"
        echo "SELECT 'as_of $t $v', a::text FROM chronicle.as_of(NULL::accounts, known_at => '$t', valid_at => '$v') a ORDER BY id;"
        for s in acc-1 acc-2; do
          echo "SELECT 'state $s $t $v', chronicle.state('ledger', '$s', valid_at => '$v', known_at => '$t');"
        done
      done
      echo "SELECT 'events all-valid $t', e::text FROM chronicle.events('ledger', known_at => '$t') e;"
      echo "SELECT 'journal $t', e::text FROM chronicle.events('journal', known_at => '$t') e;"
      echo "SELECT 'journal state $t', chronicle.state('journal', 'j-1', known_at => '$t');"
      for s in acc-1 acc-2; do
        echo "SELECT 'timeline $s $t', l::text FROM chronicle.timeline('ledger', '$s', known_at => '$t') l;"
      done
      echo "SELECT 'diff $t', d::text FROM chronicle.diff(NULL::accounts, '-infinity', '$t', valid_at => '2026-03-15') d ORDER BY key, change;"
    done <"$WORK/known_at"
    # history has no known_at: every rectangle, as recorded.
    for s in acc-1 acc-2; do echo "SELECT 'history $s', h::text FROM chronicle.history('ledger', '$s') h;"; done
    for k in $(pub -c "SELECT DISTINCT (payload->>'id')::int FROM accounts_events WHERE payload ? 'id' ORDER BY 1"); do echo "SELECT 'row history $k', h::text FROM chronicle.history(NULL::accounts, $k) h;"; done
  } >"$1"
}

# compare ROUND: runs the queries on both and diffs the answers.
compare() {
  queries "$WORK/q.sql"
  pub -v ON_ERROR_STOP=0 -f "$WORK/q.sql" >"$WORK/pub-$1.out" 2>&1
  sub -v ON_ERROR_STOP=0 -f "$WORK/q.sql" >"$WORK/sub-$1.out" 2>&1
  local lines distinct
  lines=$(wc -l <"$WORK/pub-$1.out")
  # A comparison of empty or uniform answers would prove nothing: the as_of
  # answers must differ across known_at values.
  distinct=$(grep '^as_of ' "$WORK/pub-$1.out" | sed -E 's/^as_of [^|]*\|//' | sort -u | wc -l || true)
  echo "# round $1: $(wc -l <"$WORK/known_at") known_at values, $lines answer lines, $distinct distinct as_of rows"
  if grep -q ERROR "$WORK/pub-$1.out" "$WORK/sub-$1.out"; then
    not_ok "round $1: the queries run" "$(grep -h -m3 ERROR "$WORK/pub-$1.out" "$WORK/sub-$1.out")"
  fi
  if [ "$lines" -gt 500 ] && [ "$distinct" -gt 4 ]; then ok "round $1: the answers are not trivial"
  else not_ok "round $1: the answers are not trivial" "$lines lines, $distinct distinct as_of rows"; fi
  if diff "$WORK/pub-$1.out" "$WORK/sub-$1.out" >"$WORK/diff-$1"; then
    ok "round $1: the subscriber answers exactly as the publisher"
  else
    not_ok "round $1: the subscriber answers exactly as the publisher" "$(head -20 "$WORK/diff-$1")"
  fi
}
compare 1

say "a schema change: subscriber first (without chronicle's event trigger), then publisher"
# DDL is not replicated. On the subscriber, session_replication_role =
# replica keeps chronicle's event trigger from recording a schema event of
# its own (its positions would collide with the publisher's); the
# publisher's schema event arrives through the subscription.
sub -c "SET session_replication_role = replica" -c "ALTER TABLE accounts ADD COLUMN tier text"
T
pub -c "ALTER TABLE accounts ADD COLUMN tier text"
pub -c "UPDATE accounts SET tier = 'gold' WHERE id = 1" >/dev/null

say "subscriber: LISTEN while the publisher writes"
# The subscriber's listener: LISTEN, then a query every 0.2 s (psql prints
# the notifications received after each query) until $WORK/stop exists.
CHANNEL=$(pub -c "SELECT chronicle.channel('ledger')")
TCHANNEL=$(pub -c "SELECT chronicle.channel('accounts')")
(
  printf 'LISTEN "%s";\nLISTEN "%s";\nSELECT %s;\n' "$CHANNEL" "$TCHANNEL" "'listening'"
  while [ -d "$WORK" ] && [ ! -e "$WORK/stop" ]; do echo "SELECT 1;"; sleep 0.2; done
  printf 'SELECT pg_sleep(0.5);\nSELECT 1;\n'
) | psql -X -At -h "$SUB_HOST" -p "$SUB_PORT" -d app >"$WORK/sub-listen.out" 2>&1 &
LISTENER=$!
for _ in $(seq 1 50); do grep -q listening "$WORK/sub-listen.out" && break; sleep 0.1; done

say "publisher: more writes while the subscription streams"
T
pub >/dev/null <<'SQL'
BEGIN;
SELECT position FROM chronicle.append('ledger', 'acc-3', 'opened', '{"owner": "dee", "balance": 0}');
SELECT position FROM chronicle.append('ledger', 'acc-1', 'withdrew', '{"balance": 60}');
SELECT position FROM chronicle.append('journal', 'j-1', 'noted', '{"more": 1}');
COMMIT;
UPDATE accounts SET balance = balance + 1;
SQL
T
pub >/dev/null <<'SQL'
SELECT position FROM chronicle.correct('ledger', (SELECT max(position) FROM ledger WHERE stream = 'acc-1' AND type = 'withdrew'), '{"balance": 65}', valid_from => '2026-03-10');
SELECT position FROM chronicle.retract('ledger', (SELECT position FROM ledger WHERE stream = 'acc-2' AND type = 'frozen'));
BEGIN;
SET LOCAL chronicle.valid_from = '2026-02-01';
INSERT INTO accounts VALUES (4, 'eve', 5, 'backdated insert');
UPDATE accounts SET owner = 'robert' WHERE id = 2;
COMMIT;
DELETE FROM accounts WHERE id = 1;
SQL
T
# Writers that lose the race: A appends (and updates a tracked row) first
# and commits after B, so A is renumbered at commit by an UPDATE of its own
# rows, which the subscription applies as an update of the primary key.
pub >/dev/null <<'SQL' &
BEGIN;
SELECT position FROM chronicle.append('ledger', 'acc-3', 'late', '{"by": "A"}');
SELECT position FROM chronicle.append('journal', 'j-3', 'late', '{"by": "A"}');
UPDATE accounts SET note = 'A' WHERE id = 2;
SELECT pg_sleep(1.5);
COMMIT;
SQL
RACER=$!
sleep 0.5
pub >/dev/null <<'SQL'
SELECT position FROM chronicle.append('ledger', 'acc-5', 'early', '{"by": "B"}');
SELECT position FROM chronicle.append('journal', 'j-4', 'early', '{"by": "B"}');
UPDATE accounts SET note = 'B' WHERE id = 4;
SQL
wait "$RACER"
check "publisher: the writer that appended first and committed last was renumbered after the other" t \
  "$(pub -c "SELECT (SELECT position FROM ledger WHERE type = 'late') > (SELECT position FROM ledger WHERE type = 'early')
                AND (SELECT max(position) FROM accounts_events WHERE payload->>'note' = 'A')
                  > (SELECT max(position) FROM accounts_events WHERE payload->>'note' = 'B')")"
T
if caught_up; then ok "subscriber caught up (streaming)"; else not_ok "subscriber caught up (streaming)"; fi
# Control: a NOTIFY sent on the subscriber itself reaches the listener.
sub -c "NOTIFY \"$CHANNEL\", 'control'"
touch "$WORK/stop"
wait "$LISTENER" || true
check "the subscriber's listener gets a local NOTIFY (control)" 1 \
  "$(grep -c 'Asynchronous notification .* with payload "control"' "$WORK/sub-listen.out" || true)"
check "no NOTIFY on the subscriber for replicated transactions" 0 \
  "$(grep 'Asynchronous notification' "$WORK/sub-listen.out" | grep -vc 'payload "control"' || true)"
# The publisher's clock: reading with known_at = now on the subscriber must
# not disturb anything; the answers for the publisher's times stay the same.
sub -c "SELECT count(*) FROM chronicle.events('ledger')" >/dev/null
sort -u -o "$WORK/known_at" "$WORK/known_at"
pub -c "SELECT recorded_at FROM ledger UNION SELECT recorded_at FROM accounts_events UNION SELECT recorded_at FROM journal
        UNION SELECT recorded_at - interval '1 microsecond' FROM journal
        UNION SELECT recorded_at - interval '1 microsecond' FROM ledger
        UNION SELECT recorded_at - interval '1 microsecond' FROM accounts_events" >>"$WORK/known_at"
sort -u -o "$WORK/known_at" "$WORK/known_at"
compare 2

# The subscriber's event tables are ordinary tables with the same rows: the
# same positions and recorded_at (checked by the fingerprint above) and the
# current state of the tracked table equals its as_of now on both.
check "subscriber: accounts = as_of(NULL::accounts) now" t \
  "$(sub -c "SELECT NOT EXISTS (SELECT * FROM accounts EXCEPT ALL SELECT * FROM chronicle.as_of(NULL::accounts))
                AND NOT EXISTS (SELECT * FROM chronicle.as_of(NULL::accounts) EXCEPT ALL SELECT * FROM accounts)")"

# An erasure (GDPR) on the publisher reaches the subscriber: its UPDATE of
# the stream's payloads and its $erase marker are applied there (the apply
# worker runs as a replica, so the subscriber's immutability trigger, an
# ordinary one, does not fire).
pub -c "SELECT chronicle.erase('ledger', 'acc-5')" >/dev/null
if caught_up; then ok "subscriber caught up after an erasure"; else not_ok "subscriber caught up after an erasure"; fi
check "subscriber: the erased stream has no payload left and one \$erase marker" "0|1" \
  "$(sub -c "SELECT count(*) FILTER (WHERE payload IS NOT NULL), count(*) FILTER (WHERE type = '\$erase') FROM ledger WHERE stream = 'acc-5'")"
check "subscriber: state() of the erased stream answers as on the publisher" "$(pub -c "SELECT chronicle.state('ledger', 'acc-5')")" \
  "$(sub -c "SELECT chronicle.state('ledger', 'acc-5')")"

# restore() into a new table works on the subscriber (a table of its own).
MID=$(sed -n "$(($(wc -l <"$WORK/known_at") / 2))p" "$WORK/known_at")
restored() { "$1" -c "SELECT chronicle.restore('accounts', known_at => '$MID', valid_at => '2026-03-15', \"into\" => 'accounts_then')" >/dev/null &&
             "$1" -c "SELECT string_agg(t::text, ' ' ORDER BY id) FROM accounts_then t"; }
THEN=$(restored pub)
echo "# accounts as known at $MID, valid at 2026-03-15: $THEN"
[ -n "$THEN" ] || not_ok "restore() on the publisher restored rows"
check "restore(into => new table) on the subscriber = on the publisher" "$THEN" "$(restored sub)"

# A consumer group on the subscriber: its offsets live in the subscriber's
# chronicle.consumer_offsets (not replicated), and it gets the publisher's
# events in the publisher's order.
check "a consumer group on the subscriber gets the publisher's first events" \
  "$(pub -c "SELECT string_agg(position::text, ' ' ORDER BY position) FROM chronicle.read('ledger', 0, 5)")" \
  "$(sub -c "BEGIN" -c "SELECT string_agg(position::text, ' ' ORDER BY position) FROM chronicle.consume('replica', 'ledger', 5)" \
         -c "SELECT FROM chronicle.commit('replica', 'ledger', (SELECT max(position) FROM chronicle.read('ledger', 0, 5)))" -c "COMMIT")"
check "... its offset is stored on the subscriber only" "replica|ledger|$(pub -c "SELECT max(position) FROM chronicle.read('ledger', 0, 5)") 0" \
  "$(sub -c "SELECT grp, tbl, position FROM chronicle.consumer_offsets") $(pub -c "SELECT count(*) FROM chronicle.consumer_offsets")"

say "a follower on the subscriber while 3 writers write on the publisher"
# Gapless reading on a replica (SPEC §4, §6): the subscription applies
# transactions in commit order, which is position order, so a follower of
# read() on the subscriber sees every event once, in position order, while
# it streams, renumbered writers included. The follower's table and
# procedure are the subscriber's own.
sub >/dev/null <<'SQL'
CREATE TABLE seen (batch int, ord bigint, "position" bigint, recorded_at timestamptz, payload jsonb,
                   PRIMARY KEY (batch, ord));
CREATE TABLE control (stop boolean NOT NULL);
INSERT INTO control VALUES (false);
CREATE PROCEDURE follow(tbl regclass) LANGUAGE plpgsql AS $f$
DECLARE
  last bigint := 0;
  b int := 0;
  got bigint;
  stopping boolean;
BEGIN
  LOOP
    b := b + 1;
    SELECT stop INTO stopping FROM control;
    INSERT INTO seen SELECT b, r.ordinality, r.position, r.recorded_at, r.payload
      FROM chronicle.read(tbl, last, 50) WITH ORDINALITY AS r;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got > 0 THEN
      SELECT s.position INTO last FROM seen s WHERE s.batch = b ORDER BY s.ord DESC LIMIT 1;
    END IF;
    COMMIT;
    EXIT WHEN got = 0 AND stopping;
    IF got = 0 THEN PERFORM pg_sleep(0.01); END IF;
  END LOOP;
END
$f$;
SQL
sub -c "CALL follow('ledger')" >"$WORK/follow.log" 2>&1 &
FOLLOWER=$!
cat >"$WORK/append.sql" <<'SQL'
\set k random(1, 10)
BEGIN;
SELECT position FROM chronicle.append('ledger', 'load-' || :client_id || '-' || :k, 'loaded', jsonb_build_object('n', 1));
SELECT position FROM chronicle.append('ledger', 'load-' || :client_id || '-' || (:k + 1), 'loaded', jsonb_build_object('n', 2));
COMMIT;
SQL
cat >"$WORK/single.sql" <<'SQL'
\set k random(1, 10)
SELECT position FROM chronicle.append('ledger', 'load-' || :client_id || '-' || :k, 'loaded', jsonb_build_object('n', 0));
SQL
cat >"$WORK/rollback.sql" <<'SQL'
\set k random(1, 10)
BEGIN;
SELECT position FROM chronicle.append('ledger', 'load-' || :client_id || '-' || :k, 'rolledback', jsonb_build_object('rolledback', true));
ROLLBACK;
SQL
cat >"$WORK/now.sql" <<'SQL'
SELECT chronicle.state('ledger', 'acc-1');
SQL
pgbench -n -h "$PUB_HOST" -p "$PUB_PORT" -d app -c 3 -j 2 -T "${REPLICA_LOAD_SECONDS:-8}" -R 300 \
  -f "$WORK/append.sql@2" -f "$WORK/single.sql@2" -f "$WORK/rollback.sql@1" -f "$WORK/now.sql@1" >"$WORK/pgbench.log" 2>&1 ||
  { cat "$WORK/pgbench.log"; not_ok "pgbench ran on the publisher"; }
if caught_up; then ok "subscriber caught up (after the load)"; else not_ok "subscriber caught up (after the load)"; fi
sub -c "UPDATE control SET stop = true"
if wait "$FOLLOWER"; then ok "the subscriber's follower ended"; else not_ok "the subscriber's follower ended" "$(cat "$WORK/follow.log")"; fi
read -r stored seen batches < <(sub -F' ' -c "SELECT (SELECT count(*) FROM ledger), (SELECT count(*) FROM seen), (SELECT count(DISTINCT batch) FROM seen)")
echo "# subscriber: $stored events in ledger, $seen seen by the follower in $batches batches"
if [ "$batches" -gt 10 ]; then ok "the subscriber's follower read while the subscription streamed"
else not_ok "the subscriber's follower read while the subscription streamed" "$batches batches"; fi
check "the subscriber's follower saw every event once (position, recorded_at, payload)" "0 0" \
  "$(sub -F' ' -c "SELECT (SELECT count(*) FROM (SELECT position, recorded_at, payload FROM ledger
                                                    EXCEPT ALL SELECT position, recorded_at, payload FROM seen) x),
                          (SELECT count(*) FROM (SELECT position, recorded_at, payload FROM seen
                                                    EXCEPT ALL SELECT position, recorded_at, payload FROM ledger) x)")"
check "... in strictly increasing position order" 0 \
  "$(sub -c "SELECT count(*) FROM (SELECT position, lag(position) OVER (ORDER BY batch, ord) AS prev FROM seen) x
             WHERE position <= prev")"
check "... and nothing rolled back" 0 "$(sub -c "SELECT count(*) FROM seen WHERE payload::text LIKE '%rolledback%'")"

sub -c "DROP SUBSCRIPTION chronicle_sub"
no_crash "$PUBDIR"
no_crash "$SUBDIR"
finish
