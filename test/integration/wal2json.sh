#!/usr/bin/env bash
# test/integration/wal2json.sh: SPEC §6, events reach Kafka without an outbox:
# event tables are visible to logical decoding (wal2json) in commit order.
#
# A publisher (wal_level = logical) with a wal2json slot created before any
# event; 4 pgbench clients for ~10 s append to an event table (single
# appends, multi-event transactions, transactions that write both tables)
# and to an event table partitioned by day (changes reported per partition;
# a renumbered row whose new stamp falls in another partition shows as a
# delete and an insert),
# update a tracked table, roll back on purpose (payload / note marker
# "rolledback"; also in savepoints rolled back inside committed
# transactions), and read "now" (which makes in-flight writers lose their
# provisional positions and renumber at commit). Then pg_recvlogical streams
# the slot (format-version 2, include-xids, include-timestamp) and the test
# checks, taking the last image of each row within a transaction (a writer
# renumbered at commit shows an INSERT then an UPDATE of the same row):
# - every committed event row arrives once, with its final position,
#   recorded_at, stream, version and payload equal to the table's;
# - nothing of a rolled-back transaction arrives;
# - each transaction's events share one recorded_at, and in decoding (commit)
#   order recorded_at and positions strictly increase across transactions.
#
# Cluster: $CHRONICLE_IT_BASE-wal2json (the base defaults to
# $CHRONICLE_TEST_DIR-it, /tmp/chronicle-test-it), port from $PGPORT_START.
source "$(dirname "$0")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
need_root
export PGTZ=UTC PGDATESTYLE='ISO, YMD'
DIR=${CHRONICLE_IT_BASE:-${CHRONICLE_TEST_DIR:-/tmp/chronicle-test}-it}-wal2json
WORK=$(mktemp -d)
chmod 755 "$WORK"
trap 'stop_cluster "$DIR"; rm -rf "$WORK"' EXIT
SECONDS_LOAD=${WAL2JSON_SECONDS:-10}

# This server only loads output plugins listed in output_plugin_libraries.
CHRONICLE_PGCONF="wal_level = logical
max_connections = 30
output_plugin_libraries = 'pgoutput, test_decoding, wal2json'" start_cluster "$DIR"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d app "$@"; }
createdb app

say "slot, event table, tracked table"
q >/dev/null <<'SQL'
CREATE EXTENSION chronicle;
SELECT 'slot' FROM pg_create_logical_replication_slot('h_wal2json', 'wal2json');
SELECT chronicle.create_event_table('ev');
SELECT chronicle.create_event_table('evp', partition_by => 'day');
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note text);
INSERT INTO items SELECT i, 0, NULL FROM generate_series(0, 499) i;
SELECT chronicle.track('items');
SQL

# pgbench scripts. Clients write disjoint streams and rows (client_id), so
# that no transaction fails on a version conflict or a deadlock.
cp "$ROOT/test/integration/writers/append.sql" "$WORK/append.sql"
cp "$ROOT/test/integration/writers/multi.sql" "$WORK/multi.sql"
cp "$ROOT/test/integration/writers/partitioned.sql" "$WORK/partitioned.sql"
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
UPDATE items SET note = 'rolledback' WHERE id = :client_id * 100 + :id;
ROLLBACK;
SQL
cat >"$WORK/savepoint.sql" <<'SQL'
\set k random(1, 20)
\set id random(0, 99)
BEGIN;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'kept', jsonb_build_object('n', 1));
SAVEPOINT s;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || (:k + 1), 'rolledback', jsonb_build_object('rolledback', true));
UPDATE items SET note = 'rolledback' WHERE id = :client_id * 100 + :id;
ROLLBACK TO SAVEPOINT s;
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'kept', jsonb_build_object('n', 2));
COMMIT;
SQL
cat >"$WORK/reader.sql" <<'SQL'
SELECT chronicle.state('ev', 's0-1');
SQL

say "4 writers for $SECONDS_LOAD s"
START_LSN=$(q -c "SELECT pg_current_wal_lsn()")
pgbench -n -d app -c 4 -j 2 -T "$SECONDS_LOAD" \
  -f "$WORK/append.sql@4" -f "$WORK/multi.sql@2" -f "$WORK/partitioned.sql@2" -f "$WORK/both.sql@2" -f "$WORK/update.sql@3" \
  -f "$WORK/rollback.sql@1" -f "$WORK/savepoint.sql@1" -f "$WORK/reader.sql@1" >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log"; not_ok "pgbench ran"; }
grep -E "^number of (transactions actually processed|failed)" "$WORK/pgbench.log" | sed 's/^/# /'
# A renumbered row that changes partition, on purpose: evx's partition of
# today is split 3 s from now; writer A appends before the split and commits
# after writer B, so A's restamp moves its row to the later partition, which
# decoding shows as an INSERT, a DELETE and an INSERT into the other partition.
# (Not within 10 s of midnight UTC, when the split would leave today.)
[ $((86400 - $(date -u +%s) % 86400)) -gt 10 ] || sleep 12
q >/dev/null <<'SQL'
SELECT chronicle.create_event_table('evx', partition_by => 'day');
-- The partitions are named after their lower bound: the first is today's.
SELECT set_config('my.split', (clock_timestamp() + interval '3 s')::text, false),
       set_config('my.today', c.oid::regclass::text, false)
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'evx'::regclass AND c.relname <> 'evx_default'
 ORDER BY c.relname LIMIT 1;
DO $$
BEGIN
  EXECUTE format('ALTER TABLE evx DETACH PARTITION %s', current_setting('my.today'));
  EXECUTE format('DROP TABLE %s', current_setting('my.today'));
  EXECUTE format('CREATE TABLE evx_before PARTITION OF evx FOR VALUES FROM (%L) TO (%L)',
                 date_trunc('day', now()), current_setting('my.split'));
  EXECUTE format('CREATE TABLE evx_after PARTITION OF evx FOR VALUES FROM (%L) TO (%L)',
                 current_setting('my.split'), date_trunc('day', now()) + interval '1 day');
END $$;
SQL
q >/dev/null <<'SQL' &
BEGIN;
SELECT position FROM chronicle.append('evx', 'x-a', 'moved', '{"by": "A"}');
SELECT pg_sleep(4);
COMMIT;
SQL
RACER=$!
sleep 3.5
q -c "SELECT position FROM chronicle.append('evx', 'x-b', 'stays', '{\"by\": \"B\"}')" >/dev/null
wait "$RACER"
check "evx: A's row was renumbered into the later partition" "evx_after evx_after" \
  "$(q -c "SELECT string_agg(tableoid::regclass::text, ' ' ORDER BY position) FROM evx")"
END_LSN=$(q -c "SELECT pg_current_wal_lsn()")

say "pg_recvlogical up to $END_LSN"
start=$(date +%s.%N)
timeout 120 pg_recvlogical -d app --slot h_wal2json --start --endpos "$END_LSN" --no-loop -f "$WORK/changes.json" \
  -o format-version=2 -o include-xids=1 -o include-timestamp=1 -o include-types=0 ||
  not_ok "pg_recvlogical streamed the slot"
echo "# $(wc -l <"$WORK/changes.json") lines decoded in $(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN { printf \"%.1f\", b - a }") s"

# Load the stream, one JSON object a line, in decoding order (n). CSV with
# quote and delimiter characters that JSON never holds raw keeps it verbatim.
q <<SQL
CREATE TABLE decoded (n bigserial PRIMARY KEY, j jsonb NOT NULL);
\copy decoded (j) FROM '$WORK/changes.json' WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')
-- One row per change of an event table, with its transaction (tx, in
-- decoding order), the position it has after the change (pos) and the one it
-- had before (old: the identity of an UPDATE, else pos).
CREATE TABLE changes AS
WITH l AS (SELECT n, j, sum((j->>'action' = 'B')::int) OVER (ORDER BY n) AS tx FROM decoded)
SELECT tx, n, (j->>'xid')::bigint AS xid, j->>'action' AS action,
       CASE WHEN j->>'table' LIKE 'evp%' THEN 'evp' WHEN j->>'table' LIKE 'evx%' THEN 'evx' ELSE j->>'table' END AS tbl, img,
       (img->>'position')::bigint AS pos,
       coalesce((SELECT (c->>'value')::bigint FROM jsonb_array_elements(j->'identity') c
                  WHERE c->>'name' = 'position'), (img->>'position')::bigint) AS old
  FROM l, LATERAL (SELECT jsonb_object_agg(c->>'name', c->'value') AS img
                     FROM jsonb_array_elements(j->'columns') c) i
 WHERE j->>'action' IN ('I', 'U', 'D') AND (j->>'table' IN ('ev', 'items_events') OR j->>'table' ~ '^ev[px]_');
CREATE INDEX ON changes (tx, tbl, old);
CREATE INDEX ON changes (tx, tbl, pos);
ANALYZE changes;
-- The last image of each row in its transaction: a change not followed, in
-- the same transaction, by an UPDATE of the same row (identity = its pos).
CREATE TABLE final AS
SELECT c.* FROM changes c
 WHERE c.action IN ('I', 'U')
   AND NOT EXISTS (SELECT FROM changes d WHERE d.tx = c.tx AND d.tbl = c.tbl AND d.n > c.n AND d.old = c.pos);
-- The rows as decoded and as stored, in comparable form.
CREATE VIEW decoded_rows AS
SELECT tbl, pos AS position, img->>'stream' AS stream, (img->>'version')::int AS version, img->>'type' AS type,
       (img->>'payload')::jsonb AS payload, (img->>'recorded_at')::timestamptz AS recorded_at,
       (img->>'valid_from')::timestamptz AS valid_from, (img->>'supersedes')::bigint AS supersedes
  FROM final;
CREATE VIEW stored_rows AS
SELECT 'ev' AS tbl, position, stream, version, type, payload, recorded_at, valid_from, supersedes FROM ev
UNION ALL
SELECT 'evp', position, stream, version, type, payload, recorded_at, valid_from, supersedes FROM evp
UNION ALL
SELECT 'evx', position, stream, version, type, payload, recorded_at, valid_from, supersedes FROM evx
UNION ALL
SELECT 'items_events', position, stream, version, type, payload, recorded_at, valid_from, supersedes FROM items_events;
-- Per transaction and table: its stamps and position range.
CREATE VIEW txs AS
SELECT tx, tbl, min(xid) AS xid, count(*) AS events, min(pos) AS first, max(pos) AS last,
       min((img->>'recorded_at')::timestamptz) AS stamp, count(DISTINCT img->>'recorded_at') AS stamps
  FROM final GROUP BY tx, tbl;
SQL

read -r ev_rows evp_rows tr_rows < <(q -F' ' -c "SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM evp), (SELECT count(*) FROM items_events WHERE type = 'update')")
read -r txs renumbered < <(q -F' ' -c "SELECT count(DISTINCT tx), count(DISTINCT tx) FILTER (WHERE action <> 'I') FROM changes")
echo "# $ev_rows events in ev, $evp_rows in evp (partitioned), $tr_rows update events in items_events, $txs decoded transactions wrote events, $renumbered of them renumbered at commit"
if [ "$ev_rows" -gt 500 ] && [ "$evp_rows" -gt 100 ] && [ "$tr_rows" -gt 200 ]; then ok "the writers wrote (ev: $ev_rows, evp: $evp_rows, items updates: $tr_rows)"
else not_ok "the writers wrote" "ev: $ev_rows, evp: $evp_rows, items updates: $tr_rows"; fi
if [ "$renumbered" -gt 0 ]; then ok "some transactions were renumbered at commit ($renumbered)"
else not_ok "some transactions were renumbered at commit" "none: the last-image logic was not exercised"; fi

check "every stored event arrives (with its final position, recorded_at, payload)" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT * FROM stored_rows EXCEPT ALL SELECT * FROM decoded_rows) x")"
check "every decoded event is stored (no stale position, nothing extra)" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT * FROM decoded_rows EXCEPT ALL SELECT * FROM stored_rows) x")"
check "each event row arrives in one transaction only" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT tbl, pos FROM final GROUP BY tbl, pos HAVING count(*) > 1) x")"
check "an UPDATE of an event row only renumbers a row its own transaction inserted" 0 \
  "$(q -c "SELECT count(*) FROM changes u WHERE action <> 'I'
             AND NOT EXISTS (SELECT FROM changes i WHERE i.tx = u.tx AND i.tbl = u.tbl AND i.n < u.n AND i.pos = u.old)")"
check "evx: the move decodes as insert, delete, insert (in two partitions)" "I evx_before|D evx_before|I evx_after" \
  "$(q -c "SELECT string_agg((j->>'action') || ' ' || (j->>'table'), '|' ORDER BY n) FROM decoded
            WHERE j->>'table' LIKE 'evx%' AND (j::text LIKE '%x-a%' OR j->>'action' = 'D')")"
check "nothing of a rolled-back transaction arrives" 0 \
  "$(q -c "SELECT count(*) FROM decoded WHERE j::text LIKE '%rolledback%'")"
check "each transaction arrives once (one BEGIN per xid)" 0 \
  "$(q -c "SELECT count(*) - count(DISTINCT j->>'xid') FROM decoded WHERE j->>'action' = 'B'")"
check "one recorded_at per transaction" 0 \
  "$(q -c "SELECT count(*) FROM txs WHERE stamps <> 1")"
check "one recorded_at per transaction across both tables" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT tx FROM txs GROUP BY tx HAVING count(DISTINCT stamp) > 1) x")"

# Inversions: a transaction decoded (committed) right after another, with a
# stamp not after it, or a position not above it in the same table (checking
# neighbours is enough: positions within a transaction increase).
q -c "SELECT format('inversion (%s): xid %s positions %s..%s stamp %s decoded before xid %s positions %s..%s stamp %s',
                    tbl, pxid, pfirst, plast, pstamp, xid, first, last, stamp)
        FROM (SELECT *, lag(xid) OVER w AS pxid, lag(first) OVER w AS pfirst, lag(last) OVER w AS plast,
                     lag(stamp) OVER w AS pstamp FROM txs WINDOW w AS (PARTITION BY tbl ORDER BY tx)) x
       WHERE first <= plast OR stamp <= pstamp ORDER BY tx LIMIT 10" >"$WORK/inversions"
sed 's/^/# /' "$WORK/inversions"
check "recorded_at strictly increases in commit (decoding) order" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT stamp, lag(stamp) OVER (ORDER BY tx) AS prev FROM (SELECT DISTINCT tx, stamp FROM txs) s) x
            WHERE stamp <= prev")"
check "positions increase across transactions in commit order (ev)" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT first, lag(last) OVER (ORDER BY tx) AS prev FROM txs WHERE tbl = 'ev') x WHERE first <= prev")"
check "positions increase across transactions in commit order (evp, partitioned)" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT first, lag(last) OVER (ORDER BY tx) AS prev FROM txs WHERE tbl = 'evp') x WHERE first <= prev")"
check "positions increase across transactions in commit order (items_events)" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT first, lag(last) OVER (ORDER BY tx) AS prev FROM txs WHERE tbl = 'items_events') x WHERE first <= prev")"
# Informational: PostgreSQL's commit timestamps are taken before the commit
# record is inserted, so they need not increase in LSN order.
echo "# commit timestamps out of decoding order: $(q -c "SELECT count(*) FROM (SELECT (j->>'timestamp')::timestamptz AS ts,
       lag((j->>'timestamp')::timestamptz) OVER (ORDER BY n) AS prev FROM decoded WHERE j->>'action' = 'C') x WHERE ts < prev")"

q -c "SELECT pg_drop_replication_slot('h_wal2json')" >/dev/null
no_crash "$DIR"
finish
