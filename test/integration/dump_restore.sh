#!/usr/bin/env bash
# test/integration/dump_restore.sh: SPEC §6, pg_dump / pg_restore keep every
# event with its position and recorded_at, and as-of answers are identical
# after a restore.
#
# One throwaway cluster. Database src gets event tables (appends,
# corrections, a retraction, an erased stream), tracked tables (CRUD,
# backdated changes, a TRUNCATE, ADD / RENAME / DROP COLUMN, a partitioned
# table) and consumer offsets; between the steps the script notes the time,
# and the as-of queries below ask about those times. The answers are written
# with psql -At to a file; src is dumped in custom format and restored with
# pg_restore into dst, in plain format and restored with psql into
# dst_plain, and as a schema-only dump then a data-only dump restored with
# --disable-triggers into dst_split; each must give the same file byte for
# byte (full event rows, positions and recorded_at included). Then capture, append and consume must
# go on in dst from where src stopped.
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
need_root
export PGPORT_START=${PGPORT_START:-57000}
export PGTZ=UTC PGDATESTYLE=ISO PGOPTIONS="-c client_min_messages=warning"
DIR=${CHRONICLE_IT_DIR:-${CHRONICLE_TEST_DIR:-/tmp/chronicle-test}-it-dump}
WORK=$DIR/work
start_cluster "$DIR"
trap 'stop_cluster "$DIR"' EXIT
mkdir -p "$WORK"

# q DB SQL… runs statements in DB, stops the script on an error, prints the
# results unaligned without headers.
q() {
  local db=$1
  shift
  local args=()
  for s in "$@"; do args+=(-c "$s"); done
  psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "${args[@]}"
}
# mark prints the current time, for known_at: strictly after everything
# committed before it and before everything committed after it.
mark() { q src "SELECT clock_timestamp()"; }

createdb src
T=()
T[0]=$(mark)
q src "CREATE EXTENSION chronicle" \
  "CREATE ROLE dpo_h3 LOGIN" "GRANT chronicle_admin TO dpo_h3" \
  "CREATE SCHEMA audit" \
  "SELECT chronicle.create_event_table('shop_events')" \
  "SELECT chronicle.create_event_table('audit.log_events')" \
  "SELECT chronicle.create_event_table('part_events', partition_by => 'month')" >/dev/null

# Event tables: appends (one per transaction, and several in one), INSERT,
# valid-time ranges, meta.
q src "SELECT chronicle.append('shop_events', 'cart-1', 'ItemAdded', '{\"sku\": \"A-1\", \"qty\": 2, \"price\": 9.5}')" \
  "SELECT chronicle.append('shop_events', 'cart-1', 'ItemAdded', '{\"sku\": \"B-7\", \"qty\": 1, \"price\": 20}',
                           valid_from => '2026-01-01', meta => '{\"by\": \"clerk\"}')" \
  "SELECT chronicle.append('shop_events', 'cart-2', 'ItemAdded', '{\"sku\": \"C-3\", \"qty\": 5, \"price\": 1.25}',
                           valid_from => '2025-06-01', valid_to => '2025-12-31')" >/dev/null
q src "BEGIN" \
  "SELECT chronicle.append('shop_events', 'cart-3', 'CustomerSet', '{\"name\": \"Ada\", \"email\": \"ada@example.org\"}')" \
  "INSERT INTO shop_events (stream, type, payload, meta) VALUES
     ('cart-2', 'ItemRemoved', '{\"sku\": \"C-3\"}', '{\"by\": \"app\"}'),
     ('cart-4', 'ItemAdded', '{\"sku\": \"D-1\", \"qty\": 1, \"price\": 3}', NULL)" \
  "SELECT chronicle.append('audit.log_events', 'u-1', 'Login', '{\"ip\": \"10.0.0.1\"}')" \
  "SELECT chronicle.append('part_events', 'p-' || i % 3, 'Tick', jsonb_build_object('i', i),
                           valid_from => '2025-01-01'::timestamptz + i * interval '1 day') FROM generate_series(1, 5) i" \
  "COMMIT" >/dev/null
q src "INSERT INTO part_events (stream, type, payload) VALUES ('p-1', 'Tock', '{}')" >/dev/null
T[1]=$(mark)
q src "SELECT chronicle.correct('shop_events',
         (SELECT position FROM shop_events WHERE stream = 'cart-1' AND version = 1),
         '{\"sku\": \"A-1\", \"qty\": 3, \"price\": 9.5}', meta => '{\"reason\": \"miscount\"}')" >/dev/null
T[2]=$(mark)
q src "SELECT chronicle.retract('shop_events', (SELECT position FROM shop_events WHERE stream = 'cart-2' AND version = 1))" >/dev/null
T[3]=$(mark)
q src "SET ROLE dpo_h3" "SELECT chronicle.erase('shop_events', 'cart-3')" >/dev/null
T[4]=$(mark)
q src "SELECT chronicle.append('shop_events', 'cart-1', 'CheckedOut', '{\"total\": 48.5}')" \
  "SELECT chronicle.append('shop_events', 'cart-4', 'ItemAdded', '{\"sku\": \"E-2\", \"qty\": 2, \"price\": 4}',
                           valid_from => '2024-01-01')" >/dev/null
T[5]=$(mark)

# Tracked tables: snapshot, CRUD, backdated changes, schema changes.
q src "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL, price numeric(10,2))" \
  "INSERT INTO items VALUES (1, 'apple', 10, 0.50), (2, 'pear', 5, 0.80), (3, 'plum', 7, 1.20)" \
  "SELECT chronicle.track('items')" >/dev/null
T[6]=$(mark)
q src "INSERT INTO items VALUES (4, 'kiwi', 3, 0.90)" "UPDATE items SET qty = 11 WHERE id = 1" \
  "DELETE FROM items WHERE id = 2" >/dev/null
T[7]=$(mark)
q src "BEGIN" "SET LOCAL chronicle.valid_from = '2026-01-01'" "SET LOCAL chronicle.meta = '{\"reason\": \"late entry\"}'" \
  "UPDATE items SET price = 0.55 WHERE id = 1" "COMMIT" >/dev/null
q src "BEGIN" "SET LOCAL chronicle.valid_from = '2025-01-01'" "SET LOCAL chronicle.valid_to = '2025-07-01'" \
  "UPDATE items SET qty = 1 WHERE id = 3" "INSERT INTO items VALUES (9, 'fig', 1, 2.00)" "COMMIT" >/dev/null
T[8]=$(mark)
q src "ALTER TABLE items ADD COLUMN note text" "UPDATE items SET note = 'fresh' WHERE id = 4" \
  "ALTER TABLE items RENAME COLUMN name TO title" "UPDATE items SET title = 'green apple' WHERE id = 1" >/dev/null
T[9]=$(mark)
q src "CREATE TABLE carts (id text PRIMARY KEY, status text)" "SELECT chronicle.track('carts')" \
  "INSERT INTO carts VALUES ('c1', 'open'), ('c2', 'open')" >/dev/null
T[10]=$(mark)
q src "TRUNCATE carts" "INSERT INTO carts VALUES ('c3', 'open')" "UPDATE carts SET status = 'paid' WHERE id = 'c3'" >/dev/null
T[11]=$(mark)
# A dropped column: the restored table's columns are renumbered (pg_dump
# leaves dropped columns out), while the schema events name attnums.
q src "CREATE TABLE wide (id int PRIMARY KEY, a text, b text, c text)" "SELECT chronicle.track('wide')" \
  "INSERT INTO wide VALUES (1, 'a1', 'b1', 'c1')" >/dev/null
T[12]=$(mark)
q src "ALTER TABLE wide DROP COLUMN b" "UPDATE wide SET c = 'c2' WHERE id = 1" \
  "INSERT INTO wide VALUES (2, 'a2', 'c2')" >/dev/null
T[13]=$(mark)
q src "CREATE TABLE orders (region text, id int, total int, PRIMARY KEY (region, id)) PARTITION BY LIST (region)" \
  "CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu')" \
  "CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us')" \
  "INSERT INTO orders VALUES ('eu', 1, 10), ('us', 2, 20)" "SELECT chronicle.track('orders')" \
  "UPDATE orders SET total = 11 WHERE id = 1" "DELETE FROM orders WHERE id = 2" "INSERT INTO orders VALUES ('us', 3, 30)" \
  >/dev/null
# Consumer groups (0.2): g1 committed a batch of shop_events, g2 one of the
# tracked items, g3 and g4 were reset (g4 on a table of another schema, whose
# regclass the dump must qualify, and on the partitioned table).
q src "BEGIN" \
  "WITH b AS (SELECT * FROM chronicle.consume('g1', 'shop_events', 3))
   SELECT chronicle.commit('g1', 'shop_events', (SELECT max(position) FROM b))" "COMMIT" \
  "BEGIN" \
  "WITH b AS (SELECT * FROM chronicle.consume('g2', 'items_events', 5))
   SELECT chronicle.commit('g2', 'items_events', (SELECT max(position) FROM b))" "COMMIT" \
  "SELECT chronicle.reset('g3', 'shop_events', 2)" "SELECT chronicle.reset('g4', 'audit.log_events', 1)" \
  "SELECT chronicle.reset('g4', 'part_events', 3)" >/dev/null
T[14]=$(mark)

# The fixed set of queries, with the noted times as literals.
QF=$WORK/queries.sql
{
  echo "SET TimeZone = 'UTC';"
  echo "SET extra_float_digits = 0;"
  for t in shop_events audit.log_events part_events items_events carts_events wide_events orders_events; do
    echo "SELECT '-- $t'; SELECT * FROM $t ORDER BY position;"
  done
  echo "SELECT '-- sequences'; SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE schemaname <> 'chronicle' ORDER BY 1, 2;"
  echo "SELECT '-- tracked_tables'; SELECT table_name, event_table, events FROM chronicle.tracked_tables ORDER BY table_name::text;"
  echo "SELECT '-- consumer_offsets'; SELECT grp, tbl, position, committed_at FROM chronicle.consumer_offsets ORDER BY grp, tbl::text;"
  for i in "${!T[@]}"; do
    k=${T[$i]}
    echo "SELECT '-- T$i $k';"
    echo "SELECT * FROM chronicle.events('shop_events', known_at => '$k');"
    echo "SELECT * FROM chronicle.events('shop_events', known_at => '$k', valid_at => '2025-09-01');"
    echo "SELECT * FROM chronicle.events('audit.log_events', known_at => '$k');"
    echo "SELECT * FROM chronicle.events('part_events', known_at => '$k');"
    echo "SELECT s, chronicle.state('shop_events', s, known_at => '$k'),
                 chronicle.state('shop_events', s, valid_at => '2025-09-01', known_at => '$k')
            FROM unnest(ARRAY['cart-1', 'cart-2', 'cart-3', 'cart-4']) AS s;"
    echo "SELECT s, t.* FROM unnest(ARRAY['cart-1', 'cart-2', 'cart-4']) AS s, chronicle.timeline('shop_events', s, known_at => '$k') AS t;"
    for tb in items carts wide orders; do
      for v in "NULL" "'2025-03-01'" "'2026-02-01'"; do
        echo "SELECT '$tb', $v, a.* FROM chronicle.as_of(NULL::$tb, known_at => '$k', valid_at => $v) AS a ORDER BY 1, 2, 3, 4;"
      done
    done
    echo "SELECT * FROM chronicle.diff(NULL::items, '${T[0]}', '$k') ORDER BY key;"
  done
  for s in cart-1 cart-2 cart-3 cart-4; do echo "SELECT * FROM chronicle.history('shop_events', '$s');"; done
  for k in 1 2 3 4 9; do echo "SELECT * FROM chronicle.history(NULL::items, $k);"; done
  for k in 1 2; do echo "SELECT * FROM chronicle.history(NULL::wide, $k);"; done
  echo "SELECT * FROM chronicle.history(NULL::orders, 'eu', 1);"
  echo "SELECT '-- now'; SELECT * FROM chronicle.as_of(NULL::items) ORDER BY id;"
  echo "SELECT * FROM chronicle.as_of(NULL::wide) ORDER BY id;"
  echo "SELECT * FROM chronicle.as_of(NULL::orders) ORDER BY id;"
  echo "SELECT '-- tables'; TABLE items ORDER BY id; TABLE carts ORDER BY id; TABLE wide ORDER BY id; TABLE orders ORDER BY id;"
  echo "SELECT '-- read'; SELECT * FROM chronicle.read('shop_events', 0, 1000);"
  echo "SELECT * FROM chronicle.read('shop_events', 3, 4);"
  echo "SELECT * FROM chronicle.read('items', 0, 1000);"
  echo "SELECT * FROM chronicle.read('orders_events', 2);"
  echo "SELECT * FROM chronicle.read('part_events', 1, 100);"
  echo "SELECT '-- partitions'; SELECT c.oid::regclass, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'part_events'::regclass ORDER BY c.oid::regclass::text;"
} >"$QF"

# answers DB FILE writes the answers of the queries in DB to FILE (errors
# included, so that a query failing on one side only shows in the diff).
answers() { psql -X -q -At -d "$1" -f "$QF" >"$2" 2>&1 || true; }

answers src "$WORK/src.out"
errs=$(grep -c 'ERROR' "$WORK/src.out" || true)
check "the queries run without error in src" 0 "$errs"
[ "$errs" = 0 ] || grep -m5 'ERROR' "$WORK/src.out"
rows=$(wc -l <"$WORK/src.out")
echo "# $rows lines of answers"

clock_src=$(q src "SELECT last_value FROM chronicle.clock")
pg_dump -Fc -f "$WORK/src.dump" src
pg_dump -Fp -f "$WORK/src.sql" src

maxwide=$(q src "SELECT max(position) FROM wide_events")
q src "ALTER TABLE wide ALTER COLUMN a SET STATISTICS 200" >/dev/null
check "src: ALTER TABLE changing no column records nothing" "" \
  "$(q src "SELECT type, payload FROM wide_events WHERE position > $maxwide")"

# compare NAME DB: the answers in DB equal src's.
compare() {
  answers "$2" "$WORK/$2.out"
  if cmp -s "$WORK/src.out" "$WORK/$2.out"; then
    ok "$1: every answer is identical"
  else
    not_ok "$1: every answer is identical" "diff src $2 (first 40 lines):"
    diff "$WORK/src.out" "$WORK/$2.out" >"$WORK/$2.diff" || true
    head -40 "$WORK/$2.diff" | sed 's/^/#   /'
  fi
}

# restored NAME DB LOG: checks right after a restore, before any query.
restored() {
  check "$1: restore printed nothing" "" "$(cat "$3")"
  check "$1: the clock is restored" "$clock_src" "$(q "$2" "SELECT last_value FROM chronicle.clock")"
  compare "$1" "$2"
}

say "pg_restore of the custom-format dump"
createdb dst
set +e
pg_restore --exit-on-error -d dst "$WORK/src.dump" >"$WORK/restore.log" 2>&1
rc=$?
set -e
check "pg_restore succeeds" 0 "$rc"
restored "pg_restore" dst "$WORK/restore.log"

say "psql of the plain-format dump"
createdb dst_plain
set +e
psql -X -q -v ON_ERROR_STOP=1 -d dst_plain -f "$WORK/src.sql" >/dev/null 2>"$WORK/plain.log"
rc=$?
set -e
check "the plain dump restores with psql" 0 "$rc"
restored "plain dump" dst_plain "$WORK/plain.log"

# A data-only dump goes into a database that already has the schema; event
# tables refuse rows with a position unless their triggers are disabled,
# as pg_dump's documentation advises for data-only restores.
say "pg_restore of a schema-only dump, then of a data-only dump with --disable-triggers"
pg_dump -Fc --schema-only -f "$WORK/schema.dump" src
pg_dump -Fc --data-only -f "$WORK/data.dump" src
createdb dst_split
set +e
pg_restore --exit-on-error -d dst_split "$WORK/schema.dump" >"$WORK/split.log" 2>&1 &&
  pg_restore --exit-on-error --disable-triggers -d dst_split "$WORK/data.dump" >>"$WORK/split.log" 2>&1
rc=$?
set -e
check "the schema-only and data-only dumps restore" 0 "$rc"
restored "schema, then data" dst_split "$WORK/split.log"

say "capture, append and consume go on after the restore"
for db in dst dst_plain; do
  maxrec=$(q "$db" "SELECT max(m) FROM (SELECT max(recorded_at) FROM shop_events UNION ALL
                     SELECT max(recorded_at) FROM audit.log_events UNION ALL SELECT max(recorded_at) FROM items_events UNION ALL
                     SELECT max(recorded_at) FROM carts_events UNION ALL SELECT max(recorded_at) FROM wide_events UNION ALL
                     SELECT max(recorded_at) FROM orders_events) AS x(m)")
  maxitems=$(q "$db" "SELECT max(position) FROM items_events")
  q "$db" "UPDATE items SET qty = qty + 1 WHERE id = 1" >/dev/null
  got=$(q "$db" "SELECT type, stream, payload->>'qty', assigned, recorded_at > '$maxrec' FROM items_events WHERE position > $maxitems ORDER BY position")
  check "$db: an UPDATE of the restored tracked table is one event after all restored ones" \
    "update|1|12|{qty}|t" "$got"
  check "$db: as_of(NULL::items) equals the table after the update" "t" \
    "$(q "$db" "SELECT array_agg(x ORDER BY x.id)::text = (SELECT array_agg(t ORDER BY t.id)::text FROM items t) FROM chronicle.as_of(NULL::items) x")"
  check "$db: as_of(NULL::wide) equals the table (columns renumbered by the restore)" "t" \
    "$(q "$db" "SELECT array_agg(x ORDER BY x.id)::text = (SELECT array_agg(t ORDER BY t.id)::text FROM wide t) FROM chronicle.as_of(NULL::wide) x")"
  q "$db" "UPDATE wide SET a = 'a3' WHERE id = 2" >/dev/null
  check "$db: capture of the table with a dropped column after the restore" "t" \
    "$(q "$db" "SELECT array_agg(x ORDER BY x.id)::text = (SELECT array_agg(t ORDER BY t.id)::text FROM wide t) FROM chronicle.as_of(NULL::wide) x")"
  maxshop=$(q "$db" "SELECT max(position) FROM shop_events")
  q "$db" "SELECT chronicle.append('shop_events', 'cart-9', 'ItemAdded', '{\"sku\": \"Z-9\", \"qty\": 1, \"price\": 1}')" >/dev/null
  check "$db: an append gets a greater position and a later recorded_at" "$((maxshop + 1))|2|t" \
    "$(q "$db" "SELECT position, (SELECT max(version) + 1 FROM shop_events WHERE stream = 'cart-9'), recorded_at > '$maxrec'
                FROM shop_events WHERE position > $maxshop")"
  check "$db: the new append is stamped after every restored event" "t" \
    "$(q "$db" "SELECT recorded_at > (SELECT max(recorded_at) FROM shop_events WHERE position <= $maxshop)
                FROM shop_events WHERE position > $maxshop")"
  maxpart=$(q "$db" "SELECT max(position) FROM part_events")
  q "$db" "SELECT chronicle.append('part_events', 'p-9', 'Tick', '{}')" >/dev/null
  check "$db: an append to the partitioned event table gets a greater position, read() sees it" "$((maxpart + 1))|t" \
    "$(q "$db" "SELECT position, recorded_at > '$maxrec' FROM chronicle.read('part_events', $maxpart)")"
  off=$(q "$db" "SELECT position FROM chronicle.consumer_offsets WHERE grp = 'g1'")
  check "$db: g1's offset is src's" "$(q src "SELECT position FROM chronicle.consumer_offsets WHERE grp = 'g1'")" "$off"
  want=$(q "$db" "SELECT string_agg(position::text, ',' ORDER BY position) FROM shop_events WHERE position > $off")
  got=$(q "$db" "BEGIN" \
    "CREATE TEMP TABLE b AS SELECT * FROM chronicle.consume('g1', 'shop_events', 1000)" \
    "SELECT chronicle.commit('g1', 'shop_events', (SELECT max(position) FROM b))" \
    "COMMIT" "SELECT string_agg(position::text, ',' ORDER BY position) FROM b" | tail -1)
  check "$db: consume continues from the restored offset" "$want" "$got"
  check "$db: the offset moved to the newest event" "$((maxshop + 1))" \
    "$(q "$db" "SELECT position FROM chronicle.consumer_offsets WHERE grp = 'g1'")"
  # A schema change after the restore records exactly one schema event.
  maxitems=$(q "$db" "SELECT max(position) FROM items_events")
  q "$db" "ALTER TABLE items ADD COLUMN extra int" >/dev/null
  check "$db: ADD COLUMN after the restore records one schema event" "schema|" \
    "$(q "$db" "SELECT type, stream FROM items_events WHERE position > $maxitems")"
  # An ALTER TABLE that changes no column records nothing (as in src).
  maxwide=$(q "$db" "SELECT max(position) FROM wide_events")
  q "$db" "ALTER TABLE wide ALTER COLUMN a SET STATISTICS 200" >/dev/null
  check "$db: ALTER TABLE changing no column of the table with a dropped column records nothing" "" \
    "$(q "$db" "SELECT type, payload FROM wide_events WHERE position > $maxwide")"
done
no_crash "$DIR"
finish
