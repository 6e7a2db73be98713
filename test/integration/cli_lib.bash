# test/integration/cli_lib.bash: shared by the integration tests of the
# chronicle client (cli_*.sh). Source it after dev/lib.sh and common.bash.

# The client under test: the one `make install` put beside pg_config --bindir.
CLI=${CHRONICLE_CLI:-$PGBIN/chronicle}
# Runs in the foreground are bounded: a client that loops fails its check.
FG=(timeout -s KILL 120 "$CLI")
# Clusters go to ${CLI_IT_DIR}-NAME (default /tmp/chronicle-cli-NAME).
CLI_IT_DIR=${CLI_IT_DIR:-/tmp/chronicle-cli}
export PGTZ=${PGTZ:-UTC}
CLI_PIDS=()
CLI_CLUSTERS=()
WORK=$(mktemp -d /tmp/chronicle-cli-work.XXXXXX)
chmod 755 "$WORK"

# cli_cleanup stops what the test started: its own background processes
# (by pid) and its clusters.
cli_cleanup() {
  local p d
  for p in "${CLI_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${CLI_CLUSTERS[@]}"; do stop_cluster "$d"; done
  rm -rf "$WORK"
}
trap cli_cleanup EXIT

# cli_cluster NAME: a throwaway cluster with chronicle in database postgres.
cli_cluster() {
  local dir="$CLI_IT_DIR-$1"
  CLI_CLUSTERS+=("$dir")
  start_cluster "$dir"
  CLUSTER_DIR=$dir
  psql -X -q -c 'CREATE EXTENSION chronicle'
}

# sql runs SQL and prints bare results.
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

# oracle TABLE [WHERE]: the JSON Lines that tail must print, made by the
# server (row_to_json) straight from the event table, not through read().
oracle() {
  sql "SELECT pg_catalog.row_to_json(r) FROM (SELECT position, stream, version, type, payload, meta,
         valid_from, valid_to, recorded_at FROM $1 ${2:-} ORDER BY position) r"
}

# wait_lines FILE N SECONDS: waits until FILE has at least N lines.
wait_lines() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# same_file NAME EXPECTED ACTUAL: a check that two files are equal, showing
# the first difference otherwise.
same_file() {
  if cmp -s "$2" "$3"; then
    ok "$1"
  else
    not_ok "$1" "$(diff "$2" "$3" | head -5 | tr '\n' ' ') (lines: $(wc -l <"$2") expected, $(wc -l <"$3") got)"
  fi
}

# complete_lines FILE: FILE without a last line that lacks its newline.
complete_lines() { sed '$ { /}$/!d }' "$1"; }

# last_position FILE: the position of the last complete JSON line in FILE.
last_position() { complete_lines "$1" | tail -1 | sed -E 's/^\{"position":([0-9]+),.*/\1/'; }

# writers TABLE CLIENTS TRANSACTIONS: concurrent writers appending two events
# per transaction with a random pause between them (so that transactions
# overlap and would commit out of position order), one in ten rolled back.
writers() {
  cat >"$WORK/writer.sql" <<SQL
\set pause random(0, 4)
\set abort random(1, 10)
BEGIN;
SELECT chronicle.append('$1', 'w' || :client_id, 'tick', jsonb_build_object('client', :client_id, 'n', random()));
SELECT pg_catalog.pg_sleep(:pause / 1000.0);
SELECT chronicle.append('$1', 'w' || :client_id, 'tock', '{}'::jsonb);
\if :abort = 1
ROLLBACK;
\else
COMMIT;
\endif
SQL
  pgbench -n -c "$2" -j "$2" -t "$3" -f "$WORK/writer.sql" >"$WORK/pgbench-$1.log" 2>&1 || { tail -5 "$WORK/pgbench-$1.log"; return 1; }
}
