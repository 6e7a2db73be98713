#!/usr/bin/env bash
# test/integration/cancel.sh: a cancelled query (pg_cancel_backend) stops
# within a second during every long-running function (STYLE.md rule 6).
#
# Setup (~40 s): a tracked table t of 20,000 rows whose history holds about
# 1.2M events: the track() snapshot, 20 captured whole-table UPDATEs
# (400,000 events), 600,000 'update' events inserted straight into t_events
# (as the capture trigger writes them, only faster) and 200,000 more of the
# hot row id = 1; a plain table big of 300,000 rows (for track()); an event
# table ev of 1,000,000 events: 600,000 in the stream 'big', the others over
# 1,000 streams.
#
# Each check starts one long call in a background psql (application_name
# cancel_NAME), waits until pg_stat_activity has shown it active for a
# delay, calls pg_cancel_backend(pid), and polls pg_stat_activity every
# 20 ms (clearing its snapshot) until the backend is no longer active; then
# again with the next delay, for as long as the call still runs that long,
# so that every phase of more than a second is hit (CANCEL_DELAYS, ms:
# 500 1000 1500 2500 4000 6500 10500; 100 200 400 for read() and
# consume(), which stream 1.2M events in a few tenths of a second). The
# check passes when the backend stopped within CANCEL_LIMIT_MS (1000) every
# time, and the client got SQLSTATE 57014 (query_canceled) every time. A
# call that ends before the first delay fails (the data would be too small
# to tell). CANCEL_LIMIT_MS=1 shows the checks can fail.
# CANCEL_ONLY=name,name runs only those checks.
#
# Cluster: $CHRONICLE_IT_BASE-cancel (the base defaults to
# $CHRONICLE_TEST_DIR-it, /tmp/chronicle-test-it), port from $PGPORT_START.
source "$(dirname "$0")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
need_root
export PGTZ=UTC
DIR=${CHRONICLE_IT_BASE:-${CHRONICLE_TEST_DIR:-/tmp/chronicle-test}-it}-cancel
LIMIT_MS=${CANCEL_LIMIT_MS:-1000}
# (CI, with its time limit, cancels at three points of each call.)
if [ "${CI:-}" = true ]; then DELAYS=${CANCEL_DELAYS:-500 1500 4000}; else DELAYS=${CANCEL_DELAYS:-500 1000 1500 2500 4000 6500 10500}; fi
ONLY=${CANCEL_ONLY:-}
WORK=$(mktemp -d)
chmod 755 "$WORK"
BG=
trap '[ -z "$BG" ] || kill "$BG" 2>/dev/null || true; [ -n "${CANCEL_KEEP:-}" ] || stop_cluster "$DIR"; rm -rf "$WORK"' EXIT

start_cluster "$DIR"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d app "$@"; }
createdb app

say "setup: 1.2M events of a tracked table, 1M of an event table"
t0=$(date +%s)
q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION chronicle;
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, pad text);
INSERT INTO t SELECT i, 0, md5(i::text) FROM generate_series(1, 20000) i;
SELECT chronicle.track('t');
DO $$ BEGIN FOR i IN 1..20 LOOP UPDATE t SET v = v + 1; END LOOP; END $$;
-- The middle of the history, for diff() and restore().
CREATE TABLE mark AS SELECT pg_catalog.max(recorded_at) AS at FROM t_events;
UPDATE t SET v = v + 1, pad = 'changed' WHERE id % 2 = 0;
-- More history, faster than captured UPDATEs: what the capture trigger
-- writes for "UPDATE t SET v = …" (stream = the key, the row image, the
-- assigned columns); then 200,000 changes of the hot row 1.
INSERT INTO t_events (stream, type, payload, assigned)
  SELECT id::text, 'update', jsonb_build_object('id', id, 'v', 100 + r, 'pad', 'changed'), '{v}'
    FROM generate_series(1, 30) r, generate_series(1, 20000) id;
INSERT INTO t_events (stream, type, payload, assigned)
  SELECT '1', 'update', jsonb_build_object('id', 1, 'v', 1000 + r, 'pad', 'hot'), '{v}'
    FROM generate_series(1, 200000) r;
CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL, pad text);
INSERT INTO big SELECT i, i, md5(i::text) FROM generate_series(1, 300000) i;
SELECT chronicle.create_event_table('ev');
INSERT INTO ev (stream, type, payload)
  SELECT 'big', 'Changed', jsonb_build_object('n', i, 'k' || (i % 50), i) FROM generate_series(1, 600000) i;
INSERT INTO ev (stream, type, payload)
  SELECT 's' || (i % 1000), 'Changed', jsonb_build_object('n', i) FROM generate_series(1, 400000) i;
SELECT chronicle.commit('g', 'ev', 0), chronicle.commit('g', 't', 0);
ANALYZE;

-- cancel_after(app, after_ms, limit_s): waits until the backend of
-- application_name app has run its statement for after_ms, cancels it and
-- returns how many milliseconds it stayed active after the cancel (-1: the
-- statement ended before after_ms; -2: still active after limit_s seconds).
CREATE FUNCTION cancel_after(app text, after_ms int, limit_s int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  target int;
  started timestamptz;
  seen boolean := false;
  t0 timestamptz := clock_timestamp();
  sent timestamptz;
BEGIN
  LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid, query_start INTO target, started FROM pg_stat_activity
     WHERE application_name = app AND state = 'active';
    IF target IS NOT NULL THEN
      seen := true;
      EXIT WHEN clock_timestamp() - started >= after_ms * interval '1 ms';
    ELSIF seen OR clock_timestamp() - t0 > interval '20 s' THEN
      RETURN -1;
    END IF;
    PERFORM pg_sleep(0.01);
  END LOOP;
  PERFORM pg_cancel_backend(target);
  sent := clock_timestamp();
  LOOP
    PERFORM pg_stat_clear_snapshot();
    EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = target AND state = 'active');
    IF clock_timestamp() - sent > limit_s * interval '1 s' THEN RETURN -2; END IF;
    PERFORM pg_sleep(0.02);
  END LOOP;
  RETURN round(extract(epoch FROM clock_timestamp() - sent) * 1000);
END $$;
SQL
say "setup took $(($(date +%s) - t0)) s: $(q -c "SELECT count(*) FROM t_events") events in t_events, $(q -c "SELECT count(*) FROM ev") in ev"
MARK=$(q -c "SELECT at FROM mark")

# cancel_check NAME SQL [DELAYS]: runs SQL in the background and cancels it
# after each delay (ms) in turn, for as long as it still runs that long;
# checks that it stopped within LIMIT_MS every time and that the client got
# 57014. The first delay must find it running. Each call runs in a
# transaction that is rolled back, so that the last one (not cancelled)
# changes nothing either.
cancel_check() {
  local name=$1 sql=$2 delays=${3:-$DELAYS}
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then return 0; fi
  local d first=1 ms rc err stops="" ncancel=0 codes_why="" verdict=""
  for d in $delays; do
    PGAPPNAME=cancel_$name psql -X -q -At -d app -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
      -c "SET client_min_messages = warning" -c "BEGIN" -c "$sql" -c "ROLLBACK" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    BG=$!
    ms=$(q -c "SELECT cancel_after('cancel_$name', $d, 60)")
    rc=0
    wait "$BG" || rc=$?
    BG=
    err=$(tr '\n' ' ' <"$WORK/$name.err")
    if [ "$ms" = -1 ]; then
      [ -z "$first" ] || verdict="it ended before the first cancel at $d ms (exit $rc, $err): make the data bigger"
      break
    fi
    first=
    ncancel=$((ncancel + 1))
    if [ "$rc" = 0 ] || ! grep -q "57014" "$WORK/$name.err"; then
      codes_why="cancelled at $d ms: exit $rc, stderr: $err"
    fi
    if [ "$ms" = -2 ]; then
      verdict="cancelled at $d ms, still active 60 s later"; break
    elif [ "$ms" -ge "$LIMIT_MS" ]; then
      verdict="cancelled at $d ms, active for $ms ms more"; break
    fi
    stops="$stops ${d}:${ms}"
  done
  if [ -z "$verdict" ]; then
    ok "$name: stops within $LIMIT_MS ms of a cancel (cancelled at:after ms$stops)"
  else
    not_ok "$name: stops within $LIMIT_MS ms of a cancel" "$verdict"
  fi
  if [ "$ncancel" -gt 0 ] && [ -z "$codes_why" ]; then
    ok "$name: the client got 57014 ($ncancel cancels)"
  else
    not_ok "$name: the client got 57014" "${codes_why:-never cancelled}"
  fi
}

cancel_check as_of "SELECT count(*) FROM chronicle.as_of(NULL::t)"
cancel_check as_of_past "SELECT count(*) FROM chronicle.as_of(NULL::t, known_at => '$MARK')"
cancel_check diff "SELECT count(*) FROM chronicle.diff(NULL::t, from_known => '$MARK')"
cancel_check restore_into "SELECT chronicle.restore('t', known_at => '$MARK', \"into\" => 't_restored')"
cancel_check restore_in_place "SELECT chronicle.restore('t', known_at => '$MARK')"
cancel_check row_history "SELECT count(*) FROM chronicle.history(NULL::t, 1)"
cancel_check track "SELECT chronicle.track('big')"
cancel_check events "SELECT count(*) FROM chronicle.events('ev', 'big')"
cancel_check events_all "SELECT count(*) FROM chronicle.events('ev')"
cancel_check state "SELECT chronicle.state('ev', 'big') IS NULL"
cancel_check timeline "SELECT count(*) FROM chronicle.timeline('ev', 'big')"
cancel_check history "SELECT count(*) FROM chronicle.history('ev', 'big')"
cancel_check read "SELECT count(*) FROM chronicle.read('t', 0, 2000000000)" "100 200 400"
cancel_check consume "SELECT count(*) FROM chronicle.consume('g', 't', 2000000000)" "100 200 400"
cancel_check apply_due "SELECT chronicle.apply_due('t')"

check "the server still answers" 1 "$(q -c "SELECT 1")"
check "the cancelled writes left nothing" "10000|f|f" \
  "$(q -c "SELECT (SELECT count(*) FROM t WHERE pad = 'changed'), to_regclass('t_restored') IS NOT NULL, to_regclass('big_events') IS NOT NULL")"
no_crash "$DIR"
finish
