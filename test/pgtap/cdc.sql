-- cdc.sql: CDC of tracked tables (SPEC §5, §7): every bad input gets its
-- SQLSTATE; captured events have the right type, stream, assigned columns,
-- valid range and meta; as_of() agrees with an independent oracle written in
-- plain SQL over the event table.
--
-- Everything runs in one transaction, so every event is this transaction's
-- own and uncommitted: the reading functions see them with the default
-- known_at (SPEC §1.4); explicit past known_at are tested in sql/cdc.sql.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
BEGIN;
SELECT plan(164);

-------------------------------------------------------------------------------
-- Helpers (temporary, gone with the session)
-------------------------------------------------------------------------------
-- as_role runs q as role r (SET ROLE), then returns to the session role
-- (RESET ROLE); on error, throws_ok's subtransaction undoes the switch.
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  result text;
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  EXECUTE q INTO result;
  RESET ROLE;
  RETURN result;
END
$f$;
-- as_role_do runs a command that returns no rows as role r.
CREATE FUNCTION pg_temp.as_role_do(r text, q text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  EXECUTE q;
  RESET ROLE;
END
$f$;

-- oracle(ev, v) is the state of a tracked table valid at v, folded from its
-- event table ev in plain SQL (SPEC §5, assertion semantics): for each key,
-- the last insert, snapshot, delete or truncate valid at v sets (or removes)
-- the whole row, and the later updates valid at v set the columns they
-- assigned, the last one winning. Own uncommitted events are all visible.
CREATE FUNCTION pg_temp.oracle(ev regclass, v timestamptz) RETURNS SETOF jsonb LANGUAGE plpgsql AS $f$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH e AS (
      SELECT position, stream, type, payload, assigned FROM %s
       WHERE valid_from <= $1 AND $1 < valid_to
         AND type IN ('snapshot', 'insert', 'update', 'delete', 'truncate')
    ), k AS (
      SELECT s.stream,
             (SELECT max(r.position) FROM e AS r
               WHERE (r.stream = s.stream AND r.type IN ('snapshot', 'insert', 'delete'))
                  OR r.type = 'truncate') AS reset
        FROM (SELECT DISTINCT stream FROM e WHERE stream <> '') AS s
    )
    SELECT b.payload || coalesce(
             (SELECT jsonb_object_agg(a.col, u.payload -> a.col ORDER BY u.position)
                FROM e AS u CROSS JOIN LATERAL unnest(u.assigned) AS a(col)
               WHERE u.stream = k.stream AND u.type = 'update' AND u.position > k.reset
                 AND u.payload ? a.col), '{}')
      FROM k JOIN e AS b ON b.position = k.reset AND b.type IN ('snapshot', 'insert')
  $q$, ev) USING v;
END
$f$;

-- last_events(ev, n) is the last n events of ev as "type stream assigned"
-- lines, oldest first.
CREATE FUNCTION pg_temp.last_events(ev regclass, n integer) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  result text;
BEGIN
  EXECUTE format($q$
    SELECT string_agg(concat_ws(' ', type, stream, assigned::text), E'\n' ORDER BY position)
      FROM (SELECT * FROM %s ORDER BY position DESC LIMIT $1) AS x $q$, ev) INTO result USING n;
  RETURN result;
END
$f$;

-- event_count(ev) counts the events of ev.
CREATE FUNCTION pg_temp.event_count(ev regclass) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
  n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s', ev) INTO n;
  RETURN n;
END
$f$;

-- as_of_is_table(t): as_of(NULL::t), valid now and known now, is the table.
CREATE FUNCTION pg_temp.as_of_is_table(tbl regclass) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE
  same boolean;
BEGIN
  EXECUTE format('SELECT NOT EXISTS (SELECT * FROM %1$s EXCEPT ALL SELECT * FROM chronicle.as_of(NULL::%1$s))
                     AND NOT EXISTS (SELECT * FROM chronicle.as_of(NULL::%1$s) EXCEPT ALL SELECT * FROM %1$s)',
                 tbl) INTO same;
  RETURN same;
END
$f$;

CREATE ROLE tap_cdc_other NOLOGIN;   -- has privileges, owns nothing
CREATE ROLE tap_cdc_nobody NOLOGIN;  -- has no privilege at all
CREATE ROLE tap_cdc_reader NOLOGIN;  -- SELECT on the tracked table only
CREATE ROLE tap_cdc_writer NOLOGIN;  -- INSERT on the tracked table only

-------------------------------------------------------------------------------
-- track(): what can be tracked
-------------------------------------------------------------------------------
CREATE TABLE tap_nopk (id integer, v text);
CREATE VIEW tap_view AS SELECT 1 AS id;
CREATE MATERIALIZED VIEW tap_matview AS SELECT 1 AS id;
CREATE FOREIGN DATA WRAPPER tap_fdw;
CREATE SERVER tap_server FOREIGN DATA WRAPPER tap_fdw;
CREATE FOREIGN TABLE tap_foreign (id integer) SERVER tap_server;
CREATE TEMP TABLE tap_temp (id integer PRIMARY KEY);
CREATE UNLOGGED TABLE tap_unlogged (id integer PRIMARY KEY);
CREATE SEQUENCE tap_seq;
CREATE TABLE tap_k (id integer PRIMARY KEY, v text);
INSERT INTO tap_k VALUES (1, 'one'), (2, 'two');
CREATE TABLE tap_events_taken (id integer PRIMARY KEY);
CREATE TABLE tap_events_taken_events (x integer);

SELECT throws_ok($$SELECT chronicle.track('tap_nopk')$$,
  '55000', 'cannot track "tap_nopk": it has no primary key',
  'track: a table without a primary key is refused (55000)');
SELECT throws_ok($$SELECT chronicle.track('tap_view')$$, '42809', NULL,
  'track: a view is refused (42809)');
SELECT throws_ok($$SELECT chronicle.track('tap_foreign')$$, '42809', NULL,
  'track: a foreign table is refused (42809)');
SELECT throws_ok($$SELECT chronicle.track('tap_matview')$$, '42809', NULL,
  'track: a materialized view is refused (42809)');
SELECT throws_ok($$SELECT chronicle.track('tap_seq')$$, '42809', NULL,
  'track: a sequence is refused (42809)');
SELECT throws_ok($$SELECT chronicle.track('tap_temp')$$, '0A000', NULL,
  'track: a temporary table is refused (0A000)');
SELECT throws_ok($$SELECT chronicle.track('tap_unlogged')$$, '0A000', NULL,
  'track: an unlogged table is refused (0A000)');
SELECT throws_ok($$SELECT chronicle.track(NULL)$$, '22004', NULL,
  'track: a null table is refused (22004)');
SELECT throws_ok($$SELECT chronicle.track('tap_no_such_table')$$, '42P01', NULL,
  'track: an unknown table is refused (42P01)');
SELECT throws_ok($$SELECT chronicle.track('tap_events_taken')$$, '42P07', NULL,
  'track: a table whose <table>_events name is taken by another table is refused (42P07)');
GRANT ALL ON tap_k TO tap_cdc_other;
SELECT throws_ok($$SELECT pg_temp.as_role('tap_cdc_other', $q$SELECT chronicle.track('tap_k')$q$)$$,
  '42501', 'must be owner of table tap_k',
  'track: only the owner may track a table, whatever its privileges (42501)');
SELECT is(current_user::text, session_user::text, 'RESET ROLE: back to the session role');
SELECT is(chronicle.track('tap_k')::text, 'tap_k_events',
  'track returns the event table <table>_events, in the table''s schema');
SELECT throws_ok($$SELECT chronicle.track('tap_k')$$,
  '42710', 'table "tap_k" is already tracked',
  'track: an already tracked table is refused (42710)');

-- The event table and the first events.
SELECT is((SELECT format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = 'tap_k_events'::regclass AND attname = 'assigned'),
  'text[]', 'the event table has a column assigned text[]');
SELECT is(pg_temp.last_events('tap_k_events', 3), E'schema \nsnapshot 1\nsnapshot 2',
  'track records a schema event (stream '''') and the existing rows as snapshots (stream = the key)');
SELECT results_eq($$SELECT payload, valid_from, valid_to FROM tap_k_events WHERE type = 'snapshot' ORDER BY position$$,
  $$VALUES ('{"id": 1, "v": "one"}'::jsonb, '-infinity'::timestamptz, 'infinity'::timestamptz),
           ('{"id": 2, "v": "two"}'::jsonb, '-infinity', 'infinity')$$,
  'snapshots carry the row image and are valid from -infinity');
SELECT is((SELECT payload->'columns' FROM tap_k_events WHERE type = 'schema'),
  '[{"attnum": 1, "name": "id", "type": "integer"}, {"attnum": 2, "name": "v", "type": "text"}]'::jsonb,
  'the schema event lists the columns');
SELECT is((SELECT count(*) FROM chronicle.tracked_tables WHERE table_name = 'tap_k'::regclass AND event_table = 'tap_k_events'::regclass),
  1::bigint, 'tracked_tables lists the table with its event table');

-------------------------------------------------------------------------------
-- untrack(), apply_due(), restore(): who and what
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT chronicle.untrack('tap_nopk')$$,
  '55000', 'table "tap_nopk" is not tracked',
  'untrack: an untracked table is refused (55000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_cdc_other', $q$SELECT chronicle.untrack('tap_k')$q$)$$,
  '42501', NULL, 'untrack: only the owner may untrack (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_cdc_other', $q$SELECT chronicle.apply_due('tap_k')$q$)$$,
  '42501', NULL, 'apply_due: only the owner may apply due changes (42501)');
SELECT throws_ok($$SELECT chronicle.apply_due('tap_nopk')$$,
  '55000', NULL, 'apply_due: an untracked table is refused (55000)');
SELECT is(chronicle.apply_due('tap_k'), 0::bigint, 'apply_due: nothing due, nothing changed');

SELECT throws_ok($$SELECT chronicle.restore('tap_k', known_at => NULL)$$,
  '22004', 'argument "known_at" must not be null',
  'restore: a null known_at is refused (22004)');
SELECT throws_ok($$SELECT chronicle.restore('tap_k', NULL, NULL, 'tap_k_copy')$$,
  '22004', NULL, 'restore into a new table: a null known_at is refused (22004)');
SELECT throws_ok($$SELECT chronicle.restore(NULL, 'infinity')$$,
  '22004', NULL, 'restore: a null table is refused (22004)');
SELECT throws_ok($$SELECT chronicle.restore('tap_k', 'infinity', NULL, 'tap_nopk')$$,
  '42P07', NULL, 'restore: into an existing table is refused (42P07)');
SELECT throws_ok($$SELECT chronicle.restore('tap_nopk', 'infinity')$$,
  '55000', NULL, 'restore: in place of an untracked table is refused (55000)');
SELECT throws_ok($$SELECT chronicle.restore('tap_nopk', 'infinity', NULL, 'tap_nopk_copy')$$,
  '55000', NULL, 'restore: into a new table from a never tracked table is refused (55000)');
SELECT is(chronicle.restore('tap_k', 'infinity', NULL, 'tap_k_copy'), 2::bigint,
  'restore into a new table returns the number of rows');
SELECT results_eq('SELECT * FROM tap_k_copy ORDER BY id', 'SELECT * FROM tap_k ORDER BY id',
  'restore into a new table copies the state');

-------------------------------------------------------------------------------
-- Reading: as_of, history, diff
-------------------------------------------------------------------------------
CREATE TYPE tap_composite AS (id integer);
SELECT throws_ok($$SELECT * FROM chronicle.as_of(NULL::integer)$$,
  '42809', NULL, 'as_of: a type that is not a table''s row type is refused (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.as_of(NULL::tap_composite)$$,
  '42809', NULL, 'as_of: a standalone composite type is not a table (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.as_of(NULL::tap_view)$$,
  '42809', NULL, 'as_of: a view''s row type is not a table (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.as_of(NULL::tap_nopk)$$,
  '55000', 'table "tap_nopk" is not tracked', 'as_of: an untracked table is refused (55000)');
SELECT throws_ok($$SELECT * FROM chronicle.history(NULL::tap_nopk, 1)$$,
  '55000', NULL, 'history: an untracked table is refused (55000)');
SELECT throws_ok($$SELECT * FROM chronicle.diff(NULL::tap_nopk, '-infinity')$$,
  '55000', NULL, 'diff: an untracked table is refused (55000)');
SELECT throws_ok($$SELECT * FROM chronicle.history(NULL::integer, 1)$$,
  '42809', NULL, 'history: a non-table type is refused (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.diff(NULL::integer, '-infinity')$$,
  '42809', NULL, 'diff: a non-table type is refused (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.history(NULL::tap_k, NULL::integer)$$,
  '22004', NULL, 'history: a null key part is refused (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.diff(NULL::tap_k, NULL)$$,
  '22004', NULL, 'diff: a null from_known is refused (22004)');
-- Reading history requires SELECT on the table (SPEC §7).
SELECT throws_ok($$SELECT pg_temp.as_role('tap_cdc_nobody', $q$SELECT count(*) FROM chronicle.as_of(NULL::tap_k)$q$)$$,
  '42501', 'permission denied for table tap_k', 'as_of: without SELECT on the table (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_cdc_nobody', $q$SELECT count(*) FROM chronicle.history(NULL::tap_k, 1)$q$)$$,
  '42501', 'permission denied for table tap_k', 'history: without SELECT on the table (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_cdc_nobody', $q$SELECT count(*) FROM chronicle.diff(NULL::tap_k, '-infinity')$q$)$$,
  '42501', 'permission denied for table tap_k', 'diff: without SELECT on the table (42501)');
GRANT CREATE ON SCHEMA public TO tap_cdc_nobody;
SELECT throws_ok($$SELECT pg_temp.as_role('tap_cdc_nobody', $q$SELECT chronicle.restore('tap_k', 'infinity', NULL, 'tap_k_stolen')$q$)$$,
  '42501', 'permission denied for table tap_k', 'restore: without SELECT on the table (42501)');
-- SELECT on the table is enough: no privilege on the event table is needed.
GRANT SELECT ON tap_k TO tap_cdc_reader;
SELECT is(pg_temp.as_role('tap_cdc_reader', $q$SELECT string_agg(v, ',' ORDER BY id) FROM chronicle.as_of(NULL::tap_k)$q$),
  'one,two', 'as_of: SELECT on the table suffices');
SELECT is(pg_temp.as_role('tap_cdc_reader', $q$SELECT count(*)::text FROM chronicle.history(NULL::tap_k, 1)$q$),
  '1', 'history: SELECT on the table suffices');
SELECT is(pg_temp.as_role('tap_cdc_reader', $q$SELECT count(*)::text FROM chronicle.diff(NULL::tap_k, '-infinity')$q$),
  '2', 'diff: SELECT on the table suffices');
SELECT is(pg_temp.as_role('tap_cdc_reader', $q$SELECT events::text FROM chronicle.tracked_tables WHERE table_name = 'tap_k'::regclass$q$),
  NULL, 'tracked_tables: the event count is null without SELECT on the event table');
-- A writer needs no privilege on the event table either: its changes are
-- captured all the same.
GRANT INSERT ON tap_k TO tap_cdc_writer;
SELECT lives_ok($$SELECT pg_temp.as_role_do('tap_cdc_writer', 'INSERT INTO tap_k VALUES (3, ''three'')')$$,
  'a role with INSERT only on a tracked table can insert');
SELECT is(pg_temp.last_events('tap_k_events', 1), 'insert 3', '... and its insert is captured');
SELECT is((SELECT meta->>'user' FROM tap_k_events ORDER BY position DESC LIMIT 1), session_user::text,
  '... with the session user in meta');

-------------------------------------------------------------------------------
-- Settings: refused when SET (SPEC §1, §5)
-------------------------------------------------------------------------------
SELECT throws_ok($$SET chronicle.valid_from = 'garbage'$$, '22007', NULL,
  'SET chronicle.valid_from: not a timestamp (22007)');
SELECT throws_ok($$SET chronicle.valid_to = 'garbage'$$, '22007', NULL,
  'SET chronicle.valid_to: not a timestamp (22007)');
SELECT throws_ok($$SET chronicle.known_at = 'garbage'$$, '22007', NULL,
  'SET chronicle.known_at: not a timestamp (22007)');
SELECT throws_ok($$SET chronicle.valid_at = 'garbage'$$, '22007', NULL,
  'SET chronicle.valid_at: not a timestamp (22007)');
SELECT throws_ok($$SET chronicle.meta = '[1]'$$, '22P02', NULL,
  'SET chronicle.meta: a JSON array is not an object (22P02)');
SELECT throws_ok($$SET chronicle.meta = '{"reason": '$$, '22P02', NULL,
  'SET chronicle.meta: malformed JSON (22P02)');
SELECT throws_ok($$SET LOCAL chronicle.meta = '"text"'$$, '22P02', NULL,
  'SET LOCAL chronicle.meta: a JSON string is not an object (22P02)');
SELECT lives_ok($$SET LOCAL chronicle.valid_from = '2020-01-01'; RESET chronicle.valid_from$$,
  'SET chronicle.valid_from: a timestamp is accepted');

-- valid_from >= valid_to: refused when a change is captured (22000).
SELECT throws_ok($$SET LOCAL chronicle.valid_from = '2020-06-01';
                   SET LOCAL chronicle.valid_to = '2020-03-01';
                   UPDATE tap_k SET v = 'x' WHERE id = 1$$,
  '22000', 'chronicle.valid_from must be earlier than chronicle.valid_to',
  'valid_from later than valid_to: refused (22000)');
SELECT throws_ok($$SET LOCAL chronicle.valid_from = '2020-03-01';
                   SET LOCAL chronicle.valid_to = '2020-03-01';
                   INSERT INTO tap_k VALUES (9, 'nine')$$,
  '22000', NULL, 'valid_from equal to valid_to: refused (22000)');
SELECT throws_ok($$SET LOCAL chronicle.valid_from = '2020-06-01';
                   SET LOCAL chronicle.valid_to = '2020-03-01';
                   TRUNCATE tap_k$$,
  '22000', NULL, 'valid_from later than valid_to on TRUNCATE: refused (22000)');
SELECT is((SELECT string_agg(v, ',' ORDER BY id) FROM tap_k), 'one,two,three',
  '... and nothing was changed');
SELECT is(current_setting('chronicle.valid_from'), '', '(the settings rolled back with the failed statements)');

-- TRUNCATE with a valid range that does not contain the present (0A000).
SELECT throws_ok($$SET LOCAL chronicle.valid_from = '2020-01-01';
                   SET LOCAL chronicle.valid_to = '2020-06-01';
                   TRUNCATE tap_k$$,
  '0A000', NULL, 'TRUNCATE bounded in the past: refused (0A000)');
SELECT throws_ok($$SET LOCAL chronicle.valid_from = '2999-01-01';
                   TRUNCATE tap_k$$,
  '0A000', NULL, 'TRUNCATE post-dated: refused (0A000)');
SELECT is((SELECT count(*) FROM tap_k), 3::bigint, '... and the table is untouched');

-------------------------------------------------------------------------------
-- Captured events: types, streams, assigned columns
-------------------------------------------------------------------------------
CREATE TABLE tap_c (id integer PRIMARY KEY, qty integer NOT NULL, note text, revision integer NOT NULL DEFAULT 0);
CREATE FUNCTION pg_temp.bump() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  NEW.revision := OLD.revision + 1;
  RETURN NEW;
END
$f$;
CREATE TRIGGER bump BEFORE UPDATE ON tap_c FOR EACH ROW EXECUTE FUNCTION pg_temp.bump();
SELECT lives_ok($$SELECT chronicle.track('tap_c')$$, 'track an empty table');
SELECT is(pg_temp.last_events('tap_c_events', 1), 'schema ', 'an empty table: a schema event, no snapshot');

INSERT INTO tap_c (id, qty) VALUES (1, 3), (2, 5);
SELECT is(pg_temp.last_events('tap_c_events', 2), E'insert 1\ninsert 2',
  'a two-row INSERT: two insert events, stream = the key''s text, no assigned');
SELECT is((SELECT payload FROM tap_c_events WHERE stream = '1' AND type = 'insert'),
  '{"id": 1, "qty": 3, "note": null, "revision": 0}'::jsonb, 'an insert''s payload is the whole row');
UPDATE tap_c SET qty = 4 WHERE id = 1;
SELECT is(pg_temp.last_events('tap_c_events', 1), 'update 1 {qty,revision}',
  'UPDATE: assigned = the SET list + the column a BEFORE trigger changed');
SELECT is((SELECT payload FROM tap_c_events ORDER BY position DESC LIMIT 1),
  '{"id": 1, "qty": 4, "note": null, "revision": 1}'::jsonb, 'an update''s payload is the whole new row');
UPDATE tap_c SET qty = qty, note = 'n' WHERE id = 1;
SELECT is(pg_temp.last_events('tap_c_events', 1), 'update 1 {qty,note,revision}',
  'UPDATE: a column in the SET list is assigned even when its value stays');
SELECT is((SELECT array_agg(version ORDER BY position) FROM tap_c_events WHERE stream = '1'), '{1,2,3}'::integer[],
  'versions count 1, 2, 3 within the row''s stream');
INSERT INTO tap_c (id, qty) VALUES (2, 1) ON CONFLICT (id) DO UPDATE SET qty = tap_c.qty + excluded.qty;
SELECT is(pg_temp.last_events('tap_c_events', 1), 'update 2 {qty,revision}',
  'INSERT … ON CONFLICT DO UPDATE: an update of the columns it set');
INSERT INTO tap_c (id, qty) VALUES (2, 1) ON CONFLICT DO NOTHING;
INSERT INTO tap_c (id, qty) VALUES (3, 1) ON CONFLICT DO NOTHING;
SELECT is(pg_temp.last_events('tap_c_events', 2), E'update 2 {qty,revision}\ninsert 3',
  'INSERT … ON CONFLICT DO NOTHING: nothing for the conflict, an insert otherwise');
UPDATE tap_c SET id = 30 WHERE id = 3;
SELECT is(pg_temp.last_events('tap_c_events', 2), E'delete 3\ninsert 30',
  'a key change: delete of the old key, insert of the new one');
SELECT is((SELECT payload->>'id' FROM tap_c_events WHERE stream = '3' AND type = 'delete'), '3',
  'the delete carries the old row image');
DELETE FROM tap_c WHERE id = 30;
SELECT is(pg_temp.last_events('tap_c_events', 1), 'delete 30', 'DELETE: a delete event');
SELECT is((SELECT count(*) FROM tap_c_events WHERE type = 'delete' AND assigned IS NOT NULL), 0::bigint,
  'inserts and deletes record no assigned columns');

-- Updates that change nothing.
SELECT pg_temp.event_count('tap_k_events') AS n_k \gset
UPDATE tap_k SET v = v;
UPDATE tap_k SET v = 'one' WHERE id = 1;
SELECT is(pg_temp.event_count('tap_k_events'), :n_k::bigint,
  'an update that changes no value records nothing');
SET LOCAL chronicle.valid_from = '2020-01-01';
UPDATE tap_k SET v = v WHERE id = 1;
RESET chronicle.valid_from;
SELECT is(pg_temp.last_events('tap_k_events', 1), 'update 1 {v}',
  'an update that changes no value but asserts a valid range of its own is recorded');

-- TRUNCATE: one event for the whole table.
SELECT pg_temp.event_count('tap_c_events') AS n_c \gset
TRUNCATE tap_c;
SELECT is(pg_temp.event_count('tap_c_events'), :n_c::bigint + 1, 'TRUNCATE: one event');
SELECT is(pg_temp.last_events('tap_c_events', 1), 'truncate ', 'TRUNCATE: type truncate, stream ''''');
SET LOCAL chronicle.valid_from = '2020-01-01';
INSERT INTO tap_c (id, qty) VALUES (7, 7);
TRUNCATE tap_c;
RESET chronicle.valid_from;
SELECT is((SELECT valid_from FROM tap_c_events ORDER BY position DESC LIMIT 1), '2020-01-01'::timestamptz,
  'a backdated TRUNCATE (its range contains the present) is allowed and backdated');
SELECT is((SELECT count(*) FROM tap_c), 0::bigint, '... and empties the table');

-- Composite keys: a JSON array of the key columns' texts.
CREATE TABLE tap_ck (cart text, line integer, qty integer, PRIMARY KEY (cart, line));
SELECT lives_ok($$SELECT chronicle.track('tap_ck')$$, 'track a table with a composite key');
INSERT INTO tap_ck VALUES ('a', 1, 1), ('say "hi", \ ,', 2, 1);
SELECT is((SELECT stream FROM tap_ck_events WHERE type = 'insert' ORDER BY position LIMIT 1), '["a","1"]',
  'a composite key''s stream: ["a","1"]');
SELECT is((SELECT stream::jsonb FROM tap_ck_events WHERE type = 'insert' ORDER BY position DESC LIMIT 1),
  jsonb_build_array('say "hi", \ ,', '2'), 'a composite key with quotes, backslash and commas: a valid JSON array');
UPDATE tap_ck SET qty = 2 WHERE cart = 'say "hi", \ ,';
SELECT is((SELECT row FROM chronicle.history(NULL::tap_ck, 'say "hi", \ ,', 2) ORDER BY position DESC LIMIT 1),
  ROW('say "hi", \ ,', 2, 2)::tap_ck, 'history finds a row by its composite key parts');
SELECT is((SELECT count(*) FROM chronicle.history(NULL::tap_ck, 'a', 1)), 1::bigint,
  'history by key parts of other types than the columns'' (unknown, integer)');

-- Keys whose text depends on session settings: one row is one stream.
CREATE TABLE tap_dk (day date, n integer, v text, PRIMARY KEY (day, n));
SELECT lives_ok($$SELECT chronicle.track('tap_dk')$$, 'track a table with a date in its key');
INSERT INTO tap_dk VALUES ('2024-01-31', 1, 'a');
SET LOCAL DateStyle = 'German';
UPDATE tap_dk SET v = 'b';
RESET DateStyle;
SELECT is((SELECT count(DISTINCT stream) FROM tap_dk_events WHERE stream <> ''), 1::bigint,
  'a row keeps one stream whatever the session''s DateStyle');
SELECT ok(pg_temp.as_of_is_table('tap_dk'), 'as_of is the table after an update under another DateStyle');

-- meta: who, from where, and chronicle.meta.
SET LOCAL chronicle.meta = '{"reason": "tap test", "ticket": 42}';
SET LOCAL application_name = 'tap-cdc';
UPDATE tap_k SET v = 'ONE' WHERE id = 1;
RESET chronicle.meta;
RESET application_name;
SELECT is((SELECT meta FROM tap_k_events ORDER BY position DESC LIMIT 1),
  jsonb_build_object('user', session_user::text, 'application', 'tap-cdc', 'reason', 'tap test', 'ticket', 42),
  'meta: session user, application name and chronicle.meta');
UPDATE tap_k SET v = 'one' WHERE id = 1;
SELECT is((SELECT meta FROM tap_k_events ORDER BY position DESC LIMIT 1) ? 'reason', false,
  'meta: RESET chronicle.meta attaches nothing more');

-- Valid time of captured changes, and changes not valid now.
SELECT pg_temp.event_count('tap_k_events') AS n_k \gset
SET LOCAL chronicle.valid_from = '2020-01-01';
SET LOCAL chronicle.valid_to = '2020-06-01';
UPDATE tap_k SET v = 'past' WHERE id = 2;
DELETE FROM tap_k WHERE id = 3;
INSERT INTO tap_k VALUES (4, 'past only');
RESET chronicle.valid_from;
RESET chronicle.valid_to;
SELECT is(pg_temp.last_events('tap_k_events', 3), E'update 2 {v}\ndelete 3\ninsert 4',
  'changes bounded in the past are recorded');
SELECT results_eq($$SELECT valid_from, valid_to FROM tap_k_events WHERE position > $$ || :n_k,
  $$VALUES ('2020-01-01'::timestamptz, '2020-06-01'::timestamptz), ('2020-01-01', '2020-06-01'), ('2020-01-01', '2020-06-01')$$,
  '... with the valid range of chronicle.valid_from / valid_to');
SELECT results_eq('SELECT * FROM tap_k ORDER BY id', $$VALUES (1, 'one'), (2, 'two'), (3, 'three')$$,
  '... and the table keeps the state valid now (update, delete and insert skipped)');
SELECT results_eq($$SELECT * FROM chronicle.as_of(NULL::tap_k, valid_at => '2020-03-01') ORDER BY id$$,
  $$VALUES (1, 'one'), (2, 'past'), (4, 'past only')$$,
  'as_of valid in the bounded range shows the bounded changes');
SELECT pg_temp.event_count('tap_k_events') AS n_k \gset
SELECT clock_timestamp() + interval '1 hour' AS due \gset
SET LOCAL chronicle.valid_from = :'due';
INSERT INTO tap_k VALUES (5, 'future');
UPDATE tap_k SET v = 'future' WHERE id = 1;
RESET chronicle.valid_from;
SELECT is(pg_temp.last_events('tap_k_events', 2), E'insert 5\nupdate 1 {v}', 'post-dated changes are recorded');
SELECT results_eq('SELECT * FROM tap_k ORDER BY id', $$VALUES (1, 'one'), (2, 'two'), (3, 'three')$$,
  '... and the table keeps the state valid now');
SELECT results_eq(format('SELECT * FROM chronicle.as_of(NULL::tap_k, valid_at => %L) ORDER BY id', :'due'),
  $$VALUES (1, 'future'), (2, 'two'), (3, 'three'), (5, 'future')$$, 'as_of when they fall due shows them');
SELECT is(chronicle.apply_due('tap_k'), 0::bigint, 'apply_due before they fall due changes nothing');
SELECT ok(pg_temp.as_of_is_table('tap_k'), 'as_of (valid now) is the table');

-- Schema changes: schema events, one per change of the columns.
CREATE TABLE tap_s (id integer PRIMARY KEY, a text, b text);
INSERT INTO tap_s VALUES (1, 'a1', 'b1');
SELECT lives_ok($$SELECT chronicle.track('tap_s')$$, 'track tap_s');
SELECT pg_temp.event_count('tap_s_events') AS n_s \gset
ALTER TABLE tap_s RENAME COLUMN a TO alpha;
SELECT is(pg_temp.event_count('tap_s_events'), :n_s::bigint + 1, 'RENAME COLUMN: a schema event');
UPDATE tap_s SET alpha = 'a2';
SELECT results_eq('SELECT * FROM chronicle.as_of(NULL::tap_s)', $$VALUES (1, 'a2', 'b1')$$,
  'as_of after RENAME COLUMN then UPDATE of the renamed column: the new value');
SELECT results_eq($$SELECT type, row FROM chronicle.history(NULL::tap_s, 1) ORDER BY position$$,
  $$VALUES ('snapshot', ROW(1, 'a1', 'b1')::tap_s), ('update', ROW(1, 'a2', 'b1')::tap_s)$$,
  'history after RENAME COLUMN: every version with today''s column names');
SELECT pg_temp.event_count('tap_s_events') AS n_s \gset
ALTER TABLE tap_s ADD COLUMN c integer;
SELECT is(pg_temp.last_events('tap_s_events', 1), 'schema ', 'ADD COLUMN: a schema event in stream ''''');
SELECT is((SELECT jsonb_path_query_array(payload, '$.columns[*].name') FROM tap_s_events ORDER BY position DESC LIMIT 1),
  '["id", "alpha", "b", "c"]'::jsonb, '... listing the columns');
ALTER TABLE tap_s ADD CONSTRAINT tap_s_c CHECK (c > 0);
SELECT is(pg_temp.event_count('tap_s_events'), :n_s::bigint + 1, 'an ALTER TABLE that changes no column records nothing');
UPDATE tap_s SET b = 'b2', c = 3;
-- A column dropped, then added again under the same name: a new column.
CREATE TABLE tap_s2 (id integer PRIMARY KEY, b text, c integer);
INSERT INTO tap_s2 VALUES (1, 'b1', 1);
SELECT lives_ok($$SELECT chronicle.track('tap_s2')$$, 'track tap_s2');
UPDATE tap_s2 SET b = 'b2';
ALTER TABLE tap_s2 DROP COLUMN b;
ALTER TABLE tap_s2 ADD COLUMN b text;
SELECT results_eq('SELECT * FROM chronicle.as_of(NULL::tap_s2)', $$VALUES (1, 1, NULL::text)$$,
  'a column dropped then added again under the same name: the old values do not come back in as_of');
SELECT results_eq($$SELECT type, row FROM chronicle.history(NULL::tap_s2, 1) ORDER BY position$$,
  $$VALUES ('snapshot', ROW(1, 1, NULL)::tap_s2), ('update', ROW(1, 1, NULL)::tap_s2)$$,
  '... nor in history');
ALTER TABLE tap_s ALTER COLUMN c TYPE bigint;
SELECT is((SELECT c->>'type' FROM jsonb_array_elements((SELECT payload->'columns' FROM tap_s_events ORDER BY position DESC LIMIT 1)) AS c
            WHERE c->>'name' = 'c'), 'bigint',
  'ALTER COLUMN TYPE: a schema event with the new type');
SELECT ok(pg_temp.as_of_is_table('tap_s'), 'as_of is the table after the schema changes');

-- Partitioned tables: tracked through the parent.
CREATE TABLE tap_p (id integer, region text, v integer, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE tap_p_eu PARTITION OF tap_p FOR VALUES IN ('eu');
CREATE TABLE tap_p_us PARTITION OF tap_p FOR VALUES IN ('us');
INSERT INTO tap_p VALUES (1, 'eu', 1);
SELECT lives_ok($$SELECT chronicle.track('tap_p')$$, 'track a partitioned table');
SELECT throws_ok($$SELECT chronicle.track('tap_p_eu')$$, '42710', NULL,
  'a partition of a tracked table is already tracked (42710)');
INSERT INTO tap_p VALUES (2, 'us', 2);
UPDATE tap_p SET region = 'us' WHERE id = 1;
SELECT is(pg_temp.last_events('tap_p_events', 3), E'insert ["2","us"]\ndelete ["1","eu"]\ninsert ["1","us"]',
  'a row moving to another partition: delete + insert');
SELECT lives_ok($$UPDATE tap_p_us SET v = 20 WHERE id = 2$$, 'UPDATE of a partition directly');
SELECT is(pg_temp.last_events('tap_p_events', 1), 'update ["2","us"] {v}', '... is captured');
SELECT lives_ok($$INSERT INTO tap_p_eu VALUES (3, 'eu', 3)$$, 'INSERT into a partition directly');
SELECT ok(pg_temp.as_of_is_table('tap_p'), '... as_of is the table after writes to partitions');
CREATE TABLE tap_p2 (id integer, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE tap_p2_eu PARTITION OF tap_p2 FOR VALUES IN ('eu');
CREATE TABLE tap_p2_us PARTITION OF tap_p2 FOR VALUES IN ('us');
SELECT lives_ok($$SELECT chronicle.track('tap_p2')$$, 'track tap_p2');
INSERT INTO tap_p2 VALUES (1, 'eu'), (2, 'us');
SELECT lives_ok($$TRUNCATE tap_p2_us$$, 'TRUNCATE of one partition');
SELECT ok(pg_temp.as_of_is_table('tap_p2'), '... is captured: as_of is still the table');
SELECT pg_temp.event_count('tap_p2_events') AS n_p2 \gset
TRUNCATE tap_p2;
SELECT is(pg_temp.event_count('tap_p2_events'), :n_p2::bigint + 1, 'TRUNCATE of the parent: one event');
SELECT ok(pg_temp.as_of_is_table('tap_p2'), '... as_of is the (empty) table');
SELECT is((SELECT count(*) FROM chronicle.tracked_tables WHERE table_name::text IN ('tap_p', 'tap_p_eu', 'tap_p_us')), 1::bigint,
  'tracked_tables lists the parent only');

-------------------------------------------------------------------------------
-- as_of against the oracle
-------------------------------------------------------------------------------
-- Scenario 1: snapshots, a backdated insert, bounded updates and deletes,
-- a past-only insert, a backdated TRUNCATE.
CREATE TABLE tap_o (id integer PRIMARY KEY, a text, b integer);
INSERT INTO tap_o VALUES (1, 'a1', 10), (2, 'a2', 20);
SELECT lives_ok($$SELECT chronicle.track('tap_o')$$, 'track tap_o');
SET LOCAL chronicle.valid_from = '2020-01-01';
INSERT INTO tap_o VALUES (3, 'a3', 30);
SET LOCAL chronicle.valid_from = '2021-01-01';
SET LOCAL chronicle.valid_to = '2022-01-01';
UPDATE tap_o SET a = 'bounded';
RESET chronicle.valid_to;
SET LOCAL chronicle.valid_from = '2021-06-01';
UPDATE tap_o SET b = b + 1 WHERE id IN (1, 3);
SET LOCAL chronicle.valid_from = '2020-06-01';
SET LOCAL chronicle.valid_to = '2020-09-01';
DELETE FROM tap_o WHERE id = 2;
SET LOCAL chronicle.valid_from = '2019-01-01';
SET LOCAL chronicle.valid_to = '2019-06-01';
INSERT INTO tap_o VALUES (4, 'a4', 40);
RESET chronicle.valid_to;
SET LOCAL chronicle.valid_from = '2023-01-01';
UPDATE tap_o SET a = 'late', b = 0 WHERE id = 2;
RESET chronicle.valid_from;
UPDATE tap_o SET b = 99 WHERE id = 1;
SELECT results_eq(
  format('SELECT * FROM chronicle.as_of(NULL::tap_o, valid_at => %L) ORDER BY id', v),
  format('SELECT r.* FROM pg_temp.oracle(%L, %L) AS j, jsonb_populate_record(NULL::tap_o, j) AS r ORDER BY id',
         'tap_o_events', v),
  'oracle, scenario 1: as_of valid at ' || v)
  FROM unnest(ARRAY['-infinity', '2019-03-01', '2019-12-31', '2020-03-01', '2020-07-01', '2021-03-01',
                    '2021-09-01', '2022-06-01', '2023-06-01']::timestamptz[]) AS v;
SELECT results_eq('SELECT * FROM chronicle.as_of(NULL::tap_o) ORDER BY id',
  format('SELECT r.* FROM pg_temp.oracle(%L, %L) AS j, jsonb_populate_record(NULL::tap_o, j) AS r ORDER BY id',
         'tap_o_events', clock_timestamp()),
  'oracle, scenario 1: as_of valid now');
SELECT results_eq('SELECT * FROM chronicle.as_of(NULL::tap_o) ORDER BY id', 'SELECT * FROM tap_o ORDER BY id',
  'scenario 1: as_of valid now is the table');
-- Then a backdated TRUNCATE and new rows.
SET LOCAL chronicle.valid_from = '2021-12-01';
TRUNCATE tap_o;
RESET chronicle.valid_from;
INSERT INTO tap_o VALUES (5, 'a5', 50);
SET LOCAL chronicle.valid_from = '2022-03-01';
INSERT INTO tap_o VALUES (6, 'a6', 60);
RESET chronicle.valid_from;
SELECT results_eq(
  format('SELECT * FROM chronicle.as_of(NULL::tap_o, valid_at => %L) ORDER BY id', v),
  format('SELECT r.* FROM pg_temp.oracle(%L, %L) AS j, jsonb_populate_record(NULL::tap_o, j) AS r ORDER BY id',
         'tap_o_events', v),
  'oracle, scenario 1 after TRUNCATE: as_of valid at ' || v)
  FROM unnest(ARRAY['2021-09-01', '2021-12-15', '2022-06-01', '2023-06-01']::timestamptz[]) AS v;
SELECT results_eq('SELECT * FROM chronicle.as_of(NULL::tap_o) ORDER BY id', 'SELECT * FROM tap_o ORDER BY id',
  'scenario 1 after TRUNCATE: as_of valid now is the table');

-- Scenario 2: a composite key, upserts, key changes, COPY.
CREATE TABLE tap_o2 (cart text, sku text, qty integer NOT NULL, PRIMARY KEY (cart, sku));
SELECT lives_ok($$SELECT chronicle.track('tap_o2')$$, 'track tap_o2');
SET LOCAL chronicle.valid_from = '2019-01-01';
INSERT INTO tap_o2 VALUES ('c1', 'x', 1), ('c1', 'y', 2), ('c2', 'x', 3);
RESET chronicle.valid_from;
INSERT INTO tap_o2 VALUES ('c1', 'x', 5), ('c3', 'z', 1)
  ON CONFLICT (cart, sku) DO UPDATE SET qty = tap_o2.qty + excluded.qty;
SET LOCAL chronicle.valid_from = '2020-01-01';
SET LOCAL chronicle.valid_to = '2020-02-01';
UPDATE tap_o2 SET qty = 100 WHERE cart = 'c1';
RESET chronicle.valid_to;
RESET chronicle.valid_from;
UPDATE tap_o2 SET sku = 'w' WHERE cart = 'c2';
COPY tap_o2 FROM STDIN;
c4	q	4
c4	r	5
\.
DELETE FROM tap_o2 WHERE sku = 'y';
SELECT results_eq(
  format('SELECT * FROM chronicle.as_of(NULL::tap_o2, valid_at => %L) ORDER BY cart, sku', v),
  format('SELECT r.* FROM pg_temp.oracle(%L, %L) AS j, jsonb_populate_record(NULL::tap_o2, j) AS r ORDER BY cart, sku',
         'tap_o2_events', v),
  'oracle, scenario 2: as_of valid at ' || v)
  FROM unnest(ARRAY['2020-01-15', '2020-03-01']::timestamptz[]) AS v;
SELECT results_eq('SELECT * FROM chronicle.as_of(NULL::tap_o2) ORDER BY cart, sku',
  format('SELECT r.* FROM pg_temp.oracle(%L, %L) AS j, jsonb_populate_record(NULL::tap_o2, j) AS r ORDER BY cart, sku',
         'tap_o2_events', clock_timestamp()),
  'oracle, scenario 2: as_of valid now');
SELECT results_eq('SELECT * FROM chronicle.as_of(NULL::tap_o2) ORDER BY cart, sku',
  $$VALUES ('c1', 'x', 6), ('c2', 'w', 3), ('c3', 'z', 1), ('c4', 'q', 4), ('c4', 'r', 5)$$,
  'scenario 2: as_of valid now, by hand');

-- restore in place, recorded as changes of its own.
SELECT pg_temp.event_count('tap_o2_events') AS n_o2 \gset
DELETE FROM tap_o2 WHERE cart = 'c4';
SELECT is(chronicle.restore('tap_o2', known_at => 'infinity', valid_at => '2020-01-15'), 5::bigint,
  'restore in place of the state valid at 2020-01-15: 2 deletes, 1 update, 2 inserts');
SELECT results_eq('SELECT * FROM tap_o2 ORDER BY cart, sku',
  $$VALUES ('c1', 'x', 100), ('c1', 'y', 100), ('c2', 'x', 3)$$, '... the table holds that state');
SELECT is((SELECT count(*) FROM tap_o2_events WHERE position > :n_o2 + 2 AND meta ? 'restore'), 5::bigint,
  '... each restored row is an event, with meta naming the restore');

-- untrack: capture stops, history stays readable.
SELECT is(chronicle.untrack('tap_o2'), 'tap_o2_events'::regclass, 'untrack returns the event table');
SELECT pg_temp.event_count('tap_o2_events') AS n_o2 \gset
DELETE FROM tap_o2;
SELECT is(pg_temp.event_count('tap_o2_events'), :n_o2::bigint, 'an untracked table''s changes are not captured');
SELECT is((SELECT count(*) FROM chronicle.as_of(NULL::tap_o2)), 3::bigint, 'as_of an untracked table reads its history');
SELECT is((SELECT count(*) FROM chronicle.tracked_tables WHERE table_name = 'tap_o2'::regclass), 0::bigint,
  'tracked_tables no longer lists it');
SELECT lives_ok($$SELECT chronicle.track('tap_o2')$$, 'track it again: the history continues');
SELECT ok(pg_temp.as_of_is_table('tap_o2'),
  'after tracking again, as_of is the table (rows deleted while untracked are gone)');

SELECT * FROM finish();
ROLLBACK;
