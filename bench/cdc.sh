#!/usr/bin/env bash
# bench/cdc.sh: the CDC benchmark (run as root: `bash bench/cdc.sh`).
#
# items(id bigint primary key, name text, qty int, price numeric,
# updated_at timestamptz) with 100k rows, in one database per variant:
#   plain      the table alone (the baseline)
#   chronicle  SELECT chronicle.track('items')
#   periods    the periods extension with system versioning
#              (add_system_time_period + add_system_versioning; items_history
#              gets an index on id)
#   audit      a PL/pgSQL AFTER ROW trigger inserting (op, to_jsonb(OLD),
#              to_jsonb(NEW), now()) into audit(id bigserial primary key, …)
#   mirror     DIAGNOSTIC only (UPDATE series): chronicle's event rows written
#              by a PL/pgSQL trigger, without chronicle's machinery
#              (bench/cdc/setup_mirror.sql)
#   raw        DIAGNOSTIC only (UPDATE series): the same event rows written
#              by the UPDATE statement itself, no trigger at all: the floor
#              for anything that writes such a row (bench/cdc/setup_raw.sql)
# Series:
#   single-row UPDATE / INSERT / DELETE transactions, pgbench -M prepared -t,
#     1 and 2 clients, synchronous_commit on, then off (PGOPTIONS)
#   one UPDATE statement of 10,000 rows (psql \timing, includes the commit)
#   on fresh databases: 10 rounds of updating every row (one transaction
#     each; T is taken after round 5), then the whole table as of T
#     (chronicle.as_of vs periods' items__as_of) and one row as of T
#     (chronicle.as_of … WHERE id = 42, chronicle.history(NULL::items, 42),
#     periods' items__as_of(T) WHERE id = 42)
# The server runs from a private snapshot of the installation taken after
# build_install, so a chronicle reinstalled meanwhile does not reach it.
# Every timed write run starts on a vacuumed database right after a
# CHECKPOINT; the variants' order rotates from run to run. Ratios are
# time per transaction (or statement) against the plain table of the same
# run, then the median over the runs. Prints a table and writes it, with
# diagnostics and the raw runs, to bench/results/cdc-latest.txt.
# A backend crash during a single-row run is reported in the results and
# that run repeated once. Not part of dev/test.
#
# Knobs (environment): BENCH_ROWS (100000), BENCH_RUNS (3), BENCH_TXNS_ON
# (transactions per pgbench run with synchronous_commit on, 30000),
# BENCH_TXNS_OFF (60000; both at most BENCH_ROWS), BENCH_BATCH_ROWS (10000),
# BENCH_BATCH_RUNS (5), BENCH_ROUNDS (10), BENCH_ROW_TXNS (pgbench
# transactions per one-row as-of run, 300), BENCH_DIAG=0 skips the mirror
# and raw variants and the diagnostics, CHRONICLE_BENCH_DIR (/tmp/chronicle-cdc-bench),
# PGPORT_START (56000).
source "$(dirname "$0")/../dev/lib.sh"
need_root
BENCH="$ROOT/bench"
CDC="$BENCH/cdc"
DIR=${CHRONICLE_BENCH_DIR:-/tmp/chronicle-cdc-bench}
ROWS=${BENCH_ROWS:-100000}
RUNS=${BENCH_RUNS:-3}
TX_ON=${BENCH_TXNS_ON:-30000}
TX_OFF=${BENCH_TXNS_OFF:-60000}
BATCH=${BENCH_BATCH_ROWS:-10000}
BATCH_RUNS=${BENCH_BATCH_RUNS:-5}
ROUNDS=${BENCH_ROUNDS:-10}
ROW_TXNS=${BENCH_ROW_TXNS:-300}
DIAG=${BENCH_DIAG:-1}
OUT="$BENCH/results/cdc-latest.txt"
VARIANTS=(plain chronicle periods audit)
T_START=$(date +%s)

# One run at a time per directory: a second start_cluster on DIR would stop
# and wipe the running benchmark's cluster.
exec 9>"$DIR.lock"
flock -n 9 || { echo "error: another bench/cdc.sh is running on $DIR (lock $DIR.lock)" >&2; exit 2; }

for tx in "$TX_ON" "$TX_OFF"; do
  [ "$tx" -le "$ROWS" ] || { echo "error: a delete run of $tx transactions needs at least $tx rows" >&2; exit 2; }
done

install_deps
if ! dpkg-query -W -f='${Status}' "postgresql-$PGVER-periods" 2>/dev/null | grep -q "install ok installed"; then
  say "installing postgresql-$PGVER-periods"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "postgresql-$PGVER-periods" >/dev/null
fi
build_install
command -v pgbench >/dev/null || { echo "error: pgbench not found in $PGBIN" >&2; exit 2; }
GIT="git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src sql 2>/dev/null || echo '+local changes')"

# The benchmark's server runs from a private snapshot of the installation
# taken now: the binaries copied, every library and extension file linked to
# the installed one, except chronicle's, which are copied. PostgreSQL finds
# its lib and share directories relative to its binary, so a chronicle
# reinstalled while the benchmark runs (dev/test, another worktree) does not
# reach it (new backends would otherwise load the new chronicle.so into
# databases made by the old one).
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
}
snapshot_install
SO_MD5=$(md5sum "$INST/usr/lib/postgresql/$PGVER/lib/chronicle.so" | cut -c1-12)

say "starting a throwaway PostgreSQL $PGVER in $DIR (fsync on)"
export CHRONICLE_FSYNC=on PGPORT_START=${PGPORT_START:-56000}
SAMPLER_PID=
LOAD_PID=
cleanup() {
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  if [ -n "$LOAD_PID" ]; then kill "$LOAD_PID" 2>/dev/null || true; fi
  stop_cluster "$DIR"
  rm -rf "$INST" "$DIR/data"   # several GB; server.log stays
}
trap cleanup EXIT
start_cluster "$DIR" 9>&-   # the server must not inherit the lock
# The machine may be shared: sample the 1-minute load average every 10 s
# (the report prints its mean and maximum; 2 CPUs, and the benchmark itself
# keeps one or two busy).
( while sleep 10; do cut -d' ' -f1 /proc/loadavg; done ) >"$DIR/load.txt" 2>/dev/null &
LOAD_PID=$!

PSQL=(psql -X -q -v ON_ERROR_STOP=1)
# Larger WAL budget so no size-triggered checkpoint lands inside a timed run;
# every run starts right after an explicit CHECKPOINT instead.
"${PSQL[@]}" -d postgres -o /dev/null <<'SQL'
ALTER SYSTEM SET max_wal_size = '8GB';
ALTER SYSTEM SET checkpoint_timeout = '1h';
SELECT pg_reload_conf();
SQL
PGVERSION=$("${PSQL[@]}" -d postgres -At -c "SHOW server_version")
SETTINGS=$("${PSQL[@]}" -d postgres -At -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync','synchronous_commit','wal_sync_method','shared_buffers','full_page_writes','max_wal_size','autovacuum','work_mem')")
PERIODS_VERSION=$(dpkg-query -W -f='${Version}' "postgresql-$PGVER-periods")

# calc EXPR prints EXPR evaluated by awk (floating point).
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }

# median prints the median of its arguments.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) exit; if (NR % 2) printf "%.6f", v[(NR + 1) / 2]; else printf "%.6f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# setup DB VARIANT: a database with items loaded and the variant set up.
setup() {
  local db=$1 v=$2
  createdb "$db"
  PGOPTIONS="-c client_min_messages=warning" \
    "${PSQL[@]}" -d "$db" -v rows="$ROWS" -f "$CDC/items.sql" -f "$CDC/setup_$v.sql" >/dev/null
  "${PSQL[@]}" -d "$db" -c "VACUUM ANALYZE"
}

# prepare DB: vacuum (so autovacuum has nothing to do during the run) and
# checkpoint (so every run starts with the same full-page-write debt).
prepare() {
  "${PSQL[@]}" -d "$1" -c "VACUUM"
  "${PSQL[@]}" -d "$1" -c "CHECKPOINT"
}

# sql_ms DB PSQL-ARGS…: runs one statement (-c SQL or -f FILE) with \timing;
# sets MS to its time in milliseconds (the server round trip, including the
# commit) and OUTPUT to psql's output.
sql_ms() {
  local db=$1; shift
  OUTPUT=$(psql -X -v ON_ERROR_STOP=1 -d "$db" -c '\timing on' "$@" 2>&1) || { echo "$OUTPUT" >&2; exit 1; }
  MS=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$OUTPUT" | tail -1)
  [ -n "$MS" ] || { echo "error: no timing in: $OUTPUT" >&2; exit 1; }
}

declare -A VAL       # key -> values of the runs, in run order
RAW=()

# note KEY VALUE UNIT: appends a run's result.
note() {
  VAL[$1]+="$2 "
  RAW+=("$(printf '%-34s %12.3f %s' "$1" "$2" "$3")")
}

# pgbench_run DB SCRIPT CLIENTS TXNS PGOPTIONS [-D …]: runs pgbench, checks
# that every transaction went through, prints the tps.
pgbench_run() {
  local db=$1 script=$2 clients=$3 txns=$4 opts=$5; shift 5
  local log tps
  log=$(mktemp)
  if ! PGOPTIONS="$opts" PGAPPNAME=cdcbench pgbench -n -M prepared -c "$clients" -j "$clients" \
      -t $((txns / clients)) -D rows="$ROWS" "$@" -f "$CDC/$script" "$db" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  if grep -q "failed transactions: [1-9]" "$log" || \
     ! grep -q "actually processed: $(( (txns / clients) * clients ))/" "$log"; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log" | head -1)
  rm -f "$log"
  echo "$tps"
}

# count DB WHERE: rows of items matching WHERE.
count() { "${PSQL[@]}" -d "$1" -At -c "SELECT count(*) FROM items WHERE $2"; }

# single MODE CLIENTS OP VARIANT: one timed single-row run.
single() {
  local mode=$1 c=$2 op=$3 v=$4 txns opts tps before after extra attempt lsn wal script=$3.sql
  if [ "$mode" = on ]; then txns=$TX_ON; opts=""; else txns=$TX_OFF; opts="-c synchronous_commit=off"; fi
  txns=$(( (txns / c) * c ))
  extra=(-D nc="$c")
  [ "$op" = delete ] && extra+=(-D k=0)
  [ "$v" = raw ] && script=${op}_raw.sql
  for attempt in 1 2; do
    prepare "$v"
    case $op in
      insert) before=$(count "$v" "id > $ROWS") ;;
      delete) before=$(count "$v" "id <= $ROWS") ;;
    esac
    lsn=$("${PSQL[@]}" -d postgres -At -c "SELECT pg_current_wal_insert_lsn()")
    if tps=$(pgbench_run "$v" "$script" "$c" "$txns" "$opts" "${extra[@]}"); then break; fi
    # A server crash is reported and the run repeated once; anything else
    # stops the benchmark.
    crashed "single.$mode.c$c.$op.$v" || exit 1
    [ "$attempt" = 1 ] || { echo "error: the server crashed twice in a row" >&2; exit 1; }
    [ "$op" = delete ] && "${PSQL[@]}" -d "$v" -v rows="$ROWS" -f "$CDC/refill.sql"
  done
  case $op in
    insert) after=$(count "$v" "id > $ROWS")
            [ "$after" = $((before + txns)) ] || { echo "error: $v inserted $((after - before)) rows, expected $txns" >&2; exit 1; } ;;
    delete) after=$(count "$v" "id <= $ROWS")
            if [ "$before" != "$ROWS" ] || [ "$after" != $((ROWS - txns)) ]; then
              echo "error: $v: $before rows before the delete run, $after after, expected $ROWS and $((ROWS - txns))" >&2; exit 1
            fi
            "${PSQL[@]}" -d "$v" -v rows="$ROWS" -f "$CDC/refill.sql" ;;
  esac
  wal=$("${PSQL[@]}" -d postgres -At -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$lsn') / $txns")
  note "single.$mode.c$c.$op.$v" "$tps" "tps"
  note "wal.$mode.c$c.$op.$v" "$wal" "WAL bytes/txn"
}

# crashed KEY: when the server log shows a backend killed by a signal since
# the last check, records it, waits for the server to be back and succeeds;
# fails otherwise. (No core file: start_cluster's runuser resets the core
# size limit to 0.)
CRASHES=""
CRASH_SEEN=0
crashed() {
  local n i
  n=$(grep -c "terminated by signal" "$DIR/server.log" || true)
  [ "$n" -gt "$CRASH_SEEN" ] || return 1
  CRASH_SEEN=$n
  CRASHES+="  during $1 (run repeated):"$'\n'
  CRASHES+="$(grep -A1 "terminated by signal" "$DIR/server.log" | tail -2 | sed 's/^/    /')"$'\n'
  for i in $(seq 1 60); do pg_isready -q && break; sleep 1; done
  echo "warning: the server crashed during $1; repeating the run" >&2
  return 0
}

# rotated R ITEMS…: ITEMS rotated left by R.
rotated() {
  local r=$1; shift
  local items=("$@") n=$# i
  for ((i = 0; i < n; i++)); do echo "${items[$(((i + r) % n))]}"; done
}

# ---- setup ------------------------------------------------------------
DIAGS=()
[ "$DIAG" = 1 ] && DIAGS=(mirror raw)
ALL=("${VARIANTS[@]}" "${DIAGS[@]}")
say "loading $ROWS rows into one database per variant: ${ALL[*]}"
for v in "${ALL[@]}"; do setup "$v" "$v"; done
# Which chronicle.so a backend of the chronicle database has loaded.
LOADED=$("${PSQL[@]}" -d chronicle -At <<'SQL'
SELECT count(*) FROM chronicle.as_of(NULL::items) WHERE id = 0;
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
\! grep -o "/[^ ]*chronicle[^ ]*\.so" /proc/$PID/maps | sort -u
SQL
)
LOADED=$(tail -1 <<<"$LOADED")
[ "$LOADED" = "$INST/usr/lib/postgresql/$PGVER/lib/chronicle.so" ] || {
  echo "error: the server loaded ${LOADED:-no chronicle.so}, not the snapshot in $INST" >&2; exit 1; }

# ---- single-row transactions ------------------------------------------
for mode in on off; do
  for c in 1 2; do
    for op in update insert delete; do
      vars=("${VARIANTS[@]}")
      [ "$op" = update ] && vars+=("${DIAGS[@]}")
      say "single-row ${op^^}, $c client(s), synchronous_commit $mode: $RUNS runs of $([ "$mode" = on ] && echo "$TX_ON" || echo "$TX_OFF") transactions"
      for r in $(seq 1 "$RUNS"); do
        for v in $(rotated "$r" "${vars[@]}"); do single "$mode" "$c" "$op" "$v"; done
      done
    done
  done
done

# ---- diagnostic: WAL records per single-row UPDATE ---------------------
# wal_records V: WAL_TXNS single-row UPDATEs (1 client, synchronous_commit
# on) and pg_waldump --stats of the WAL they wrote, per transaction and
# record type (record bytes and full-page image bytes apart).
WAL_TXNS=5000
WALREC=""
wal_records() {
  local v=$1 script=update.sql a b
  [ "$v" = raw ] && script=update_raw.sql
  "${PSQL[@]}" -d "$v" -c "VACUUM"
  a=$("${PSQL[@]}" -d postgres -At -c "SELECT pg_current_wal_insert_lsn()")
  pgbench_run "$v" "$script" 1 "$WAL_TXNS" "" -D nc=1 >/dev/null
  b=$("${PSQL[@]}" -d postgres -At -c "SELECT pg_current_wal_insert_lsn()")
  WALREC+="  $v: $("${PSQL[@]}" -d postgres -At -c "SELECT round(pg_wal_lsn_diff('$b', '$a') / $WAL_TXNS)") bytes/txn"$'\n'
  WALREC+="$("$PGBIN/pg_waldump" -p "$DIR/data/pg_wal" -s "$a" -e "$b" --stats=record 2>/dev/null | awk -v n="$WAL_TXNS" '
    { line = $0; gsub(/[()]/, " ", line); split(line, f, " ") }
    f[1] ~ /\// && f[2] + 0 > 0 && f[2] / n >= 0.05 {
      printf "    %-24s %5.2f/txn %6.0f record bytes/txn %6.0f FPI bytes/txn\n", f[1], f[2] / n, f[4] / n, f[6] / n }')"$'\n'
}
if [ "$DIAG" = 1 ]; then
  say "diagnostic: WAL records of $WAL_TXNS single-row UPDATEs (pg_waldump)"
  for v in plain raw chronicle; do wal_records "$v"; done
fi

# ---- one UPDATE of BATCH rows -----------------------------------------
vars=("${VARIANTS[@]}" "${DIAGS[@]}")
say "one UPDATE of $BATCH rows: $BATCH_RUNS runs"
# batch_sql VARIANT LO: the UPDATE of ids LO .. LO+BATCH-1 (for raw, with the
# event rows written by the same statement, as bench/cdc/update_raw.sql).
batch_sql() {
  local where="id BETWEEN $2 AND $2 + $BATCH - 1"
  if [ "$1" = raw ]; then
    echo "WITH u AS (UPDATE items SET qty = qty + 1, updated_at = now() WHERE $where RETURNING *)
INSERT INTO items_events (position, stream, version, type, payload, meta, valid_from, recorded_at, assigned)
SELECT nextval('items_events_position_seq'), u.id::text,
       coalesce((SELECT max(e.version) FROM items_events AS e WHERE e.stream = u.id::text), 0) + 1,
       'update', to_jsonb(u), jsonb_build_object('user', session_user, 'application', current_setting('application_name')),
       now(), now(), ARRAY['qty', 'updated_at'] FROM u"
  else
    echo "UPDATE items SET qty = qty + 1, updated_at = now() WHERE $where"
  fi
}
for r in $(seq 1 "$BATCH_RUNS"); do
  lo=$(( ((r - 1) * BATCH) % ROWS + 1 ))
  for v in $(rotated "$r" "${vars[@]}"); do
    prepare "$v"
    sql_ms "$v" -c "$(batch_sql "$v" "$lo")"
    grep -Eq "^(UPDATE|INSERT 0) $BATCH\$" <<<"$OUTPUT" || { echo "error: $v: $OUTPUT" >&2; exit 1; }
    note "batch.$v" "$MS" "ms"
  done
done

EXPLAINS=""
if [ "$DIAG" = 1 ]; then
  say "diagnostic: EXPLAIN ANALYZE of the $BATCH-row UPDATE (rolled back: no commit-time work)"
  for v in "${vars[@]}"; do
    prepare "$v"
    EXPLAINS+="  $v:"$'\n'
    EXPLAINS+="$("${PSQL[@]}" -d "$v" -At <<SQL | grep -E 'Trigger|Execution Time|Planning Time' | sed 's/^/    /'
BEGIN;
EXPLAIN (ANALYZE, COSTS OFF) $(batch_sql "$v" 1);
ROLLBACK;
SQL
)"$'\n'
  done
fi

# ---- as-of: 10 rounds of updating every row ---------------------------
say "as-of data: fresh databases, $ROUNDS rounds of updating all $ROWS rows"
for v in "${VARIANTS[@]}"; do setup "asof_$v" "$v"; done
declare -A T
for r in $(seq 1 "$ROUNDS"); do
  for v in $(rotated "$r" "${VARIANTS[@]}"); do
    prepare "asof_$v"
    sql_ms "asof_$v" -c "UPDATE items SET qty = qty + 1, updated_at = clock_timestamp()"
    grep -q "^UPDATE $ROWS\$" <<<"$OUTPUT" || { echo "error: asof_$v: $OUTPUT" >&2; exit 1; }
    note "round.$v" "$MS" "ms"
    if [ "$r" = $((ROUNDS / 2)) ]; then
      T[$v]=$("${PSQL[@]}" -d "asof_$v" -At -c "SELECT clock_timestamp()")
    fi
  done
done
for v in "${VARIANTS[@]}"; do "${PSQL[@]}" -d "asof_$v" -c "VACUUM ANALYZE"; done
"${PSQL[@]}" -d postgres -c "CHECKPOINT"
EVENTS=$("${PSQL[@]}" -d asof_chronicle -At -c "SELECT count(*) FROM items_events")
HISTROWS=$("${PSQL[@]}" -d asof_periods -At -c "SELECT count(*) FROM items_history")
# As of T every row has been updated ROUNDS/2 times.
EXPECT=$("${PSQL[@]}" -d asof_plain -At -c "SELECT count(*) || ' ' || (sum(qty) - ($ROUNDS - $ROUNDS / 2) * count(*)) FROM items")
CHECK_C=$("${PSQL[@]}" -d asof_chronicle -At -v T="'${T[chronicle]}'" -f "$CDC/check_chronicle.sql")
CHECK_P=$("${PSQL[@]}" -d asof_periods -At -v T="'${T[periods]}'" -f "$CDC/check_periods.sql")
for got in "$CHECK_C" "$CHECK_P"; do
  [ "$got" = "$EXPECT" ] || { echo "error: as of T: got (rows, sum(qty)) = $got, expected $EXPECT" >&2; exit 1; }
done

say "as-of of the whole table at T: $RUNS runs each (after one untimed run)"
sql_ms asof_chronicle -v T="'${T[chronicle]}'" -f "$CDC/table_chronicle.sql"
sql_ms asof_periods -v T="'${T[periods]}'" -f "$CDC/table_periods.sql"
for r in $(seq 1 "$RUNS"); do
  sql_ms asof_chronicle -v T="'${T[chronicle]}'" -f "$CDC/table_chronicle.sql"
  note "table.chronicle" "$MS" "ms"
  sql_ms asof_periods -v T="'${T[periods]}'" -f "$CDC/table_periods.sql"
  note "table.periods" "$MS" "ms"
  if [ "$DIAG" = 1 ]; then
    sql_ms asof_chronicle -v T="'${T[chronicle]}'" -f "$CDC/table_sqlfold.sql"
    note "table.sqlfold" "$MS" "ms"
  fi
done

say "as-of of one row at T"
# row_lat KEY DB SCRIPT T: notes the latency average (ms) of a pgbench run
# of ROW_TXNS queries from one client.
row_lat() {
  local log lat
  log=$(mktemp)
  if ! PGAPPNAME=cdcbench pgbench -n -M simple -c 1 -t "$ROW_TXNS" -D "T='$4'" -f "$CDC/$3" "$2" >"$log" 2>&1 ||
     grep -q "failed transactions: [1-9]" "$log"; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$log")
  rm -f "$log"
  [ -n "$lat" ] || { echo "error: no latency from pgbench $3" >&2; exit 1; }
  note "$1" "$lat" "ms"
}
# (psql interpolates :T only in what it reads, not in -c)
ROW_C=$("${PSQL[@]}" -d asof_chronicle -At -v T="'${T[chronicle]}'" <<<'SELECT qty FROM chronicle.as_of(NULL::items, known_at => :T) WHERE id = 42')
ROW_H=$("${PSQL[@]}" -d asof_chronicle -At -v T="'${T[chronicle]}'" <<<"SELECT (\"row\").qty FROM chronicle.history(NULL::items, 42::bigint) WHERE recorded_at <= :T AND superseded_at > :T AND type <> 'delete' ORDER BY \"position\" DESC LIMIT 1")
ROW_P=$("${PSQL[@]}" -d asof_periods -At -v T="'${T[periods]}'" <<<'SELECT qty FROM items__as_of(:T) WHERE id = 42')
if [ "$ROW_C" != "$ROW_H" ] || [ "$ROW_C" != "$ROW_P" ]; then
  echo "error: row 42 as of T: as_of qty $ROW_C, history qty $ROW_H, periods qty $ROW_P" >&2; exit 1
fi
for r in $(seq 1 "$RUNS"); do
  row_lat row.plain asof_plain row_plain.sql "${T[plain]}"
  row_lat row.history asof_chronicle row_chronicle_history.sql "${T[chronicle]}"
  row_lat row.versions asof_chronicle row_chronicle_versions.sql "${T[chronicle]}"
  row_lat row.periods asof_periods row_periods.sql "${T[periods]}"
  sql_ms asof_chronicle -v T="'${T[chronicle]}'" -f "$CDC/row_chronicle_asof.sql"
  note "row.asof" "$MS" "ms"
done

# ---- diagnostics ------------------------------------------------------
WAITS=""
NESTED=""
if [ "$DIAG" = 1 ]; then
  say "diagnostic: nested statements of history, as_of and an UPDATE (auto_explain)"
  NESTED=$("${PSQL[@]}" -d asof_chronicle -v T="'${T[chronicle]}'" -f "$CDC/nested.sql" 2>&1 | awk '
    /^-- / { print "  " $0; next }
    /duration: / { match($0, /duration: [0-9.]+ ms/); d = substr($0, RSTART + 10, RLENGTH - 10); next }
    /Query Text: / { q = $0; sub(/^.*Query Text: /, "", q); printf "    %12s  %s\n", d, substr(q, 1, 110) }')
  for v in plain chronicle; do
    say "diagnostic: wait events, single-row UPDATE, 2 clients, synchronous_commit on, $v"
    prepare "$v"
    "${PSQL[@]}" -d postgres -v app=cdcbench -v secs=600 -f "$BENCH/sample_waits.sql" >"$DIR/waits.out" 2>&1 &
    SAMPLER_PID=$!
    pgbench_run "$v" update.sql 2 "$TX_ON" "" >/dev/null
    wait "$SAMPLER_PID" || true
    SAMPLER_PID=
    WAITS+="wait events of the 2 pgbench backends, single-row UPDATE, synchronous_commit on, $v, % of samples:"$'\n'
    WAITS+="$(sed -e '/^$/d' -e '/^(/d' "$DIR/waits.out")"$'\n\n'
  done
fi
SIZES=""
for pair in "asof_plain items" "asof_chronicle items_events" "asof_periods items_history" "asof_audit audit"; do
  read -r db rel <<<"$pair"
  SIZES+="$(printf '  %-10s %-14s %s' "${db#asof_}" "$rel" \
    "$("${PSQL[@]}" -d "$db" -At -F ' ' -c "SELECT count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('$rel')) || ' with indexes' FROM $rel")")"$'\n'
done

# ---- report -----------------------------------------------------------
# ratio_of BASEKEY KEY KIND: median over runs of the per-run ratio of KEY
# to BASEKEY as time per operation (KIND tps: base/key; ms: key/base).
ratio_of() {
  local -a b x
  read -r -a b <<<"${VAL[$1]}"
  read -r -a x <<<"${VAL[$2]}"
  local i rs=()
  for ((i = 0; i < ${#x[@]} && i < ${#b[@]}; i++)); do
    if [ "$3" = tps ]; then rs+=("$(calc "${b[$i]} / ${x[$i]}")"); else rs+=("$(calc "${x[$i]} / ${b[$i]}")"); fi
  done
  median "${rs[@]}"
}

# cell KEY KIND [BASEKEY]: "8123 tps (1.23x)" / "45.6 ms (1.23x)" / "-".
cell() {
  local key=$1 kind=$2 base=${3:-} m
  [ -n "${VAL[$key]:-}" ] || { echo "-"; return; }
  # shellcheck disable=SC2086
  m=$(median ${VAL[$key]})
  if [ "$kind" = tps ]; then printf '%.0f tps' "$m"; else fmt_ms "$m"; fi
  [ -n "$base" ] && [ -n "${VAL[$base]:-}" ] && printf ' (%.2fx)' "$(ratio_of "$base" "$key" "$kind")"
  echo
}

# fmt_ms MS: milliseconds with a sensible number of digits.
fmt_ms() { awk -v m="$1" 'BEGIN { if (m >= 100) printf "%.0f ms", m; else if (m >= 1) printf "%.1f ms", m; else printf "%.3f ms", m }'; }

# verdict RATIO GOAL: "yes" or "NO (1.23x the goal)" (goal: ratio <= GOAL).
verdict() {
  if [ "$2" = - ]; then echo "-"
  elif awk "BEGIN { exit !($1 <= $2) }"; then echo "yes"
  else printf 'NO (%.2fx the goal)\n' "$(calc "$1 / $2")"
  fi
}

line() { printf '%-44s %-17s %-17s %-17s %-17s %9s  %-8s %s\n' "$@"; }

# write_row LABEL PREFIX KIND GOAL: a row comparing the four variants.
write_row() {
  local label=$1 p=$2 kind=$3 goal=$4 r
  r=$(ratio_of "$p.plain" "$p.chronicle" "$kind")
  line "$label" "$(cell "$p.plain" "$kind")" "$(cell "$p.chronicle" "$kind" "$p.plain")" \
    "$(cell "$p.periods" "$kind" "$p.plain")" "$(cell "$p.audit" "$kind" "$p.plain")" \
    "$(printf '%.2fx' "$r")" "$([ "$goal" = - ] && echo - || echo "<=$goal")" "$(verdict "$r" "$goal")"
}

# median_of KEY: the median of a key's runs.
# shellcheck disable=SC2086
median_of() { median ${VAL[$1]}; }

{
  echo "chronicle CDC benchmark  ($(date -u '+%Y-%m-%d %H:%M UTC'), $GIT at the start, chronicle.so md5 $SO_MD5)"
  echo "PostgreSQL $PGVERSION, periods $PERIODS_VERSION, $(nproc) CPUs, $SETTINGS"
  echo "items: $ROWS rows; single-row series: pgbench -M prepared, $TX_ON transactions per run (synchronous_commit on),"
  echo "  $TX_OFF (off), split over the clients; medians of $RUNS runs ($BATCH_RUNS for the $BATCH-row UPDATE, $ROUNDS rounds for the $ROWS-row UPDATE)"
  echo "machine load (1-min load average every 10 s): $(awk '{ s += $1; if ($1 > m) m = $1 } END { if (NR) printf "mean %.2f, max %.2f, %d samples", s / NR, m, NR }' "$DIR/load.txt")"
  if [ -n "$CRASHES" ]; then
    echo "SERVER CRASHES during the benchmark:"
    printf '%s' "$CRASHES"
  fi
  echo "(Nx) = time per transaction / statement against plain in the same run, median over the runs (lower is better)"
  echo
  line "series" "plain" "chronicle" "periods" "audit" "chron." "goal" "met?"
  for mode in on off; do
    goal=$([ "$mode" = on ] && echo 1.15 || echo 1.3)
    for c in 1 2; do
      for op in update insert delete; do
        write_row "1-row ${op^^}, $c client$([ "$c" = 2 ] && echo s), sync_commit $mode" "single.$mode.c$c.$op" tps "$goal"
      done
    done
  done
  write_row "UPDATE of $BATCH rows, 1 statement" batch ms 2.0
  write_row "UPDATE of all $ROWS rows (as-of rounds)" round ms -
  echo
  echo "as of T (after round $((ROUNDS / 2)) of $ROUNDS; chronicle: $EVENTS events, periods: $HISTROWS history rows;"
  echo "  both answers checked: rows and sum(qty) = $EXPECT); chron. = chronicle / periods"
  tc=$(median_of table.chronicle); tp=$(median_of table.periods)
  r=$(calc "$tc / $tp")
  line "whole table: count(*) as of T" "-" "$(fmt_ms "$tc")" "$(fmt_ms "$tp")" "-" "$(printf '%.2fx' "$r")" "<1" \
    "$(awk "BEGIN { exit !($r < 1) }" && echo yes || printf 'NO (%.1fx slower than periods)' "$r")"
  rp=$(median_of row.periods)
  for pair in "asof:one row: as_of(...) WHERE id = 42" "history:one row: history(42) filtered to T" "versions:one row: history(42), all $((ROUNDS + 1)) versions"; do
    k=${pair%%:*}; label=${pair#*:}
    m=$(median_of "row.$k")
    line "$label" "$(fmt_ms "$(median_of row.plain)")" "$(fmt_ms "$m")" "$(fmt_ms "$rp")" "-" \
      "$(printf '%.2fx' "$(calc "$m / $rp")")" "<1 ms" \
      "$(awk "BEGIN { exit !($m < 1) }" && echo yes || printf 'NO (%.2fx the 1 ms goal)' "$(calc "$m")")"
  done
  echo "  one-row times are pgbench -M simple latency averages of $ROW_TXNS queries (1 client, includes the round"
  echo '  trip; plain = the current row of a plain table by id, for scale), except as_of(...) WHERE id = 42: psql \timing.'
  echo "  history(42) filtered to T = the last version recorded by T: equal to as_of here (whole-row updates,"
  echo "  default valid ranges) but not an as-of answer in general. periods = items__as_of(T) WHERE id = 42."
  if [ "$DIAG" = 1 ]; then
    echo
    echo "diagnostic: the same event rows written without chronicle (time per transaction / statement vs plain):"
    echo "  mirror = chronicle's event row (same table, columns, indexes, version lookup, jsonb image, meta) written"
    echo "           by a PL/pgSQL AFTER ROW trigger: no C triggers, no commit-time stamping"
    echo "  raw    = that event row written by the UPDATE statement itself (WITH u AS (UPDATE … RETURNING *)"
    echo "           INSERT INTO items_events …): no trigger at all, the floor for writing such a row"
    printf '  %-42s %-20s %-20s %s\n' "" raw mirror chronicle
    for mode in on off; do
      for c in 1 2; do
        p="single.$mode.c$c.update"
        printf '  %-42s %-20s %-20s %s\n' "1-row UPDATE, $c client(s), sync_commit $mode" \
          "$(cell "$p.raw" tps "$p.plain")" "$(cell "$p.mirror" tps "$p.plain")" "$(cell "$p.chronicle" tps "$p.plain")"
      done
    done
    printf '  %-42s %-20s %-20s %s\n' "UPDATE of $BATCH rows" "$(cell batch.raw ms batch.plain)" \
      "$(cell batch.mirror ms batch.plain)" "$(cell batch.chronicle ms batch.plain)"
    echo
    echo "diagnostic: WAL bytes per transaction (pg_current_wal_insert_lsn around each run; median), 1 client, sync_commit on:"
    printf '  %-8s' ""; for v in "${ALL[@]}"; do printf ' %10s' "$v"; done; echo
    for op in update insert delete; do
      printf '  %-8s' "$op"
      for v in "${ALL[@]}"; do
        if [ -n "${VAL[wal.on.c1.$op.$v]:-}" ]; then printf ' %10.0f' "$(median_of "wal.on.c1.$op.$v")"; else printf ' %10s' -; fi
      done
      echo
    done
    echo
    echo "diagnostic: WAL records per single-row UPDATE by type (pg_waldump --stats; $WAL_TXNS transactions, 1 client,"
    echo "types of at least 0.05 records per transaction). FPI = full-page images: first change of a page since the"
    echo "last checkpoint; the (stream, version) index is written at random leaf pages, so most of them cost one:"
    printf '%s\n' "$WALREC"
    echo "diagnostic: EXPLAIN ANALYZE of the $BATCH-row UPDATE, rolled back (trigger times; no commit work):"
    printf '%s' "$EXPLAINS"
    echo
    echo "diagnostic: the whole table as of T by plain SQL over items_events (DISTINCT ON + jsonb_populate_record):"
    echo "  $(fmt_ms "$(median_of table.sqlfold)") (chronicle.as_of: $(fmt_ms "$tc"))"
    echo
    printf '%s' "$WAITS"
    echo "diagnostic: statements run by chronicle's functions (auto_explain, log_nested_statements; the outer"
    echo "statement's duration includes the nested ones and chronicle's C++ work; the UPDATE's excludes the commit):"
    printf '%s\n\n' "$NESTED"
  fi
  echo "history storage after the $ROUNDS rounds:"
  printf '%s' "$SIZES"
  echo
  echo "raw runs, in order:"
  printf '  %s\n' "${RAW[@]}"
  echo
  echo "total benchmark time: $(( $(date +%s) - T_START )) s"
} | tee "$OUT"
say "results written to ${OUT#"$ROOT"/}"
