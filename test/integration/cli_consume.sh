#!/usr/bin/env bash
# test/integration/cli_consume.sh: `chronicle consume` against a throwaway
# cluster: a COMMAND that fails once gets the same batch again; --once
# exits 1 on failure without moving the offset; a client killed mid-stream
# and restarted from its group's offset loses nothing and repeats at most
# the batch in flight (nothing, with an idempotent sink); SIGTERM leaves the
# offset at the last delivered event; a cut connection is retried; two
# members of a group share the work without overlap.
source "$(dirname "$0")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
source "$ROOT/test/integration/cli_lib.bash"
set +e  # the checks look at exit statuses themselves
cli_cluster consume

# offset GROUP: the group's committed offset on ev.
offset() { sql "SELECT COALESCE((SELECT position FROM chronicle.consumer_offsets WHERE grp = '$1' AND tbl = 'ev'::regclass), 0)"; }
# wait_offset GROUP POSITION SECONDS: waits until the group's offset is POSITION.
wait_offset() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [ "$(offset "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
# concat_batches DIR: the batch files of an idempotent sink, in position order.
concat_batches() { ls "$1" | grep -E '^[0-9]+\.jsonl$' | sort -n | sed "s|^|$1/|" | xargs -r cat; }

sql "SELECT chronicle.create_event_table('ev')" >/dev/null
# 200 events of 700 bytes: more than a pipe holds.
sql "INSERT INTO ev (stream, type, payload)
     SELECT 's' || (i % 7), 'e', jsonb_build_object('i', i, 'pad', repeat('x', 600)) FROM generate_series(1, 200) i" >/dev/null
oracle ev >"$WORK/all"
newest=$(sql "SELECT max(position) FROM ev")

# A COMMAND that fails on its first run, then appends its input.
cat >"$WORK/flaky.sh" <<'SH'
echo "$CHRONICLE_ATTEMPT $CHRONICLE_FIRST_POSITION $CHRONICLE_LAST_POSITION $CHRONICLE_EVENTS" >>"$OUT.runs"
if [ ! -e "$OUT.failed" ]; then cat >"$OUT.failed"; exit 3; fi
cat >>"$OUT"
SH
OUT="$WORK/flaky" "$CLI" consume g1 ev --batch-size=50 --poll-interval=1 -- sh "$WORK/flaky.sh" 2>"$WORK/flaky.err" &
member=$!
CLI_PIDS+=("$member")
wait_offset g1 "$newest" 30
kill -TERM "$member"
wait "$member"
check "consume exits 0 on SIGTERM" 0 $?
same_file "a batch whose COMMAND failed is delivered again: every event once" "$WORK/all" "$WORK/flaky"
same_file "the failed run got the same batch" <(head -50 "$WORK/all") "$WORK/flaky.failed"
check "runs: attempt, first and last position, events" "1 1 50 50|2 1 50 50|1 51 100 50|1 101 150 50|1 151 200 50" \
  "$(paste -sd'|' "$WORK/flaky.runs")"
if grep -q '"sh" exited with status 3 on events 1..50 (50) (attempt 1); offset not committed; retrying in' "$WORK/flaky.err"; then
  ok "the failure is reported on stderr"
else
  not_ok "the failure is reported on stderr" "$(cat "$WORK/flaky.err")"
fi
check "the offset is the newest event" "$newest" "$(offset g1)"

# --once: a failing COMMAND makes it exit 1 and leaves the offset alone.
"${FG[@]}" consume g2 ev --once -- false 2>"$WORK/once.err"
check "consume --once exits 1 when COMMAND fails" 1 $?
check "the offset has not moved" 0 "$(offset g2)"
"${FG[@]}" consume g2 ev --once --batch-size=1000 -- head -c 10 >/dev/null 2>"$WORK/once.err"
check "a COMMAND that does not read its whole batch fails it" 1 $?
grep -q "without reading its whole batch" "$WORK/once.err" && ok "and that is reported" || not_ok "and that is reported" "$(cat "$WORK/once.err")"
check "the offset has still not moved" 0 "$(offset g2)"
"${FG[@]}" consume g2 ev --once --batch-size=64 -- sh -c 'cat >>"$0"' "$WORK/once"
check "consume --once exits 0 when all is delivered" 0 $?
same_file "consume --once delivered everything" "$WORK/all" "$WORK/once"
check "and committed the newest event" "$newest" "$(offset g2)"
"${FG[@]}" consume g2 ev --once -- false
check "with nothing left, --once exits 0 without running COMMAND" 0 $?
"${FG[@]}" consume g3 ev --once -- /nonexistent/command 2>"$WORK/exec.err"
check "a COMMAND that cannot be run: exit 1" 1 $?
grep -q 'could not run "/nonexistent/command": No such file or directory' "$WORK/exec.err" && ok "and a clear message" || not_ok "and a clear message" "$(cat "$WORK/exec.err")"

# SIGKILL mid-stream, while writers add events; restarted from the group's
# offset. The sink writes one file per batch, named by its first position:
# a batch delivered again replaces its file.
mkdir "$WORK/batches"
cat >"$WORK/sink.sh" <<'SH'
sleep 0.02
cat >"$DIR/$CHRONICLE_FIRST_POSITION.tmp" && mv "$DIR/$CHRONICLE_FIRST_POSITION.tmp" "$DIR/$CHRONICLE_FIRST_POSITION.jsonl"
echo "$CHRONICLE_FIRST_POSITION" >>"$DIR/runs"
SH
writers ev 4 60 &
w=$!
DIR="$WORK/batches" "$CLI" consume g4 ev --batch-size=10 -- sh "$WORK/sink.sh" 2>/dev/null &
victim=$!
CLI_PIDS+=("$victim")
for ((i = 0; i < 300; i++)); do [ "$(cat "$WORK/batches/runs" 2>/dev/null | wc -l)" -ge 8 ] && break; sleep 0.1; done
kill -KILL "$victim"
wait "$victim" 2>/dev/null
at_kill=$(offset g4)
wait "$w"
DIR="$WORK/batches" "${FG[@]}" consume g4 ev --batch-size=10 --once -- sh "$WORK/sink.sh"
check "restarted after SIGKILL, consume --once exits 0" 0 $?
oracle ev >"$WORK/all"
newest=$(sql "SELECT max(position) FROM ev")
if [ -n "$at_kill" ] && [ "$at_kill" -gt 0 ] && [ "$at_kill" -lt "$newest" ]; then ok "killed mid-stream (offset $at_kill of $newest)"; else not_ok "killed mid-stream" "offset $at_kill of $newest"; fi
concat_batches "$WORK/batches" >"$WORK/joined"
same_file "killed and restarted from its offset: nothing lost, nothing repeated" "$WORK/all" "$WORK/joined"
repeats=$(sort "$WORK/batches/runs" | uniq -d | wc -l)
if [ "$repeats" -le 1 ]; then ok "at most the batch in flight was delivered again ($repeats)"; else not_ok "at most the batch in flight was delivered again" "$repeats batches"; fi

# SIGTERM mid-stream: the batch in flight is finished and committed, so the
# offset is the last event the (appending) sink got; a restart continues.
sql "INSERT INTO ev (stream, type, payload) SELECT 't', 'e', jsonb_build_object('i', i) FROM generate_series(1, 300) i" >/dev/null
oracle ev >"$WORK/all"
newest=$(sql "SELECT max(position) FROM ev")
"$CLI" consume g5 ev --batch-size=20 -- sh -c 'sleep 0.05; cat >>"$0"' "$WORK/term" &
member=$!
CLI_PIDS+=("$member")
wait_lines "$WORK/term" 100 30
kill -TERM "$member"
wait "$member"
check "consume exits 0 on SIGTERM mid-stream" 0 $?
check "the offset is the last event the sink got" "$(last_position "$WORK/term")" "$(offset g5)"
if [ "$(offset g5)" -lt "$newest" ]; then ok "stopped mid-stream"; else not_ok "stopped mid-stream" "all consumed already"; fi
"${FG[@]}" consume g5 ev --batch-size=20 --once -- sh -c 'cat >>"$0"' "$WORK/term"
same_file "stopped and restarted: nothing lost, nothing repeated" "$WORK/all" "$WORK/term"

# A connection cut by the server mid-stream: reported, retried, and the
# batch in flight is delivered again (the idempotent sink hides it).
mkdir "$WORK/cut"
DIR="$WORK/cut" "$CLI" consume g6 ev --batch-size=25 -- sh "$WORK/sink.sh" 2>"$WORK/cut.err" &
member=$!
CLI_PIDS+=("$member")
for ((i = 0; i < 300; i++)); do [ "$(cat "$WORK/cut/runs" 2>/dev/null | wc -l)" -ge 5 ] && break; sleep 0.1; done
sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'chronicle'" >/dev/null
wait_offset g6 "$newest" 60
kill -TERM "$member"
wait "$member"
concat_batches "$WORK/cut" >"$WORK/joined"
same_file "after a cut connection every event is delivered" "$WORK/all" "$WORK/joined"
if grep -q "connection lost" "$WORK/cut.err" && grep -q "reconnected" "$WORK/cut.err"; then
  ok "the lost connection and the reconnection are reported"
else
  not_ok "the lost connection and the reconnection are reported" "$(head -c 300 "$WORK/cut.err")"
fi

# Two members of one group: one holds the group while it works, the other
# takes over when it stops; each event goes to exactly one of them.
"$CLI" consume g7 ev --batch-size=7 -- sh -c 'sleep 0.01; cat >>"$0"' "$WORK/m1" &
m1=$!
CLI_PIDS+=("$m1")
wait_lines "$WORK/m1" 50 30
"$CLI" consume g7 ev --batch-size=7 --poll-interval=0.2 -- sh -c 'sleep 0.01; cat >>"$0"' "$WORK/m2" &
m2=$!
CLI_PIDS+=("$m2")
sleep 0.5
kill -TERM "$m1"
wait "$m1"
wait_offset g7 "$newest" 60
kill -TERM "$m2"
wait "$m2"
touch "$WORK/m1" "$WORK/m2"
cat "$WORK/m1" "$WORK/m2" | sed -E 's/^\{"position":([0-9]+),.*/\1/' | sort -n >"$WORK/m.pos"
sed -E 's/^\{"position":([0-9]+),.*/\1/' "$WORK/all" >"$WORK/all.pos"
same_file "two members: every event delivered to exactly one" "$WORK/all.pos" "$WORK/m.pos"
if [ -s "$WORK/m1" ] && [ -s "$WORK/m2" ]; then ok "the second member took over from the first"; else not_ok "the second member took over from the first" "$(wc -l <"$WORK/m1") and $(wc -l <"$WORK/m2") events"; fi

no_crash "$CLUSTER_DIR"
finish
