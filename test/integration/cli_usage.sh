#!/usr/bin/env bash
# test/integration/cli_usage.sh: the conventions of the chronicle client
# (exit statuses 0/1/2, messages on stderr, --help, --version, connection
# from options, connection strings and PG* variables) and `chronicle as-of`.
source "$(dirname "$0")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
source "$ROOT/test/integration/cli_lib.bash"
set +e  # the checks look at exit statuses themselves
cli_cluster usage

# run ARGS...: runs the client, keeping its status, stdout and stderr.
run() {
  "${FG[@]}" "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}
# expect_usage NAME MESSAGE ARGS...: exit 2, MESSAGE on stderr, nothing on stdout.
expect_usage() {
  local name=$1 msg=$2
  shift 2
  run "$@"
  if [ "$RC" = 2 ] && [ -z "$OUT" ] && [[ "$ERR" == *"$msg"* ]]; then
    ok "$name: exit 2, \"$msg\""
  else
    not_ok "$name" "exit $RC, stdout \"${OUT:0:80}\", stderr \"${ERR:0:300}\""
  fi
}

sql "SELECT chronicle.create_event_table('ev'); SELECT chronicle.append('ev', 's', 't', '{}')" >/dev/null

run --help
check "--help exits 0" 0 "$RC"
[[ "$OUT" == *"chronicle tail TABLE"* && "$OUT" == *"PGHOST"* && -z "$ERR" ]] && ok "--help describes the commands and connection" || not_ok "--help" "${OUT:0:200}"
run consume --help
[[ "$RC" == 0 && "$OUT" == *"CHRONICLE_ATTEMPT"* ]] && ok "consume --help describes consume" || not_ok "consume --help" "${OUT:0:200}"
run --version
check "--version" "0 chronicle (chronicle) $(sed -nE "s/^default_version = '(.*)'/\1/p" "$ROOT/extension.control")" "$RC $OUT"

expect_usage "no command" "no command given" 
expect_usage "unknown command" 'unknown command "follow"' follow ev
expect_usage "missing TABLE" "tail needs a TABLE" tail
expect_usage "unknown option" 'unrecognized option "--form"' tail ev --form=3
expect_usage "bad --from" 'invalid value "abc" for --from' tail ev --from abc
expect_usage "two starts" "only one of --from, --from-start and --from-now" tail ev --from-start --from-now
expect_usage "option of another command" 'option "--once" does not apply to tail' tail ev --once
expect_usage "consume without COMMAND" 'consume needs a COMMAND after "--"' consume g ev
expect_usage "bad --format" 'invalid value "xml" for --format' as-of ev --format xml
expect_usage "no password on the command line" 'option "--password" takes no value' tail ev --password=secret
grep -q 'Try "chronicle --help"' "$WORK/err" && ok "usage errors end with a hint" || not_ok "usage errors end with a hint" "$ERR"

expect_usage "bad connection string" 'invalid connection string: missing "=" after "nonsense"' tail ev -d "host=x nonsense"
expect_usage "bad connection URI" 'invalid connection string' tail ev -d "postgresql://[::1"
expect_usage "unknown connection keyword" 'invalid connection option "colour"' tail ev -d "colour=blue"
expect_usage "no server there" 'connection to server on socket' tail ev -h "$WORK" -p 1
expect_usage "no such database" 'database "nope" does not exist' tail ev -d nope
PGDATABASE=nope2 run tail ev
[[ "$RC" == 2 && "$ERR" == *'database "nope2" does not exist'* ]] && ok "PGDATABASE is used" || not_ok "PGDATABASE is used" "$RC $ERR"
run tail ev -d "host=$PGHOST port=$PGPORT dbname=postgres user=postgres"
check "a connection string in -d works" "0 1" "$RC $(echo "$OUT" | wc -l)"
run tail ev -d "postgresql://postgres@/postgres?host=$PGHOST&port=$PGPORT"
check "a connection URI in -d works" "0 1" "$RC $(echo "$OUT" | wc -l)"
h=$PGHOST p=$PGPORT
(unset PGHOST PGPORT PGUSER; run tail ev -h "$h" -p "$p" -U postgres -d postgres; check "-h -p -U -d work" "0 1" "$RC $(echo "$OUT" | wc -l)")

run tail pg_class
[[ "$RC" == 1 && "$ERR" == 'chronicle: error: "pg_class" is not a chronicle event table'*'chronicle: hint: '* ]] \
  && ok "not an event table: exit 1, read()'s message and hint" || not_ok "not an event table" "$RC $ERR"
run tail no_such_table
[[ "$RC" == 1 && "$ERR" == *'relation "no_such_table" does not exist'* ]] && ok "no such table: exit 1" || not_ok "no such table" "$RC $ERR"
sql "CREATE ROLE nobody LOGIN" >/dev/null
run tail ev -U nobody -d postgres
[[ "$RC" == 1 && "$ERR" == *"permission denied"* ]] && ok "no SELECT privilege: exit 1" || not_ok "no SELECT privilege" "$RC $ERR"

# A reader that goes away (| head) ends the client like any filter, quietly.
sql "INSERT INTO ev (stream, type, payload) SELECT 's', 't', '{}' FROM generate_series(1, 100000)" >/dev/null
first=$("${FG[@]}" tail ev 2>"$WORK/err" | head -1)
check "tail | head -1: the first event, nothing on stderr" '{"position":1,"stream":"s","version":1|' \
  "$(echo "$first" | cut -c1-38)|$(cat "$WORK/err")"

# as-of: a tracked table as known at a past time, as CSV and JSON Lines.
sql "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric)" >/dev/null
sql "SELECT chronicle.track('items')" >/dev/null 2>&1
sql "INSERT INTO items VALUES (1, 'apple', 1.50), (2, 'pear, \"green\"', NULL)" >/dev/null
t1=$(sql "SELECT max(recorded_at) FROM items_events")
sql "UPDATE items SET price = 2 WHERE id = 1; DELETE FROM items WHERE id = 2; INSERT INTO items VALUES (3, 'fig', 3)" >/dev/null
run as-of items --known-at "$t1"
check "as-of --known-at T: CSV of the table then" "0|id,name,price
1,apple,1.50
2,\"pear, \"\"green\"\"\",|" "$RC|$(head -1 "$WORK/out"; tail -n +2 "$WORK/out" | sort)|$ERR"
run as-of items --known-at "$t1" --format=json
check "as-of --format=json: JSON Lines" '0|{"id":1,"name":"apple","price":1.50}
{"id":2,"name":"pear, \"green\"","price":null}|' "$RC|$(sort "$WORK/out")|$ERR"
run as-of items --format=json
check "as-of without --known-at: now" '0|{"id":1,"name":"apple","price":2}
{"id":3,"name":"fig","price":3}|' "$RC|$(sort "$WORK/out")|$ERR"
run as-of items --known-at "$t1" --valid-at "1999-01-01"
check "as-of --valid-at before anything: the header only" "0|id,name,price|" "$RC|$OUT|$ERR"
run as-of ev --known-at now
[[ "$RC" == 1 && "$ERR" == "chronicle: error: "* ]] && ok "as-of of an event table: exit 1 with the server's message" || not_ok "as-of of an event table" "$RC $ERR"
run as-of items --known-at "yesterday-ish"
[[ "$RC" == 1 && "$ERR" == *'invalid input syntax for type timestamp with time zone: "yesterday-ish"'* ]] && ok "a bad time: exit 1, the server's message" || not_ok "a bad time" "$RC $ERR"

no_crash "$CLUSTER_DIR"
finish
