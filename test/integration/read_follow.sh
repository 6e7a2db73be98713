#!/usr/bin/env bash
# test/integration/read_follow.sh: SPEC §4, gapless reading and one NOTIFY per
# committing transaction, under concurrent writers.
#
# 4 pgbench clients write for 30 s: single appends, multi-event transactions,
# transactions that write an event table and update a tracked table, plain
# updates of the tracked table, transactions rolled back on purpose and
# savepoints rolled back inside committed transactions (their events carry
# the marker "rolledback"), and readers of "now" (which make in-flight
# writers lose their provisional positions and renumber at commit).
# Some transactions also append to evp, an event table partitioned by time
# into 2-second partitions, so that its events spread over many partitions
# and renumbered rows move between them. Meanwhile three followers (plpgsql
# procedures, one transaction per batch) step chronicle.read(tbl, last
# position seen) through the event table, the tracked table's name and
# evp, recording every event they get, and a psql session LISTENs on the
# three channels.
#
# At the end: each follower saw every committed event exactly once, in
# strictly increasing position order, and nothing rolled back; the listener
# got exactly one notification per committed transaction and table, whose
# payload is the highest position that transaction wrote there.
#
# Cluster: $CHRONICLE_IT_BASE-read-follow (the base defaults to
# $CHRONICLE_TEST_DIR-it, /tmp/chronicle-test-it), port from $PGPORT_START.
source "$(dirname "$0")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
need_root
export PGTZ=UTC
DIR=${CHRONICLE_IT_BASE:-${CHRONICLE_TEST_DIR:-/tmp/chronicle-test}-it}-read-follow
WORK=$(mktemp -d)
chmod 755 "$WORK"
FOLLOWERS=()
trap 'for p in "${FOLLOWERS[@]}"; do kill "$p" 2>/dev/null || true; done; stop_cluster "$DIR"; rm -rf "$WORK"' EXIT
DURATION=${READ_FOLLOW_SECONDS:-30}
RATE=${READ_FOLLOW_RATE:-1000}

CHRONICLE_PGCONF="max_connections = 30" start_cluster "$DIR"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d app "$@"; }
createdb app

# evp's partitions (below) cover the next minute of today: not near
# midnight UTC.
left=$((86400 - $(date -u +%s) % 86400))
[ "$left" -gt 90 ] || sleep $((left + 2))
q >/dev/null <<'SQL'
CREATE EXTENSION chronicle;
SELECT chronicle.create_event_table('ev');
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note text);
INSERT INTO items SELECT i, 0, NULL FROM generate_series(0, 399) i;
SELECT chronicle.track('items');

-- evp: an event table partitioned by day, whose partition of today is cut
-- into 2-second partitions for the next minute, so that the writers' events
-- spread over many partitions and renumbered rows move between them.
SELECT chronicle.create_event_table('evp', partition_by => 'day');
DO $$
DECLARE
  today regclass;
  t0 timestamptz := clock_timestamp();
  bound timestamptz := date_trunc('day', now());
  k int;
BEGIN
  SELECT c.oid INTO today FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'evp'::regclass AND c.relname <> 'evp_default' ORDER BY c.relname LIMIT 1;
  EXECUTE format('ALTER TABLE evp DETACH PARTITION %s', today);
  EXECUTE format('DROP TABLE %s', today);
  FOR k IN 0 .. 30 LOOP
    EXECUTE format('CREATE TABLE evp_%s PARTITION OF evp FOR VALUES FROM (%L) TO (%L)',
                   k, bound, t0 + k * interval '2 s');
    bound := t0 + k * interval '2 s';
  END LOOP;
  EXECUTE format('CREATE TABLE evp_31 PARTITION OF evp FOR VALUES FROM (%L) TO (%L)',
                 bound, date_trunc('day', now()) + interval '1 day');
END $$;

-- What the followers saw, in the order they saw it (batch, ord).
CREATE TABLE seen (
  follower text, batch int, ord bigint, "position" bigint, recorded_at timestamptz, payload jsonb,
  PRIMARY KEY (follower, batch, ord));
CREATE TABLE control (stop boolean NOT NULL);
INSERT INTO control VALUES (false);

-- follow steps chronicle.read(tbl, last, 50) from position 0 and records
-- every event, one transaction per batch, until told to stop and a read
-- returns nothing.
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
    INSERT INTO seen
    SELECT tbl::text, b, r.ordinality, r.position, r.recorded_at, r.payload
      FROM chronicle.read(tbl, last, 50) WITH ORDINALITY AS r;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got > 0 THEN
      SELECT s.position INTO last FROM seen s WHERE s.follower = tbl::text AND s.batch = b ORDER BY s.ord DESC LIMIT 1;
    END IF;
    COMMIT;
    EXIT WHEN got = 0 AND stopping;
    IF got = 0 THEN PERFORM pg_sleep(0.01); END IF;
  END LOOP;
END
$f$;
SQL
EV_CH=$(q -c "SELECT chronicle.channel('ev')")
IT_CH=$(q -c "SELECT chronicle.channel('items')")
P_CH=$(q -c "SELECT chronicle.channel('evp')")
check "a tracked table's channel is its event table's" "$(q -c "SELECT chronicle.channel('items_events')")" "$IT_CH"

# The listener: LISTEN, then a query every 0.2 s (psql prints the
# notifications it received after each query) until $WORK/stop exists.
(
  printf 'LISTEN "%s";\nLISTEN "%s";\nLISTEN "%s";\nSELECT %s;\n' "$EV_CH" "$IT_CH" "$P_CH" "'listening'"
  while [ -d "$WORK" ] && [ ! -e "$WORK/stop" ]; do echo "SELECT 1;"; sleep 0.2; done
  printf 'SELECT pg_sleep(1);\nSELECT 1;\n'
) | psql -X -At -d app >"$WORK/listener.out" 2>&1 &
LISTENER=$!
for _ in $(seq 1 50); do grep -q listening "$WORK/listener.out" && break; sleep 0.1; done
# Events before this point (the tracked table's snapshot) were not notified
# to the listener.
read -r EV_BASE IT_BASE P_BASE < <(q -F' ' -c "SELECT coalesce(max(position), 0) FROM ev UNION ALL SELECT max(position) FROM items_events
                                                UNION ALL SELECT coalesce(max(position), 0) FROM evp" | paste -sd' ')

q -c "CALL follow('ev')" >"$WORK/follow-ev.log" 2>&1 &
FOLLOWERS+=($!)
q -c "CALL follow('items')" >"$WORK/follow-items.log" 2>&1 &
FOLLOWERS+=($!)
q -c "CALL follow('evp')" >"$WORK/follow-evp.log" 2>&1 &
FOLLOWERS+=($!)

# pgbench scripts; clients write disjoint streams and rows (client_id) so
# that nothing fails on a version conflict or a deadlock.
cp "$ROOT/test/integration/writers/append.sql" "$WORK/append.sql"
cp "$ROOT/test/integration/writers/multi.sql" "$WORK/multi.sql"
cp "$ROOT/test/integration/writers/partitioned.sql" "$WORK/partitioned.sql"
cat >"$WORK/partitioned_rollback.sql" <<'SQL'
\set k random(1, 20)
BEGIN;
SELECT position FROM chronicle.append('evp', 'p' || :client_id || '-' || :k, 'rolledback', jsonb_build_object('rolledback', true));
ROLLBACK;
SQL
cat >"$WORK/both.sql" <<'SQL'
\set k random(1, 20)
\set id random(0, 49)
BEGIN;
UPDATE items SET qty = qty + 1 WHERE id = :client_id * 100 + :id;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'both', jsonb_build_object('id', :id));
UPDATE items SET qty = qty + 1 WHERE id = :client_id * 100 + 50 + :id;
COMMIT;
SQL
cat >"$WORK/update.sql" <<'SQL'
\set id random(0, 99)
UPDATE items SET qty = qty + 1 WHERE id = :client_id * 100 + :id;
SQL
cat >"$WORK/rollback.sql" <<'SQL'
\set k random(1, 20)
\set id random(0, 99)
BEGIN;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'rolledback', jsonb_build_object('rolledback', true));
UPDATE items SET note = 'rolledback', qty = qty + 1000 WHERE id = :client_id * 100 + :id;
ROLLBACK;
SQL
cat >"$WORK/savepoint.sql" <<'SQL'
\set k random(1, 20)
\set id random(0, 99)
BEGIN;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'kept', jsonb_build_object('n', 1));
SAVEPOINT s;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || (:k + 1), 'rolledback', jsonb_build_object('rolledback', true));
UPDATE items SET note = 'rolledback', qty = qty + 1000 WHERE id = :client_id * 100 + :id;
ROLLBACK TO SAVEPOINT s;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'kept', jsonb_build_object('n', 2));
COMMIT;
SQL
cat >"$WORK/savepoint_last.sql" <<'SQL'
\set k random(1, 20)
\set id random(0, 99)
BEGIN;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'kept', jsonb_build_object('n', 1));
SAVEPOINT s;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || (:k + 1), 'rolledback', jsonb_build_object('rolledback', true));
UPDATE items SET note = 'rolledback', qty = qty + 1000 WHERE id = :client_id * 100 + :id;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SQL
cat >"$WORK/savepoint_only.sql" <<'SQL'
\set k random(1, 20)
BEGIN;
SAVEPOINT s;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'rolledback', jsonb_build_object('rolledback', true));
ROLLBACK TO SAVEPOINT s;
COMMIT;
SQL
cat >"$WORK/reader.sql" <<'SQL'
SELECT chronicle.state('ev', 's0-1');
SQL

say "4 writers for $DURATION s (at most $RATE transactions/s), 2 followers, 1 listener"
pgbench -n -d app -c 4 -j 2 -T "$DURATION" -R "$RATE" \
  -f "$WORK/append.sql@4" -f "$WORK/multi.sql@2" -f "$WORK/both.sql@2" -f "$WORK/update.sql@3" \
  -f "$WORK/partitioned.sql@2" -f "$WORK/partitioned_rollback.sql@1" \
  -f "$WORK/rollback.sql@1" -f "$WORK/savepoint.sql@1" -f "$WORK/savepoint_last.sql@1" \
  -f "$WORK/savepoint_only.sql@1" -f "$WORK/reader.sql@1" \
  >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log"; not_ok "pgbench ran"; }
grep -E "^number of (transactions actually processed|failed)" "$WORK/pgbench.log" | sed 's/^/# /'
q -c "UPDATE control SET stop = true"
for p in "${FOLLOWERS[@]}"; do
  if wait "$p"; then ok "follower $p ended"; else not_ok "follower $p ended" "$(cat "$WORK"/follow-*.log)"; fi
done
FOLLOWERS=()
touch "$WORK/stop"
wait "$LISTENER" || true

# The notifications, as (channel, payload) rows.
grep -E '^Asynchronous notification' "$WORK/listener.out" |
  sed -E 's/^Asynchronous notification "([^"]*)" with payload "([^"]*)".*/\1,\2/' >"$WORK/notes.csv" || true
q <<SQL
CREATE TABLE notes (channel text, payload bigint);
\copy notes FROM '$WORK/notes.csv' WITH (FORMAT csv)
SQL

# follower_checks NAME TABLE: the checks of one follower against its table.
follower_checks() {
  local f=$1 t=$2
  read -r stored seen batches < <(q -F' ' -c "SELECT (SELECT count(*) FROM $t), (SELECT count(*) FROM seen WHERE follower = '$f'),
                                                     (SELECT count(DISTINCT batch) FROM seen WHERE follower = '$f')")
  echo "# $f: $stored events stored, $seen seen in $batches batches"
  if [ "$batches" -gt 20 ]; then ok "$f: the follower read while the writers wrote ($batches batches)"
  else not_ok "$f: the follower read while the writers wrote" "$batches batches"; fi
  check "$f: every stored event seen (position, recorded_at, payload)" 0 \
    "$(q -c "SELECT count(*) FROM (SELECT position, recorded_at, payload FROM $t
                                   EXCEPT ALL SELECT position, recorded_at, payload FROM seen WHERE follower = '$f') x")"
  check "$f: nothing seen that is not stored (no event seen twice, no provisional position)" 0 \
    "$(q -c "SELECT count(*) FROM (SELECT position, recorded_at, payload FROM seen WHERE follower = '$f'
                                   EXCEPT ALL SELECT position, recorded_at, payload FROM $t) x")"
  check "$f: seen in strictly increasing position order" 0 \
    "$(q -c "SELECT count(*) FROM (SELECT position, lag(position) OVER (ORDER BY batch, ord) AS prev
                                     FROM seen WHERE follower = '$f') x WHERE position <= prev")"
}
follower_checks ev ev
follower_checks items items_events
follower_checks evp evp
check "evp: the events spread over several partitions" t \
  "$(q -c "SELECT count(DISTINCT tableoid) > 3 FROM evp")"
check "nothing rolled back was stored or seen" 0 \
  "$(q -c "SELECT (SELECT count(*) FROM ev WHERE payload ? 'rolledback') + (SELECT count(*) FROM evp WHERE payload ? 'rolledback')
              + (SELECT count(*) FROM items_events WHERE payload->>'note' = 'rolledback')
              + (SELECT count(*) FROM seen WHERE payload ? 'rolledback' OR payload->>'note' = 'rolledback')")"
check "the rolled-back transactions and savepoints did run" t \
  "$(q -c "SELECT count(*) > 0 FROM ev WHERE type = 'kept'")"

# One transaction = one recorded_at (SPEC §1.1); its notification carries the
# highest position it wrote to the table.
check_notes() {
  local t=$1 ch=$2 base=$3 txs notes
  txs=$(q -c "SELECT count(DISTINCT recorded_at) FROM $t WHERE position > $base")
  notes=$(q -c "SELECT count(*) FROM notes WHERE channel = '$ch'")
  echo "# $t: $txs committed transactions wrote events after LISTEN, $notes notifications on $ch," \
       "$(q -c "SELECT count(*) FROM notes n WHERE channel = '$ch' AND NOT EXISTS (SELECT FROM $t e WHERE e.position = n.payload)")" \
       "of them with a payload that is no committed position"
  check "$t: one notification per committed transaction (not per event)" "$txs" "$notes"
  check "$t: the notifications' payloads are the transactions' highest positions" 0 \
    "$(q -c "SELECT count(*) FROM ((SELECT max(position) FROM $t WHERE position > $base GROUP BY recorded_at
                                    EXCEPT ALL SELECT payload FROM notes WHERE channel = '$ch')
                                   UNION ALL
                                   (SELECT payload FROM notes WHERE channel = '$ch'
                                    EXCEPT ALL SELECT max(position) FROM $t WHERE position > $base GROUP BY recorded_at)) x")"
}
check_notes ev "$EV_CH" "$EV_BASE"
check_notes items_events "$IT_CH" "$IT_BASE"
check_notes evp "$P_CH" "$P_BASE"
check "multi-event transactions were committed (fewer notifications than events)" t \
  "$(q -c "SELECT (SELECT count(*) FROM notes WHERE channel = '$EV_CH') < (SELECT count(*) FROM ev WHERE position > $EV_BASE)")"
check "no notification on other channels" 0 \
  "$(q -c "SELECT count(*) FROM notes WHERE channel NOT IN ('$EV_CH', '$IT_CH', '$P_CH')")"

no_crash "$DIR"
finish
