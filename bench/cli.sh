#!/usr/bin/env bash
# bench/cli.sh: the benchmark of the chronicle client (run as root:
# `bash bench/cli.sh`).
#
# Starts a throwaway PostgreSQL, fills an event table with BENCH_EVENTS
# events (INSERT … SELECT generate_series; the stamp trigger fills
# position, version and the times), then times, into /dev/null:
#   baseline  psql -c "COPY (SELECT <the 9 columns> FROM ev ORDER BY position) TO STDOUT"
#   tail      chronicle tail ev --from-start   (JSON Lines through chronicle.read())
# BENCH_RUNS times each, interleaved, after one warm-up of each; reports the
# median events per second and the ratio tail / COPY (goal: >= 0.8), and,
# as diagnostics, tail with other batch sizes and the client's CPU time.
# Writes bench/results/cli-latest.txt. Not part of dev/test.
#
# Knobs (environment): BENCH_EVENTS (1000000), BENCH_RUNS (5),
# CHRONICLE_BENCH_DIR (/tmp/chronicle-cli-bench), PGPORT_START (55700).
source "$(dirname "$0")/../dev/lib.sh"
need_root
N=${BENCH_EVENTS:-1000000}
RUNS=${BENCH_RUNS:-5}
DIR=${CHRONICLE_BENCH_DIR:-/tmp/chronicle-cli-bench}
OUT="$ROOT/bench/results/cli-latest.txt"
export PGPORT_START=${PGPORT_START:-55700}
COLS="position, stream, version, type, payload, meta, valid_from, valid_to, recorded_at"

install_deps
build_install
CLI="$PGBIN/chronicle"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "starting a throwaway PostgreSQL $PGVER in $DIR"
start_cluster "$DIR"
trap 'stop_cluster "$DIR"' EXIT
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION chronicle' -c "SELECT chronicle.create_event_table('ev')" >/dev/null

say "filling ev with $N events"
t0=$(date +%s%N)
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO ev (stream, type, payload, meta)
  SELECT 'order-' || (i % 1000), 'item_added',
         jsonb_build_object('sku', 'sku-' || (i % 5000), 'qty', i % 7, 'price', 9.95, 'note', 'gift "wrap"'),
         CASE WHEN i % 10 = 0 THEN '{"user": "bench"}'::jsonb END
    FROM generate_series(1, $N) i;
VACUUM ANALYZE ev;
CHECKPOINT;
SQL
fill_s=$(( ($(date +%s%N) - t0) / 1000000 ))
size=$(psql -X -At -c "SELECT pg_size_pretty(pg_total_relation_size('ev'))")

# timed NAME COMMAND...: runs COMMAND (output to /dev/null), appends its
# wall-clock seconds to the list NAME and prints them.
declare -A TIMES
timed() {
  local name=$1 s e
  shift
  s=$(date +%s%N)
  "$@" >/dev/null
  e=$(date +%s%N)
  TIMES[$name]+="$(awk -v d=$((e - s)) 'BEGIN { printf "%.3f", d / 1e9 }') "
}
copy() { psql -X -q -c "COPY (SELECT $COLS FROM ev ORDER BY position) TO STDOUT"; }
tail_ev() { "$CLI" tail ev --from-start "$@"; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

say "checking that both print $N rows"
rows_copy=$(copy | wc -l)
rows_tail=$(tail_ev | wc -l)
[ "$rows_copy" = "$N" ] && [ "$rows_tail" = "$N" ] || { echo "error: COPY printed $rows_copy rows, tail $rows_tail" >&2; exit 1; }
tail_ev | head -1 >"$DIR/sample.jsonl" || true  # tail ends by SIGPIPE

say "timing: $RUNS runs of each, interleaved"
for ((r = 1; r <= RUNS; r++)); do
  timed copy copy
  timed tail tail_ev
  timed tail_b100 tail_ev --batch-size=100
  timed tail_b10000 tail_ev --batch-size=10000
done
# The client's own CPU time for one run (user + system seconds).
cpu=$( { /usr/bin/time -f "%U %S" "$CLI" tail ev --from-start >/dev/null; } 2>&1 | awk '{ printf "%.2f", $1 + $2 }')
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

m_copy=$(echo "${TIMES[copy]}" | median)
rate() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
  echo "chronicle client benchmark  ($(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src/cli || echo '+local changes'))"
  echo "$(psql -X -At -c 'SELECT version()' | cut -d, -f1), $(nproc) CPUs, load average at start $LOAD_START, at end $LOAD_END"
  echo "$N events in ev ($size, filled in $((fill_s / 1000)).$(printf '%03d' $((fill_s % 1000))) s by INSERT … SELECT generate_series); median of $RUNS runs, interleaved, after a warm-up"
  echo "rate = events per second into /dev/null; ratio = chronicle tail / COPY (higher is better; goal >= 0.8)"
  echo
  printf '%-58s %9s %10s %6s %12s  %s\n' "series" "median" "events/s" "ratio" "run ratios*" "each run (s)"
  for s in copy tail tail_b100 tail_b10000; do
    case $s in
      copy) label='baseline: psql COPY (SELECT … ORDER BY position) TO STDOUT' ;;
      tail) label='chronicle tail ev --from-start (batches of 1000)' ;;
      tail_b100) label='  diagnostic: --batch-size=100' ;;
      tail_b10000) label='  diagnostic: --batch-size=10000' ;;
    esac
    m=$(echo "${TIMES[$s]}" | median)
    pr=$(paste -d' ' <(echo "${TIMES[copy]}" | tr ' ' '\n' | grep .) <(echo "${TIMES[$s]}" | tr ' ' '\n' | grep .) |
         awk '{ printf "%.2f\n", $1 / $2 }' | median)
    printf '%-58s %8.3fs %10s %6s %12s  %s\n' "$label" "$m" "$(rate "$m")" "$(ratio "$m_copy" "$m")" "$pr" "${TIMES[$s]}"
  done
  m_tail=$(echo "${TIMES[tail]}" | median)
  r=$(ratio "$m_copy" "$m_tail")
  echo "* median of the ratios of the runs made side by side (less sensitive to the machine's load)"
  echo
  echo "goal: tail >= 0.8x the COPY rate: $r -> $(awk -v r="$r" 'BEGIN { print (r >= 0.8) ? "met" : "NOT met" }')"
  echo "client CPU time of one tail run (user + system): $cpu s"
  echo "a line of the output:"
  cat "$DIR/sample.jsonl"
} | tee "$OUT"
