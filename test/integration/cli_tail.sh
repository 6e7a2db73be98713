#!/usr/bin/env bash
# test/integration/cli_tail.sh: `chronicle tail` against a throwaway
# cluster: its JSON Lines equal the server's row_to_json of the event table;
# --follow while 4 writers commit overlapping transactions prints each event
# exactly once; a killed client restarted --from its last printed position,
# and a client whose connection is cut, lose and repeat nothing.
source "$(dirname "$0")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
source "$ROOT/test/integration/cli_lib.bash"
set +e  # the checks look at exit statuses themselves
cli_cluster tail

sql "SELECT chronicle.create_event_table('ev')" >/dev/null
# Events that exercise the encoding: escapes, UTF-8, numbers, null meta,
# infinity, a valid time with a seconds offset in its zone, BC, a retraction.
sql "SELECT chronicle.append('ev', 'cart-1', 'added', '{\"sku\": \"a\\\"b\\\\\\\\c\", \"qty\": 2.50}')" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO ev (stream, type, payload, meta) VALUES (E's"q\\z\nl\ttab', 'tÿpe ✓', '{"k": "\u0001 ü"}', '{"by": "test"}');
INSERT INTO ev (stream, type, payload, valid_from, valid_to)
  VALUES ('old', 't', '[1, 1e40, -0.0, true, null]', '1850-01-01 00:00 Asia/Kolkata', '1850-01-02');
INSERT INTO ev (stream, type, payload, valid_from) VALUES ('bc', 't', '"x"', '0044-03-15 12:00 BC');
SELECT chronicle.retract('ev', 1);
SQL
oracle ev >"$WORK/expected"
"${FG[@]}" tail ev >"$WORK/got"
check "tail exits 0" 0 $?
same_file "tail --from-start prints what row_to_json prints" "$WORK/expected" "$WORK/got"
PGTZ=Asia/Kolkata "${FG[@]}" tail ev --from-start >"$WORK/got"
same_file "timestamps are UTC whatever the session time zone" "$WORK/expected" "$WORK/got"
"${FG[@]}" tail ev --from=2 --batch-size=1 >"$WORK/got"
same_file "--from=2 --batch-size=1 prints the events after position 2" <(tail -n +3 "$WORK/expected") "$WORK/got"
"${FG[@]}" tail ev --stream=old >"$WORK/got"
same_file "--stream prints one stream" <(oracle ev "WHERE stream = 'old'") "$WORK/got"
check "--from-now without --follow prints nothing" "" "$("${FG[@]}" tail ev --from-now)"

# A tracked table: its name or its event table's give the same.
sql "CREATE TABLE items (id int PRIMARY KEY, name text); SELECT chronicle.track('items');
     INSERT INTO items SELECT i, 'n' || i FROM generate_series(1, 30) i; UPDATE items SET name = 'x' WHERE id < 5" >/dev/null
oracle items_events >"$WORK/expected"
"${FG[@]}" tail items --batch-size=7 >"$WORK/got"
same_file "tail of a tracked table is its event table's" "$WORK/expected" "$WORK/got"

# --follow while 4 writers commit overlapping transactions (two events
# each, a pause between them, one in ten rolled back).
sql "SELECT chronicle.create_event_table('busy')" >/dev/null
"$CLI" tail busy --follow --from-start --batch-size=50 --poll-interval=5 >"$WORK/follow" 2>"$WORK/follow.err" &
follower=$!
CLI_PIDS+=("$follower")
sleep 0.5
writers busy 4 150
check "the writers succeeded" 0 $?
total=$(sql "SELECT count(*) FROM busy")
wait_lines "$WORK/follow" "$total" 30 || true
sleep 1  # anything printed twice would show up now
kill -TERM "$follower"
wait "$follower"
check "tail --follow exits 0 on SIGTERM" 0 $?
oracle busy >"$WORK/expected"
same_file "tail --follow printed each of the $total events once, in order" "$WORK/expected" "$WORK/follow"
check "events were rolled back (holes in positions)" t "$(sql "SELECT max(position) > count(*) FROM busy")"

# Killed with SIGKILL mid-stream, restarted --from the last complete line.
sql "SELECT chronicle.create_event_table('killed')" >/dev/null
"$CLI" tail killed --follow --from-start --batch-size=20 >"$WORK/part1" 2>/dev/null &
victim=$!
CLI_PIDS+=("$victim")
writers killed 4 100 &
w=$!
wait_lines "$WORK/part1" 100 30 || true
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
from=$(last_position "$WORK/part1")
"$CLI" tail killed --follow --from="$from" --batch-size=20 >"$WORK/part2" 2>/dev/null &
second=$!
CLI_PIDS+=("$second")
wait "$w"
total=$(sql "SELECT count(*) FROM killed")
complete_lines "$WORK/part1" >"$WORK/joined"
kept=$(wc -l <"$WORK/joined")
wait_lines "$WORK/part2" $((total - kept)) 30 || true
sleep 1
kill -TERM "$second"
wait "$second"
cat "$WORK/part2" >>"$WORK/joined"
oracle killed >"$WORK/expected"
if [ "$kept" -gt 0 ] && [ "$kept" -lt "$total" ]; then ok "killed mid-stream (after $kept of $total events)"; else not_ok "killed mid-stream" "kept $kept of $total"; fi
same_file "killed and restarted --from=$from: nothing lost, nothing repeated" "$WORK/expected" "$WORK/joined"

# A connection cut by the server while following: reconnected, resumed.
sql "SELECT chronicle.create_event_table('cut')" >/dev/null
"$CLI" tail cut --follow --from-start --batch-size=10 >"$WORK/cut" 2>"$WORK/cut.err" &
follower=$!
CLI_PIDS+=("$follower")
writers cut 2 60 &
w=$!
wait_lines "$WORK/cut" 20 30 || true
sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'chronicle'" >/dev/null
wait "$w"
total=$(sql "SELECT count(*) FROM cut")
wait_lines "$WORK/cut" "$total" 30 || true
sleep 1
kill -INT "$follower"
wait "$follower"
check "tail --follow exits 0 on SIGINT" 0 $?
oracle cut >"$WORK/expected"
same_file "a cut connection is reconnected and nothing is lost or repeated" "$WORK/expected" "$WORK/cut"
if grep -q "connection lost" "$WORK/cut.err" && grep -q "reconnected" "$WORK/cut.err"; then
  ok "the lost connection and the reconnection are reported"
else
  not_ok "the lost connection and the reconnection are reported" "stderr: $(head -c 300 "$WORK/cut.err")"
fi

# Woken by NOTIFY, not by the (here 60 s) poll; stopped while idle.
"$CLI" tail cut --follow --poll-interval=60 >"$WORK/idle" &
idle=$!
CLI_PIDS+=("$idle")
sleep 0.5
check "tail --follow --from-now prints nothing at first" 0 "$(wc -c <"$WORK/idle")"
start=$(date +%s%N)
sql "SELECT chronicle.append('cut', 'late', 'e', '{}')" >/dev/null
wait_lines "$WORK/idle" 1 5
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$(wc -l <"$WORK/idle")" = 1 ] && [ "$ms" -lt 3000 ]; then ok "a new event is printed at once (${ms} ms, NOTIFY)"; else not_ok "a new event is printed at once" "$(wc -l <"$WORK/idle") lines after ${ms} ms"; fi
kill -TERM "$idle"
wait "$idle"
check "tail --follow stops at once on SIGTERM while idle" 0 $?
check "its output is the new event only" "$(oracle cut "WHERE stream = 'late'")" "$(cat "$WORK/idle")"

no_crash "$CLUSTER_DIR"
finish
