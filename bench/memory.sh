#!/usr/bin/env bash
# bench/memory.sh: the backend's peak memory during whole-table as_of, diff
# and restore over a long tracked-table history (run as root:
# `bash bench/memory.sh`). Not part of dev/test.
#
# A tracked table t of BENCH_ROWS (20,000) live rows (id, v, pad) gets its
# history from captured whole-table UPDATEs that set only v, so that every
# row's fold reaches back to its snapshot event (the worst case of the
# backward fold). It is measured at two history lengths on the same live
# rows: after ~BENCH_EVENTS_SMALL (250,000) events, then, after more
# UPDATEs, ~BENCH_EVENTS (1,000,000). A second table t4 with 4x the live
# rows and ~BENCH_EVENTS events shows the growth with live rows.
#
# Each query runs in a fresh connection (psql, FETCH_COUNT=1000 so the
# client does not hold the rows); a watcher samples /proc/<backend
# pid>/status every 10 ms and keeps the peak of RssAnon (the backend's
# private memory: palloc'd memory contexts and the C++ fold's malloc'd
# memory alike; shared buffers are not in it) and the final VmHWM (peak
# resident set, which also counts the shared buffers the backend touched).
# Reported: the peak RssAnon minus the RssAnon of the idle connection just
# before the query ("grew by"), VmHWM, and the duration. Baseline: a plain
# SELECT * FROM t. Queries: as_of(NULL::t) (whole table, now), as_of at the
# middle of the history, diff(from the middle to now), restore(middle, into
# a new table) and restore(middle) in place (rolled back). work_mem stays
# at its default (4MB): result sets beyond it spill to disk.
#
# Writes the table to bench/results/memory-latest.txt.
# Knobs: BENCH_ROWS (20000), BENCH_EVENTS_SMALL (250000), BENCH_EVENTS
# (1000000), CHRONICLE_BENCH_DIR (/tmp/chronicle-h11-memory), PGPORT_START
# (64000), BENCH_OUT.
source "$(dirname "$0")/../dev/lib.sh"
need_root
export PGTZ=UTC
DIR=${CHRONICLE_BENCH_DIR:-/tmp/chronicle-h11-memory}
ROWS=${BENCH_ROWS:-20000}
SMALL=${BENCH_EVENTS_SMALL:-250000}
BIG=${BENCH_EVENTS:-1000000}
OUT=${BENCH_OUT:-$ROOT/bench/results/memory-latest.txt}
export PGPORT_START=${PGPORT_START:-64000}
WORK=$(mktemp -d)
chmod 777 "$WORK"
trap 'stop_cluster "$DIR"; rm -rf "$WORK"' EXIT
T_START=$(date +%s)

start_cluster "$DIR"
createdb bench
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d bench "$@"; }
q -c "CREATE EXTENSION chronicle"
SETTINGS=$(q -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name)
  FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'jit')")

# grow TABLE EVENTS: captured whole-table UPDATEs of v until TABLE's event
# table holds at least EVENTS events.
grow() {
  local tbl=$1 want=$2 have rows
  rows=$(q -c "SELECT count(*) FROM $tbl")
  have=$(q -c "SELECT count(*) FROM ${tbl}_events")
  local n=$(((want - have + rows - 1) / rows))
  [ "$n" -gt 0 ] || return 0
  q -c "SET client_min_messages = warning" -c "DO \$\$ BEGIN FOR i IN 1..$n LOOP UPDATE $tbl SET v = v + 1; END LOOP; END \$\$"
}

# make_table TABLE ROWS: a tracked table of ROWS rows.
make_table() {
  q -c "SET client_min_messages = warning" -c "CREATE TABLE $1 (id int PRIMARY KEY, v int NOT NULL, pad text)" \
    -c "INSERT INTO $1 SELECT i, 0, md5(i::text) FROM generate_series(1, $2) i" -c "SELECT chronicle.track('$1')" >/dev/null
}

# measure LABEL SQL...: runs the statements in a fresh connection and
# prints "LABEL|grew_kB|vmhwm_kB|ms|base_kB".
measure() {
  local label=$1
  shift
  local pidfile=$WORK/pid samples=$WORK/samples
  rm -f "$pidfile" "$samples"
  {
    echo "\\o $pidfile"
    echo "SELECT pg_backend_pid();"
    echo "\\o /dev/null"
    echo "SELECT pg_sleep(0.3);"  # the watcher starts
    echo "\\set FETCH_COUNT 1000"
    echo "SELECT clock_timestamp() AS t0 \\gset"
    for s in "$@"; do echo "$s"; done
    echo "\\o $WORK/ms"
    echo "SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000);"
    echo "\\o /dev/null"
    echo "SELECT pg_sleep(0.3);"  # the watcher's last samples
  } >"$WORK/script.sql"
  psql -X -q -At -v ON_ERROR_STOP=1 -d bench -f "$WORK/script.sql" &
  local client=$!
  while [ ! -s "$pidfile" ]; do sleep 0.01; done
  local pid
  pid=$(head -1 "$pidfile")
  # Sample RssAnon (kB) and VmHWM until the backend exits.
  local base="" peak=0 hwm=0 a h
  while [ -e "/proc/$pid/status" ]; do
    a="" h=""
    while read -r k v _; do
      case $k in RssAnon:) a=$v ;; VmHWM:) h=$v ;; esac
    done <"/proc/$pid/status" 2>/dev/null || break
    [ -n "$a" ] || break
    [ -n "$base" ] || base=$a
    [ "$a" -gt "$peak" ] && peak=$a
    [ -n "$h" ] && hwm=$h
    sleep 0.01
  done
  wait "$client"
  echo "$label|$((peak - base))|$hwm|$(head -1 "$WORK/ms")|$base"
}

# run_set TABLE EVENTS_LABEL: the queries over TABLE.
run_set() {
  local t=$1 hist
  hist=$(q -c "SELECT count(*) FROM ${t}_events")
  local mid
  mid=$(q -c "SELECT recorded_at FROM ${t}_events ORDER BY position OFFSET (SELECT count(*) / 2 FROM ${t}_events) LIMIT 1")
  local rows
  rows=$(q -c "SELECT count(*) FROM $t")
  q -c "VACUUM ANALYZE $t" -c "VACUUM ANALYZE ${t}_events"
  local tag="$t: $rows rows, $hist events"
  measure "$tag|SELECT * FROM $t (baseline)" "SELECT * FROM $t;"
  measure "$tag|as_of(NULL::$t)" "SELECT * FROM chronicle.as_of(NULL::$t);"
  measure "$tag|as_of(NULL::$t, known_at => middle)" "SELECT * FROM chronicle.as_of(NULL::$t, known_at => '$mid');"
  measure "$tag|diff(NULL::$t, from_known => middle)" "SELECT * FROM chronicle.diff(NULL::$t, from_known => '$mid');"
  measure "$tag|restore('$t', middle, into => new table)" \
    "SELECT chronicle.restore('$t', known_at => '$mid', \"into\" => '${t}_restored');"
  q -c "DROP TABLE ${t}_restored"
  measure "$tag|restore('$t', middle) in place, rolled back" \
    "BEGIN;" "SET LOCAL client_min_messages = warning;" "SELECT chronicle.restore('$t', known_at => '$mid');" "ROLLBACK;"
}

RESULTS=$WORK/results
: >"$RESULTS"
say "t: $ROWS rows, ~$SMALL events"
make_table t "$ROWS"
grow t "$SMALL"
run_set t | tee -a "$RESULTS"
say "t: $ROWS rows, ~$BIG events"
grow t "$BIG"
run_set t | tee -a "$RESULTS"
say "t4: $((4 * ROWS)) rows, ~$BIG events"
make_table t4 $((4 * ROWS))
grow t4 "$BIG"
run_set t4 | tee -a "$RESULTS"

{
  echo "# bench/memory.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), chronicle $(git -C "$ROOT" rev-parse --short HEAD)"
  echo "# PostgreSQL $(q -c 'SHOW server_version'); $SETTINGS; $(nproc) cores, shared machine; $(($(date +%s) - T_START)) s"
  echo "# grew = peak RssAnon of the backend during the statement minus RssAnon of the idle connection before it"
  echo "# (10 ms sampling of /proc/<pid>/status); VmHWM = peak resident set incl. touched shared buffers."
  echo
  printf '%-34s %-52s %10s %10s %9s\n' "table" "query" "grew MB" "VmHWM MB" "ms"
  awk -F'|' '{ printf "%-34s %-52s %10.1f %10.1f %9s\n", $1, $2, $3 / 1024, $4 / 1024, $5 }' "$RESULTS"
  echo
  echo "# idle connection RssAnon before the statement: $(cut -d'|' -f6 "$RESULTS" | sort -n | head -1)-$(cut -d'|' -f6 "$RESULTS" | sort -n | tail -1) kB"
} | tee "$OUT"
