#!/usr/bin/env bash
# test/integration/crash.sh: crash recovery under load (run as root).
#
# 4 writer clients run random transactions against one cluster (fsync on):
# CRUD on two tracked tables (acct, int key; item, composite key) and
# appends / INSERTs on an event table (ev); 2 members of a consumer group
# move events of ev into a read model (seen) and commit their offset in the
# same transaction. Some transactions roll back on purpose, some roll back a
# savepoint, some write 1000 events. The server is stopped with
# `pg_ctl stop -m immediate` in the middle of the load (the second time
# aimed at a COMMIT in progress) and restarted, twice; then a last load runs
# and the consumers catch up. About a minute in all.
#
# How the clients know what committed: every writer transaction is one psql
# run (ON_ERROR_STOP) that tags each of its events with its id (meta->>'txn';
# the CRUD tables also carry it in a column), counts what it wrote from
# RETURNING, and ends with a TxnDone event holding those counts. The client
# logs the id as committed only when psql returned 0 after COMMIT. A run that
# lost its connection after it started is "ambiguous" (it may or may not have
# committed); one that got an ERROR, or rolled back on purpose, must leave
# nothing.
#
# Checked after each restart: the consumer group (below) and the recorded
# answers. At the end:
# - every acknowledged transaction has all its events, as many as it wrote,
#   in each table; an ambiguous one has all of them or none;
# - no event belongs to a transaction that rolled back (on purpose, to a
#   savepoint, or with an error), nor to an unknown one;
# - one recorded_at per transaction, a different one for each transaction,
#   recorded_at non-decreasing in position order in every table, versions
#   1..n in every stream; a transaction acknowledged before another one began
#   has the smaller stamp; each stamp lies within its client's wall-clock
#   window;
# - as_of(known_at => now()) (and the default) equals each tracked table;
# - answers recorded before the crash (as_of whole-table and keyed, state,
#   events, diff, read) at fixed past known_at are unchanged;
# - the consumer group: its read model holds exactly the events up to its
#   committed offset, consume() after the restart returns exactly the events
#   after it, and after catching up every event was processed exactly once;
# - no error other than the documented ones (40001, 40P01, 23505 on a plain
#   INSERT racing on a stream), and no backend killed by a signal.
#
# Knobs: CRASH_LOAD_SECONDS (8, load before the crash), CRASH_AFTER_SECONDS
# (4, load after the restart), CHRONICLE_CRASH_DIR (/tmp/chronicle-crash),
# PGPORT_START (61000). To show that the checks fail: CRASH_BREAK=1 deletes
# one acknowledged event (with the triggers disabled) before them,
# CRASH_BREAK=2 appends an event tagged with a rolled-back transaction.
source "$(dirname "$0")/../../dev/lib.sh"
source "$(dirname "$0")/common.bash"
need_root
DIR=${CHRONICLE_CRASH_DIR:-/tmp/chronicle-crash}
LOAD=${CRASH_LOAD_SECONDS:-8}
AFTER=${CRASH_AFTER_SECONDS:-4}
W="$DIR/work"
export PGPORT_START=${PGPORT_START:-61000} CHRONICLE_FSYNC=on
export CHRONICLE_PGCONF="deadlock_timeout = 100ms
max_connections = 40"
export PGDATABASE=crash
PIDS=()
cleanup() {
  touch "$W/stop" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_cluster "$DIR"
  # The data directory stays for a look when a check failed.
  if [ "$IT_FAILED" = 0 ]; then rm -rf "$DIR/data"; fi
}
trap cleanup EXIT

say "crash: starting a throwaway cluster in $DIR (fsync on)"
start_cluster "$DIR"
mkdir -p "$W"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
createdb crash
q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION chronicle;
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL, txn text);
INSERT INTO acct SELECT i, i * 10, 'init' FROM generate_series(1, 50) i;
CREATE TABLE item (a int, b text, qty int, txn text, PRIMARY KEY (a, b));
INSERT INTO item SELECT a, b, 1, 'init' FROM generate_series(1, 5) a, unnest(ARRAY['x', 'y']) b;
SELECT chronicle.track('acct');
SELECT chronicle.track('item');
SELECT chronicle.create_event_table('ev');
CREATE TABLE seen (position bigint NOT NULL, member text NOT NULL);
SQL

# gen_txn ID CLIENT: prints the psql script of one writer transaction. It
# echoes "N|events in ev|events in acct|events in item" before COMMIT, and
# ends with ROLLBACK instead of COMMIT for about one transaction in eight.
gen_txn() {
  local id=$1 c=$2 i k r s nops
  s="\\set VERBOSITY verbose
\\o /dev/null
\\set ne 0
\\set na 0
\\set nl 0
BEGIN;
SET LOCAL chronicle.meta = '{\"txn\": \"$id\"}';
"
  [ $((RANDOM % 6)) = 0 ] && s+="SET LOCAL chronicle.valid_from = '2020-01-01';
"
  nops=$((RANDOM % 3))
  for ((i = 0; i < nops; i++)); do
    k=$((RANDOM % 80 + 1))
    case $((RANDOM % 4)) in
      0) s+="WITH u AS (INSERT INTO acct VALUES ($k, $RANDOM, '$id') ON CONFLICT (id) DO UPDATE SET bal = excluded.bal, txn = excluded.txn RETURNING 1) SELECT :na + count(*) AS na FROM u \\gset
" ;;
      1) s+="WITH u AS (DELETE FROM acct WHERE id = $k RETURNING 1) SELECT :na + count(*) AS na FROM u \\gset
" ;;
      *) s+="WITH u AS (UPDATE acct SET bal = bal + 1, txn = '$id' WHERE id = $k RETURNING 1) SELECT :na + count(*) AS na FROM u \\gset
" ;;
    esac
  done
  nops=$((RANDOM % 3))
  for ((i = 0; i < nops; i++)); do
    k=$((RANDOM % 8 + 1))
    r=$(( RANDOM % 4 ))
    local b=(x y z w)
    case $((RANDOM % 3)) in
      0) s+="WITH u AS (INSERT INTO item VALUES ($k, '${b[$r]}', $RANDOM, '$id') ON CONFLICT (a, b) DO UPDATE SET qty = excluded.qty, txn = excluded.txn RETURNING 1) SELECT :nl + count(*) AS nl FROM u \\gset
" ;;
      1) s+="WITH u AS (DELETE FROM item WHERE a = $k AND b = '${b[$r]}' RETURNING 1) SELECT :nl + count(*) AS nl FROM u \\gset
" ;;
      2) s+="WITH u AS (UPDATE item SET qty = qty + 1, txn = '$id' WHERE a = $k RETURNING 1) SELECT :nl + count(*) AS nl FROM u \\gset
" ;;
    esac
  done
  nops=$((RANDOM % 3 + 1))
  for ((i = 0; i < nops; i++)); do
    s+="SELECT :ne + count(*) AS ne FROM chronicle.append('ev', 'cart-$((RANDOM % 20))', 'Added', '{\"txn\": \"$id\", \"i\": $i}', meta => '{\"txn\": \"$id\"}') \\gset
"
  done
  if [ $((RANDOM % 4)) = 0 ]; then
    s+="WITH u AS (INSERT INTO ev (stream, type, payload, meta) VALUES ('cart-$((RANDOM % 20))', 'Bulk', '{\"txn\": \"$id\"}', '{\"txn\": \"$id\"}'), ('bulk-$c', 'Bulk', '{}', '{\"txn\": \"$id\"}') RETURNING 1) SELECT :ne + count(*) AS ne FROM u \\gset
"
  fi
  if [ $((RANDOM % 20)) = 0 ]; then
    # A big transaction: its commit (and restamp) takes long enough for a
    # crash to land in it now and then.
    s+="SELECT :ne + count(*) AS ne FROM (SELECT chronicle.append('ev', 'big-$c-' || (g % 50), 'Big', jsonb_build_object('txn', '$id', 'g', g), meta => '{\"txn\": \"$id\"}') FROM generate_series(1, 500) g) x \\gset
WITH u AS (INSERT INTO ev (stream, type, payload, meta) SELECT 'big-$c-' || (g % 50), 'BigInsert', '{}', '{\"txn\": \"$id\"}' FROM generate_series(1, 500) g RETURNING 1) SELECT :ne + count(*) AS ne FROM u \\gset
"
  fi
  if [ $((RANDOM % 5)) = 0 ]; then
    # Rolled back to a savepoint: none of this may ever show.
    echo "rolledback $id-sp" >>"$W/$c.log"
    s+="SAVEPOINT s;
SET LOCAL chronicle.meta = '{\"txn\": \"$id-sp\"}';
SELECT chronicle.append('ev', 'cart-$((RANDOM % 20))', 'Undone', '{\"txn\": \"$id-sp\"}', meta => '{\"txn\": \"$id-sp\"}');
UPDATE acct SET bal = bal + 1000, txn = '$id-sp' WHERE id = $((RANDOM % 80 + 1));
ROLLBACK TO SAVEPOINT s;
"
  fi
  [ $((RANDOM % 3)) = 0 ] && s+="SELECT pg_sleep(0.0$((RANDOM % 10)));
"
  s+="SELECT :ne + 1 AS ne \\gset
SELECT chronicle.append('ev', 'done-$c', 'TxnDone', jsonb_build_object('txn', '$id', 'ev', :ne, 'acct', :na, 'line', :nl), meta => '{\"txn\": \"$id\"}');
\\echo N|:ne|:na|:nl
"
  if [ $((RANDOM % 8)) = 0 ]; then s+="ROLLBACK;
"; else s+="COMMIT;
"; fi
  printf '%s' "$s"
}

# writer C: runs transactions until $W/stop exists; logs each outcome to
# $W/C.log: ok ID T_START T_END NE NA NL (T in µs since the epoch) /
# rolledback ID / fail ID SQLSTATE / ambiguous ID / noconn ID.
writer() {
  local c=$1 n=0 id s t0 t1 log="$W/$1.log" out="$W/$1.out" err="$W/$1.err"
  while [ ! -e "$W/stop" ] && [ ! -e "$W/stop-writers" ]; do
    n=$((n + 1))
    id="$c-$n"
    s=$(gen_txn "$id" "$c")
    t0=${EPOCHREALTIME/./}
    if psql -X -q -At -v ON_ERROR_STOP=1 -f - <<<"$s" >"$out" 2>"$err"; then
      t1=${EPOCHREALTIME/./}
      if [[ $s == *ROLLBACK\; ]]; then
        echo "rolledback $id" >>"$log"
      else
        echo "ok $id $t0 $t1 $(grep '^N|' "$out" | cut -d'|' -f2-4 | tr '|' ' ')" >>"$log"
      fi
    elif grep -q 'ERROR:' "$err"; then
      echo "fail $id $(grep -m1 -o 'ERROR:  [0-9A-Z]\{5\}' "$err" | cut -c9-)" >>"$log"
      grep -m1 'ERROR:' "$err" >>"$W/errors.txt"
    elif grep -qE 'connection to server .* failed' "$err"; then
      echo "noconn $id" >>"$log"
      sleep 0.1
    else
      echo "ambiguous $id" >>"$log"
      grep -m1 -v '^$' "$err" >>"$W/ambiguous.txt" || true
    fi
  done
}

# consumer M: a member of group g: each transaction consumes a batch of ev,
# inserts it into seen and commits the offset; until $W/stop exists, or,
# with $W/drain, until a poll comes back empty.
consumer() {
  local m=$1 out="$W/$1.out" err="$W/$1.err" n
  while [ ! -e "$W/stop" ]; do
    if psql -X -q -At -v ON_ERROR_STOP=1 >"$out" 2>"$err" <<SQL; then
\\o /dev/null
BEGIN;
WITH b AS (SELECT position FROM chronicle.consume('g', 'ev', 50)),
     i AS (INSERT INTO seen SELECT position, '$m' FROM b RETURNING position)
SELECT coalesce(max(position), -1) AS m, count(*) AS n FROM i \\gset
SELECT chronicle.commit('g', 'ev', :m) WHERE :m >= 0;
COMMIT;
\\echo C|:n
SQL
      n=$(grep '^C|' "$out" | cut -d'|' -f2)
      if [ "$n" = 0 ]; then
        [ -e "$W/drain" ] && break
        sleep 0.05
      fi
    else
      grep -m1 'ERROR:' "$err" >>"$W/consumer-errors.txt" || true
      sleep 0.1
    fi
  done
}

# answers T0 T1 [K]: prints as-of answers at the fixed past times T0 < T1,
# and the first K events read from ev (K: as many as there are now).
answers() {
  local t0=$1 t1=$2 k=${3:-} ka=${4:-}
  if [ -z "$k" ]; then
    k=$(q -c "SELECT count(*) FROM chronicle.read('ev', 0, 1000000)")
    ka=$(q -c "SELECT count(*) FROM chronicle.read('acct', 0, 1000000)")
  fi
  q <<SQL
SELECT 'as_of acct T1|' || md5(string_agg(a::text, ',' ORDER BY id)) FROM chronicle.as_of(NULL::acct, known_at => '$t1') a;
SELECT 'as_of acct T0|' || md5(string_agg(a::text, ',' ORDER BY id)) FROM chronicle.as_of(NULL::acct, known_at => '$t0') a;
SELECT 'as_of acct T1 valid T0|' || md5(string_agg(a::text, ',' ORDER BY id)) FROM chronicle.as_of(NULL::acct, known_at => '$t1', valid_at => '$t0') a;
SELECT 'as_of item T1|' || md5(string_agg(l::text, ',' ORDER BY a, b)) FROM chronicle.as_of(NULL::item, known_at => '$t1') l;
SELECT 'as_of acct key 7 T1|' || coalesce((SELECT a::text FROM chronicle.as_of(NULL::acct, '$t1', NULL, 7) a), 'none');
SELECT 'as_of item key 3,x T0|' || coalesce((SELECT l::text FROM chronicle.as_of(NULL::item, '$t0', NULL, 3, 'x') l), 'none');
SELECT 'state cart-3 T1|' || coalesce(chronicle.state('ev', 'cart-3', known_at => '$t1')::text, 'null');
SELECT 'state cart-5 T0|' || coalesce(chronicle.state('ev', 'cart-5', known_at => '$t0')::text, 'null');
SELECT 'events ev T1|' || count(*) || ' ' || md5(string_agg(e::text, ',' ORDER BY replay)) FROM chronicle.events('ev', known_at => '$t1') e;
SELECT 'events acct T1|' || count(*) || ' ' || md5(string_agg(e::text, ',' ORDER BY replay)) FROM chronicle.events('acct_events', known_at => '$t1') e;
SELECT 'diff acct T0 T1|' || count(*) || ' ' || md5(string_agg(d::text, ',' ORDER BY d::text)) FROM chronicle.diff(NULL::acct, from_known => '$t0', to_known => '$t1') d;
SELECT 'read ev $k|' || count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY position)) FROM chronicle.read('ev', 0, $k) r;
SELECT 'read acct $ka|' || count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY position)) FROM chronicle.read('acct', 0, $ka) r;
SQL
}

# crash_restart N: stops the server with -m immediate under load, stops the
# clients, restarts it and checks the consumer group and the recorded answers.
crash_restart() {
  local n=$1 off i
  if [ "${2:-}" = in-commit ]; then
    # Aim at a COMMIT in progress (for up to 3 s): a transaction that may
    # be committed without its client knowing.
    for i in $(seq 1 100); do
      [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COMMIT%'" 2>/dev/null)" = 0 ] || break
      sleep 0.02
    done
    echo "# crash $n: $([ "$i" -lt 100 ] && echo "a COMMIT was in progress $i polls in" || echo "no COMMIT seen in progress")"
  fi
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null
  sleep 0.5
  touch "$W/stop"
  wait "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
  rm -f "$W/stop"
  say "crash: restarting after crash $n"
  rm -f "$DIR/server.log.$n"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log.$n" -w start >/dev/null
  grep -q 'database system was interrupted\|was not properly shut down' "$DIR/server.log.$n" \
    && ok "crash $n: the server went through crash recovery" || not_ok "crash $n: the server went through crash recovery"
  # The consumer group right after the restart: its read model holds exactly
  # the events up to its committed offset, and consume() returns exactly
  # those after it.
  off=$(q -c "SELECT coalesce((SELECT position FROM chronicle.consumer_offsets WHERE grp = 'g'), 0)")
  check "crash $n: read model = the events up to the committed offset ($off)" "0 0 0" \
    "$(q -c "SELECT (SELECT count(*) FROM (SELECT position FROM seen EXCEPT SELECT position FROM ev WHERE position <= $off) x) || ' ' ||
               (SELECT count(*) FROM (SELECT position FROM ev WHERE position <= $off EXCEPT SELECT position FROM seen) x) || ' ' ||
               (SELECT count(*) - count(DISTINCT position) FROM seen)")"
  check "crash $n: consume() returns exactly the events after the offset" \
    "$(q -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(position::text, ',' ORDER BY position)), '') FROM ev WHERE position > $off")" \
    "$(q -c "BEGIN" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(position::text, ',' ORDER BY position)), '') FROM chronicle.consume('g', 'ev', 1000000)" -c "ROLLBACK")"
  answers_again >"$W/answers-after-crash-$n.txt"
  if diff "$W/answers-before.txt" "$W/answers-after-crash-$n.txt" >"$W/answers.diff"; then
    ok "crash $n: as-of and read answers recorded before are unchanged ($(wc -l <"$W/answers-before.txt") answers)"
  else
    not_ok "crash $n: as-of and read answers recorded before are unchanged" "$(cat "$W/answers.diff")"
  fi
}

# answers_again: the answers of answers-before.txt, asked again.
answers_again() {
  answers "$T0" "$T1" "$(sed -n 's/^read ev \([0-9]*\)|.*/\1/p' "$W/answers-before.txt")" \
    "$(sed -n 's/^read acct \([0-9]*\)|.*/\1/p' "$W/answers-before.txt")"
}

# ---------------------------------------------------------------- crash 1
say "crash: $LOAD s of load (4 writers, 2 consumers), then pg_ctl stop -m immediate"
for c in a1 a2 a3 a4; do writer "$c" & PIDS+=($!); done
for m in m1 m2; do consumer "$m" & PIDS+=($!); done
sleep 1
T0=$(q -c 'SELECT clock_timestamp()')
sleep 1.5
T1=$(q -c 'SELECT clock_timestamp()')
sleep 1
answers "$T0" "$T1" >"$W/answers-before.txt"
sleep $((LOAD > 4 ? LOAD - 4 : 1))
crash_restart 1

# ---------------------------------------------------------------- crash 2
say "crash: $AFTER s of load after the restart, then pg_ctl stop -m immediate again, aimed at a COMMIT"
for c in b1 b2 b3 b4; do writer "$c" & PIDS+=($!); done
for m in m1 m2; do consumer "$m" & PIDS+=($!); done
sleep "$AFTER"
crash_restart 2 in-commit

# ---------------------------------------------------------------- the end
say "crash: $AFTER s of load after the second restart, then the consumers catch up"
for c in c1 c2; do writer "$c" & PIDS+=($!); done
for m in m1 m2; do consumer "$m" & PIDS+=($!); done
sleep "$AFTER"
touch "$W/stop-writers"
wait "${PIDS[@]:0:2}" 2>/dev/null || true
touch "$W/drain"
wait "${PIDS[@]:2}" 2>/dev/null || true
PIDS=()
answers_again >"$W/answers-end.txt"

if [ "${CRASH_BREAK:-0}" = 2 ]; then
  say "crash: CRASH_BREAK=2: appending an event of a transaction that rolled back"
  id=$(awk '$1 == "rolledback" { print $2; exit }' "$W/a1.log")
  q -c "SELECT chronicle.append('ev', 'cart-1', 'Added', '{}', meta => jsonb_build_object('txn', '$id'))" >/dev/null
fi
if [ "${CRASH_BREAK:-0}" = 1 ]; then
  say "crash: CRASH_BREAK=1: deleting an acknowledged event with the triggers disabled"
  id=$(awk '$1 == "ok" { print $2; exit }' "$W/a1.log")
  q -c "ALTER TABLE ev DISABLE TRIGGER USER" -c "DELETE FROM ev WHERE position = (SELECT min(position) FROM ev WHERE meta->>'txn' = '$id')" \
    -c "ALTER TABLE ev ENABLE TRIGGER USER" 2>/dev/null
fi

# ---------------------------------------------------------------- checks
cat "$W"/[abc]?.log | awk -v OFS=, '
  $1 == "ok" { print $1, $2, $3, $4, $5, $6, $7, ""; next }
  $1 == "fail" { print $1, $2, "", "", "", "", "", $3; next }
  { print $1, $2, "", "", "", "", "", "" }' >"$W/clients.csv"
q <<SQL
CREATE TABLE client_log (status text, id text, t0 bigint, t1 bigint, ne int, na int, nl int, code text);
\copy client_log FROM '$W/clients.csv' CSV
CREATE VIEW all_ev AS
  SELECT 'ev' AS tbl, position, stream, version, type, payload, meta->>'txn' AS txn, recorded_at FROM ev
  UNION ALL SELECT 'acct', position, stream, version, type, payload, meta->>'txn', recorded_at FROM acct_events
  UNION ALL SELECT 'line', position, stream, version, type, payload, meta->>'txn', recorded_at FROM item_events;
CREATE VIEW per_txn AS
  SELECT txn, count(*) FILTER (WHERE tbl = 'ev') AS ne, count(*) FILTER (WHERE tbl = 'acct') AS na,
         count(*) FILTER (WHERE tbl = 'line') AS nl, min(recorded_at) AS stamp,
         count(DISTINCT recorded_at) AS stamps
    FROM all_ev WHERE txn IS NOT NULL GROUP BY txn;
CREATE VIEW markers AS
  SELECT payload->>'txn' AS txn, (payload->>'ev')::int AS ne, (payload->>'acct')::int AS na,
         (payload->>'line')::int AS nl
    FROM ev WHERE type = 'TxnDone';
SQL
summary=$(q -F' ' -c "SELECT count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status = 'rolledback'),
  count(*) FILTER (WHERE status = 'fail'), count(*) FILTER (WHERE status = 'ambiguous'),
  count(*) FILTER (WHERE status = 'noconn') FROM client_log")
read -r n_ok n_rb n_fail n_amb n_noconn <<<"$summary"
echo "# transactions: $n_ok acknowledged, $n_rb rolled back on purpose, $n_fail failed with an error, $n_amb ambiguous (in flight at the crash), $n_noconn not connected"
echo "# events: $(q -c "SELECT string_agg(tbl || ' ' || n, ', ') FROM (SELECT tbl, count(*) n FROM all_ev GROUP BY tbl ORDER BY tbl) x")"
echo "# ambiguous transactions that committed: $(q -c "SELECT count(*) FROM client_log c JOIN markers m ON m.txn = c.id WHERE c.status = 'ambiguous'") of $n_amb"
echo "# errors: $(q -c "SELECT coalesce(string_agg(code || ' x' || n, ', '), 'none') FROM (SELECT code, count(*) n FROM client_log WHERE status = 'fail' GROUP BY code ORDER BY code) x")"
[ "$n_ok" -gt 20 ] && ok "the load committed transactions ($n_ok)" || not_ok "the load committed transactions ($n_ok)"
[ "$(cat "$W"/c?.log | grep -c '^ok')" -gt 0 ] \
  && ok "capture continues after the restart" || not_ok "capture continues after the restart"
[ "$n_amb" -le 8 ] && ok "at most one ambiguous transaction per client and crash ($n_amb)" || not_ok "at most one ambiguous transaction per client and crash ($n_amb)"
check "no error other than 40001, 40P01, 23505" "" \
  "$(q -c "SELECT string_agg(DISTINCT code, ' ') FROM client_log WHERE status = 'fail' AND code NOT IN ('40001', '40P01', '23505')")"
check "every acknowledged transaction has all its events" "" \
  "$(q -c "SELECT string_agg(c.id || ' ' || concat_ws('/', p.ne, p.na, p.nl) || ' != ' || concat_ws('/', c.ne, c.na, c.nl), '; ')
           FROM (SELECT * FROM client_log WHERE status = 'ok' ORDER BY id LIMIT 100000) c LEFT JOIN per_txn p ON p.txn = c.id
          WHERE p.txn IS NULL OR (p.ne, p.na, p.nl) <> (c.ne, c.na, c.nl)")"
check "every transaction with events committed: all of its events (TxnDone counts)" "" \
  "$(q -c "SELECT string_agg(p.txn, ' ') FROM per_txn p LEFT JOIN markers m ON m.txn = p.txn
          WHERE m.txn IS NULL OR (p.ne, p.na, p.nl) <> (m.ne, m.na, m.nl)")"
check "no event of a transaction that rolled back, failed or is unknown" "" \
  "$(q -c "SELECT string_agg(p.txn || ':' || coalesce(c.status, 'unknown'), ' ') FROM per_txn p LEFT JOIN client_log c ON c.id = p.txn
          WHERE c.status IS DISTINCT FROM 'ok' AND c.status IS DISTINCT FROM 'ambiguous'")"
check "the tracked tables hold no row of a transaction that did not commit" "" \
  "$(q -c "SELECT string_agg(txn, ' ') FROM (SELECT txn FROM acct UNION ALL SELECT txn FROM item) t
          WHERE txn <> 'init' AND txn NOT IN (SELECT txn FROM markers)")"
check "one recorded_at per transaction" "0" \
  "$(q -c "SELECT count(*) FROM per_txn WHERE stamps <> 1")"
check "a different recorded_at for every transaction" "0" \
  "$(q -c "SELECT count(*) FROM (SELECT recorded_at FROM all_ev GROUP BY recorded_at HAVING count(DISTINCT coalesce(txn, tbl)) > 1) x")"
check "recorded_at never decreases in position order (ev, acct_events, item_events)" "0" \
  "$(q -c "SELECT count(*) FROM (SELECT recorded_at < lag(recorded_at) OVER (PARTITION BY tbl ORDER BY position) AS bad FROM all_ev) x WHERE bad")"
check "versions are 1..n in every stream" "0" \
  "$(q -c "SELECT count(*) FROM (SELECT tbl, stream FROM all_ev GROUP BY tbl, stream HAVING min(version) <> 1 OR max(version) <> count(*)) x")"
check "a transaction acknowledged before another began has the smaller stamp" "0" \
  "$(q -c "SELECT count(*) FROM (SELECT c.t0, min(c.t1) OVER (ORDER BY p.stamp DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS later_end
                                   FROM client_log c JOIN per_txn p ON p.txn = c.id WHERE c.status = 'ok') x
          WHERE later_end < t0")"
check "each stamp lies within its client's wall-clock window" "0" \
  "$(q -c "SELECT count(*) FROM client_log c JOIN per_txn p ON p.txn = c.id
          WHERE c.status = 'ok' AND NOT (p.stamp BETWEEN to_timestamp(c.t0 / 1e6) AND to_timestamp(c.t1 / 1e6))")"
for t in acct item; do
  check "as_of(NULL::$t, known_at => now()) equals the table" "0 0" \
    "$(q -c "SELECT (SELECT count(*) FROM (TABLE $t EXCEPT ALL SELECT * FROM chronicle.as_of(NULL::$t, known_at => now())) x) || ' ' ||
               (SELECT count(*) FROM (SELECT * FROM chronicle.as_of(NULL::$t, known_at => now()) EXCEPT ALL TABLE $t) x)")"
  check "as_of(NULL::$t) equals the table" "0 0" \
    "$(q -c "SELECT (SELECT count(*) FROM (TABLE $t EXCEPT ALL SELECT * FROM chronicle.as_of(NULL::$t)) x) || ' ' ||
               (SELECT count(*) FROM (SELECT * FROM chronicle.as_of(NULL::$t) EXCEPT ALL TABLE $t) x)")"
done
if diff "$W/answers-before.txt" "$W/answers-end.txt" >"$W/answers.diff"; then
  ok "as-of and read answers recorded before the crashes are unchanged at the end"
else
  not_ok "as-of and read answers recorded before the crashes are unchanged at the end" "$(cat "$W/answers.diff")"
fi
check "after catching up, the consumer group processed every event of ev exactly once" "0 0 0" \
  "$(q -c "SELECT (SELECT count(*) FROM (SELECT position FROM seen EXCEPT SELECT position FROM ev) x) || ' ' ||
             (SELECT count(*) FROM (SELECT position FROM ev EXCEPT SELECT position FROM seen) x) || ' ' ||
             (SELECT count(*) - count(DISTINCT position) FROM seen)")"
check "the group's offset is the newest event" "$(q -c "SELECT max(position) FROM ev")" \
  "$(q -c "SELECT position FROM chronicle.consumer_offsets WHERE grp = 'g'")"
check "both members consumed" "2" "$(q -c "SELECT count(DISTINCT member) FROM seen")"
check "no consumer error" "" "$(cat "$W/consumer-errors.txt" 2>/dev/null | sort | uniq -c | head -5)"
for f in "$DIR"/server.log*; do
  if grep -q "terminated by signal" "$f"; then not_ok "no backend crashed ($f)" "$(grep -m1 'terminated by signal' "$f")"; else ok "no backend crashed ($(basename "$f"))"; fi
done
stop_cluster "$DIR"
finish
