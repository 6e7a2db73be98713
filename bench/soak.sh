#!/usr/bin/env bash
# bench/soak.sh: the soak test (run as root: `bash bench/soak.sh`).
#
# 8 pgbench clients run a weighted mix of writes, reads, as-of queries and
# consumers at full speed for SOAK_SECONDS (600) against a throwaway
# PostgreSQL 15 with fsync on (bench/soak/*.sql; setup.sql describes the
# tables). Meanwhile a follower reads ev with chronicle.read() from the last
# position it saw, and a recorder asks a few as-of and read questions about
# a fixed past time T (taken at 1/4 of the run) at half time.
#
# Reports throughput, p50/p99 latency per script and per minute (from
# pgbench --log), pgbench -r per-command averages, and the size and bloat of
# the tables (pg_total_relation_size, pg_stat_user_tables, pgstattuple).
# Then verifies (counted as "N passed, M failed"):
# - no pgbench client aborted, no deadlock, and the server logged no error
#   other than 40001 (documented: concurrent append to one stream);
# - per event table: recorded_at never decreases in position order, one
#   recorded_at per transaction (xmin) and a different one for each,
#   versions 1..n in every stream;
# - as_of(NULL::t) and as_of(known_at => now()) equal each tracked table;
# - the answers about T recorded at half time are unchanged at the end;
# - the follower's positions strictly increase and, at the end, are exactly
#   the positions of ev (read() is gapless);
# - after the consumers catch up, each group's read model has processed
#   every event exactly once (count and sum of positions) and its offset is
#   the newest event;
# - no backend was killed by a signal.
#
# Knobs: SOAK_SECONDS (600), SOAK_CLIENTS (8), SOAK_FSYNC (on), SOAK_BUILD
# (1: install_deps and build_install first; 0: use the installed chronicle),
# SOAK_MIX (the scripts and weights, e.g. "append@25 read@8"; any subset:
# the consumers catch up at the end anyway), SOAK_OUT
# (bench/results/soak-latest.txt), SOAK_NOTE (a line added to the
# results), SOAK_BREAK=1 (deletes one event of ev, triggers disabled, before
# the checks: they must fail), CHRONICLE_SOAK_DIR (/tmp/chronicle-soak),
# PGPORT_START (61000). test/integration/soak_short.sh runs it for 20 s.
source "$(dirname "$0")/../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
need_root
SOAK="$ROOT/bench/soak"
SECS=${SOAK_SECONDS:-600}
CLIENTS=${SOAK_CLIENTS:-8}
DIR=${CHRONICLE_SOAK_DIR:-/tmp/chronicle-soak}
OUT=${SOAK_OUT:-$ROOT/bench/results/soak-latest.txt}
export PGPORT_START=${PGPORT_START:-61000} CHRONICLE_FSYNC=${SOAK_FSYNC:-on}
export CHRONICLE_PGCONF="log_line_prefix = '%m [%p] %e '
max_wal_size = 4GB
shared_buffers = 256MB
max_connections = 40"
export PGDATABASE=soak
# The mix: script@weight, in the order of pgbench's script numbers.
MIX=(append@25 insert_ev@8 update@15 insert@5 delete@4 update_small@3 read@8
     consume_ev@5 consume_acct@3 asof_key@6 asof_small@3 state@6)
if [ -n "${SOAK_MIX:-}" ]; then read -r -a MIX <<<"$SOAK_MIX"; fi

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock -n 9 || { echo "error: another bench/soak.sh is running on $DIR (lock $DIR.lock)" >&2; exit 2; }
if [ "${SOAK_BUILD:-1}" = 1 ]; then install_deps; build_install; fi
command -v pgbench >/dev/null || { echo "error: pgbench not found in $PGBIN" >&2; exit 2; }
GIT="git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src sql 2>/dev/null || echo '+local changes')"

# The server runs from a private snapshot of the installation (as in
# bench/cdc.sh): a chronicle reinstalled meanwhile by other work does not
# reach the backends of a long run.
INST="$DIR-install"
snapshot_install() {
  local lib="$INST/usr/lib/postgresql/$PGVER" share="$INST/usr/share/postgresql/$PGVER" f
  rm -rf "$INST"
  mkdir -p "$lib/lib" "$share/extension"
  cp -a "$PGBIN" "$lib/bin"
  for f in "/usr/lib/postgresql/$PGVER/lib/"*; do
    if [ "$(basename "$f")" = chronicle.so ]; then cp "$f" "$lib/lib/"; else ln -s "$f" "$lib/lib/"; fi
  done
  for f in "/usr/share/postgresql/$PGVER/"*; do
    [ "$(basename "$f")" = extension ] || ln -s "$f" "$share/"
  done
  for f in "/usr/share/postgresql/$PGVER/extension/"*; do
    case $(basename "$f") in chronicle*) cp "$f" "$share/extension/" ;; *) ln -s "$f" "$share/extension/" ;; esac
  done
  PGBIN="$lib/bin"
  export PATH="$PGBIN:$PATH"
}
snapshot_install
SO_MD5=$(md5sum "$INST/usr/lib/postgresql/$PGVER/lib/chronicle.so" | cut -c1-12)

BG=()
cleanup() {
  touch "$DIR/work/stop" 2>/dev/null || true
  for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_cluster "$DIR"
  rm -rf "$INST" "$DIR/data"
}
trap cleanup EXIT
say "soak: a throwaway cluster in $DIR (fsync $CHRONICLE_FSYNC), $CLIENTS clients for $SECS s"
start_cluster "$DIR" 9>&-
W="$DIR/work"
mkdir -p "$W" "$DIR/logs"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
createdb soak
q -f "$SOAK/setup.sql" >/dev/null 2>&1 || q -f "$SOAK/setup.sql"
PGSTATTUPLE=0
q -c "CREATE EXTENSION pgstattuple" 2>/dev/null && PGSTATTUPLE=1
PGVERSION=$(q -c "SHOW server_version")
SETTINGS=$(q -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync','synchronous_commit','shared_buffers','max_wal_size','autovacuum','autovacuum_naptime')")
# pressure prints the load averages, and the Linux PSI share of the last
# 60 s in which some task waited for a CPU / for I/O where the kernel has it.
pressure() {
  local cpu io
  cpu=$(sed -n 's/^some .*avg60=\([0-9.]*\).*/\1%/p' /proc/pressure/cpu 2>/dev/null | head -1 || true)
  io=$(sed -n 's/^some .*avg60=\([0-9.]*\).*/\1%/p' /proc/pressure/io 2>/dev/null | head -1 || true)
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg)${cpu:+, PSI cpu $cpu io $io (some, avg60)}"
}
PRESSURE_START=$(pressure)

# follower: reads ev from the last position it saw, every 0.2 s, appending
# the positions to $W/follower.txt, until $W/stop exists.
follower() {
  local last=0 got
  while [ ! -e "$W/stop" ]; do
    if got=$(q -c "SELECT position FROM chronicle.read('ev', $last, 5000)" 2>>"$W/follower.err"); then
      if [ -n "$got" ]; then echo "$got" >>"$W/follower.txt"; last=$(tail -1 <<<"$got"); fi
    fi
    sleep 0.2
  done
  echo "$last" >"$W/follower.last"
}

# answers T K KA: as-of and read answers about the fixed past time T (and
# the first K events of ev, KA of acct's).
answers() {
  q <<SQL
SELECT 'as_of small T|' || md5(string_agg(s::text, ',' ORDER BY id)) FROM chronicle.as_of(NULL::small, known_at => '$1') s;
SELECT 'as_of acct T|' || count(*) || ' ' || md5(string_agg(a::text, ',' ORDER BY id)) FROM chronicle.as_of(NULL::acct, known_at => '$1') a;
SELECT 'as_of acct key 42 T|' || coalesce((SELECT a::text FROM chronicle.as_of(NULL::acct, '$1', NULL, 42) a), 'none');
SELECT 'state s-7 T|' || coalesce(chronicle.state('ev', 's-7', known_at => '$1')::text, 'null');
SELECT 'events ev T|' || count(*) || ' ' || md5(string_agg(e.position::text || e.stream || e.version, ',' ORDER BY replay)) FROM chronicle.events('ev', known_at => '$1') e;
SELECT 'read ev $2|' || count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY position)) FROM chronicle.read('ev', 0, $2) r;
SELECT 'read acct $3|' || count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY position)) FROM chronicle.read('acct', 0, $3) r;
SQL
}

# recorder: takes T at 1/4 of the run and records the answers about it at
# half time.
recorder() {
  local k ka
  sleep "$(awk -v s="$SECS" 'BEGIN { print s / 4 }')"
  q -c "SELECT clock_timestamp()" >"$W/T"
  sleep "$(awk -v s="$SECS" 'BEGIN { print s / 4 }')"
  k=$(q -c "SELECT count(*) FROM chronicle.read('ev', 0, 100000000)")
  ka=$(q -c "SELECT count(*) FROM chronicle.read('acct', 0, 100000000)")
  answers "$(cat "$W/T")" "$k" "$ka" >"$W/answers-mid.txt" 2>"$W/recorder.err"
}

args=()
for m in "${MIX[@]}"; do args+=(-f "$SOAK/${m%@*}.sql@${m#*@}"); done
follower & BG+=($!)
recorder & BG+=($!)
# The machine may be shared: the 1-minute load average every 10 s.
( while [ ! -e "$W/stop" ]; do cut -d' ' -f1 /proc/loadavg; sleep 10; done ) >"$W/load.txt" 2>/dev/null & BG+=($!)
say "soak: pgbench running (${MIX[*]})"
set +e
LSN_START=$(q -c "SELECT pg_current_wal_lsn()")
PGAPPNAME=soak pgbench -n -c "$CLIENTS" -j 2 -T "$SECS" -r --failures-detailed -P 60 \
  -l --log-prefix="$DIR/logs/tx" "${args[@]}" soak >"$W/pgbench.out" 2>"$W/pgbench.err"
PGBENCH_RC=$?
set -e
PRESSURE_END=$(pressure)
WAL=$(q -c "SELECT pg_size_pretty(pg_current_wal_lsn() - '$LSN_START'::pg_lsn) || ' (' ||
              round((pg_current_wal_lsn() - '$LSN_START'::pg_lsn) / greatest((SELECT count(*) FROM ev) + (SELECT count(*) FROM acct_events)
                    + (SELECT count(*) FROM small_events) - 10100, 1)) || ' bytes per event written)'")
wait "${BG[1]}" 2>/dev/null || true   # the recorder
touch "$W/stop"
wait "${BG[0]}" "${BG[2]}" 2>/dev/null || true
BG=()

# The consumers catch up (batches of 10,000), then the follower's last read.
say "soak: consumers catch up"
for g in ev acct; do
  sed 's/, 100))/, 10000))/' "$SOAK/consume_$g.sql" >"$W/drain_$g.sql"
  for _ in $(seq 1 200); do
    before=$(q -c "SELECT n FROM proj WHERE grp = '$( [ $g = ev ] && echo g || echo h)'")
    q -f "$W/drain_$g.sql" >/dev/null
    [ "$(q -c "SELECT n FROM proj WHERE grp = '$( [ $g = ev ] && echo g || echo h)'")" = "$before" ] && break
  done
done
last=$(cat "$W/follower.last" 2>/dev/null || echo 0)
q -c "SELECT position FROM chronicle.read('ev', $last, 100000000)" >>"$W/follower.txt"
answers "$(cat "$W/T")" "$(sed -n 's/^read ev \([0-9]*\)|.*/\1/p' "$W/answers-mid.txt")" \
  "$(sed -n 's/^read acct \([0-9]*\)|.*/\1/p' "$W/answers-mid.txt")" >"$W/answers-end.txt"

if [ "${SOAK_BREAK:-0}" = 1 ]; then
  say "soak: SOAK_BREAK=1: deleting one event of ev with the triggers disabled"
  q -c "ALTER TABLE ev DISABLE TRIGGER USER" -c "DELETE FROM ev WHERE position = (SELECT position FROM ev WHERE stream = 's-7' ORDER BY version LIMIT 1)" \
    -c "ALTER TABLE ev ENABLE TRIGGER USER" 2>/dev/null
fi

# ---------------------------------------------------------------- numbers
say "soak: measuring"
cat "$DIR"/logs/tx.* >"$W/tx.log"
START=$(awk 'NR == 1 || $5 < s { s = $5 } END { print s }' "$W/tx.log")
# per script: count, failures, p50, p99, mean (ms), from pgbench's log
# (client tx time script epoch us [retries]); failed transactions say
# "serialization", "deadlock" or "failed" instead of a time.
latency_table() {
  awk '{ print $4, $3 }' "$W/tx.log" | sort -k1,1n -k2,2n | awk -v names="$(IFS=,; echo "${MIX[*]}")" -v secs="$SECS" '
    function flush() {
      if (!started) return
      p50 = v[int((n - 1) * 0.50) + 1]; p99 = v[int((n - 1) * 0.99) + 1]
      printf "%-16s %8d %8.1f %6d %8.2f %8.2f %8.2f %9.2f\n", nm[cur + 1], n, n / secs, fail, p50 / 1000, p99 / 1000, sum / n / 1000, v[n] / 1000
      tn += n; tf += fail
    }
    BEGIN { split(names, nm, ","); printf "%-16s %8s %8s %6s %8s %8s %8s %9s\n", "script@weight", "txns", "tps", "failed", "p50 ms", "p99 ms", "mean ms", "max ms" }
    !started || $1 != cur { flush(); started = 1; cur = $1; n = 0; fail = 0; sum = 0; delete v }
    $2 ~ /^[0-9]+$/ { v[++n] = $2; sum += $2; next }
    { fail++ }
    END { flush() }'
}
all_latency() {
  awk '$3 ~ /^[0-9]+$/ { print $3 }' "$W/tx.log" | sort -n | awk '{ v[NR] = $1; s += $1 } END {
    printf "all scripts: %d transactions, %.1f tps, p50 %.2f ms, p99 %.2f ms, mean %.2f ms, max %.2f ms\n",
      NR, NR / secs, v[int((NR - 1) * 0.5) + 1] / 1000, v[int((NR - 1) * 0.99) + 1] / 1000, s / NR / 1000, v[NR] / 1000 }' secs="$SECS"
}
# per_minute [SCRIPT_NO]: count, tps, p50, p99 per minute (per 5 s in runs
# shorter than 2 minutes), of every script or of one.
per_minute() {
  local b=$(( SECS >= 120 ? 60 : 5 ))
  awk -v s="$START" -v b="$b" -v only="${1:-}" '$3 ~ /^[0-9]+$/ && (only == "" || $4 == only) { print int(($5 - s) / b), $3 }' "$W/tx.log" | sort -k1,1n -k2,2n | awk -v b="$b" '
    function flush() { if (!started) return; printf "%5d-%-5d %8d %8.1f %8.2f %8.2f\n", cur * b, (cur + 1) * b, n, n / b, v[int((n - 1) * 0.5) + 1] / 1000, v[int((n - 1) * 0.99) + 1] / 1000 }
    BEGIN { printf "%-11s %8s %8s %8s %8s\n", "seconds", "txns", "tps", "p50 ms", "p99 ms" }
    !started || $1 != cur { flush(); started = 1; cur = $1; n = 0; delete v }
    { v[++n] = $2 }
    END { flush() }'
}
q -c "SELECT pg_stat_force_next_flush()" >/dev/null 2>&1 || true
sleep 1
q -c "ANALYZE" >/dev/null 2>&1 || true
BLOAT=$(psql -X -q -P pager=off <<SQL
SELECT c.relname AS "table",
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total,
       pg_size_pretty(pg_relation_size(c.oid)) AS heap,
       s.n_live_tup AS live, s.n_dead_tup AS dead, s.n_tup_ins AS ins, s.n_tup_upd AS upd, s.n_tup_hot_upd AS hot_upd,
       s.n_tup_del AS del, s.autovacuum_count AS autovac,
       CASE WHEN s.n_live_tup > 0 THEN round(pg_total_relation_size(c.oid)::numeric / s.n_live_tup) END AS "bytes/live row"
       $( [ $PGSTATTUPLE = 1 ] && echo ", round(t.dead_tuple_percent::numeric, 2) AS \"dead %\", round(t.free_percent::numeric, 2) AS \"free %\"" )
  FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
  $( [ $PGSTATTUPLE = 1 ] && echo "CROSS JOIN LATERAL pgstattuple(c.oid) t" )
 WHERE c.relname IN ('ev', 'acct_events', 'small_events', 'acct', 'small', 'proj', 'consumer_offsets')
 ORDER BY c.relname;
SQL
)
EVENTS=$(q -c "SELECT 'ev ' || (SELECT count(*) FROM ev) || ', acct_events ' || (SELECT count(*) FROM acct_events) || ', small_events ' || (SELECT count(*) FROM small_events)")
SERVER_ERRORS=$(grep -hoE '\] [0-9A-Z]{5} (ERROR|FATAL|PANIC)' "$DIR"/server.log | awk '{ print $2, $3 }' | sort | uniq -c | sed 's/^ *//' | paste -sd, - | sed 's/,/, /g' || true)

# ---------------------------------------------------------------- checks
CHECKS=$(
  rc_ok=0; [ "$PGBENCH_RC" = 0 ] && rc_ok=1
  [ "$rc_ok" = 1 ] && ok "pgbench ran to the end, no client aborted" || not_ok "pgbench ran to the end, no client aborted" "exit $PGBENCH_RC: $(grep -m3 -i 'error\|abort' "$W/pgbench.err" | tr '\n' ' ')"
  check "no deadlock failures" "0" "$(sed -n 's/^number of deadlock failures: \([0-9]*\).*/\1/p' "$W/pgbench.out")"
  bad=$(grep -hoE '\] [0-9A-Z]{5} (ERROR|FATAL|PANIC)' "$DIR"/server.log | grep -v '\] 40001 ERROR' | sort | uniq -c | head -5 || true)
  check "the server logged no error other than 40001" "" "$bad"
  [ -n "$bad" ] && grep -E '\] [0-9A-Z]{5} (ERROR|FATAL|PANIC)' "$DIR"/server.log | grep -v '\] 40001 ERROR' | head -3 | sed 's/^/#   /'
  tx=$(awk '$3 ~ /^[0-9]+$/' "$W/tx.log" | wc -l)
  [ "$tx" -gt 0 ] && ok "transactions went through ($tx)" || not_ok "transactions went through"
  for t in ev acct_events small_events; do
    check "$t: recorded_at never decreases in position order" "0" \
      "$(q -c "SELECT count(*) FROM (SELECT recorded_at < lag(recorded_at) OVER (ORDER BY position) AS bad FROM $t) x WHERE bad")"
    check "$t: versions are 1..n in every stream" "0" \
      "$(q -c "SELECT count(*) FROM (SELECT stream FROM $t GROUP BY stream HAVING min(version) <> 1 OR max(version) <> count(*)) x")"
  done
  check "one recorded_at per transaction (xmin), across the event tables" "0" \
    "$(q -c "SELECT count(*) FROM (SELECT x FROM (SELECT xmin::text AS x, recorded_at FROM ev UNION ALL SELECT xmin::text, recorded_at FROM acct_events
             UNION ALL SELECT xmin::text, recorded_at FROM small_events) e GROUP BY x HAVING count(DISTINCT recorded_at) > 1) y")"
  check "a different recorded_at for every transaction" "0" \
    "$(q -c "SELECT count(*) FROM (SELECT recorded_at FROM (SELECT xmin::text AS x, recorded_at FROM ev UNION ALL SELECT xmin::text, recorded_at FROM acct_events
             UNION ALL SELECT xmin::text, recorded_at FROM small_events) e GROUP BY recorded_at HAVING count(DISTINCT x) > 1) y")"
  for t in acct small; do
    check "as_of(NULL::$t, known_at => now()) equals the table" "0 0" \
      "$(q -c "SELECT (SELECT count(*) FROM (TABLE $t EXCEPT ALL SELECT * FROM chronicle.as_of(NULL::$t, known_at => now())) x) || ' ' ||
                 (SELECT count(*) FROM (SELECT * FROM chronicle.as_of(NULL::$t, known_at => now()) EXCEPT ALL TABLE $t) x)")"
    check "as_of(NULL::$t) equals the table" "0 0" \
      "$(q -c "SELECT (SELECT count(*) FROM (TABLE $t EXCEPT ALL SELECT * FROM chronicle.as_of(NULL::$t)) x) || ' ' ||
                 (SELECT count(*) FROM (SELECT * FROM chronicle.as_of(NULL::$t) EXCEPT ALL TABLE $t) x)")"
  done
  if [ -s "$W/answers-mid.txt" ] && [ "$(wc -l <"$W/answers-mid.txt")" = 7 ] && diff "$W/answers-mid.txt" "$W/answers-end.txt" >"$W/answers.diff"; then
    ok "answers about T recorded at half time are unchanged at the end (T = $(cat "$W/T"), 7 answers)"
  else
    not_ok "answers about T recorded at half time are unchanged at the end" "$(cat "$W/answers.diff" "$W/recorder.err" 2>/dev/null | head -10)"
  fi
  check "the follower's positions strictly increase" "0" "$(awk 'NR > 1 && $1 <= p { n++ } { p = $1 } END { print n + 0 }' "$W/follower.txt")"
  sort -n "$W/follower.txt" >"$W/follower.sorted"
  q -c "SELECT position FROM ev ORDER BY position" >"$W/ev.positions"
  check "read() is gapless: the follower saw exactly the events of ev" "" "$(diff "$W/follower.sorted" "$W/ev.positions" | head -5)"
  check "group g processed every event of ev exactly once" "true true true" \
    "$(q -c "SELECT (p.n = (SELECT count(*) FROM ev)) || ' ' || (p.s = (SELECT sum(position) FROM ev)) || ' ' ||
               (p.last = (SELECT max(position) FROM ev) AND p.last = (SELECT position FROM chronicle.consumer_offsets o WHERE o.grp = 'g'))
             FROM proj p WHERE grp = 'g'")"
  check "group h processed every event of acct_events exactly once" "true true true" \
    "$(q -c "SELECT (p.n = (SELECT count(*) FROM acct_events)) || ' ' || (p.s = (SELECT sum(position) FROM acct_events)) || ' ' ||
               (p.last = (SELECT max(position) FROM acct_events) AND p.last = (SELECT position FROM chronicle.consumer_offsets o WHERE o.grp = 'h'))
             FROM proj p WHERE grp = 'h'")"
  if grep -q "terminated by signal" "$DIR/server.log"; then not_ok "no backend crashed" "$(grep -m1 'terminated by signal' "$DIR/server.log")"; else ok "no backend crashed"; fi
  echo "$IT_PASSED passed, $IT_FAILED failed"
)

# ---------------------------------------------------------------- report
mkdir -p "$(dirname "$OUT")"
{
  echo "chronicle soak test (bench/soak.sh): $CLIENTS clients, ${SECS} s, pgbench -j 2, mixed scripts"
  echo "run at $(date -u '+%Y-%m-%d %H:%M UTC') on $GIT (chronicle.so md5 $SO_MD5), PostgreSQL $PGVERSION, $(nproc) CPUs"
  echo "settings: $SETTINGS"
  echo "machine at start: $PRESSURE_START"
  echo "machine at end:   $PRESSURE_END"
  echo "1-minute load average during the run (every 10 s): $(awk '{ s += $1; if ($1 > m) m = $1 } END { if (NR) printf "mean %.2f, max %.2f", s / NR, m }' "$W/load.txt")"
  [ -z "${SOAK_NOTE:-}" ] || echo "note: $SOAK_NOTE"
  echo
  echo "== Throughput and latency (pgbench --log; failed = 40001 conflicts, not retried)"
  grep -E '^(number of (transactions actually processed|failed transactions|serialization failures|deadlock failures)|tps|latency average)' "$W/pgbench.out" || true
  all_latency
  echo
  latency_table
  echo
  echo "== Over time (all scripts; seconds since the first transaction began)"
  per_minute
  echo
  for i in "${!MIX[@]}"; do
    case ${MIX[$i]} in asof_small@*)
      echo "== Over time: as_of of the whole small table (its history grows)"
      per_minute "$i"
      echo ;;
    esac
  done
  echo "== Events in the tables at the end (with 10,100 snapshot events of track): $EVENTS"
  echo "WAL written during the run: $WAL"
  echo
  echo "== Size and bloat at the end (autovacuum on; pg_stat_user_tables$( [ $PGSTATTUPLE = 1 ] && echo ', pgstattuple'))"
  echo "$BLOAT"
  echo "(upd on an event table = rows restamped at commit: chronicle rewrites a transaction's rows when"
  echo " another writer committed a later stamp or position first; each leaves a dead tuple until vacuum)"
  echo
  echo "== Server log: ${SERVER_ERRORS:-no errors}"
  echo
  echo "== Invariants"
  echo "$CHECKS"
  echo
  echo "== pgbench output (-r: per-command average latency and failures)"
  cat "$W/pgbench.out"
  grep -v '^$' "$W/pgbench.err" | grep -vc 'concurrent append\|ERROR:  40001' >/dev/null && { echo; echo "pgbench stderr (first lines):"; head -20 "$W/pgbench.err"; }
} >"$OUT"
say "soak: results in $OUT"
echo "$CHECKS"
tail -1 <<<"$CHECKS" | grep -q ' 0 failed$'
