#!/usr/bin/env bash
# bench/append.sh: the append benchmark (run as root: `bash bench/append.sh`).
#
# Starts a throwaway PostgreSQL with fsync on, and times appending events to a
# chronicle event table against a baseline: the same rows written by plain
# INSERT / COPY into plain_events, a table with the same columns, constraints
# and indexes and no chronicle (bench/plain_schema.sql). Series:
#   single  one event per transaction, pgbench -n -M prepared, 1 and 2 clients,
#           via chronicle.append() and via INSERT INTO ev (the trigger path)
#   batch   all events in one transaction (append() and INSERT … SELECT)
#   copy    all events in one COPY FROM a file
#   extra   single-event, 2 clients, synchronous_commit = off (diagnostic)
# Each is timed BENCH_RUNS times (median reported), baseline and chronicle
# runs interleaved, each on a freshly created table after a CHECKPOINT.
# Prints a table and writes it, with the raw times and diagnostics, to
# bench/results/append-latest.txt. Not part of dev/test.
#
# Knobs (environment): BENCH_EVENTS (100000), BENCH_SINGLE_EVENTS (events of
# the single-event series, default BENCH_EVENTS), BENCH_RUNS (3),
# BENCH_STREAMS (1000), BENCH_EXTRA=0 skips the synchronous_commit=off series
# and the wait-event sampling, CHRONICLE_BENCH_DIR (/tmp/chronicle-bench),
# PGPORT_START (55600).
source "$(dirname "$0")/../dev/lib.sh"
need_root
BENCH="$ROOT/bench"
DIR=${CHRONICLE_BENCH_DIR:-/tmp/chronicle-bench}
N=${BENCH_EVENTS:-100000}
NS=${BENCH_SINGLE_EVENTS:-$N}
RUNS=${BENCH_RUNS:-3}
STREAMS=${BENCH_STREAMS:-1000}
EXTRA=${BENCH_EXTRA:-1}
OUT="$BENCH/results/append-latest.txt"
DB=bench
T_START=$(date +%s)

install_deps
build_install
# Other work may install another build of chronicle while this runs (the
# library is shared by every cluster on the machine): note its checksum and
# check it before every timed run.
LIB="$("$PGBIN/pg_config" --pkglibdir)/chronicle.so"
lib_sum() { md5sum "$LIB" | cut -c1-12; }
LIB_SUM=$(lib_sum)
LIB_SUM0=$LIB_SUM
LIB_CHANGES=()
check_lib() {
  local now
  now=$(lib_sum)
  if [ "$now" != "$LIB_SUM" ]; then
    LIB_CHANGES+=("before $1: chronicle.so changed from $LIB_SUM to $now")
    echo "warning: chronicle.so was replaced by another build during the benchmark" >&2
    LIB_SUM=$now
  fi
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
command -v pgbench >/dev/null || { echo "error: pgbench not found in $PGBIN" >&2; exit 2; }

say "starting a throwaway PostgreSQL $PGVER in $DIR (fsync on)"
export CHRONICLE_FSYNC=on PGPORT_START=${PGPORT_START:-55600}
SAMPLER_PID=
cleanup() {
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  stop_cluster "$DIR"
}
trap cleanup EXIT
start_cluster "$DIR"

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
createdb "$DB"
# Larger WAL budget so no size-triggered checkpoint lands inside a timed run;
# every run starts right after an explicit CHECKPOINT instead.
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
ALTER SYSTEM SET max_wal_size = '8GB';
ALTER SYSTEM SET checkpoint_timeout = '1h';
SELECT pg_reload_conf() AS reloaded \gset
CREATE EXTENSION chronicle;
SQL
PGVERSION=$("${PSQL[@]}" -At -c "SHOW server_version")
SETTINGS=$("${PSQL[@]}" -At -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync','synchronous_commit','wal_sync_method','shared_buffers','full_page_writes','max_wal_size','autovacuum')")

# now_s prints the wall clock in seconds with nanoseconds.
now_s() { date +%s.%N; }

# calc EXPR prints EXPR evaluated by awk (floating point).
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }

# fresh_table TABLE: a fresh, empty table (plain_events or ev), then a checkpoint.
fresh_table() {
  case $1 in
    plain) "${PSQL[@]}" -f "$BENCH/plain_schema.sql" ;;
    ev) "${PSQL[@]}" -f "$BENCH/ev_schema.sql" >/dev/null ;;
  esac
  "${PSQL[@]}" -c "CHECKPOINT"
}

# count_rows TABLE prints the table's row count.
count_rows() { "${PSQL[@]}" -At -c "SELECT count(*) FROM $1"; }

# restamps prints how many rows of ev were restamped (UPDATEd at commit by
# chronicle) according to the statistics, waiting until they count all
# inserts of the run (backends report when they exit).
restamps() {
  local want=$1 i ins upd
  for i in $(seq 1 50); do
    read -r ins upd < <("${PSQL[@]}" -At -F ' ' -c \
      "SELECT n_tup_ins, n_tup_upd FROM pg_stat_user_tables WHERE relname = 'ev'") || true
    [ "${ins:-0}" -ge "$want" ] && break
    sleep 0.1
  done
  echo "${upd:-?}"
}

declare -A TIMES TPS RESTAMPS
RAW=()

# pressure prints the share of the last 10 s in which some task waited for a
# CPU and for I/O (Linux PSI): a hint of interference from other work.
pressure() {
  local cpu io
  cpu=$(sed -n 's/^some avg10=\([0-9.]*\).*/\1%/p' /proc/pressure/cpu 2>/dev/null || true)
  io=$(sed -n 's/^some avg10=\([0-9.]*\).*/\1%/p' /proc/pressure/io 2>/dev/null || true)
  echo "cpu ${cpu:-?} io ${io:-?}"
}

# record KEY SECONDS [TPS] appends a run's result.
record() {
  TIMES[$1]+="$2 "
  [ -n "${3:-}" ] && TPS[$1]+="$3 "
  RAW+=("$(printf '%-26s %9.3f s%-14s pressure: %s' "$1" "$2" "${3:+  ($3 tps)}" "$(pressure)")")
}

# run_single KEY TABLE SCRIPT CLIENTS [PGOPTIONS]: NS single-event
# transactions spread over CLIENTS pgbench clients.
run_single() {
  local key=$1 table=$2 script=$3 clients=$4 opts=${5:-}
  local per=$((NS / clients)) t0 t1 log tps n
  check_lib "$key"
  fresh_table "$table"
  log=$(mktemp)
  t0=$(now_s)
  if ! PGOPTIONS="$opts" PGAPPNAME=bench pgbench -n -M prepared -c "$clients" -j "$clients" -t "$per" \
      -D i=0 -D streams="$STREAMS" -D clients="$clients" -f "$BENCH/$script" "$DB" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  t1=$(now_s)
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log" | head -1)
  if grep -q "failed transactions: [1-9]" "$log"; then cat "$log" >&2; rm -f "$log"; exit 1; fi
  rm -f "$log"
  n=$(count_rows "$( [ "$table" = plain ] && echo plain_events || echo ev)")
  [ "$n" = $((per * clients)) ] || { echo "error: $key wrote $n rows, expected $((per * clients))" >&2; exit 1; }
  record "$key" "$(calc "$t1 - $t0")" "${tps%.*}"
  if [ "$table" = ev ]; then RESTAMPS[$key]+="$(restamps "$n") "; fi
}

# run_psql KEY TABLE FILE: one psql script (one statement, one transaction).
run_psql() {
  local key=$1 table=$2 file=$3 ms n
  check_lib "$key"
  fresh_table "$table"
  # psql's \timing: the statement and its commit (autocommit), without the
  # connection set-up.
  ms=$("${PSQL[@]}" -v n="$N" -v plain_file="$DIR/plain.tsv" -v ev_file="$DIR/ev.tsv" \
    -c '\timing on' -f "$BENCH/$file" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
  [ -n "$ms" ] || { echo "error: $key: no timing from psql" >&2; exit 1; }
  n=$(count_rows "$( [ "$table" = plain ] && echo plain_events || echo ev)")
  [ "$n" = "$N" ] || { echo "error: $key wrote $n rows, expected $N" >&2; exit 1; }
  record "$key" "$(calc "$ms / 1000")"
}

# median prints the median of its arguments.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

say "writing the COPY input files ($N rows)"
chown postgres: "$DIR"
"${PSQL[@]}" -v n="$N" -v plain_file="$DIR/plain.tsv" -v ev_file="$DIR/ev.tsv" -f "$BENCH/copy_files.sql"

for r in $(seq 1 "$RUNS"); do
  say "run $r/$RUNS: single-event transactions, $NS events, 1 and 2 clients"
  for c in 1 2; do
    run_single "single.c$c.plain" plain single_plain.sql "$c"
    run_single "single.c$c.append" ev single_append.sql "$c"
    run_single "single.c$c.insert" ev single_insert.sql "$c"
  done
  say "run $r/$RUNS: one transaction of $N events, and COPY"
  run_psql batch.plain plain batch_plain.sql
  run_psql batch.append ev batch_append.sql
  run_psql batch.insert ev batch_insert.sql
  run_psql copy.plain plain copy_plain.sql
  run_psql copy.ev ev copy_ev.sql
  if [ "$EXTRA" = 1 ]; then
    say "run $r/$RUNS: extra: 2 clients with synchronous_commit = off"
    run_single "async.c2.plain" plain single_plain.sql 2 "-c synchronous_commit=off"
    run_single "async.c2.append" ev single_append.sql 2 "-c synchronous_commit=off"
  fi
done

WAITS=""
if [ "$EXTRA" = 1 ]; then
  # An extra, untimed run of chronicle.append with 2 clients while a third
  # session samples the wait events of the pgbench backends, and the same for
  # the baseline (the sampler takes some CPU: these runs are not in the table).
  for pair in "plain single_plain.sql" "ev single_append.sql" "ev single_insert.sql"; do
    read -r table script <<<"$pair"
    say "diagnostic: wait events of 2 clients, $script"
    fresh_table "$table"
    "${PSQL[@]}" -v app=bench -v secs=600 -f "$BENCH/sample_waits.sql" >"$DIR/waits.out" 2>&1 &
    SAMPLER_PID=$!
    PGAPPNAME=bench pgbench -n -M prepared -c 2 -j 2 -t $((NS / 2)) -D i=0 -D streams="$STREAMS" \
      -D clients=2 -f "$BENCH/$script" "$DB" >/dev/null 2>&1
    wait "$SAMPLER_PID" || true
    SAMPLER_PID=
    WAITS+="wait events of the 2 pgbench backends, $script ($NS events), % of samples:"$'\n'
    WAITS+="$(sed -e '/^$/d' -e '/^(/d' "$DIR/waits.out")"$'\n\n'
  done
fi

# ---- report -----------------------------------------------------------
# row LABEL BASEKEY CHRONKEY GOAL: one line of the table (GOAL "-" = none).
row() {
  local label=$1 bk=$2 ck=$3 goal=$4 b c ratio met bt ct
  # shellcheck disable=SC2086
  b=$(median ${TIMES[$bk]})
  # shellcheck disable=SC2086
  c=$(median ${TIMES[$ck]})
  ratio=$(calc "$c / $b")
  bt="" ct=""
  # shellcheck disable=SC2086
  [ -n "${TPS[$bk]:-}" ] && bt=" ($(median ${TPS[$bk]} | cut -d. -f1) tps)"
  # shellcheck disable=SC2086
  [ -n "${TPS[$ck]:-}" ] && ct=" ($(median ${TPS[$ck]} | cut -d. -f1) tps)"
  # the runs' own ratios (each chronicle run against the baseline run of the
  # same round, which ran minutes apart at most)
  local -a bs cs
  read -r -a bs <<<"${TIMES[$bk]}"
  read -r -a cs <<<"${TIMES[$ck]}"
  local i per=""
  for i in "${!bs[@]}"; do per+="$(printf '%.2f ' "$(calc "${cs[$i]} / ${bs[$i]}")")"; done
  if [ "$goal" = - ]; then met="-"
  elif awk "BEGIN { exit !($ratio <= $goal) }"; then met="yes"
  else met="NO ($(printf '%.2f' "$(calc "$ratio / $goal")")x the goal)"
  fi
  printf '%-40s %9.3f s%-13s %9.3f s%-13s %6.2fx  %-5s %-20s %s\n' "$label" "$b" "$bt" "$c" "$ct" "$ratio" \
    "$( [ "$goal" = - ] && echo - || echo "<=$goal")" "$met" "$per"
}

{
  echo "chronicle append benchmark  ($(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src sql 2>/dev/null || echo '+local changes'))"
  echo "PostgreSQL $PGVERSION, $(nproc) CPUs, $SETTINGS"
  echo "chronicle.so md5 $LIB_SUM0 at start; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "(the machine may be shared: 'pressure' in the raw runs is the share of the last 10 s in which tasks waited for a CPU / for I/O)"
  if [ ${#LIB_CHANGES[@]} -gt 0 ]; then
    echo "WARNING: another build of chronicle was installed during the benchmark; the runs mix builds:"
    printf '  %s\n' "${LIB_CHANGES[@]}"
  fi
  echo "single-event series: $NS events; batch and COPY: $N events; $STREAMS streams; median of $RUNS runs"
  echo "time = wall-clock seconds of the pgbench run / psql \\timing of the statement; ratio = chronicle / baseline (lower is better)"
  echo
  printf '%-40s %-24s %-24s %7s  %-5s %-20s %s\n' "series" "baseline (plain_events)" "chronicle (ev)" "ratio" "goal" "met?" "ratio of each run"
  row "single, 1 client, chronicle.append()" single.c1.plain single.c1.append 1.3
  row "single, 1 client, INSERT INTO ev" single.c1.plain single.c1.insert 1.3
  row "single, 2 clients, chronicle.append()" single.c2.plain single.c2.append 1.3
  row "single, 2 clients, INSERT INTO ev" single.c2.plain single.c2.insert 1.3
  row "batch, 1 txn, chronicle.append()" batch.plain batch.append 2
  row "batch, 1 txn, INSERT INTO ev SELECT" batch.plain batch.insert 2
  row "COPY, 1 txn" copy.plain copy.ev 2
  if [ "$EXTRA" = 1 ]; then
    row "extra: 2 clients, sync_commit=off, append" async.c2.plain async.c2.append -
  fi
  echo
  echo "rows restamped at commit (chronicle UPDATEs its rows when another transaction committed a later position first), per run:"
  for k in "${!RESTAMPS[@]}"; do printf '  %-26s %s\n' "$k" "${RESTAMPS[$k]}"; done | sort
  echo
  [ -n "$WAITS" ] && printf '%s' "$WAITS"
  echo "raw runs, in order:"
  printf '  %s\n' "${RAW[@]}"
  echo
  echo "total benchmark time: $(( $(date +%s) - T_START )) s"
} | tee "$OUT"
say "results written to ${OUT#"$ROOT"/}"
