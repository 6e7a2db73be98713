#!/usr/bin/env bash
# test/integration/upgrade.sh: SPEC §6, ALTER EXTENSION chronicle UPDATE from
# 0.1 gives what a fresh install of the new version gives.
#
# One throwaway cluster, two databases. up: CREATE EXTENSION chronicle
# VERSION '0.1', the setup below (0.1 functions only), then ALTER EXTENSION
# chronicle UPDATE. fresh: CREATE EXTENSION chronicle (the default version)
# and the same setup. Their catalogs must be equal (functions with their
# properties and bodies, extension members, configuration tables, tables,
# columns, indexes, constraints, triggers, sequences, views, event triggers,
# comments, privileges, dependencies, pg_dump --schema-only), and so must the
# answers of queries that do not depend on the time they run. Then the 0.2
# functions (read, consume, commit, reset, channel and its NOTIFY) must work
# in up on the event tables created under 0.1, with the same answers as in
# fresh.
#
# By default up runs the 0.1 SQL with the library installed now. With
# CHRONICLE_UPGRADE_FROM=<git revision of a release> (a19257e is 0.1), the
# test builds that revision's chronicle.so (cached in DIR-from-<rev>), runs
# the cluster from a private copy of the PostgreSQL installation (DIR-pg)
# holding that build, sets up up under it, then copies the installed build
# (library, scripts, control file) into the copy, restarts and updates: the
# path of a user who upgrades the package. The shared installation is never
# touched.
source "$(dirname "${BASH_SOURCE[0]}")/../../dev/lib.sh"
source "$ROOT/test/integration/common.bash"
need_root
export PGPORT_START=${PGPORT_START:-57000}
export PGTZ=UTC PGDATESTYLE=ISO PGOPTIONS="-c client_min_messages=warning"
DIR=${CHRONICLE_IT_DIR:-${CHRONICLE_TEST_DIR:-/tmp/chronicle-test}-it-upgrade}
WORK=$DIR/work
FROM=${CHRONICLE_UPGRADE_FROM:-}
SYSBIN=$PGBIN
if [ -n "$FROM" ]; then
  rev=$(git -C "$ROOT" rev-parse --short "$FROM^{commit}")
  SRC=$DIR-from-$rev
  if [ ! -f "$SRC/chronicle.so" ]; then
    say "building chronicle at $rev in $SRC"
    rm -rf "$SRC" && mkdir -p "$SRC"
    git -C "$ROOT" archive "$rev" | tar -x -C "$SRC"
    make -C "$SRC" -s -j2 PG_CONFIG="$SYSBIN/pg_config" >"$SRC.build.log" 2>&1 || { tail -20 "$SRC.build.log"; exit 1; }
  fi
  # A private copy of the installation: its binaries find their share and
  # lib directories relative to themselves.
  PRIV=$DIR-pg
  rm -rf "$PRIV" && mkdir -p "$PRIV/usr/lib/postgresql" "$PRIV/usr/share/postgresql"
  cp -a "$(dirname "$SYSBIN")" "$PRIV/usr/lib/postgresql/"
  cp -a "$("$SYSBIN/pg_config" --sharedir)" "$PRIV/usr/share/postgresql/"
  PGBIN=$PRIV/usr/lib/postgresql/$PGVER/bin
  export PATH="$PGBIN:$PATH"
  PRIVLIB=$("$PGBIN/pg_config" --pkglibdir)
  PRIVEXT=$("$PGBIN/pg_config" --sharedir)/extension
  [ "$PRIVEXT" = "$PRIV/usr/share/postgresql/$PGVER/extension" ] || { echo "error: the copy is not relocatable" >&2; exit 1; }
  rm -f "$PRIVEXT"/chronicle* "$PRIVLIB/chronicle.so"
  cp "$SRC/chronicle.so" "$PRIVLIB/"
  cp "$SRC"/sql/chronicle--*.sql "$SRC/chronicle.control" "$PRIVEXT/"
fi
start_cluster "$DIR"
trap 'stop_cluster "$DIR"; [ -z "${PRIV:-}" ] || rm -rf "$PRIV"' EXIT
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

# The setup, with 0.1 functions only. No time is written into the data
# except by chronicle's stamps, which the queries below leave out.
cat >"$WORK/setup.sql" <<'SQL'
\set ON_ERROR_STOP 1
CREATE SCHEMA audit;
SELECT chronicle.create_event_table('shop_events');
SELECT chronicle.create_event_table('audit.log_events');
SELECT chronicle.append('shop_events', 'cart-1', 'ItemAdded', '{"sku": "A-1", "qty": 2, "price": 9.5}');
SELECT chronicle.append('shop_events', 'cart-1', 'ItemAdded', '{"sku": "B-7", "qty": 1, "price": 20}',
                        valid_from => '2026-01-01', meta => '{"by": "clerk"}');
SELECT chronicle.append('shop_events', 'cart-2', 'ItemAdded', '{"sku": "C-3", "qty": 5, "price": 1.25}',
                        valid_from => '2025-06-01', valid_to => '2025-12-31');
BEGIN;
SELECT chronicle.append('shop_events', 'cart-3', 'CustomerSet', '{"name": "Ada"}');
INSERT INTO shop_events (stream, type, payload) VALUES ('cart-2', 'ItemRemoved', '{"sku": "C-3"}'),
                                                       ('cart-4', 'ItemAdded', '{"sku": "D-1", "qty": 1, "price": 3}');
SELECT chronicle.append('audit.log_events', 'u-1', 'Login', '{"ip": "10.0.0.1"}');
COMMIT;
SELECT chronicle.correct('shop_events', 1, '{"sku": "A-1", "qty": 3, "price": 9.5}');
SELECT chronicle.retract('shop_events', 3);
SELECT chronicle.erase('shop_events', 'cart-3');

CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL, price numeric(10,2));
INSERT INTO items VALUES (1, 'apple', 10, 0.50), (2, 'pear', 5, 0.80), (3, 'plum', 7, 1.20);
SELECT chronicle.track('items');
INSERT INTO items VALUES (4, 'kiwi', 3, 0.90);
UPDATE items SET qty = 11 WHERE id = 1;
DELETE FROM items WHERE id = 2;
BEGIN;
SET LOCAL chronicle.valid_from = '2026-01-01';
SET LOCAL chronicle.meta = '{"reason": "late entry"}';
UPDATE items SET price = 0.55 WHERE id = 1;
COMMIT;
BEGIN;
SET LOCAL chronicle.valid_from = '2025-01-01';
SET LOCAL chronicle.valid_to = '2025-07-01';
UPDATE items SET qty = 1 WHERE id = 3;
COMMIT;
ALTER TABLE items ADD COLUMN note text;
UPDATE items SET note = 'fresh' WHERE id = 4;
ALTER TABLE items RENAME COLUMN name TO title;
UPDATE items SET title = 'green apple' WHERE id = 1;
CREATE TABLE carts (id text PRIMARY KEY, status text);
SELECT chronicle.track('carts');
INSERT INTO carts VALUES ('c1', 'open'), ('c2', 'open');
TRUNCATE carts;
INSERT INTO carts VALUES ('c3', 'open');
CREATE TABLE wide (id int PRIMARY KEY, a text, b text, c text);
SELECT chronicle.track('wide');
INSERT INTO wide VALUES (1, 'a1', 'b1', 'c1');
ALTER TABLE wide DROP COLUMN b;
UPDATE wide SET c = 'c2' WHERE id = 1;
CREATE TABLE orders (region text, id int, total int, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
INSERT INTO orders VALUES ('eu', 1, 10);
SELECT chronicle.track('orders');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
INSERT INTO orders VALUES ('us', 2, 20);
UPDATE orders SET total = 11 WHERE id = 1;
CREATE TABLE gone (id int PRIMARY KEY, v text);
SELECT chronicle.track('gone');
INSERT INTO gone VALUES (1, 'x');
SELECT chronicle.untrack('gone');
CREATE SCHEMA history;
SELECT chronicle.create_time_travel_view('items');
SQL

say "up: CREATE EXTENSION chronicle VERSION '0.1', setup, ALTER EXTENSION chronicle UPDATE"
createdb up
q up "CREATE EXTENSION chronicle VERSION '0.1'" >/dev/null
check "up starts at 0.1" "0.1" "$(q up "SELECT extversion FROM pg_extension WHERE extname = 'chronicle'")"
psql -X -q -d up -f "$WORK/setup.sql" >/dev/null
if [ -n "$FROM" ]; then
  say "installing the current build into the copy, restarting"
  rm -f "$PRIVEXT"/chronicle* "$PRIVLIB/chronicle.so"
  cp "$("$SYSBIN/pg_config" --pkglibdir)/chronicle.so" "$PRIVLIB/"
  cp "$("$SYSBIN/pg_config" --sharedir)"/extension/chronicle* "$PRIVEXT/"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -m fast -w restart >/dev/null
fi
set +e
q up "ALTER EXTENSION chronicle UPDATE" >"$WORK/update.log" 2>&1
rc=$?
set -e
check "ALTER EXTENSION chronicle UPDATE succeeds" 0 "$rc"
check "ALTER EXTENSION chronicle UPDATE prints nothing" "" "$(cat "$WORK/update.log")"
default=$(sed -nE "s/^default_version *= *'([^']*)'.*/\1/p" "$("$PGBIN/pg_config" --sharedir)/extension/chronicle.control")
check "up is at the default version" "$default" "$(q up "SELECT extversion FROM pg_extension WHERE extname = 'chronicle'")"
check "the default version is 0.2" "0.2" "$default"

say "fresh: CREATE EXTENSION chronicle, setup"
createdb fresh
q fresh "CREATE EXTENSION chronicle" >/dev/null
psql -X -q -d fresh -f "$WORK/setup.sql" >/dev/null

# The catalog: everything the extension installed, and what it made of the
# user's tables. Toast table names carry OIDs: they are normalised.
cat >"$WORK/catalog.sql" <<'SQL'
SELECT '-- extension';
SELECT extname, extversion, extrelocatable, extnamespace::regnamespace, pg_get_userbyid(extowner)
  FROM pg_extension WHERE extname = 'chronicle';
SELECT '-- configuration tables (pg_extension_config_dump)';
SELECT c::regclass, cond FROM pg_extension, unnest(extconfig, extcondition) AS u(c, cond)
 WHERE extname = 'chronicle' ORDER BY c::regclass::text;
SELECT '-- extension members';
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'chronicle') ORDER BY 1;
SELECT '-- schemas';
SELECT nspname, pg_get_userbyid(nspowner), nspacl FROM pg_namespace
 WHERE nspname IN ('chronicle', 'public', 'audit', 'history') ORDER BY 1;
SELECT '-- functions';
SELECT p.oid::regprocedure, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
       p.prokind, p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof, p.proparallel,
       p.proconfig, l.lanname, p.procost, p.prorows, p.proretset, p.prosupport, p.probin,
       p.proacl, pg_get_userbyid(p.proowner), p.prosrc
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'chronicle'::regnamespace ORDER BY p.oid::regprocedure::text;
SELECT '-- types';
SELECT t.oid::regtype, t.typtype, t.typrelid <> 0, t.typacl FROM pg_type t
 WHERE t.typnamespace = 'chronicle'::regnamespace ORDER BY t.oid::regtype::text;
SELECT '-- relations';
SELECT c.oid::regclass, c.relkind, c.relpersistence, c.reloptions, c.relacl, c.relrowsecurity,
       c.relreplident, c.relispartition, pg_get_userbyid(c.relowner), c.relhasindex, c.relhastriggers,
       c.relchecks, c.reltoastrelid <> 0, obj_description(c.oid, 'pg_class')
  FROM pg_class c
 WHERE c.relnamespace IN ('chronicle'::regnamespace, 'public'::regnamespace, 'audit'::regnamespace,
                          'history'::regnamespace)
 ORDER BY c.oid::regclass::text;
SELECT '-- columns';
SELECT a.attrelid::regclass, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attisdropped,
       a.attcollation, a.attacl, regexp_replace(a.attoptions::text, 'pg_attver=[0-9]+,?', ''), a.attstattarget, a.attstorage
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace IN ('chronicle'::regnamespace, 'public'::regnamespace, 'audit'::regnamespace,
                          'history'::regnamespace)
   AND a.attnum > 0 ORDER BY a.attrelid::regclass::text, a.attnum;
SELECT '-- indexes';
SELECT i.indrelid::regclass, i.indexrelid::regclass, pg_get_indexdef(i.indexrelid), i.indisprimary,
       i.indisunique, i.indimmediate, i.indisreplident
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace IN ('chronicle'::regnamespace, 'public'::regnamespace, 'audit'::regnamespace)
 ORDER BY i.indrelid::regclass::text, i.indexrelid::regclass::text;
SELECT '-- constraints';
SELECT conrelid::regclass, conname, contype, pg_get_constraintdef(oid), condeferrable, condeferred, convalidated
  FROM pg_constraint
 WHERE connamespace IN ('chronicle'::regnamespace, 'public'::regnamespace, 'audit'::regnamespace)
 ORDER BY conrelid::regclass::text, conname;
SELECT '-- triggers';
SELECT t.tgrelid::regclass, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, t.tgisinternal, t.tgparentid <> 0
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace IN ('chronicle'::regnamespace, 'public'::regnamespace, 'audit'::regnamespace)
   AND NOT t.tgisinternal
 ORDER BY t.tgrelid::regclass::text, t.tgname;
SELECT '-- event triggers';
SELECT evtname, evtevent, evtfoid::regprocedure, evtenabled, evttags, pg_get_userbyid(evtowner)
  FROM pg_event_trigger ORDER BY 1;
SELECT '-- sequences';
SELECT s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmax,
       s.seqmin, s.seqcache, s.seqcycle
  FROM pg_sequence s ORDER BY s.seqrelid::regclass::text;
SELECT schemaname, sequencename, last_value FROM pg_sequences
 WHERE (schemaname, sequencename) <> ('chronicle', 'clock') ORDER BY 1, 2;
SELECT '-- views';
SELECT c.oid::regclass, pg_get_viewdef(c.oid) FROM pg_class c
 WHERE c.relkind IN ('v', 'm') AND c.relnamespace IN ('chronicle'::regnamespace, 'public'::regnamespace,
                                                      'history'::regnamespace)
 ORDER BY c.oid::regclass::text;
SELECT '-- comments';
SELECT regexp_replace(pg_describe_object(classoid, objoid, objsubid), 'pg_toast_[0-9]+', 'pg_toast_N'),
       description
  FROM pg_description WHERE objoid >= 16384 ORDER BY 1, 2;
SELECT '-- initial privileges (pg_init_privs)';
SELECT pg_describe_object(classoid, objoid, objsubid), privtype, initprivs
  FROM pg_init_privs WHERE objoid >= 16384 ORDER BY 1;
SELECT '-- dependencies';
SELECT regexp_replace(pg_describe_object(classid, objid, objsubid), 'pg_toast_[0-9]+', 'pg_toast_N') AS obj,
       regexp_replace(pg_describe_object(refclassid, refobjid, refobjsubid), 'pg_toast_[0-9]+', 'pg_toast_N') AS ref,
       deptype
  FROM pg_depend WHERE (objid >= 16384 OR refobjid >= 16384) AND deptype <> 'p'
 ORDER BY 1, 2, 3;
SELECT '-- roles';
SELECT rolname, rolcanlogin, rolinherit FROM pg_roles WHERE rolname LIKE 'chronicle%' ORDER BY 1;
SQL

# Answers that do not depend on when the setup ran: stamps are left out, a
# valid_from that defaulted to the stamp shows as "stamp".
cat >"$WORK/answers.sql" <<'SQL'
SELECT '-- raw events';
SELECT position, stream, version, type, payload, meta,
       CASE WHEN valid_from IN (SELECT recorded_at FROM shop_events) THEN 'stamp' ELSE valid_from::text END, valid_to, supersedes
  FROM shop_events ORDER BY position;
SELECT position, stream, version, type, payload, meta,
       CASE WHEN valid_from = recorded_at THEN 'stamp' ELSE valid_from::text END, valid_to, supersedes
  FROM audit.log_events ORDER BY position;
SELECT position, stream, version, type, payload, meta,
       CASE WHEN valid_from = recorded_at THEN 'stamp' ELSE valid_from::text END, valid_to, supersedes, assigned
  FROM items_events ORDER BY position;
SELECT position, stream, version, type, payload, meta,
       CASE WHEN valid_from = recorded_at THEN 'stamp' ELSE valid_from::text END, valid_to, supersedes, assigned
  FROM carts_events ORDER BY position;
SELECT position, stream, version, type, payload, meta,
       CASE WHEN valid_from = recorded_at THEN 'stamp' ELSE valid_from::text END, valid_to, supersedes, assigned
  FROM wide_events ORDER BY position;
SELECT position, stream, version, type, payload, meta,
       CASE WHEN valid_from = recorded_at THEN 'stamp' ELSE valid_from::text END, valid_to, supersedes, assigned
  FROM orders_events ORDER BY position;
SELECT '-- events';
SELECT replay, position, stream, version, type, payload, meta,
       CASE WHEN valid_from IN (SELECT recorded_at FROM shop_events) THEN 'stamp' ELSE valid_from::text END,
       valid_to, supersedes
  FROM chronicle.events('shop_events');
SELECT replay, position, stream, version, type, payload
  FROM chronicle.events('shop_events', valid_at => '2025-09-01');
SELECT replay, position, stream, type FROM chronicle.events('audit.log_events');
SELECT '-- state';
SELECT s, chronicle.state('shop_events', s), chronicle.state('shop_events', s, valid_at => '2025-09-01'),
       chronicle.state('shop_events', s, valid_at => '2026-06-01')
  FROM unnest(ARRAY['cart-1', 'cart-2', 'cart-3', 'cart-4']) AS s;
SELECT '-- as_of';
SELECT * FROM chronicle.as_of(NULL::items) ORDER BY id;
SELECT * FROM chronicle.as_of(NULL::items, valid_at => '2025-03-01') ORDER BY id;
SELECT * FROM chronicle.as_of(NULL::items, valid_at => '2026-02-01') ORDER BY id;
SELECT * FROM chronicle.as_of(NULL::items, NULL, NULL, 1);
SELECT * FROM chronicle.as_of(NULL::carts) ORDER BY id;
SELECT * FROM chronicle.as_of(NULL::wide) ORDER BY id;
SELECT * FROM chronicle.as_of(NULL::orders) ORDER BY id;
SELECT * FROM chronicle.as_of(NULL::gone) ORDER BY id;
SELECT * FROM history.items ORDER BY id;
SELECT '-- history';
SELECT position, type, "row", assigned, CASE WHEN valid_from = recorded_at THEN 'stamp' ELSE valid_from::text END,
       valid_to, superseded_at IS NULL OR superseded_at = 'infinity', meta
  FROM chronicle.history(NULL::items, 1);
SELECT position, version, type, payload, superseded_at IS NULL OR superseded_at = 'infinity', supersedes
  FROM chronicle.history('shop_events', 'cart-1');
SELECT '-- tracked_tables';
SELECT table_name, event_table, events FROM chronicle.tracked_tables ORDER BY table_name::text;
SQL

# read.sql: the 0.2 functions on the event tables created before the update.
cat >"$WORK/read.sql" <<'SQL'
\set ON_ERROR_STOP 1
SELECT '-- read';
SELECT position, stream, version, type, payload, meta, valid_to, supersedes FROM chronicle.read('shop_events');
SELECT position, stream, version, type FROM chronicle.read('shop_events', 3, 2);
SELECT position, stream, type, payload FROM chronicle.read('items', 0, 1000);
SELECT position, stream, type, payload FROM chronicle.read('audit.log_events', 0, 5);
SELECT position, stream, type FROM chronicle.read('orders_events', 1);
SELECT '-- consume, commit';
BEGIN;
SELECT position, stream, type FROM chronicle.consume('g1', 'shop_events', 3);
SELECT chronicle.commit('g1', 'shop_events', 3);
COMMIT;
BEGIN;
SELECT position, stream, type FROM chronicle.consume('g1', 'shop_events', 100);
SELECT chronicle.commit('g1', 'shop_events', (SELECT max(position) FROM shop_events));
COMMIT;
BEGIN;
SELECT count(*) FROM chronicle.consume('g1', 'shop_events', 100);
COMMIT;
BEGIN;
SELECT position, stream, type FROM chronicle.consume('g2', 'items', 4);
SELECT chronicle.commit('g2', 'items', 4);
COMMIT;
SELECT chronicle.reset('g1', 'shop_events', 2);
SELECT grp, tbl, position FROM chronicle.consumer_offsets ORDER BY grp, tbl::text;
SELECT '-- channel';
SELECT chronicle.channel('shop_events') = 'chronicle_' || 'shop_events'::regclass::oid,
       chronicle.channel('items') = chronicle.channel('items_events'),
       chronicle.channel('items') = 'chronicle_' || 'items_events'::regclass::oid;
SELECT '-- still working: append, track, capture, a new event table';
SELECT * FROM chronicle.append('shop_events', 'cart-5', 'ItemAdded', '{"sku": "F-1"}');
UPDATE items SET qty = 2 WHERE id = 3;
SELECT position, type, stream, payload, assigned FROM items_events ORDER BY position DESC LIMIT 1;
SELECT * FROM chronicle.as_of(NULL::items) ORDER BY id;
CREATE TABLE later (id int PRIMARY KEY, v text);
SELECT chronicle.track('later');
INSERT INTO later VALUES (1, 'x');
SELECT position, stream, type, payload FROM chronicle.read('later');
SELECT chronicle.create_event_table('new_events');
SELECT * FROM chronicle.append('new_events', 's', 'T', '{}');
SELECT position, stream, version, type FROM chronicle.read('new_events');
SELECT chronicle.create_event_table('part_events', partition_by => 'month');
SELECT * FROM chronicle.append('part_events', 's', 'T', '{}');
INSERT INTO part_events (stream, type, payload) VALUES ('s', 'T', '{"n": 2}');
SELECT position, stream, version, type, payload FROM chronicle.read('part_events');
BEGIN;
SELECT position, stream FROM chronicle.consume('g3', 'part_events', 1);
SELECT chronicle.commit('g3', 'part_events', 1);
COMMIT;
SQL

# compare_files NAME A B: the two files are equal.
compare_files() {
  if cmp -s "$2" "$3"; then
    ok "$1"
  else
    not_ok "$1" "diff up fresh (first 60 lines):"
    diff "$2" "$3" >"$2.diff" || true
    head -60 "$2.diff" | sed 's/^/#   /'
  fi
}
# run DB FILE writes the results of FILE in DB to DB.FILE.out.
run() { psql -X -q -At -d "$1" -f "$WORK/$2" >"$WORK/$1.$2.out" 2>&1 || true; }

for f in catalog.sql answers.sql; do
  run up "$f"
  run fresh "$f"
  errs=$(cat "$WORK/up.$f.out" "$WORK/fresh.$f.out" | grep -c 'ERROR' || true)
  check "$f runs without error" 0 "$errs"
  [ "$errs" = 0 ] || grep -m5 'ERROR' "$WORK/up.$f.out" "$WORK/fresh.$f.out"
done
compare_files "catalog: the updated install equals a fresh install" "$WORK/up.catalog.sql.out" "$WORK/fresh.catalog.sql.out"
compare_files "answers: the same in both" "$WORK/up.answers.sql.out" "$WORK/fresh.answers.sql.out"

# (\restrict lines carry a random key.)
pg_dump -s up | grep -v '^\\\(un\)\?restrict ' >"$WORK/up.schema.sql"
pg_dump -s fresh | grep -v '^\\\(un\)\?restrict ' >"$WORK/fresh.schema.sql"
compare_files "pg_dump --schema-only: the same in both" "$WORK/up.schema.sql" "$WORK/fresh.schema.sql"

say "0.2 functions on the event tables created under 0.1"
run up read.sql
run fresh read.sql
errs=$(cat "$WORK/up.read.sql.out" "$WORK/fresh.read.sql.out" | grep -c 'ERROR' || true)
check "read.sql runs without error" 0 "$errs"
[ "$errs" = 0 ] || grep -m5 'ERROR' "$WORK/up.read.sql.out" "$WORK/fresh.read.sql.out"
compare_files "read, consume, commit, channel: the same answers in both" "$WORK/up.read.sql.out" "$WORK/fresh.read.sql.out"
check "up: read() walks the 0.1 event table" \
  "$(q up "SELECT string_agg(position::text, ',' ORDER BY position) FROM shop_events")" \
  "$(q up "SELECT string_agg(position::text, ',' ORDER BY position) FROM chronicle.read('shop_events', 0, 1000)")"
check "up: read() of a 0.1 tracked table reads its event table" \
  "$(q up "SELECT string_agg(position::text, ',' ORDER BY position) FROM items_events")" \
  "$(q up "SELECT string_agg(position::text, ',' ORDER BY position) FROM chronicle.read('items', 0, 1000)")"
check "up: commit() refuses to move the offset backwards (22023)" "22023" \
  "$(q up "DO \$\$ BEGIN PERFORM chronicle.commit('g2', 'items', 1); EXCEPTION WHEN others THEN RAISE WARNING '%', SQLSTATE; END \$\$" 2>&1 \
     | sed -nE 's/.*WARNING: +//p')"
# NOTIFY on the channel of an event table created under 0.1, with the
# highest position the transaction wrote.
chan=$(q up "SELECT chronicle.channel('shop_events')")
out=$(psql -X -q -d up <<SQL 2>&1
LISTEN "$chan";
BEGIN;
SELECT chronicle.append('shop_events', 'cart-6', 'ItemAdded', '{}');
SELECT chronicle.append('shop_events', 'cart-6', 'ItemAdded', '{}');
COMMIT;
SELECT 1;
SQL
)
newest=$(q up "SELECT max(position) FROM shop_events")
check "up: one NOTIFY on $chan after a commit of two appends, payload = the highest position" \
  "Asynchronous notification \"$chan\" with payload \"$newest\" received" \
  "$(echo "$out" | grep -o 'Asynchronous notification.*received' | tr '\n' ';' | sed 's/;$//')"
no_crash "$DIR"
finish
