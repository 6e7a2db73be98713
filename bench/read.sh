#!/usr/bin/env bash
# bench/read.sh: the read and replay benchmark (run as root: `bash bench/read.sh`).
#
# Starts a throwaway PostgreSQL (fsync on), fills one chronicle event table
# with BENCH_EVENTS events (1,000,000: INSERT … SELECT from generate_series,
# 5000 streams, payloads {"sku", "qty", "price"}), then measures:
#   read    walking the whole table with chronicle.read(tbl, after, n), each
#           call from the last position returned, n = 1000 and 10000, against
#           the plain keyset query SELECT * FROM tbl WHERE position > after
#           ORDER BY position LIMIT n walking the same rows the same way.
#           Two harnesses (see bench/README.md): pgbench (the rows go to a
#           client) and a server-side PL/pgSQL walk.
#   replay  rebuilding a projection (per-stream order totals) from scratch by
#           a consumer loop: reset, then BEGIN; consume(10000) -> set-based
#           upsert -> commit(max position); COMMIT; until a batch is empty.
#           The projection is then compared with the same aggregate computed
#           directly over the table. Baseline: the same loop over the keyset
#           query with an offsets table of its own. Diagnostic: both loops
#           without the projection.
# Medians of BENCH_RUNS (3) runs, read and plain interleaved. Prints a table
# and writes it, with the raw runs and the machine facts, to
# bench/results/read-latest.txt. Not part of dev/test.
#
# Knobs (environment): BENCH_EVENTS (1000000), BENCH_STREAMS (5000),
# BENCH_RUNS (3), BENCH_BATCH (replay batch, 100000), CHRONICLE_BENCH_DIR
# (/tmp/chronicle-h3-bench), PGPORT_START (57000).
source "$(dirname "$0")/../dev/lib.sh"
need_root
BENCH="$ROOT/bench"
DIR=${CHRONICLE_BENCH_DIR:-/tmp/chronicle-h3-bench}
N=${BENCH_EVENTS:-1000000}
STREAMS=${BENCH_STREAMS:-5000}
RUNS=${BENCH_RUNS:-3}
BATCH=${BENCH_BATCH:-100000}
OUT=${BENCH_OUT:-$BENCH/results/read-latest.txt}
DB=bench
T_START=$(date +%s)

install_deps
build_install
LIB="$("$PGBIN/pg_config" --pkglibdir)/chronicle.so"
lib_sum() { md5sum "$LIB" | cut -c1-12; }
LIB_SUM0=$(lib_sum)
psi() { sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' /proc/pressure/"$1" 2>/dev/null || echo "?"; }

say "starting a throwaway PostgreSQL $PGVER in $DIR (fsync on)"
export CHRONICLE_FSYNC=on PGPORT_START=${PGPORT_START:-57000}
export CHRONICLE_PGCONF="shared_buffers = 1GB
max_wal_size = 8GB
checkpoint_timeout = 1h"
trap 'stop_cluster "$DIR"' EXIT
start_cluster "$DIR"
createdb "$DB"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
"${PSQL[@]}" -c "CREATE EXTENSION chronicle" -c "CREATE EXTENSION pg_prewarm"
PGVERSION=$("${PSQL[@]}" -At -c "SHOW server_version")
SETTINGS=$("${PSQL[@]}" -At -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name)
  FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'work_mem', 'jit', 'max_wal_size')")

say "filling ev with $N events over $STREAMS streams"
t0=$(date +%s.%N)
"${PSQL[@]}" >/dev/null <<SQL
SELECT chronicle.create_event_table('ev');
-- Streams spread evenly (i * 7919 mod streams), so every batch of the
-- replay touches nearly every stream; one event in ten removes an item.
INSERT INTO ev (stream, type, payload)
SELECT 'order-' || lpad(((i * 7919) % $STREAMS)::text, 5, '0'),
       CASE WHEN i % 10 = 0 THEN 'ItemRemoved' ELSE 'ItemAdded' END,
       jsonb_build_object('sku', 'SKU-' || lpad(((i * 104729) % 20000)::text, 5, '0'),
                          'qty', 1 + i % 5,
                          'price', round(1 + ((i * 37) % 10000) / 100.0, 2))
  FROM generate_series(1::bigint, $N) AS i;
VACUUM (ANALYZE) ev;
CHECKPOINT;
SQL
FILL_S=$(echo "$(date +%s.%N) - $t0" | bc)
FACTS=$("${PSQL[@]}" -At -F '|' -c "SELECT count(*), min(position), max(position), count(DISTINCT stream),
  pg_size_pretty(pg_table_size('ev')), pg_size_pretty(pg_indexes_size('ev')) FROM ev")
IFS='|' read -r COUNT MINPOS MAXPOS NSTREAMS TSIZE ISIZE <<<"$FACTS"
echo "  $COUNT events, positions $MINPOS..$MAXPOS, $NSTREAMS streams, table $TSIZE, indexes $ISIZE, filled in ${FILL_S}s"
# The pgbench harness computes `after` as k * n, the last position of the
# previous call: right only for dense positions, which one INSERT gives.
if [ "$COUNT" != "$N" ] || [ "$MINPOS" != 1 ] || [ "$MAXPOS" != "$N" ]; then
  echo "error: positions are not 1..$N; the pgbench harness needs them dense" >&2
  exit 1
fi
"${PSQL[@]}" -At -c "SELECT pg_prewarm('ev'), pg_prewarm('ev_pkey')" >/dev/null

# The server-side walk: one function call walks the whole table, each step
# from the last position the previous one returned, and returns the time.
# num_nulls() of every column makes both variants produce every column of
# every row (the plain query could otherwise skip the columns nobody uses),
# at a small cost per column.
"${PSQL[@]}" <<'SQL'
CREATE FUNCTION walk(variant text, n int, OUT events bigint, OUT calls int, OUT seconds float8)
LANGUAGE plpgsql AS $fn$
DECLARE
  after bigint := 0;
  got bigint;
  last bigint;
  t0 timestamptz := clock_timestamp();
BEGIN
  events := 0;
  calls := 0;
  LOOP
    IF variant = 'read' THEN
      SELECT count(*) FILTER (WHERE num_nulls(r.stream, r.version, r.type, r.payload, r.meta,
                                                 r.valid_from, r.valid_to, r.recorded_at, r.supersedes) < 9),
             max(r.position) INTO got, last
        FROM chronicle.read('ev', after, n) AS r;
    ELSE
      SELECT count(*) FILTER (WHERE num_nulls(r.stream, r.version, r.type, r.payload, r.meta,
                                                 r.valid_from, r.valid_to, r.recorded_at, r.supersedes) < 9),
             max(r.position) INTO got, last
        FROM (SELECT * FROM ev WHERE position > after ORDER BY position LIMIT n) AS r;
    END IF;
    calls := calls + 1;
    EXIT WHEN got = 0;
    events := events + got;
    after := last;
  END LOOP;
  seconds := extract(epoch FROM clock_timestamp() - t0);
END
$fn$;
-- The projection of the docs: per-stream order totals.
CREATE TABLE order_totals (
  stream        text PRIMARY KEY,
  events        bigint NOT NULL,
  items         bigint NOT NULL,
  amount        numeric NOT NULL,
  last_position bigint NOT NULL
);
SQL

# pgbench scripts: one call per transaction. pgbench has no counter that
# goes on from one transaction to the next, so a sequence numbers the calls:
# call k (from 0) reads after k * n, the last position of call k - 1 (the
# positions are dense). The scalar subquery runs once per call, in both.
WORK=$DIR/work
mkdir -p "$WORK"
for n in 1000 10000; do
  echo "SELECT * FROM chronicle.read('ev', (SELECT nextval('walk_k') - 1) * $n, $n);" >"$WORK/read_$n.sql"
  echo "SELECT * FROM ev WHERE position > (SELECT nextval('walk_k') - 1) * $n ORDER BY position LIMIT $n;" >"$WORK/plain_$n.sql"
done
"${PSQL[@]}" -c "CREATE SEQUENCE walk_k"

RAW=()
declare -A RES
# pgbench_walk VARIANT N RUN: one walk through pgbench (1 client, prepared),
# ceil(N/n) + 1 calls (the last returns nothing); records events/s.
pgbench_walk() {
  local v=$1 n=$2 r=$3 calls out tps eps
  calls=$(((N + n - 1) / n + 1))
  "${PSQL[@]}" -c "SELECT setval('walk_k', 1, false)" >/dev/null
  out=$(pgbench -n -M prepared -c 1 -t "$calls" -f "$WORK/${v}_$n.sql" "$DB" 2>&1)
  tps=$(echo "$out" | sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p')
  [ -n "$tps" ] || { echo "$out" >&2; exit 1; }
  eps=$(echo "$tps * $N / $calls" | bc)
  RES["pgbench,$v,$n,$r"]=$eps
  RAW+=("pgbench $v n=$n run $r: $calls calls, tps $tps, $eps events/s (cpu psi $(psi cpu), lib $(lib_sum))")
}
# server_walk VARIANT N RUN: one server-side walk; records events/s.
server_walk() {
  local v=$1 n=$2 r=$3 res events calls secs eps
  res=$("${PSQL[@]}" -At -F ' ' -c "SELECT * FROM walk('$v', $n)")
  read -r events calls secs <<<"$res"
  [ "$events" = "$N" ] || { echo "error: the $v walk read $events events, not $N" >&2; exit 1; }
  eps=$(echo "$events / $secs" | bc)
  RES["server,$v,$n,$r"]=$eps
  RAW+=("server $v n=$n run $r: $calls calls, ${secs}s, $eps events/s (cpu psi $(psi cpu), lib $(lib_sum))")
}

say "read: warm-up walks (untimed)"
for v in read plain; do server_walk "$v" 10000 0; pgbench_walk "$v" 10000 0; done
RAW=()
for r in $(seq 1 "$RUNS"); do
  say "read: round $r of $RUNS"
  for n in 1000 10000; do
    for v in read plain; do
      server_walk "$v" "$n" "$r"
      pgbench_walk "$v" "$n" "$r"
    done
  done
done

# The replay: one psql session, one transaction per batch, as a consumer
# would run it. ceil(N / batch) + 1 iterations: the last batch is empty.
# The baseline does the same with a plain keyset query and an offsets
# table of its own (locked FOR UPDATE, as consume() claims the group).
ITER=$((N / BATCH + 2))
AGG="agg AS (
  SELECT stream, count(*) AS events,
         sum(CASE WHEN type = 'ItemRemoved' THEN -1 ELSE 1 END * (payload->>'qty')::bigint) AS items,
         sum(CASE WHEN type = 'ItemRemoved' THEN -1 ELSE 1 END * (payload->>'qty')::bigint
             * (payload->>'price')::numeric) AS amount,
         max(position) AS last_position
    FROM b GROUP BY stream),
up AS (
  INSERT INTO order_totals AS t SELECT * FROM agg
  ON CONFLICT (stream) DO UPDATE
     SET events = t.events + excluded.events, items = t.items + excluded.items,
         amount = t.amount + excluded.amount, last_position = excluded.last_position)"
{
  echo '\set ON_ERROR_STOP 1'
  for _ in $(seq 1 "$ITER"); do
    cat <<SQL
BEGIN;
WITH b AS (SELECT * FROM chronicle.consume('proj', 'ev', $BATCH)),
$AGG
SELECT chronicle.commit('proj', 'ev', max(position)) FROM b HAVING count(*) > 0;
COMMIT;
SQL
  done
} >"$WORK/replay_chronicle.sql"
{
  echo '\set ON_ERROR_STOP 1'
  for _ in $(seq 1 "$ITER"); do
    cat <<SQL
BEGIN;
WITH o AS (SELECT position FROM plain_offsets WHERE grp = 'proj' FOR UPDATE),
b AS (SELECT * FROM ev WHERE position > (SELECT position FROM o) ORDER BY position LIMIT $BATCH),
$AGG,
mv AS (UPDATE plain_offsets SET position = (SELECT max(position) FROM b)
        WHERE grp = 'proj' AND EXISTS (SELECT FROM b))
SELECT count(*) FROM b;
COMMIT;
SQL
  done
} >"$WORK/replay_plain.sql"
# Diagnostic: the consumer loops alone, without the projection.
{
  echo '\set ON_ERROR_STOP 1'
  for _ in $(seq 1 "$ITER"); do
    cat <<SQL
BEGIN;
SELECT chronicle.commit('proj', 'ev', max(position)) FROM chronicle.consume('proj', 'ev', $BATCH) HAVING count(*) > 0;
COMMIT;
SQL
  done
} >"$WORK/replay_chronicle_noproj.sql"
{
  echo '\set ON_ERROR_STOP 1'
  for _ in $(seq 1 "$ITER"); do
    cat <<SQL
BEGIN;
WITH o AS (SELECT position FROM plain_offsets WHERE grp = 'proj' FOR UPDATE),
b AS (SELECT * FROM ev WHERE position > (SELECT position FROM o) ORDER BY position LIMIT $BATCH),
mv AS (UPDATE plain_offsets SET position = (SELECT max(position) FROM b)
        WHERE grp = 'proj' AND EXISTS (SELECT FROM b))
SELECT count(*) FROM b;
COMMIT;
SQL
  done
} >"$WORK/replay_plain_noproj.sql"
"${PSQL[@]}" -c "CREATE TABLE plain_offsets (grp text PRIMARY KEY, position bigint NOT NULL)" \
  -c "INSERT INTO plain_offsets VALUES ('proj', 0)"

DIRECT="SELECT stream, count(*) AS events,
         sum(CASE WHEN type = 'ItemRemoved' THEN -1 ELSE 1 END * (payload->>'qty')::bigint) AS items,
         sum(CASE WHEN type = 'ItemRemoved' THEN -1 ELSE 1 END * (payload->>'qty')::bigint
             * (payload->>'price')::numeric) AS amount,
         max(position) AS last_position
    FROM ev GROUP BY stream"
VERIFY=()
for r in $(seq 1 "$RUNS"); do
  for v in chronicle plain chronicle_noproj plain_noproj; do
    say "replay: $v, run $r of $RUNS"
    "${PSQL[@]}" -c "TRUNCATE order_totals" -c "SELECT chronicle.reset('proj', 'ev', 0)" \
      -c "UPDATE plain_offsets SET position = 0" -c "VACUUM order_totals" -c "CHECKPOINT" >/dev/null
    t0=$(date +%s.%N)
    "${PSQL[@]}" -f "$WORK/replay_$v.sql" >/dev/null
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    eps=$(echo "$N / $secs" | bc)
    RES["replay,$v,$r"]=$eps
    RAW+=("replay $v run $r: ${secs}s, $eps events/s (cpu psi $(psi cpu), lib $(lib_sum))")
    if [[ $v == chronicle* ]]; then
      off=$("${PSQL[@]}" -At -c "SELECT position FROM chronicle.consumer_offsets WHERE grp = 'proj'")
    else
      off=$("${PSQL[@]}" -At -c "SELECT position FROM plain_offsets WHERE grp = 'proj'")
    fi
    if [[ $v == *_noproj ]]; then
      [ "$off" = "$N" ] || { echo "error: the $v loop stopped at $off" >&2; exit 1; }
      continue
    fi
    diff=$("${PSQL[@]}" -At -c "SELECT (SELECT count(*) FROM (TABLE order_totals EXCEPT $DIRECT) a)
                                      + (SELECT count(*) FROM ($DIRECT EXCEPT TABLE order_totals) b)")
    rows=$("${PSQL[@]}" -At -c "SELECT count(*) FROM order_totals")
    VERIFY+=("replay $v run $r: $rows projection rows, $diff rows differ from the direct aggregate, offset $off")
    [ "$diff" = 0 ] && [ "$off" = "$N" ] || { echo "error: the projection is wrong: ${VERIFY[-1]}" >&2; exit 1; }
  done
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
runs_of() { local k=$1 out=() r; for r in $(seq 1 "$RUNS"); do out+=("${RES[$k,$r]}"); done; echo "${out[@]}"; }
fmt() { printf "%'d" "$1"; }

{
  echo "chronicle read/replay benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "git $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src sql || echo ' plus uncommitted changes'), chronicle.so $LIB_SUM0"
  echo "PostgreSQL $PGVERSION; $SETTINGS"
  echo "machine: nproc $(nproc), $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ { print $2 " GB RAM" }')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); cpu psi avg10 now $(psi cpu)"
  echo "data: $COUNT events in ev, $NSTREAMS streams, table $TSIZE, indexes $ISIZE, filled in ${FILL_S}s (INSERT … SELECT, one transaction)"
  echo
  echo "read: events/s walking all $N events (median of $RUNS; higher is better; goal read/plain >= 0.8)"
  echo "(ratio = median read / median plain; each round runs read and plain back to back, so the"
  echo " round ratios, and their median, suffer less from the load of the machine)"
  printf '%-18s %12s %14s %7s  %-18s %s\n' "harness, n" "read()" "plain SELECT" "ratio" "round ratios" "median of rounds"
  for h in server pgbench; do
    for n in 1000 10000; do
      mr=$(median $(runs_of "$h,read,$n"))
      mp=$(median $(runs_of "$h,plain,$n"))
      rr=()
      for r in $(seq 1 "$RUNS"); do rr+=("$(echo "scale=2; ${RES[$h,read,$n,$r]} / ${RES[$h,plain,$n,$r]}" | bc)"); done
      printf '%-18s %12s %14s %7s  %-18s %s\n' "$h, n=$n" "$(fmt "$mr")" "$(fmt "$mp")" \
        "$(echo "scale=2; $mr / $mp" | bc)" "${rr[*]}" "$(printf '%s\n' "${rr[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
    done
  done
  echo "runs (events/s, read / plain):"
  for h in server pgbench; do
    for n in 1000 10000; do
      echo "  $h, n=$n: $(runs_of "$h,read,$n") / $(runs_of "$h,plain,$n")"
    done
  done
  echo
  mr=$(median $(runs_of replay,chronicle))
  mp=$(median $(runs_of replay,plain))
  echo "replay: projection rebuilt from scratch, batches of $BATCH (median of $RUNS; goal >= 200,000 events/s)"
  printf '  %-40s %10s events/s  runs %s\n' "consume() + commit() (chronicle)" "$(fmt "$mr")" "$(runs_of replay,chronicle)"
  printf '  %-40s %10s events/s  runs %s\n' "keyset SELECT + own offsets table" "$(fmt "$mp")" "$(runs_of replay,plain)"
  echo "  ratio chronicle/plain: $(echo "scale=2; $mr / $mp" | bc)"
  mr=$(median $(runs_of replay,chronicle_noproj))
  mp=$(median $(runs_of replay,plain_noproj))
  echo "  diagnostic, the consumer loop alone (no projection):"
  printf '  %-40s %10s events/s  runs %s\n' "consume() + commit()" "$(fmt "$mr")" "$(runs_of replay,chronicle_noproj)"
  printf '  %-40s %10s events/s  runs %s\n' "keyset SELECT + own offsets table" "$(fmt "$mp")" "$(runs_of replay,plain_noproj)"
  echo "  ratio chronicle/plain: $(echo "scale=2; $mr / $mp" | bc)"
  printf '  %s\n' "${VERIFY[@]}"
  echo
  echo "raw runs:"
  printf '  %s\n' "${RAW[@]}"
  [ "$(lib_sum)" = "$LIB_SUM0" ] || echo "WARNING: chronicle.so changed during the run (now $(lib_sum)): runs mix builds"
  echo "total time: $(($(date +%s) - T_START)) s"
} | tee "$OUT"
