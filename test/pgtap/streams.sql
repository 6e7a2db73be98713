-- streams.sql: the log and its consumers (SPEC §4, errors and privileges of
-- §7): read() against an independent oracle (plain SQL over the event
-- table), consumer groups (consume, commit, reset, consumer_groups), the
-- NOTIFY channel's name, offsets of dropped tables, every bad argument with
-- its SQLSTATE, and the worked example of doc/streams.md, whose SQL is run
-- as written there.
-- read() returns committed events only and skips the reader's own, so, like
-- known_at.sql, this file runs in autocommit (a BEGIN … COMMIT where a test
-- needs one transaction), works in its own tables, schemas and roles, and
-- drops them at the end. The SQL blocks of doc/streams.md marked
-- <!-- streams.sql: define | try | rebuild --> are extracted with awk and run
-- as they are; the path is relative to the current directory, so run
-- pg_prove from the repository's root (dev/test does).
SET client_min_messages = warning;
SET TimeZone = 'UTC';

-- Leftovers of an interrupted run (dropping the tables forgets their offsets).
DROP SCHEMA IF EXISTS shop CASCADE;
DROP SCHEMA IF EXISTS "tap st Ω" CASCADE;
DROP SCHEMA IF EXISTS tap_st_drop CASCADE;
DROP VIEW IF EXISTS tap_st_view;
DROP MATERIALIZED VIEW IF EXISTS tap_st_mv;
DROP TABLE IF EXISTS tap_st, tap_st_own, tap_st_empty, tap_st_many, tap_st_rows, tap_st_rows_events,
  tap_st_gone, tap_st_plain, tap_st_part, tap_st_parted, tap_st_rls, tap_st_rls_rows, tap_st_rls_rows_events;
DROP SEQUENCE IF EXISTS tap_st_seq;
DROP TYPE IF EXISTS tap_st_type;
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['tap_st_nobody', 'tap_st_reader', 'tap_st_owner'] LOOP
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE pg_catalog.format('DROP OWNED BY %I', r);
      EXECUTE pg_catalog.format('DROP ROLE %I', r);
    END IF;
  END LOOP;
END
$$;

-------------------------------------------------------------------------------
-- Helpers and the oracle (temporary, gone with the session)
-------------------------------------------------------------------------------
-- o_read: the events of tbl after a position, in position order, at most
-- max: what read() must return when every row of tbl is committed.
CREATE FUNCTION pg_temp.o_read(tbl regclass, after bigint, max integer)
RETURNS TABLE ("position" bigint, stream text, version integer, type text, payload jsonb,
               meta jsonb, valid_from timestamptz, valid_to timestamptz,
               recorded_at timestamptz, supersedes bigint)
LANGUAGE plpgsql AS $f$
BEGIN
  RETURN QUERY EXECUTE pg_catalog.format($q$
    SELECT e.position, e.stream, e.version, e.type, e.payload, e.meta, e.valid_from, e.valid_to,
           e.recorded_at, e.supersedes
      FROM %s AS e WHERE e.position > $1 ORDER BY e.position LIMIT $2 $q$, tbl) USING after, max;
END
$f$;
-- nth: the position of the n-th event of tbl (in position order).
CREATE FUNCTION pg_temp.nth(tbl regclass, n integer) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
  p bigint;
BEGIN
  EXECUTE pg_catalog.format('SELECT e.position FROM %s AS e ORDER BY e.position OFFSET $1 LIMIT 1', tbl)
    INTO p USING n - 1;
  RETURN p;
END
$f$;
-- newest: the position of the newest event of tbl (0 when none).
CREATE FUNCTION pg_temp.newest(tbl regclass) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
  p bigint;
BEGIN
  EXECUTE pg_catalog.format('SELECT coalesce(max(e.position), 0) FROM %s AS e', tbl) INTO p;
  RETURN p;
END
$f$;
-- as_role runs q as role r, then returns to the session role; on error the
-- caller's subtransaction (throws_ok's) undoes the role switch.
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
  EXECUTE q;
  RESET ROLE;
END
$f$;
-- as_role_value runs the one-value query q as role r and returns its value.
CREATE FUNCTION pg_temp.as_role_value(r text, q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  v text;
BEGIN
  EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
  EXECUTE q INTO v;
  RESET ROLE;
  RETURN v;
END
$f$;

-------------------------------------------------------------------------------
-- The tables: committed events, one autocommitted transaction per statement
-------------------------------------------------------------------------------
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st'); END $$;
DO $$ BEGIN PERFORM chronicle.append('tap_st', 'a', 'created', '{"n": 1}'); END $$;
DO $$
BEGIN
  PERFORM chronicle.append('tap_st', 'b', 'created', '{"n": 2}');
  PERFORM chronicle.append('tap_st', 'a', 'changed', '{"n": 3}', meta => '{"by": "tap"}');
END
$$;
-- A transaction that rolls back: its positions stay unused (a hole).
BEGIN;
DO $$ BEGIN PERFORM chronicle.append('tap_st', 'x', 'lost', '{"n": 0}'); END $$;
ROLLBACK;
DO $$
BEGIN
  PERFORM chronicle.correct('tap_st', (SELECT position FROM tap_st WHERE stream = 'a' AND version = 1), '{"n": 10}');
END
$$;
DO $$ BEGIN PERFORM chronicle.retract('tap_st', (SELECT position FROM tap_st WHERE stream = 'b' AND version = 1)); END $$;
INSERT INTO tap_st (stream, type, payload, valid_from, valid_to)
  VALUES ('c', 'bounded', '{"n": 4}', '2001-01-01', '2002-01-01'), ('c', 'open', '{"n": 5}', '2001-01-01', 'infinity');
DO $$ BEGIN PERFORM chronicle.append('tap_st', 'd', 'last', '{"n": 6}'); END $$;

DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_own'); END $$;
INSERT INTO tap_st_own (stream, type, payload) VALUES ('theirs', 'e', '{"n": 1}'), ('theirs', 'e', '{"n": 2}');
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_empty'); END $$;
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_many'); END $$;
INSERT INTO tap_st_many (stream, type, payload) SELECT 'm' || i % 7, 'e', jsonb_build_object('i', i)
  FROM generate_series(1, 1005) AS i;

-- A tracked table: its events are read through its name or its event table.
CREATE TABLE tap_st_rows (id integer PRIMARY KEY, v text);
INSERT INTO tap_st_rows VALUES (1, 'before tracking');
DO $$ BEGIN PERFORM chronicle.track('tap_st_rows'); END $$;
INSERT INTO tap_st_rows VALUES (2, 'two'), (3, 'three');
UPDATE tap_st_rows SET v = 'TWO' WHERE id = 2;
DELETE FROM tap_st_rows WHERE id = 3;

-- A partitioned event table (read through its partitions' primary keys).
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_parted', partition_by => 'day'); END $$;
INSERT INTO tap_st_parted (stream, type, payload) VALUES ('p', 'e', '{"n": 1}'), ('q', 'e', '{"n": 2}');
BEGIN;
INSERT INTO tap_st_parted (stream, type, payload) VALUES ('lost', 'e', '{}');
ROLLBACK;
INSERT INTO tap_st_parted (stream, type, payload) VALUES ('p', 'e', '{"n": 3}');

-- Tables under row-level security: an event table and a tracked table.
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_rls'); END $$;
INSERT INTO tap_st_rls (stream, type, payload) VALUES ('r', 'e', '{}');
ALTER TABLE tap_st_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY tap_st_rls_all ON tap_st_rls FOR SELECT USING (true);
CREATE TABLE tap_st_rls_rows (id integer PRIMARY KEY);
DO $$ BEGIN PERFORM chronicle.track('tap_st_rls_rows'); END $$;
INSERT INTO tap_st_rls_rows VALUES (1);
ALTER TABLE tap_st_rls_rows ENABLE ROW LEVEL SECURITY;
CREATE POLICY tap_st_rls_rows_all ON tap_st_rls_rows FOR SELECT USING (true);

-- Names that need quotes, in a schema that is not on search_path.
CREATE SCHEMA "tap st Ω";
DO $$ BEGIN PERFORM chronicle.create_event_table('"tap st Ω"."Événements Mixed"'); END $$;
DO $$
BEGIN
  PERFORM chronicle.append('"tap st Ω"."Événements Mixed"', 'ß', 'Créé', '{"ü": 1}');
  PERFORM chronicle.append('"tap st Ω"."Événements Mixed"', 'ß', 'Geändert', '{"ü": 2}');
END
$$;
CREATE TABLE "tap st Ω"."Order Lines" (id integer PRIMARY KEY, qty integer);
DO $$ BEGIN PERFORM chronicle.track('"tap st Ω"."Order Lines"'); END $$;
INSERT INTO "tap st Ω"."Order Lines" VALUES (1, 5);
UPDATE "tap st Ω"."Order Lines" SET qty = 6;

-- Relations that are not event tables.
CREATE TABLE tap_st_plain (stream text, type text, payload jsonb);
CREATE VIEW tap_st_view AS SELECT * FROM tap_st;
CREATE MATERIALIZED VIEW tap_st_mv AS SELECT * FROM tap_st;
CREATE SEQUENCE tap_st_seq;
CREATE TABLE tap_st_part (id integer) PARTITION BY RANGE (id);
CREATE TYPE tap_st_type AS (a integer);

-- An event table with a group's offset, dropped later (its OID is kept).
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_gone'); END $$;
DO $$ BEGIN PERFORM chronicle.append('tap_st_gone', 'g', 'e', '{}'); END $$;
CREATE TEMP TABLE tap_st_oid (name text PRIMARY KEY, relid oid NOT NULL);
INSERT INTO tap_st_oid VALUES ('gone', 'tap_st_gone'::regclass);
DO $$ BEGIN PERFORM chronicle.reset('g_gone', 'tap_st_gone', 1); END $$;

-- Roles: nobody may read anything; reader may read tap_st and the tracked
-- table tap_st_rows (not its event table); owner owns an event table.
CREATE ROLE tap_st_nobody NOLOGIN;
CREATE ROLE tap_st_reader NOLOGIN;
CREATE ROLE tap_st_owner NOLOGIN;
GRANT SELECT ON tap_st, tap_st_rows, tap_st_rls, tap_st_rls_rows, tap_st_rls_rows_events TO tap_st_reader;
GRANT USAGE ON SCHEMA "tap st Ω" TO tap_st_nobody, tap_st_reader;
CREATE SCHEMA tap_st_drop;
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_drop.owned'); END $$;
ALTER TABLE tap_st_drop.owned OWNER TO tap_st_owner;
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_st_drop.in_schema'); END $$;
INSERT INTO tap_st_oid VALUES ('owned', 'tap_st_drop.owned'::regclass), ('in_schema', 'tap_st_drop.in_schema'::regclass);
DO $$
BEGIN
  PERFORM chronicle.reset('g_owned', 'tap_st_drop.owned', 0);
  PERFORM chronicle.reset('g_in_schema', 'tap_st_drop.in_schema', 0);
END
$$;

-- The example of doc/streams.md, block by block (see "-- the projection").
\set doc_define `awk -v want=define 'BEGIN { f = sprintf("%c%c%c", 96, 96, 96) } /^<!-- streams.sql: / { n = $3; next } index($0, f) == 1 { open = !open; if (open && n == want) inb = 1; if (!open) { inb = 0; n = "" } next } inb' doc/streams.md`
\set doc_try `awk -v want=try 'BEGIN { f = sprintf("%c%c%c", 96, 96, 96) } /^<!-- streams.sql: / { n = $3; next } index($0, f) == 1 { open = !open; if (open && n == want) inb = 1; if (!open) { inb = 0; n = "" } next } inb' doc/streams.md`
\set doc_rebuild `awk -v want=rebuild 'BEGIN { f = sprintf("%c%c%c", 96, 96, 96) } /^<!-- streams.sql: / { n = $3; next } index($0, f) == 1 { open = !open; if (open && n == want) inb = 1; if (!open) { inb = 0; n = "" } next } inb' doc/streams.md`

SELECT plan(214);

-------------------------------------------------------------------------------
-- read(): order, after, max, against the oracle
-------------------------------------------------------------------------------
SELECT ok(pg_temp.newest('tap_st') > (SELECT count(*) FROM tap_st),
  'the log has a hole (the rolled-back transaction''s position)');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st', 0, 1000)$$,
  'oracle: read() returns every committed event, in position order');
SELECT results_eq(
  $$SELECT a, m, r.* FROM generate_series(0, pg_temp.newest('tap_st') + 1) AS a, (VALUES (1), (2), (3), (1000)) AS x (m),
           LATERAL chronicle.read('tap_st', a, m) AS r ORDER BY a, m, r.position$$,
  $$SELECT a, m, o.* FROM generate_series(0, pg_temp.newest('tap_st') + 1) AS a, (VALUES (1), (2), (3), (1000)) AS x (m),
           LATERAL pg_temp.o_read('tap_st', a, m) AS o ORDER BY a, m, o.position$$,
  'oracle: read(after, max) for every after (holes included) and several max');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st', after => pg_temp.nth('tap_st', 2), max => 2)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st', pg_temp.nth('tap_st', 2), 2)$$,
  'read() takes named arguments');
SELECT is_empty($$SELECT * FROM chronicle.read('tap_st', pg_temp.newest('tap_st'))$$,
  'read() after the newest event: no rows');
SELECT is_empty($$SELECT * FROM chronicle.read('tap_st', 9223372036854775807)$$,
  'read() after the largest bigint: no rows');
SELECT is_empty($$SELECT * FROM chronicle.read('tap_st') WHERE stream = 'x'$$,
  'the rolled-back transaction''s event is not read');
SELECT is((SELECT count(*) FROM chronicle.read('tap_st_many')), 1000::bigint, 'max defaults to 1000');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_many', 0, 2000)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_many', 0, 2000)$$, 'oracle: read() of 1005 events with max => 2000');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_many', 1000, 2147483647)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_many', 1000, 2147483647)$$, 'read() with the largest max');
SELECT is_empty($$SELECT * FROM chronicle.read('tap_st_empty')$$, 'read() of an empty event table: no rows');
SELECT is_empty($$SELECT * FROM chronicle.read('tap_st_empty', 100, 1)$$,
  'read() of an empty event table after a position it never reached: no rows');

-- corrections and retractions are events of the log
SELECT results_eq(
  $$SELECT r.type, r.payload, r.supersedes FROM chronicle.read('tap_st') AS r WHERE r.supersedes IS NOT NULL$$,
  $$VALUES ('created', '{"n": 10}'::jsonb, (SELECT position FROM tap_st WHERE stream = 'a' AND version = 1)),
           ('$retract', NULL, (SELECT position FROM tap_st WHERE stream = 'b' AND version = 1))$$,
  'a correction and a retraction are read as events, with supersedes');
SELECT results_eq(
  $$SELECT r.stream, r.version FROM chronicle.read('tap_st') AS r WHERE r.stream IN ('a', 'b') ORDER BY r.position$$,
  $$VALUES ('a', 1), ('b', 1), ('a', 2), ('a', 3), ('b', 2)$$,
  'the corrected and the retracted events stay in the log, at their positions');
SELECT cmp_ok((SELECT count(*) FROM chronicle.read('tap_st')), '>', (SELECT count(*) FROM chronicle.events('tap_st')),
  'read() is the raw log, events() the visible events');

-- a tracked table is read through its name and through its event table
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_rows')$$,
  $$SELECT * FROM chronicle.read('tap_st_rows_events')$$,
  'read() of a tracked table = read() of its event table');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_rows')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_rows_events', 0, 1000)$$,
  'oracle: read() of a tracked table');
SELECT results_eq($$SELECT type, stream FROM chronicle.read('tap_st_rows', 1)$$,
  $$VALUES ('snapshot', '1'), ('insert', '2'), ('insert', '3'), ('update', '2'), ('delete', '3')$$,
  'the tracked table''s snapshot, inserts, update and delete, in order');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_rows', pg_temp.nth('tap_st_rows_events', 3), 2)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_rows_events', pg_temp.nth('tap_st_rows_events', 3), 2)$$,
  'read(after, max) of a tracked table');

-- names that need quotes
SELECT results_eq($$SELECT * FROM chronicle.read('"tap st Ω"."Événements Mixed"')$$,
  $$SELECT * FROM pg_temp.o_read('"tap st Ω"."Événements Mixed"', 0, 1000)$$,
  'oracle: read() of an event table with a quoted, non-ASCII name in a schema off search_path');
SELECT results_eq($$SELECT * FROM chronicle.read('"tap st Ω"."Order Lines"')$$,
  $$SELECT * FROM chronicle.read('"tap st Ω"."Order Lines_events"')$$,
  'read() of a tracked table with a quoted name = read() of its event table');
SELECT results_eq($$SELECT type, payload FROM chronicle.read('"tap st Ω"."Order Lines"', 1)$$,
  $$VALUES ('insert', '{"id": 1, "qty": 5}'::jsonb), ('update', '{"id": 1, "qty": 6}')$$,
  'the quoted tracked table''s changes');

-- a partitioned event table
SELECT results_eq(
  $$SELECT a, m, r.* FROM generate_series(0, pg_temp.newest('tap_st_parted') + 1) AS a, (VALUES (1), (2), (1000)) AS x (m),
           LATERAL chronicle.read('tap_st_parted', a, m) AS r ORDER BY a, m, r.position$$,
  $$SELECT a, m, o.* FROM generate_series(0, pg_temp.newest('tap_st_parted') + 1) AS a, (VALUES (1), (2), (1000)) AS x (m),
           LATERAL pg_temp.o_read('tap_st_parted', a, m) AS o ORDER BY a, m, o.position$$,
  'oracle: read(after, max) of a partitioned event table');
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('g_parted', 'tap_st_parted', 2)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_parted', 0, 2)$$, 'consume() of a partitioned event table');
SELECT is(chronicle.commit('g_parted', 'tap_st_parted', pg_temp.newest('tap_st_parted')), pg_temp.newest('tap_st_parted'),
  'commit() of the newest position of a partitioned event table');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.commit(%L, %L, %s)', 'g_parted', 'tap_st_parted', pg_temp.newest('tap_st_parted') + 1),
  '22023', NULL, 'commit() beyond the newest event of a partitioned event table (22023)');
-- A leaf partition is not a log of its own: the functions name the partitioned table.
SELECT throws_ok(pg_catalog.format('SELECT * FROM chronicle.read(%L)', 'tap_st_parted_default'),
  '42809', '"tap_st_parted_default" is a partition of event table "tap_st_parted"',
  'read() refuses a leaf partition (42809)');
SELECT throws_ok(pg_catalog.format('SELECT * FROM chronicle.consume(%L, %L)', 'g', 'tap_st_parted_default'),
  '42809', NULL, 'consume() refuses a leaf partition (42809)');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.commit(%L, %L, 0)', 'g', 'tap_st_parted_default'),
  '42809', NULL, 'commit() refuses a leaf partition (42809)');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.channel(%L)', 'tap_st_parted_default'),
  '42809', NULL, 'channel() refuses a leaf partition (42809)');
COMMIT;

-------------------------------------------------------------------------------
-- the caller's own uncommitted events are not read (positions provisional)
-------------------------------------------------------------------------------
BEGIN;
DO $$ BEGIN PERFORM chronicle.append('tap_st_own', 'mine', 'e', '{"n": 3}'); END $$;
INSERT INTO tap_st_rows VALUES (4, 'uncommitted');
SELECT is((SELECT count(*) FROM tap_st_own WHERE stream = 'mine'), 1::bigint,
  'the transaction sees its own event in the table');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_own')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_own', 0, 1000) AS o WHERE o.stream <> 'mine'$$,
  'read() skips the transaction''s own uncommitted event');
SELECT is_empty($$SELECT * FROM chronicle.read('tap_st_own', pg_temp.nth('tap_st_own', 2))$$,
  'read() after the last committed event: no rows, although the transaction wrote one');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_rows')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_rows_events', 0, 1000) AS o WHERE o.stream <> '4'$$,
  'read() of a tracked table skips the changes the transaction captured');
SELECT results_eq($$SELECT * FROM chronicle.consume('g_own', 'tap_st_own')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_own', 0, 1000) AS o WHERE o.stream <> 'mine'$$,
  'consume() skips them too');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.commit(%L, %L, %s)', 'g_own', 'tap_st_own', pg_temp.newest('tap_st_own')),
  '22023', pg_catalog.format('position %s is beyond the newest event of "tap_st_own" (%s)',
                             pg_temp.newest('tap_st_own'), pg_temp.nth('tap_st_own', 2)),
  'commit() refuses the provisional position of an uncommitted event (22023)');
SELECT is(chronicle.commit('g_own', 'tap_st_own', pg_temp.nth('tap_st_own', 2)), pg_temp.nth('tap_st_own', 2),
  'commit() takes the newest committed position');
COMMIT;
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_own')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_own', 0, 1000)$$,
  'after commit, read() returns the event');
SELECT results_eq($$SELECT stream FROM chronicle.read('tap_st_own', pg_temp.nth('tap_st_own', 2))$$,
  $$VALUES ('mine')$$, 'a reader that had read up to the last committed event gets it next');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_rows')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_rows_events', 0, 1000)$$,
  'after commit, read() of the tracked table returns the captured change');

-------------------------------------------------------------------------------
-- consumer groups: consume, commit, reset, consumer_groups
-------------------------------------------------------------------------------
SELECT is_empty($$SELECT * FROM chronicle.consumer_groups WHERE grp = 'g1'$$, 'a group has no offset before its first use');
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('g1', 'tap_st', 2)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st', 0, 2)$$, 'consume(): a new group starts at offset 0');
SELECT is(chronicle.commit('g1', 'tap_st', pg_temp.nth('tap_st', 2)), pg_temp.nth('tap_st', 2),
  'commit() returns the stored offset');
SELECT is(chronicle.commit('g1', 'tap_st', pg_temp.nth('tap_st', 2)), pg_temp.nth('tap_st', 2),
  'commit() of the same offset again is accepted');
COMMIT;
SELECT results_eq($$SELECT grp, event_table, position, committed_at IS NOT NULL FROM chronicle.consumer_groups WHERE grp = 'g1'$$,
  $$VALUES ('g1', 'tap_st'::regclass, pg_temp.nth('tap_st', 2), true)$$,
  'consumer_groups shows the committed offset and when it was committed');
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('g1', 'tap_st', 2)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st', pg_temp.nth('tap_st', 2), 2)$$,
  'consume() continues after the committed offset');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.commit(%L, %L, %s)', 'g1', 'tap_st', pg_temp.nth('tap_st', 1)),
  '22023', pg_catalog.format('cannot move the offset of consumer group "g1" on "tap_st" back from %s to %s',
                             pg_temp.nth('tap_st', 2), pg_temp.nth('tap_st', 1)),
  'commit() refuses to move the offset back (22023)');
SELECT throws_ok($$SELECT chronicle.commit('g1', 'tap_st', 0)$$, '22023', NULL,
  'commit() refuses to move the offset back to 0 (22023)');
SELECT is(chronicle.commit('g1', 'tap_st', pg_temp.newest('tap_st')), pg_temp.newest('tap_st'),
  'commit() of the newest position');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.commit(%L, %L, %s)', 'g1', 'tap_st', pg_temp.newest('tap_st') + 1),
  '22023', pg_catalog.format('position %s is beyond the newest event of "tap_st" (%s)',
                             pg_temp.newest('tap_st') + 1, pg_temp.newest('tap_st')),
  'commit() refuses a position beyond the newest event (22023)');
COMMIT;
BEGIN;
SELECT is_empty($$SELECT * FROM chronicle.consume('g1', 'tap_st')$$, 'consume() at the newest event: no rows');
COMMIT;
SELECT is(chronicle.reset('g1', 'tap_st', pg_temp.nth('tap_st', 3)), pg_temp.nth('tap_st', 3),
  'reset() moves the offset back');
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('g1', 'tap_st')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st', pg_temp.nth('tap_st', 3), 100)$$,
  'consume() continues after the reset offset');
COMMIT;
SELECT is(chronicle.reset('g1', 'tap_st', pg_temp.newest('tap_st')), pg_temp.newest('tap_st'),
  'reset() moves the offset forward, to the newest event');
SELECT is(chronicle.reset('g1', 'tap_st'), 0::bigint, 'reset() without a position goes back to 0');
SELECT is((SELECT position FROM chronicle.consumer_groups WHERE grp = 'g1'), 0::bigint,
  'consumer_groups shows the reset offset');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.reset(%L, %L, %s)', 'g1', 'tap_st', pg_temp.newest('tap_st') + 1),
  '22023', pg_catalog.format('position %s is beyond the newest event of "tap_st" (%s)',
                             pg_temp.newest('tap_st') + 1, pg_temp.newest('tap_st')),
  'reset() refuses a position beyond the newest event (22023)');
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('g1', 'tap_st')$$,
  $$SELECT * FROM pg_temp.o_read('tap_st', 0, 100)$$, 'after reset() to 0, consume() replays from the start');
COMMIT;
SELECT is(chronicle.reset('g_new', 'tap_st', pg_temp.nth('tap_st', 4)), pg_temp.nth('tap_st', 4),
  'reset() of a new group creates its offset');
BEGIN;
SELECT is((SELECT count(*) FROM chronicle.consume('g_many', 'tap_st_many')), 100::bigint, 'consume() max defaults to 100');
SELECT results_eq($$SELECT * FROM chronicle.consume('g_many', 'tap_st_many', 3)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_many', 0, 3)$$,
  'consume() again in the same transaction: the same batch until the offset is committed');
COMMIT;
-- an empty event table
BEGIN;
SELECT is_empty($$SELECT * FROM chronicle.consume('g_empty', 'tap_st_empty')$$, 'consume() of an empty event table: no rows');
SELECT is(chronicle.commit('g_empty', 'tap_st_empty', 0), 0::bigint, 'commit() of 0 on an empty event table');
SELECT throws_ok($$SELECT chronicle.commit('g_empty', 'tap_st_empty', 1)$$, '22023',
  'position 1 is beyond the newest event of "tap_st_empty" (0)', 'commit() of 1 on an empty event table (22023)');
COMMIT;
-- a rolled-back transaction leaves the offset as it was
BEGIN;
SELECT chronicle.commit('g1', 'tap_st', pg_temp.nth('tap_st', 2)) AS rolled_back_commit \gset
ROLLBACK;
SELECT is((SELECT position FROM chronicle.consumer_groups WHERE grp = 'g1'), 0::bigint,
  'an offset committed in a rolled-back transaction is not kept');
-- a group on a tracked table keeps the offset of its event table
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('g_rows', 'tap_st_rows', 3)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_rows_events', 0, 3)$$, 'consume() of a tracked table');
SELECT is(chronicle.commit('g_rows', 'tap_st_rows', pg_temp.nth('tap_st_rows_events', 3)), pg_temp.nth('tap_st_rows_events', 3),
  'commit() through the tracked table');
COMMIT;
SELECT results_eq($$SELECT event_table, position FROM chronicle.consumer_groups WHERE grp = 'g_rows'$$,
  $$VALUES ('tap_st_rows_events'::regclass, pg_temp.nth('tap_st_rows_events', 3))$$,
  'the offset of a group on a tracked table is kept for its event table');
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('g_rows', 'tap_st_rows_events', 2)$$,
  $$SELECT * FROM pg_temp.o_read('tap_st_rows_events', pg_temp.nth('tap_st_rows_events', 3), 2)$$,
  'the same group through the event table continues from that offset');
COMMIT;
-- quoted names
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('a group, with spaces Ω', '"tap st Ω"."Événements Mixed"', 1)$$,
  $$SELECT * FROM pg_temp.o_read('"tap st Ω"."Événements Mixed"', 0, 1)$$,
  'consume() with a quoted table name and a group name with spaces and non-ASCII');
SELECT is(chronicle.commit('a group, with spaces Ω', '"tap st Ω"."Événements Mixed"', pg_temp.nth('"tap st Ω"."Événements Mixed"', 1)),
  pg_temp.nth('"tap st Ω"."Événements Mixed"', 1), 'commit() with those names');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.commit(%L, %L, %s)', 'a group, with spaces Ω',
                                   '"tap st Ω"."Événements Mixed"', pg_temp.newest('"tap st Ω"."Événements Mixed"') + 1),
  '22023', pg_catalog.format('position %s is beyond the newest event of "Événements Mixed" (%s)',
                             pg_temp.newest('"tap st Ω"."Événements Mixed"') + 1, pg_temp.newest('"tap st Ω"."Événements Mixed"')),
  'the error names the quoted table (22023)');
COMMIT;
SELECT results_eq($$SELECT grp, event_table::text, position FROM chronicle.consumer_groups WHERE grp LIKE 'a group%'$$,
  $$VALUES ('a group, with spaces Ω', '"tap st Ω"."Événements Mixed"', pg_temp.nth('"tap st Ω"."Événements Mixed"', 1))$$,
  'consumer_groups shows the quoted names');
BEGIN;
SELECT results_eq($$SELECT * FROM chronicle.consume('a group, with spaces Ω', '"tap st Ω"."Order Lines"')$$,
  $$SELECT * FROM chronicle.read('"tap st Ω"."Order Lines_events"')$$,
  'consume() of a tracked table with a quoted name');
COMMIT;
-- consumer_groups shows the offsets of the tables the caller may read
SELECT is(pg_temp.as_role_value('tap_st_nobody', 'SELECT count(*) FROM chronicle.consumer_groups'), '0',
  'consumer_groups: a role that may read no event table sees no offset');
SELECT is(pg_temp.as_role_value('tap_st_reader',
    $$SELECT string_agg(grp, ',' ORDER BY grp) FROM chronicle.consumer_groups WHERE event_table = 'tap_st'::regclass$$),
  (SELECT string_agg(grp, ',' ORDER BY grp) FROM chronicle.consumer_groups WHERE event_table = 'tap_st'::regclass),
  'consumer_groups: a role that may read tap_st sees its offsets');
SELECT cmp_ok((SELECT count(*) FROM chronicle.consumer_groups
                WHERE event_table NOT IN ('tap_st'::regclass, 'tap_st_rows_events'::regclass)), '>', 0::bigint,
  'there are offsets on other tables');
SELECT is(pg_temp.as_role_value('tap_st_reader',
    $$SELECT count(*) FROM chronicle.consumer_groups
       WHERE event_table NOT IN ('tap_st'::regclass, 'tap_st_rows_events'::regclass)$$), '0',
  'consumer_groups: that role sees no offset on the tables it may not read');
SELECT is(pg_temp.as_role_value('tap_st_reader',
    $$SELECT count(*) FROM chronicle.consume('g_rows', 'tap_st_rows', 1)$$), '1',
  'a role with SELECT on a tracked table (not on its event table) may consume it');
SELECT is(pg_temp.as_role_value('tap_st_reader',
    $$SELECT string_agg(grp, ',') FROM chronicle.consumer_groups WHERE event_table = 'tap_st_rows_events'::regclass$$),
  'g_rows', 'consumer_groups shows that role the group it consumes on the tracked table');
SELECT is(pg_temp.as_role_value('tap_st_reader',
    pg_catalog.format('SELECT chronicle.reset(%L, %L, %s)', 'g_reader', 'tap_st', pg_temp.nth('tap_st', 2))),
  pg_temp.nth('tap_st', 2)::text, 'a role with SELECT on the table may reset a group');

-------------------------------------------------------------------------------
-- channel()
-------------------------------------------------------------------------------
SELECT is(chronicle.channel('tap_st'), 'chronicle_' || 'tap_st'::regclass::oid, 'channel(): chronicle_ and the OID');
SELECT is(chronicle.channel('tap_st_rows'), chronicle.channel('tap_st_rows_events'),
  'channel() of a tracked table = channel() of its event table');
SELECT is(chronicle.channel('tap_st_rows'), 'chronicle_' || 'tap_st_rows_events'::regclass::oid,
  'channel() of a tracked table: the OID of the event table');
SELECT is(chronicle.channel('"tap st Ω"."Événements Mixed"'), 'chronicle_' || '"tap st Ω"."Événements Mixed"'::regclass::oid,
  'channel() of a quoted name');
SELECT is(chronicle.channel('"tap st Ω"."Order Lines"'), chronicle.channel('"tap st Ω"."Order Lines_events"'),
  'channel() of a quoted tracked table = channel() of its event table');
SELECT isnt(chronicle.channel('tap_st'), chronicle.channel('tap_st_own'), 'each event table has its own channel');
SELECT is(pg_temp.as_role_value('tap_st_reader', $$SELECT chronicle.channel('tap_st')$$), chronicle.channel('tap_st'),
  'a role with SELECT on the table may ask for its channel');

-------------------------------------------------------------------------------
-- dropping a table forgets its offsets (the sql_drop event trigger)
-------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM chronicle.consumer_offsets AS o JOIN tap_st_oid AS i ON i.relid = o.tbl::oid), 3::bigint,
  'the tables to drop have offsets');
CREATE TEMP TABLE tap_st_kept AS SELECT grp, tbl::oid AS relid, position FROM chronicle.consumer_offsets;
DROP TABLE tap_st_gone;
SELECT is_empty($$SELECT FROM chronicle.consumer_offsets WHERE tbl::oid = (SELECT relid FROM tap_st_oid WHERE name = 'gone')$$,
  'DROP TABLE forgets the offsets of the dropped event table');
DROP OWNED BY tap_st_owner;
SELECT is_empty($$SELECT FROM chronicle.consumer_offsets WHERE tbl::oid = (SELECT relid FROM tap_st_oid WHERE name = 'owned')$$,
  'DROP OWNED forgets the offsets of the event tables it drops');
DROP SCHEMA tap_st_drop CASCADE;
SELECT is_empty($$SELECT FROM chronicle.consumer_offsets WHERE tbl::oid = (SELECT relid FROM tap_st_oid WHERE name = 'in_schema')$$,
  'DROP SCHEMA … CASCADE forgets the offsets of the event tables in it');
SELECT results_eq($$SELECT grp, tbl::oid, position FROM chronicle.consumer_offsets ORDER BY 1, 2$$,
  $$SELECT grp, relid, position FROM tap_st_kept WHERE relid NOT IN (SELECT relid FROM tap_st_oid) ORDER BY 1, 2$$,
  'the offsets of the other tables are kept');

-------------------------------------------------------------------------------
-- errors: NULL and out-of-range arguments
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM chronicle.read(NULL)$$, '22004', 'argument "tbl" must not be null', 'read: NULL tbl (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st', NULL)$$, '22004', 'argument "after" must not be null',
  'read: NULL after (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st', 0, NULL)$$, '22004', 'argument "max" must not be null',
  'read: NULL max (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st', -1)$$, '22023', 'after must not be negative: -1',
  'read: negative after (22023)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st', '-9223372036854775808'::bigint)$$, '22023', NULL,
  'read: the smallest bigint as after (22023)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st', 0, 0)$$, '22023', 'max must be at least 1, not 0',
  'read: max 0 (22023)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st', 0, -1)$$, '22023', 'max must be at least 1, not -1',
  'read: negative max (22023)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st_no_such_table')$$, '42P01',
  'relation "tap_st_no_such_table" does not exist', 'read: unknown name (42P01, from the regclass cast)');

SELECT throws_ok($$SELECT * FROM chronicle.consume(NULL, 'tap_st')$$, '22004', 'argument "grp" must not be null',
  'consume: NULL grp (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.consume('', 'tap_st')$$, '22023', 'consumer group name must not be empty',
  'consume: empty grp (22023)');
SELECT throws_ok($$SELECT * FROM chronicle.consume('g', NULL)$$, '22004', 'argument "tbl" must not be null',
  'consume: NULL tbl (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.consume('g', 'tap_st', NULL)$$, '22004', 'argument "max" must not be null',
  'consume: NULL max (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.consume('g', 'tap_st', 0)$$, '22023', 'max must be at least 1, not 0',
  'consume: max 0 (22023)');
SELECT throws_ok($$SELECT * FROM chronicle.consume('g', 'tap_st', -3)$$, '22023', 'max must be at least 1, not -3',
  'consume: negative max (22023)');

SELECT throws_ok($$SELECT chronicle.commit(NULL, 'tap_st', 0)$$, '22004', 'argument "grp" must not be null',
  'commit: NULL grp (22004)');
SELECT throws_ok($$SELECT chronicle.commit('', 'tap_st', 0)$$, '22023', 'consumer group name must not be empty',
  'commit: empty grp (22023)');
SELECT throws_ok($$SELECT chronicle.commit('g', NULL, 0)$$, '22004', 'argument "tbl" must not be null',
  'commit: NULL tbl (22004)');
SELECT throws_ok($$SELECT chronicle.commit('g', 'tap_st', NULL)$$, '22004', 'argument "position" must not be null',
  'commit: NULL position (22004)');
SELECT throws_ok($$SELECT chronicle.commit('g', 'tap_st', -1)$$, '22023', 'position must not be negative: -1',
  'commit: negative position (22023)');

SELECT throws_ok($$SELECT chronicle.reset(NULL, 'tap_st', 0)$$, '22004', 'argument "grp" must not be null',
  'reset: NULL grp (22004)');
SELECT throws_ok($$SELECT chronicle.reset('', 'tap_st', 0)$$, '22023', 'consumer group name must not be empty',
  'reset: empty grp (22023)');
SELECT throws_ok($$SELECT chronicle.reset('g', NULL, 0)$$, '22004', 'argument "tbl" must not be null',
  'reset: NULL tbl (22004)');
SELECT throws_ok($$SELECT chronicle.reset('g', 'tap_st', NULL)$$, '22004', 'argument "position" must not be null',
  'reset: NULL position (22004)');
SELECT throws_ok($$SELECT chronicle.reset('g', 'tap_st', -1)$$, '22023', 'position must not be negative: -1',
  'reset: negative position (22023)');

SELECT throws_ok($$SELECT chronicle.channel(NULL)$$, '22004', 'argument "tbl" must not be null',
  'channel: NULL tbl (22004)');
SELECT is_empty($$SELECT FROM chronicle.consumer_offsets WHERE grp IN ('g', '') AND tbl = 'tap_st'::regclass$$,
  'the refused calls stored no offset');

-------------------------------------------------------------------------------
-- errors: relations that are not event tables, for every function
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st_view')$$, '42809',
  '"tap_st_view" is neither a chronicle event table nor a tracked table', 'read: a view, the message (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_st_plain')$$, '42809',
  '"tap_st_plain" is not a chronicle event table', 'read: a plain table, the message (42809)');
SELECT throws_ok(pg_catalog.format('SELECT * FROM chronicle.read(%s)', (SELECT relid FROM tap_st_oid WHERE name = 'gone')),
  '42P01', pg_catalog.format('relation with OID %s does not exist', (SELECT relid FROM tap_st_oid WHERE name = 'gone')),
  'read: the OID of a dropped table, the message (42P01)');
CREATE TEMP TABLE tap_st_calls (k integer PRIMARY KEY, f text NOT NULL, q text NOT NULL);
INSERT INTO tap_st_calls VALUES
  (1, 'read', 'SELECT * FROM chronicle.read(%s)'),
  (2, 'consume', 'SELECT * FROM chronicle.consume(''g'', %s)'),
  (3, 'commit', 'SELECT chronicle.commit(''g'', %s, 0)'),
  (4, 'reset', 'SELECT chronicle.reset(''g'', %s, 0)'),
  (5, 'channel', 'SELECT chronicle.channel(%s)');
CREATE TEMP TABLE tap_st_bad (k integer PRIMARY KEY, what text NOT NULL, arg text NOT NULL, code text NOT NULL);
INSERT INTO tap_st_bad VALUES
  (1, 'a view', '''tap_st_view''', '42809'),
  (2, 'a plain table', '''tap_st_plain''', '42809'),
  (3, 'a materialized view', '''tap_st_mv''', '42809'),
  (4, 'a sequence', '''tap_st_seq''', '42809'),
  (5, 'a partitioned table', '''tap_st_part''', '42809'),
  (6, 'an index', '''tap_st_pkey''', '42809'),
  (7, 'a composite type', '''tap_st_type''', '42809'),
  (8, 'a catalog', '''pg_catalog.pg_class''', '42809'),
  (9, 'the OID of a dropped table', (SELECT relid FROM tap_st_oid WHERE name = 'gone')::text, '42P01'),
  (10, 'OID 0', '0', '42P01');
SELECT throws_ok(pg_catalog.format(c.q, b.arg), b.code, NULL, pg_catalog.format('%s: %s (%s)', c.f, b.what, b.code))
  FROM tap_st_calls AS c CROSS JOIN tap_st_bad AS b ORDER BY c.k, b.k;

-------------------------------------------------------------------------------
-- errors: privileges (a role without SELECT on the table named)
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pg_temp.as_role('tap_st_nobody', 'SELECT * FROM chronicle.read(''tap_st'')')$$,
  '42501', 'permission denied for table tap_st', 'read: no SELECT on the event table (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_st_nobody', 'SELECT * FROM chronicle.read(''tap_st_rows'')')$$,
  '42501', 'permission denied for table tap_st_rows', 'read: no SELECT on the tracked table (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_st_reader', 'SELECT * FROM chronicle.read(''tap_st_rows_events'')')$$,
  '42501', 'permission denied for table tap_st_rows_events',
  'read: SELECT on the tracked table does not open its event table by name (42501)');
SELECT is(pg_temp.as_role_value('tap_st_reader', $$SELECT count(*) FROM chronicle.read('tap_st_rows')$$),
  (SELECT count(*) FROM tap_st_rows_events)::text, 'read: SELECT on the tracked table reads its events');
SELECT throws_ok(pg_catalog.format('SELECT pg_temp.as_role(%L, %L)', 'tap_st_nobody', pg_catalog.format(c.q, t.arg)),
  '42501', 'permission denied for table ' || t.name, pg_catalog.format('%s: no SELECT on %s (42501)', c.f, t.what))
  FROM tap_st_calls AS c
  CROSS JOIN (VALUES (1, 'the event table', '''tap_st''', 'tap_st'), (2, 'the tracked table', '''tap_st_rows''', 'tap_st_rows'),
                     (3, 'a quoted table (USAGE on its schema)', '''"tap st Ω"."Événements Mixed"''', 'Événements Mixed'))
       AS t (k, what, arg, name)
 WHERE c.f <> 'read' OR t.k = 3
 ORDER BY c.k, t.k;
-- row-level security: the log is read through the primary key, which
-- policies cannot filter, so a caller subject to them is refused
SELECT throws_ok($$SELECT pg_temp.as_role('tap_st_reader', 'SELECT * FROM chronicle.read(''tap_st_rls'')')$$,
  '42501', 'cannot read the log of "tap_st_rls" under row-level security',
  'read: a caller subject to row-level security on the event table (42501)');
SELECT throws_ok(pg_catalog.format('SELECT pg_temp.as_role(%L, %L)', 'tap_st_reader', pg_catalog.format(c.q, '''tap_st_rls''')),
  '42501', 'cannot read the log of "tap_st_rls" under row-level security',
  pg_catalog.format('%s: under row-level security (42501)', c.f))
  FROM tap_st_calls AS c WHERE c.f <> 'read' ORDER BY c.k;
SELECT throws_ok($$SELECT pg_temp.as_role('tap_st_reader', 'SELECT * FROM chronicle.read(''tap_st_rls_rows'')')$$,
  '42501', 'cannot read the log of "tap_st_rls_rows" under row-level security',
  'read: a caller subject to row-level security on the tracked table (42501)');
SELECT is(pg_temp.as_role_value('tap_st_reader', $$SELECT count(*) FROM chronicle.read('tap_st_rls_rows_events')$$),
  (SELECT count(*) FROM tap_st_rls_rows_events)::text,
  'read: the event table of that tracked table has no policy, and is read');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_st_rls')$$, $$SELECT * FROM pg_temp.o_read('tap_st_rls', 0, 1000)$$,
  'read: the table owner is not subject to row-level security and reads the log');
SELECT is(current_user::text, session_user::text, 'the role switches were undone');

-------------------------------------------------------------------------------
-- the projection of doc/streams.md: consume -> upsert -> commit, exactly once
-------------------------------------------------------------------------------
\o /dev/null
:doc_define
:doc_try
\o
-- o_totals: the read model computed directly from the events with positions
-- up to upto: the orders placed and not superseded (as far as upto).
CREATE FUNCTION pg_temp.o_totals(upto bigint)
RETURNS TABLE (customer text, orders integer, amount numeric) LANGUAGE sql AS $f$
  SELECT o.payload->>'customer', count(*)::integer, sum((o.payload->>'amount')::numeric)
    FROM shop.orders AS o
   WHERE o.position <= upto AND o.type = 'placed'
     AND NOT EXISTS (SELECT FROM shop.orders AS x WHERE x.supersedes = o.position AND x.position <= upto)
   GROUP BY 1 ORDER BY 1
$f$;
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$VALUES ('alice', 2, 16.75)$$, 'the example''s result, as shown in doc/streams.md');
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$SELECT * FROM pg_temp.o_totals(pg_temp.newest('shop.orders'))$$,
  'oracle: the projection equals the aggregate of the events');
SELECT is((SELECT position FROM chronicle.consumer_groups WHERE grp = 'customer_totals'), pg_temp.newest('shop.orders'),
  'the group''s offset is the newest event');

-- more orders, a correction that changes the customer, a retraction
DO $$
BEGIN
  PERFORM chronicle.append('shop.orders', 'order-4', 'placed', '{"customer": "carol", "amount": 7}');
  PERFORM chronicle.append('shop.orders', 'order-5', 'placed', '{"customer": "bob", "amount": 1.25}');
END
$$;
DO $$
BEGIN
  PERFORM chronicle.correct('shop.orders', (SELECT position FROM shop.orders WHERE stream = 'order-3' AND version = 1),
                            '{"customer": "carol", "amount": 4.25}');
  PERFORM chronicle.append('shop.orders', 'order-6', 'placed', '{"customer": "dave", "amount": 3}');
END
$$;
DO $$ BEGIN PERFORM chronicle.retract('shop.orders', (SELECT position FROM shop.orders WHERE stream = 'order-5')); END $$;
CREATE TEMP TABLE tap_st_before AS SELECT * FROM shop.customer_totals;
-- a batch whose transaction rolls back
BEGIN;
SELECT shop.customer_totals_step(2) AS rolled_back_n \gset
SELECT count(*) AS rolled_back_rows FROM shop.customer_totals \gset
ROLLBACK;
SELECT is(:rolled_back_n, 2, 'the rolled-back transaction had processed a batch of 2');
SELECT isnt(:rolled_back_rows::bigint, (SELECT count(*) FROM tap_st_before), 'and changed the read model');
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$SELECT * FROM tap_st_before ORDER BY customer$$, 'the rollback undid its writes');
SELECT is((SELECT position FROM chronicle.consumer_groups WHERE grp = 'customer_totals'), pg_temp.nth('shop.orders', 5),
  'the rollback undid its offset');
BEGIN;
SELECT results_eq($$SELECT position FROM chronicle.read('shop.orders', pg_temp.nth('shop.orders', 5), 2)$$,
  $$SELECT pg_temp.nth('shop.orders', 6) UNION ALL SELECT pg_temp.nth('shop.orders', 7)$$,
  'the next batch is the rolled-back one');
SELECT is(shop.customer_totals_step(2), 2, 'the batch is redelivered');
COMMIT;
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$SELECT * FROM pg_temp.o_totals(pg_temp.nth('shop.orders', 7))$$,
  'oracle: the redelivered batch is counted once');
CALL shop.customer_totals_catch_up(2);
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$SELECT * FROM pg_temp.o_totals(pg_temp.newest('shop.orders'))$$,
  'oracle: caught up after the correction and the retraction');
SELECT is((SELECT position FROM chronicle.consumer_groups WHERE grp = 'customer_totals'), pg_temp.newest('shop.orders'),
  'the offset is the newest event');
CALL shop.customer_totals_catch_up();
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$SELECT * FROM pg_temp.o_totals(pg_temp.newest('shop.orders'))$$,
  'catching up again with nothing new changes nothing');
-- rebuild from scratch, as doc/streams.md does it
CREATE TEMP TABLE tap_st_built AS SELECT * FROM shop.customer_totals;
\o /dev/null
:doc_rebuild
\o
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$SELECT * FROM tap_st_built ORDER BY customer$$, 'rebuilt from scratch: the same read model');
SELECT results_eq($$SELECT * FROM shop.customer_totals ORDER BY customer$$,
  $$SELECT * FROM pg_temp.o_totals(pg_temp.newest('shop.orders'))$$, 'oracle: the rebuilt read model');
SELECT is((SELECT position FROM chronicle.consumer_groups WHERE grp = 'customer_totals'), pg_temp.newest('shop.orders'),
  'after the rebuild the offset is the newest event again');

SELECT * FROM finish();

DROP SCHEMA shop CASCADE;
DROP SCHEMA "tap st Ω" CASCADE;
DROP VIEW tap_st_view;
DROP MATERIALIZED VIEW tap_st_mv;
DROP TABLE tap_st, tap_st_own, tap_st_empty, tap_st_many, tap_st_rows, tap_st_rows_events, tap_st_plain, tap_st_part,
  tap_st_parted, tap_st_rls, tap_st_rls_rows, tap_st_rls_rows_events;
DROP SEQUENCE tap_st_seq;
DROP TYPE tap_st_type;
DROP OWNED BY tap_st_nobody, tap_st_reader, tap_st_owner;
DROP ROLE tap_st_nobody, tap_st_reader, tap_st_owner;
